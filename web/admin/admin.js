// The administration shell: admits administrators only, draws the section navigation and loads the
// section named in the path (/admin/<section>/) from its own module.

import { showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { getSession, saveUser } from "../shared/session.js";
import { byId, h, replace } from "../shared/dom.js";
import { renderLayout } from "../shared/layout.js";
import { SECTIONS } from "./sections.js";

function sectionName() {
  const match = /^\/admin\/([a-z]+)\/?$/.exec(window.location.pathname);
  return match ? match[1] : null;
}

function renderNav(current) {
  const nav = byId("admin-nav");
  const link = (href, title, name) =>
    h("li", {}, h("a", { href, "aria-current": name === current ? "page" : null }, title));
  replace(nav, h("ul", {}, link("/admin/", "Overview", null), SECTIONS.map((s) => link(`/admin/${s.name}/`, s.title, s.name))));
  nav.hidden = false;
}

function renderOverview(container) {
  replace(
    container,
    h(
      "ul",
      { class: "list", id: "admin-sections" },
      SECTIONS.map((s) => h("li", {}, h("div", {}, h("a", { href: `/admin/${s.name}/` }, s.title), h("div", { class: "meta" }, s.description)))),
    ),
  );
}

function refuse(user) {
  // Said plainly rather than redirecting: a nurse who followed a link should know why nothing shows.
  replace(
    byId("messages"),
    h(
      "div",
      { class: "alert alert-error", role: "alert", id: "refused" },
      h("strong", {}, "Administrators only"),
      h("p", {}, `These pages are for administrators; you are signed in as ${user.role}. `, h("a", { href: "/staff/" }, "Back to the staff home")),
    ),
  );
}

async function main() {
  const session = getSession();
  if (!session) {
    window.location.assign("/");
    return;
  }
  let user = session.user;
  if (!user) {
    user = await api("/api/v1/auth/me");
    saveUser(user);
  }
  renderLayout(user);
  if (user.role !== "admin") {
    refuse(user);
    return;
  }
  const name = sectionName();
  const section = SECTIONS.find((s) => s.name === name);
  renderNav(section?.name ?? null);
  const container = byId("section");
  if (!section) {
    renderOverview(container);
    return;
  }
  byId("title").textContent = section.title;
  document.title = `${section.title} · Administration · Ownat`;
  const module = await import(`./${section.name}.js`);
  await module.render(container, { messages: byId("messages"), user });
}

main().catch((error) => showError(byId("messages"), error));
