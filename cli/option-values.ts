// Parsers for numeric flags: a bad value is a usage error naming what was expected.
import { InvalidArgumentError } from "commander";

function integer(text: string, min: number, max: number, what: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`expected ${what}`);
  }
  return value;
}

export const positiveInteger = (text: string) =>
  integer(text, 1, Number.MAX_SAFE_INTEGER, "a positive integer");

export const seedValue = (text: string) =>
  integer(text, 0, 4294967295, "an integer from 0 to 4294967295");

export function positiveNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError("expected a positive number");
  }
  return value;
}

export const nonNegativeInteger = (text: string) =>
  integer(text, 0, Number.MAX_SAFE_INTEGER, "a non-negative integer");

/** A fraction strictly between 0 and 1 (`--test-split 0.2`). */
export function fraction(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !(value > 0 && value < 1)) {
    throw new InvalidArgumentError("expected a number above 0 and below 1");
  }
  return value;
}
