// An encounter's notes: drafts revised by their author, signed after a confirmation (a signed note never
// changes and the patient can read it), then corrected only by addenda.

import { clearMessages, showError, showNotice } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { confirmAction } from "../shared/confirm.js";
import { h, replace } from "../shared/dom.js";
import { onSubmit, textArea } from "../shared/forms.js";
import { formatDateTime } from "../shared/time.js";
import { nameOfUser } from "./practitioners.js";

const SIGN_CONFIRMATION = {
  title: "Sign this note?",
  message: "A signed note can never be changed: corrections are added as addenda. The patient will be able to read it.",
  confirmLabel: "Sign note",
};

async function sign(note, ctx) {
  if (!(await confirmAction(SIGN_CONFIRMATION))) return false;
  await api(`/api/v1/notes/${note.id}/sign`, { method: "POST" });
  return true;
}

function noteItem(note, ctx) {
  const author = nameOfUser(ctx.chart.practitioners, note.author_id);
  const mine = note.author_id === ctx.chart.user.id;
  const status = note.signed_at
    ? `Signed by ${nameOfUser(ctx.chart.practitioners, note.signed_by)}, ${formatDateTime(note.signed_at)}`
    : "Draft: not signed, not visible to the patient";
  const item = h(
    "article",
    { class: `note${note.signed_at ? "" : " note-draft"}`, dataset: { noteId: note.id } },
    h("p", { class: "meta" }, `${author}, ${formatDateTime(note.created_at)} · `, h("strong", { class: "note-status" }, status)),
    h("p", { class: "note-text" }, note.text),
    note.addenda.map((a) =>
      h("div", { class: "addendum" }, h("p", { class: "meta" }, `Addendum by ${nameOfUser(ctx.chart.practitioners, a.author_id)}, ${formatDateTime(a.created_at)}`), h("p", { class: "note-text" }, a.text)),
    ),
  );
  if (!ctx.chart.isClinician) return item;
  if (!note.signed_at && mine) item.append(draftControls(note, ctx));
  if (note.signed_at) item.append(addendumForm(note, ctx));
  return item;
}

function draftControls(note, ctx) {
  const form = h("form", { class: "stack inline-form", "aria-label": "Revise draft" },
    textArea("Revise the draft", { name: "text", rows: 5, required: true, maxlength: 20000 }),
    h("div", { class: "row" },
      h("button", { type: "submit", class: "button-quiet" }, "Save draft"),
      h("button", { type: "button", "data-sign": "" }, "Sign…")));
  form.elements.text.value = note.text;
  onSubmit(form, ctx.messages, async ({ text }) => {
    await api(`/api/v1/notes/${note.id}`, { method: "PATCH", json: { text } });
    await ctx.redraw();
    return "Draft saved.";
  });
  form.querySelector("[data-sign]").addEventListener("click", async () => {
    clearMessages(ctx.messages);
    try {
      // What is in the box is what gets signed: save a changed draft first.
      if (form.elements.text.value.trim() !== note.text) {
        await api(`/api/v1/notes/${note.id}`, { method: "PATCH", json: { text: form.elements.text.value } });
      }
      if (await sign(note, ctx)) {
        await ctx.redraw();
        showNotice(ctx.messages, "Note signed. The patient can now read it.");
      }
    } catch (error) {
      showError(ctx.messages, error);
    }
  });
  return form;
}

function addendumForm(note, ctx) {
  const form = h("form", { class: "stack" },
    textArea("Addendum", { name: "text", rows: 3, required: true, maxlength: 20000 }),
    h("div", {}, h("button", { type: "submit", class: "button-quiet" }, "Add addendum")));
  onSubmit(form, ctx.messages, async ({ text }) => {
    await api(`/api/v1/notes/${note.id}/addenda`, { method: "POST", json: { text } });
    await ctx.redraw();
    return "Addendum added to the signed note.";
  });
  return h("details", { class: "inline-form" }, h("summary", {}, "Add an addendum"), form);
}

function newNoteForm(encounter, ctx) {
  const form = h("form", { class: "stack", "aria-label": "Write a note" },
    textArea("New note", { name: "text", rows: 6, required: true, maxlength: 20000, placeholder: "History, examination, assessment, plan" }),
    h("div", { class: "row" },
      h("button", { type: "submit", class: "button-quiet" }, "Save as draft"),
      h("button", { type: "button", "data-sign": "" }, "Save and sign…")));
  onSubmit(form, ctx.messages, async ({ text }) => {
    if (!text) throw Object.assign(new Error("Write the note before saving it."), { title: "The note is empty" });
    await api(`/api/v1/encounters/${encounter.id}/notes`, { method: "POST", json: { text } });
    await ctx.redraw();
    return "Draft note saved. Sign it when it is complete.";
  });
  form.querySelector("[data-sign]").addEventListener("click", async () => {
    clearMessages(ctx.messages);
    const text = form.elements.text.value.trim();
    if (!text) {
      showError(ctx.messages, { title: "The note is empty", message: "Write the note before signing it." });
      form.elements.text.focus();
      return;
    }
    try {
      if (!(await confirmAction(SIGN_CONFIRMATION))) return;
      const note = await api(`/api/v1/encounters/${encounter.id}/notes`, { method: "POST", json: { text } });
      await api(`/api/v1/notes/${note.id}/sign`, { method: "POST" });
      await ctx.redraw();
      showNotice(ctx.messages, "Note signed. The patient can now read it.");
    } catch (error) {
      showError(ctx.messages, error);
    }
  });
  return form;
}

/** The notes part of an encounter, drawn into `region` (and redrawn after each change). */
export async function renderNotes(region, encounter, chart, messages) {
  const ctx = { chart, messages, redraw: () => renderNotes(region, encounter, chart, messages) };
  const notes = await api(`/api/v1/encounters/${encounter.id}/notes`);
  const writable = chart.isClinician && ["in_progress", "finished"].includes(encounter.status);
  replace(
    region,
    h("h3", {}, "Notes"),
    notes.length ? notes.map((note) => noteItem(note, ctx)) : h("p", { class: "empty" }, "No notes yet."),
    writable ? newNoteForm(encounter, ctx) : null,
  );
}
