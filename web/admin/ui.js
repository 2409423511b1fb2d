// The administration sections' building blocks are the shared form kit; this module keeps their
// imports short and in one place.

export { act, card, choice, field, onSubmit, query, table, values } from "../shared/forms.js";
