// The patient portal: appointments, booking, lab results, prescriptions and documents.

import { showError } from "../shared/alerts.js";
import { requireUser } from "../shared/auth.js";
import { byId } from "../shared/dom.js";
import { bindTabs, renderLayout } from "../shared/layout.js";
import { bindCancelDialog, showAppointments } from "./appointments.js";
import { bindBooking, prepareBooking } from "./booking.js";
import { showDocuments, showPrescriptions, showResults } from "./records.js";
import { refreshUnreadBadge, showMessages } from "./messages.js";
import { showMyData } from "./my-data.js";

async function main() {
  const user = await requireUser(["patient"]);
  if (!user) return;
  renderLayout(user);
  byId("greeting").textContent = `Hello, ${user.full_name}`;
  const messages = byId("messages");
  const guard = (work) => work().catch((error) => showError(messages, error));

  const loaders = {
    appointments: () => showAppointments(),
    book: () => prepareBooking(),
    results: () => showResults(user),
    prescriptions: () => showPrescriptions(user),
    documents: () => showDocuments(user),
    conversations: () => showMessages(),
    mydata: () => showMyData(user),
  };
  bindCancelDialog(() => showAppointments());
  bindBooking(() => showAppointments());
  // Every visit to a tab reloads it, so what is shown is never older than the last click.
  const show = bindTabs(byId("tabs"), (name) => guard(loaders[name]));
  // Emails link to /portal/#messages (a new message) and /portal/#my-data (a request answered).
  const linked = () => ({ "#messages": "conversations", "#my-data": "mydata" })[window.location.hash];
  window.addEventListener("hashchange", () => linked() && show(linked()));
  if (linked()) show(linked());
  else await guard(loaders.appointments);
  await guard(refreshUnreadBadge);
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
