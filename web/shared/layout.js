// The page frame shared by every signed-in page: the top bar with the user's name, the section
// navigation and the sign-out button. Pages provide the markup skeleton (see portal/index.html).

import { signOut } from "./auth.js";
import { onSignedOut } from "./api.js";
import { byId, h, replace } from "./dom.js";
import { browserTimeZone } from "./time.js";

/** Fills the top bar for `user` and wires sign-out; returns the main element. */
export function renderLayout(user) {
  replace(
    byId("user-area"),
    h("span", { class: "user-name", "data-testid": "user-name" }, user.full_name),
    h("span", { class: "role-badge" }, user.role),
    h("a", { href: "/account/", class: "account-link", id: "account-link" }, "My account"),
    h("button", { type: "button", class: "button-quiet", id: "sign-out", onclick: () => signOut() }, "Sign out"),
  );
  const zone = document.getElementById("time-zone");
  if (zone) zone.textContent = `Times are shown in ${browserTimeZone()}.`;
  onSignedOut.handler = () => window.location.assign("/");
  return byId("main");
}

/**
 * Tabs: buttons with `data-tab="name"` inside `nav` show the panel `#panel-name` and hide the others.
 * `onShow(name)` runs each time a tab is shown. Returns a function that shows a tab by name.
 */
export function bindTabs(nav, onShow) {
  const tabs = [...nav.querySelectorAll("[data-tab]")];
  const show = (name) => {
    for (const tab of tabs) {
      const selected = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      byId(`panel-${tab.dataset.tab}`).hidden = !selected;
    }
    onShow(name);
  };
  nav.addEventListener("click", (event) => {
    const tab = event.target.closest("[data-tab]");
    if (tab) show(tab.dataset.tab);
  });
  nav.addEventListener("keydown", (event) => {
    // Arrow keys move between tabs, as screen-reader users expect of a tab list.
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    const next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    next.focus();
    show(next.dataset.tab);
  });
  return show;
}
