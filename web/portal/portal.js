// The patient portal: appointments, booking, lab results, prescriptions and documents.

import { showError } from "../shared/alerts.js";
import { requireUser } from "../shared/auth.js";
import { byId } from "../shared/dom.js";
import { bindTabs, renderLayout } from "../shared/layout.js";
import { bindCancelDialog, showAppointments } from "./appointments.js";
import { bindBooking, prepareBooking } from "./booking.js";
import { showDocuments, showPrescriptions, showResults } from "./records.js";
import { refreshUnreadBadge, showMessages } from "./messages.js";

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
  };
  bindCancelDialog(() => showAppointments());
  bindBooking(() => showAppointments());
  // Every visit to a tab reloads it, so what is shown is never older than the last click.
  const show = bindTabs(byId("tabs"), (name) => guard(loaders[name]));
  // Emails about a new message link to /portal/#messages.
  if (window.location.hash === "#messages") show("conversations");
  else await guard(loaders.appointments);
  await guard(refreshUnreadBadge);
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(byId("messages"), error));
