// Signing in and out, and guarding pages by role.

import { ApiError, api } from "./api.js";
import { clearSession, getSession, saveTokens, saveUser } from "./session.js";

const HOMES = { patient: "/portal/", clinician: "/staff/", nurse: "/staff/", admin: "/staff/", billing: "/billing/" };

/** The landing page of a role. */
export function homeFor(role) {
  return HOMES[role] ?? "/";
}

/** Signs in with email and password; returns the user (from /auth/me). */
export async function signIn(email, password) {
  clearSession();
  const response = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  saveTokens(await response.json());
  const user = await api("/api/v1/auth/me");
  saveUser(user);
  return user;
}

/** Signs out: revokes the access token and the refresh family on the server, then forgets them. */
export async function signOut() {
  const session = getSession();
  try {
    if (session) await api("/api/v1/auth/logout", { method: "POST", json: { refresh_token: session.refreshToken } });
  } catch {
    // The session may already be gone on the server; forgetting it here is what matters.
  } finally {
    clearSession();
    window.location.assign("/");
  }
}

/**
 * The signed-in user if they hold one of `roles`; otherwise sends them to sign in (or to their own
 * home) and returns null.
 */
export async function requireUser(roles) {
  const session = getSession();
  if (!session) {
    window.location.assign("/");
    return null;
  }
  let user = session.user;
  if (!user) {
    user = await api("/api/v1/auth/me");
    saveUser(user);
  }
  if (!roles.includes(user.role)) {
    window.location.assign(homeFor(user.role));
    return null;
  }
  return user;
}

/** Wires a sign-in form (fields `email` and `password`); `onSignedIn(user)` runs on success. */
export function bindSignInForm(form, { onSignedIn, onError }) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      const user = await signIn(String(data.get("email")), String(data.get("password")));
      onSignedIn(user);
    } catch (error) {
      onError(error);
    } finally {
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
}
