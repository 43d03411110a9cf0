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

/** A TCP port a server can listen on (`--port 8080`). */
export const portNumber = (text: string) => integer(text, 1, 65535, "a port from 1 to 65535");

export const seedValue = (text: string) =>
  integer(text, 0, 4294967295, "an integer from 0 to 4294967295");

/** A finite number that `accepts`, or commander's error saying what was `expected`. */
function numberWhere(accepts: (value: number) => boolean, expected: string) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value) || !accepts(value)) {
      throw new InvalidArgumentError(`expected ${expected}`);
    }
    return value;
  };
}

export const positiveNumber = numberWhere((v) => v > 0, "a positive number");
export const nonNegativeNumber = numberWhere((v) => v >= 0, "a number ≥ 0");
/** A fraction strictly between 0 and 1 (`--test-split 0.2`). */
export const fraction = numberWhere((v) => v > 0 && v < 1, "a number above 0 and below 1");

export const nonNegativeInteger = (text: string) =>
  integer(text, 0, Number.MAX_SAFE_INTEGER, "a non-negative integer");
