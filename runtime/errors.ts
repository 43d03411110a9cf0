// The error users see: a problem with their input (data, weights, settings), never a bug.
import { formatBytes } from "./units.js";

/** Thrown for a user's mistake; the CLI prints its message alone, without a stack trace. */
export class NetcError extends Error {
  override readonly name = "NetcError";
}

/**
 * Allocates `bytes` for `what` (the model's memory, a file's bytes); the engine's refusal (a
 * RangeError: too large for it, or for the machine) becomes a NetcError that names the size.
 */
export function allocating<T>(what: string, bytes: number, allocate: () => T): T {
  try {
    return allocate();
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new NetcError(`cannot allocate ${formatBytes(bytes)} for ${what}: ${error.message}`);
  }
}
