// The password rules, explained while a person types: each rule says whether the password meets it.
// The server's policy (GET /api/v1/auth/password-policy) is the authority; "not a common password"
// needs its list, so it is checked when the form is sent.

import { api } from "../shared/api.js";
import { h, replace } from "../shared/dom.js";

/** The server's rules: {min_length, max_length, rules}. */
export function loadPolicy() {
  return api("/api/v1/auth/password-policy");
}

function mostlyOneCharacter(password) {
  const counts = {};
  for (const c of password.toLowerCase()) counts[c] = (counts[c] ?? 0) + 1;
  return Math.max(0, ...Object.values(counts)) * 2 > password.length;
}

function containsPersonal(password, email, name) {
  const lowered = password.toLowerCase();
  const local = (email ?? "").split("@")[0].toLowerCase();
  const parts = (name ?? "").toLowerCase().split(/\s+/).filter((p) => p.length >= 3);
  return (local.length >= 3 && lowered.includes(local)) || parts.some((p) => lowered.includes(p));
}

/** Each rule with `met` true, false, or null (not judged yet: nothing typed, or checked on sending). */
export function judge(password, confirmation, { policy, email, name }) {
  if (!password) {
    const blank = judge("-", confirmation === undefined ? undefined : "-", { policy, email, name });
    return blank.map((rule) => ({ ...rule, met: null }));
  }
  const rules = [
    { text: `At least ${policy.min_length} characters (a few words make a good one)`, met: password.length >= policy.min_length && password.length <= policy.max_length },
    { text: "Not mostly one repeated character", met: password.length > 0 && !mostlyOneCharacter(password) },
    { text: "Not containing your email address or your name", met: password.length > 0 && !containsPersonal(password, email, name) },
    { text: "Not a common password (checked when you send the form)", met: null },
  ];
  if (confirmation !== undefined) rules.push({ text: "Typed the same twice", met: password.length > 0 && password === confirmation });
  return rules;
}

/**
 * Keeps `list` describing how `password` (and `confirm`, if given) meet the policy; `personal()` gives
 * the email and name to compare with. Returns a function that says whether every checkable rule is met.
 */
export function bindPasswordRules({ policy, password, confirm, list, personal }) {
  const render = () => {
    const rules = judge(password.value, confirm?.value, { policy, ...personal() });
    replace(
      list,
      rules.map((rule) => {
        const state = rule.met === null ? "rule-later" : rule.met ? "rule-met" : "rule-unmet";
        const mark = rule.met === null ? "·" : rule.met ? "✓" : "✗";
        const said = rule.met === null ? "" : rule.met ? " (met)" : " (not yet)";
        return h("li", { class: state }, h("span", { class: "mark", "aria-hidden": "true" }, mark), h("span", {}, rule.text, h("span", { class: "visually-hidden" }, said)));
      }),
    );
    return password.value !== "" && rules.every((rule) => rule.met !== false);
  };
  for (const input of [password, confirm]) input?.addEventListener("input", render);
  render();
  return render;
}

/** The link's token from the address's fragment (#token=...), then removed from the address bar. */
export function takeLinkToken() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (token) history.replaceState(null, "", window.location.pathname);
  return token;
}
