// How long each fuzz property runs: a fixed few runs in `npm test`, or its share of the time
// `npm run fuzz` is given (FUZZ_SECONDS, set by vitest.fuzz.config.ts).
import type fc from "fast-check";

const seconds = Number(process.env["FUZZ_SECONDS"] ?? 0);

/** Whether this is `npm run fuzz`: random seeds and a time budget instead of fixed runs. */
export const fuzzing = seconds > 0;

/** fast-check's parameters: `runs` runs with a fixed seed, or `share` of the fuzzing time. */
export function budget<T>(share: number, runs: number): fc.Parameters<T> {
  if (!fuzzing) return { numRuns: runs, seed: 20261207 };
  return {
    numRuns: Number.MAX_SAFE_INTEGER,
    interruptAfterTimeLimit: seconds * 1000 * share,
    markInterruptAsFailure: false,
  };
}

/** The test's timeout: `normal` in `npm test`, its share of the fuzzing time and a minute more. */
export function timeout(share: number, normal: number): number {
  return fuzzing ? seconds * 1000 * share + 60_000 : normal;
}
