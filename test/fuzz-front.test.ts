// Fuzzing the compiler in-process: generated programs and mutated sources through check,
// format and compile. `npm test` runs each property a fixed few times; `npm run fuzz` for
// minutes (see test/fuzz/budget.ts).
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect } from "vitest";
import { check, compile, type CheckResult } from "../compiler/index.js";
import { format } from "../grammar/format.js";
import { fuzzTest } from "./fuzz/budget.js";
import { mutate, mutations } from "./fuzz/mutate.js";
import { programs } from "./fuzz/programs.js";
import { expectWellFormed } from "./fuzz/well-formed.js";

const samplesDir = new URL("../samples/", import.meta.url);
const samples = readdirSync(samplesDir)
  .filter((f) => f.endsWith(".net"))
  .map((f) => readFileSync(new URL(f, samplesDir), "utf8"));

/** Sources to mutate: the samples, and generated programs. */
const sources = fc.oneof(
  fc.constantFrom(...samples),
  programs.map((p) => p.text),
);
const mutated = fc.tuple(sources, mutations).map(([text, changes]) => mutate(text, changes));

const errors = (result: CheckResult) =>
  result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code}: ${d.message}`);

/** Formatting must keep the meaning (format checks that itself) and be idempotent. */
function expectFormatsSoundly(text: string): void {
  const once = format(text);
  if ("error" in once) {
    // Refusing a file with syntax errors is right; any other refusal is the formatter's bug.
    expect(once.error).not.toMatch(/internal error/);
    return;
  }
  const twice = format(once.text);
  expect(twice).toEqual({ text: once.text });
  expect(check(once.text).diagnostics.map((d) => d.code)).toEqual(
    check(text).diagnostics.map((d) => d.code),
  );
}

describe("fuzz: compiler front end", () => {
  fuzzTest(
    "generated programs check without errors and format soundly",
    { share: 0.15, runs: 60, timeout: 30_000 },
    fc.property(programs, ({ text }) => {
      const result = check(text);
      expect(errors(result)).toEqual([]);
      expectWellFormed(text, result);
      expectFormatsSoundly(text);
    }),
  );

  fuzzTest(
    "mutated sources check without throwing, and format soundly or refuse",
    { share: 0.25, runs: 150, timeout: 30_000 },
    fc.property(mutated, (text) => {
      expectWellFormed(text, check(text));
      expectFormatsSoundly(text);
    }),
  );

  fuzzTest(
    "generated programs compile, to WebAssembly that validates",
    { share: 0.1, runs: 8, timeout: 30_000 },
    fc.property(programs, ({ text }) => {
      const result = compile(text);
      expect(result.ok ? [] : result.diagnostics).toEqual([]);
      if (!result.ok) return;
      expect(WebAssembly.validate(result.compiled.wasm.bytes)).toBe(true);
      expect(result.compiled.module.js.length).toBeGreaterThan(0);
    }),
  );

  fuzzTest(
    "mutated sources compile or say why, without throwing",
    { share: 0.1, runs: 10, timeout: 30_000 },
    fc.property(mutated, (text) => {
      const result = compile(text, { backend: "ts" });
      if (!result.ok) expect(result.error.length).toBeGreaterThan(0);
    }),
  );
});
