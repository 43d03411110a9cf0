// The message of the NetcError a call throws: what a user would read.
import { expect } from "vitest";
import { NetcError } from "../../runtime/errors.js";

/** The NetcError `run` throws; anything else (or nothing) fails the test. */
export function netcError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(NetcError);
    return (error as Error).message;
  }
  throw new Error("expected a NetcError");
}
