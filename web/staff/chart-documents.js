// The patient's documents (letters, reports, images): listed newest first, downloaded with the
// token, and uploaded as PDF, PNG or JPEG.

import { emptyState, showError } from "../shared/alerts.js";
import { api, download } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";
import { card, choice, field, onSubmit } from "../shared/forms.js";
import { formatDateTime } from "../shared/time.js";
import { word } from "../shared/words.js";
import { nameOfUser } from "./practitioners.js";

const KINDS = ["report", "imaging", "lab_result", "referral", "prescription", "consent", "discharge_summary", "other"];
const ACCEPTED = "application/pdf,image/png,image/jpeg";

function size(bytes) {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

function documentItem(document, chart) {
  const get = async (button) => {
    button.disabled = true;
    try {
      await download(`/api/v1/documents/${document.id}/content`, document.filename);
    } catch (error) {
      showError(chart.messages, error);
    } finally {
      button.disabled = false;
    }
  };
  return h(
    "li",
    { dataset: { documentId: document.id } },
    h("div", {}, h("strong", {}, document.title), h("div", { class: "meta" },
      `${word("documentKind", document.kind)} · ${document.filename} · ${size(document.size_bytes)} · added by ${nameOfUser(chart.practitioners, document.uploaded_by)}, ${formatDateTime(document.created_at)}`)),
    h("button", { type: "button", class: "button-quiet", onclick: (event) => get(event.currentTarget) }, "Download"),
  );
}

function uploadForm(chart, redraw) {
  const form = h("form", { class: "stack", id: "document-form" },
    h("label", {}, "File (PDF, PNG or JPEG)", h("input", { type: "file", name: "file", accept: ACCEPTED, required: true })),
    h("div", { class: "row" }, field("Title", { name: "title", required: true, maxlength: 200, autocomplete: "off" }), choice("Kind", { name: "kind" }, KINDS.map((k) => [k, word("documentKind", k)]))),
    h("div", {}, h("button", { type: "submit" }, "Upload")));
  onSubmit(form, chart.messages, async (data, element) => {
    const file = element.elements.file.files[0];
    if (!file) throw Object.assign(new Error("Choose the file to upload."), { title: "No file chosen" });
    if (!data.title) throw Object.assign(new Error("Give the document a title, such as \"Discharge letter\"."), { title: "No title" });
    const body = new FormData();
    body.append("file", file);
    body.append("title", data.title);
    body.append("kind", data.kind);
    await api(`/api/v1/patients/${chart.patient.id}/documents`, { method: "POST", body });
    form.reset();
    await redraw();
    return `${data.title} uploaded.`;
  });
  return form;
}

export async function render(panel, chart) {
  const list = h("div", {});
  const redraw = async () => {
    const page = await api(`/api/v1/patients/${chart.patient.id}/documents?limit=50`);
    replace(list, page.items.length ? h("ul", { class: "list", id: "document-list" }, page.items.map((d) => documentItem(d, chart))) : emptyState("No documents."));
  };
  replace(panel, h("div", { class: "chart-columns" }, card("documents-title", "Documents", list), card("upload-title", "Upload a document", uploadForm(chart, redraw))));
  await redraw();
}
