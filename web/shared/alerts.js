// Messages for the person at the screen: errors from the API, confirmations, empty states.

import { h, replace } from "./dom.js";

/** Shows `error` (an ApiError or any Error) in `region`, announced to screen readers. */
export function showError(region, error) {
  const title = error.title ?? "Something went wrong";
  const detail = error.message || "Please try again.";
  const problems = error.problem?.errors ?? [];
  replace(
    region,
    h(
      "div",
      { class: "alert alert-error", role: "alert" },
      h("strong", {}, title),
      h("p", {}, detail),
      problems.length
        ? h("ul", {}, problems.map((p) => h("li", {}, `${p.pointer ?? ""} ${p.detail ?? ""}`.trim())))
        : null,
    ),
  );
}

/** Shows a short confirmation in `region`. */
export function showNotice(region, text) {
  replace(region, h("div", { class: "alert alert-ok", role: "status" }, text));
}

export function clearMessages(region) {
  replace(region);
}

/** A placeholder line for an empty list. */
export function emptyState(text) {
  return h("p", { class: "empty" }, text);
}
