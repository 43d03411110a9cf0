// How long each fuzz property runs: a fixed few runs in `npm test`, or its share of the time
// `npm run fuzz` is given (FUZZ_SECONDS, set by vitest.fuzz.config.ts).
import fc from "fast-check";
import { test } from "vitest";

const seconds = Number(process.env["FUZZ_SECONDS"] ?? 0);

/** Whether this is `npm run fuzz`: random seeds and a time budget instead of fixed runs. */
export const fuzzing = seconds > 0;

/** What a property gets: `runs` in `npm test` within `timeout` ms, or `share` of the fuzzing time. */
export interface Budget {
  share: number;
  runs: number;
  timeout: number;
}

/**
 * A test that asserts `property` on its budget; in `npm run fuzz` it also says how many
 * inputs it tried (fast-check reports only failures).
 */
export function fuzzTest<T>(name: string, budget: Budget, property: fc.IRawProperty<T>): void {
  const parameters: fc.Parameters<T> = fuzzing
    ? {
        numRuns: Number.MAX_SAFE_INTEGER,
        interruptAfterTimeLimit: seconds * 1000 * budget.share,
        markInterruptAsFailure: false,
      }
    : { numRuns: budget.runs, seed: 20261207 };
  const timeout = fuzzing ? seconds * 1000 * budget.share + 60_000 : budget.timeout;
  test(
    name,
    async () => {
      const details = await fc.check(property, parameters);
      if (fuzzing)
        console.log(`${name}: ${details.numRuns} inputs${details.failed ? ", FAILED" : ""}`);
      if (details.failed) {
        throw new Error(fc.defaultReportMessage(details), { cause: details.errorInstance });
      }
    },
    timeout,
  );
}
