// Number formatting for people: thousands separators and byte sizes.

/** `61706` → `61,706`; done by hand so the output does not depend on the ICU build or locale. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

const byteUnits = ["KB", "MB", "GB", "TB"];

/** Binary multiples with the familiar labels, as Keras and most file managers print them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${byteUnits[unit]}`;
}
