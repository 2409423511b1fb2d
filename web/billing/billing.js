// The billing office (/billing/): billing clerks and administrators. One tab per task, each drawn
// afresh when shown (another clerk may have changed things meanwhile); the tab is kept in the address.

import { showError } from "../shared/alerts.js";
import { api } from "../shared/api.js";
import { requireUser } from "../shared/auth.js";
import { byId, h, replace } from "../shared/dom.js";
import { bindTabs, renderLayout } from "../shared/layout.js";

const SECTIONS = [
  { name: "worklist", title: "To bill", load: () => import("./worklist.js") },
  { name: "invoices", title: "Invoices", load: () => import("./invoices.js") },
  { name: "claims", title: "Claims", load: () => import("./claims.js") },
  { name: "insurance", title: "Payers and coverages", load: () => import("./insurance.js") },
  { name: "fees", title: "Fee schedule", load: () => import("./fees.js") },
  { name: "reports", title: "Reports", load: () => import("./reports.js") },
];

async function main() {
  const user = await requireUser(["billing", "admin"]);
  if (!user) return;
  renderLayout(user);
  const messages = byId("messages");
  replace(byId("tabs"), SECTIONS.map((s) => h("button", { type: "button", role: "tab", id: `tab-${s.name}`, "aria-controls": `panel-${s.name}`, dataset: { tab: s.name } }, s.title)));
  replace(byId("panels"), SECTIONS.map((s) => h("section", { id: `panel-${s.name}`, role: "tabpanel", "aria-labelledby": `tab-${s.name}`, hidden: true })));
  const office = { user, messages, options: {}, settings: await api("/api/v1/billing/settings") };
  const render = async (name) => {
    const section = SECTIONS.find((s) => s.name === name);
    const panel = byId(`panel-${name}`);
    replace(panel, h("p", { class: "loading", role: "status" }, `Loading ${section.title.toLowerCase()}…`));
    try {
      await (await section.load()).render(panel, office, office.options[name] ?? {});
    } catch (error) {
      replace(panel);
      showError(panel, error);
    }
  };
  const show = bindTabs(byId("tabs"), (name) => {
    window.history.replaceState(null, "", `${window.location.pathname}#${name}`);
    render(name);
  });
  // Opens a section, optionally with options (e.g. the invoices of one patient).
  office.show = (name, options = {}) => {
    office.options[name] = options;
    show(name);
  };
  const wanted = window.location.hash.slice(1);
  show(SECTIONS.some((s) => s.name === wanted) ? wanted : "worklist");
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
