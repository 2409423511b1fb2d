// The billing office: invoices (issue, payments, refunds) and insurance claims.

import { showError } from "../shared/alerts.js";
import { requireUser } from "../shared/auth.js";
import { byId } from "../shared/dom.js";
import { bindTabs, renderLayout } from "../shared/layout.js";
import { bindClaims, showClaims } from "./claims.js";
import { bindInvoices, showInvoices } from "./invoices.js";

async function main() {
  const user = await requireUser(["billing", "admin"]);
  if (!user) return;
  renderLayout(user);
  const messages = byId("messages");
  const guard = (work) => work().catch((error) => showError(messages, error));
  const loaders = { invoices: () => showInvoices(true), claims: () => showClaims() };
  bindInvoices();
  bindClaims();
  bindTabs(byId("tabs"), (name) => guard(loaders[name]));
  await guard(loaders.invoices);
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
