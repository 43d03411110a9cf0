// Number formatting for people: thousands separators and byte sizes.

/** `61706` → `61,706`; done by hand so the output does not depend on the ICU build or locale. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

// The runtime words its memory errors with it too, and imports nothing from the compiler.
export { formatBytes } from "../runtime/units.js";
