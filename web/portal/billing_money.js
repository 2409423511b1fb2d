// Money on the billing pages: integer minor units in and out, never a float in between.

const EXPONENTS = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };

export function exponentOf(currency) {
  return EXPONENTS[currency] ?? 2;
}

/** "125.50 USD" from 12550 and "USD", by string arithmetic. */
export function formatMoney(minor, currency) {
  const exponent = exponentOf(currency);
  const sign = minor < 0 ? "-" : "";
  const digits = String(Math.abs(minor)).padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent ? `.${digits.slice(digits.length - exponent)}` : "";
  return `${sign}${whole}${fraction} ${currency}`;
}

/** The amount typed by a person ("12", "12.5", "12.50") in minor units; null when it is not one. */
export function parseMoney(text, currency) {
  const exponent = exponentOf(currency);
  const match = /^\s*(\d{1,12})(?:[.,](\d+))?\s*$/.exec(text);
  if (!match || (match[2] ?? "").length > exponent) return null;
  const fraction = (match[2] ?? "").padEnd(exponent, "0");
  return Number(match[1]) * 10 ** exponent + Number(fraction || "0");
}

/** The amount in the form's decimal notation, to prefill an input. */
export function moneyInput(minor, currency) {
  return formatMoney(minor, currency).split(" ")[0];
}
