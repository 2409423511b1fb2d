// The sign-in page: sends each role to its own home once signed in.

import { showError } from "./shared/alerts.js";
import { bindSignInForm, homeFor } from "./shared/auth.js";
import { byId } from "./shared/dom.js";
import { getSession } from "./shared/session.js";

const session = getSession();
if (session?.user) {
  window.location.replace(homeFor(session.user.role));
}

bindSignInForm(byId("signin-form"), {
  onSignedIn: (user) => window.location.assign(homeFor(user.role)),
  onError: (error) => showError(byId("messages"), error),
});
