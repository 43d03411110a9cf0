// Byte sizes for people, in the compiler's summaries and the runtime's errors alike.

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
