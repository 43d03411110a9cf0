// Number formatting for people: thousands separators and byte sizes.

/**
 * `61706` → `61,706`; done by hand so the output does not depend on the ICU build or locale.
 * An integer is written with all its digits (String(1e22) would be `1e+22`, and the commas
 * would go into the exponent's mantissa); only the whole part of any other number is grouped.
 */
export function formatCount(n: number): string {
  const text = Number.isInteger(n) ? BigInt(n).toString() : String(n);
  const parts = /^(-?)(\d+)(.*)$/.exec(text);
  if (!parts) return text; // NaN, Infinity
  const [, sign, whole, rest] = parts;
  return sign! + whole!.replace(/\B(?=(\d{3})+$)/g, ",") + rest!;
}

// The runtime words its memory errors with it too, and imports nothing from the compiler.
export { formatBytes } from "../runtime/units.js";
