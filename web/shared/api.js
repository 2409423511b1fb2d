// The one way pages call the REST API: bearer token, automatic refresh with the rotating refresh
// token, and errors (RFC 9457 problem+json) turned into ApiError with a message fit for a person.

import { clearSession, getSession, saveTokens } from "./session.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.status = status;
    this.title = problem.title || "Something went wrong";
    this.code = problem.code || null;
    this.problem = problem;
  }
}

// One refresh at a time: refresh tokens rotate, and presenting one twice signs the user out.
let refreshing = null;

async function refreshTokens() {
  const session = getSession();
  if (!session?.refreshToken) return false;
  refreshing ??= (async () => {
    try {
      const response = await fetch("/api/v1/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh_token: session.refreshToken }),
      });
      if (!response.ok) return false;
      saveTokens(await response.json());
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function send(path, options, token) {
  const headers = new Headers(options.headers ?? {});
  headers.set("Accept", "application/json, application/problem+json");
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let body = options.body;
  if (options.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(options.json);
  }
  return fetch(path, { method: options.method ?? "GET", headers, body, credentials: "same-origin" });
}

async function problemOf(response) {
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("json")) {
    try {
      const body = await response.json();
      if (body.resourceType === "OperationOutcome") {
        return { title: "Request refused", detail: body.issue?.[0]?.diagnostics };
      }
      return body;
    } catch {
      // fall through to a generic message
    }
  }
  return { title: response.statusText || "Error", detail: `The server answered ${response.status}.` };
}

/** Called when the session is gone for good; pages replace it (the layout sends users to sign in). */
export const onSignedOut = { handler: () => window.location.assign("/") };

/**
 * Calls the API and returns the parsed JSON (or the Response itself with `raw: true`).
 * Throws ApiError for any answer that is not 2xx.
 */
export async function api(path, options = {}) {
  let session = getSession();
  if (session && Date.now() >= session.expiresAt) {
    await refreshTokens();
    session = getSession();
  }
  let response = await send(path, options, session?.accessToken);
  if (response.status === 401 && session?.refreshToken) {
    if (await refreshTokens()) {
      response = await send(path, options, getSession()?.accessToken);
    }
  }
  if (response.status === 401 && session) {
    clearSession();
    onSignedOut.handler();
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (options.raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** Fetches a file with the token and hands it to the browser as a download. */
export async function download(path, fallbackName = "download") {
  const response = await api(path, { raw: true });
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1] ?? match[2]) : fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
