// The error users see: a problem with their input (data, weights, settings), never a bug.

/** Thrown for a user's mistake; the CLI prints its message alone, without a stack trace. */
export class NetcError extends Error {
  override readonly name = "NetcError";
}
