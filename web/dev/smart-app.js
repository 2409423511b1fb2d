// The demo SMART app: standalone launch (button) or EHR launch (?iss=&launch= from a chart), PKCE S256,
// then the patient's name and latest observations read through FHIR with the app's own token.
// Its state lives under its own sessionStorage keys, apart from Ownat's session on the same origin.

import { showError } from "../shared/alerts.js";
import { byId, h, replace } from "../shared/dom.js";
import { formatDateTime } from "../shared/time.js";

const CLIENT_ID = "ownat-demo-app";
const SCOPE = "openid fhirUser launch/patient patient/Patient.rs patient/Observation.rs";
const STORE = "ownat-demo-app:";
const messages = byId("messages");
const here = `${window.location.origin}${window.location.pathname}`;

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function discover(iss) {
  const response = await fetch(`${iss}/.well-known/smart-configuration`);
  if (!response.ok) throw new Error(`The FHIR server at ${iss} did not answer its SMART configuration.`);
  return response.json();
}

async function authorize(iss, launch) {
  const config = await discover(iss);
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(48)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(12)));
  sessionStorage.setItem(`${STORE}flight`, JSON.stringify({ verifier, state, iss, tokenUrl: config.token_endpoint }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: here,
    scope: launch ? `launch ${SCOPE}` : SCOPE,
    state,
    aud: iss,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  if (launch) params.set("launch", launch);
  window.location.assign(`${config.authorization_endpoint}?${params}`);
}

async function finish(query) {
  const flight = JSON.parse(sessionStorage.getItem(`${STORE}flight`) ?? "null");
  sessionStorage.removeItem(`${STORE}flight`);
  if (query.get("error")) throw Object.assign(new Error(query.get("error_description") ?? query.get("error")), { title: "The app was not allowed" });
  if (!flight || flight.state !== query.get("state")) throw new Error("This answer does not match a launch of this page; launch again.");
  const response = await fetch(flight.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: query.get("code"), redirect_uri: here, client_id: CLIENT_ID, code_verifier: flight.verifier }),
  });
  const token = await response.json();
  if (!response.ok) throw new Error(token.error_description ?? "The token request was refused.");
  window.history.replaceState(null, "", here);
  await show(flight.iss, token);
}

async function read(iss, token, path) {
  const response = await fetch(`${iss}/${path}`, { headers: { Authorization: `Bearer ${token.access_token}`, Accept: "application/fhir+json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.issue?.[0]?.diagnostics ?? `FHIR answered ${response.status}.`);
  return body;
}

async function show(iss, token) {
  const patient = await read(iss, token, `Patient/${token.patient}`);
  const name = patient.name?.[0];
  byId("patient-name").textContent = `${(name?.given ?? []).join(" ")} ${name?.family ?? ""}`.trim();
  byId("granted").textContent = `Granted: ${token.scope}`;
  const bundle = await read(iss, token, `Observation?patient=${token.patient}&_sort=-date&_count=10`);
  replace(
    byId("observations").querySelector("tbody"),
    (bundle.entry ?? []).map(({ resource }) => {
      const value = resource.valueQuantity ? `${resource.valueQuantity.value} ${resource.valueQuantity.unit ?? ""}` : resource.valueString ?? "";
      return h("tr", {}, h("td", {}, formatDateTime(resource.effectiveDateTime ?? resource.issued)), h("td", {}, resource.code?.text ?? resource.code?.coding?.[0]?.display ?? ""), h("td", {}, value));
    }),
  );
  byId("result").hidden = false;
}

async function start() {
  const query = new URLSearchParams(window.location.search);
  if (query.get("launch") && query.get("iss")) return authorize(query.get("iss"), query.get("launch"));
  if (query.get("code") || query.get("error")) return finish(query);
  byId("start").hidden = false;
  byId("launch-standalone").addEventListener("click", () => authorize(`${window.location.origin}/fhir/R4`, null).catch((error) => showError(messages, error)));
}

start()
  .catch((error) => showError(messages, error))
  .finally(() => {
    document.body.dataset.ready = "true";
  });
