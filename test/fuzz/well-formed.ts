// What every check result must satisfy, whatever the input: the fuzz and robustness tests' oracle.
import { expect } from "vitest";
import type { CheckResult } from "../../compiler/index.js";
import { MAX_TENSOR_ELEMENTS } from "../../compiler/limits.js";

/** What every check result must satisfy, whatever the input. */
export function expectWellFormed(text: string, result: CheckResult): void {
  for (const d of result.diagnostics) {
    expect(d.range.pos).toBeGreaterThanOrEqual(0);
    expect(d.range.end).toBeGreaterThanOrEqual(d.range.pos);
    expect(d.range.end).toBeLessThanOrEqual(text.length);
    // Outside the quotes, which hold the user's own text (a name may well be `NaN`).
    expect(d.message.replace(/'[^']*'/g, "''")).not.toMatch(/undefined|NaN|\[object /);
    expect(d.message.length).toBeGreaterThan(0);
  }
  for (const model of result.models) {
    for (const node of model.nodes) {
      expect(node.shape.every((n) => Number.isSafeInteger(n) && n > 0)).toBe(true);
      expect(node.shape.reduce((a, b) => a * b, 1)).toBeLessThanOrEqual(MAX_TENSOR_ELEMENTS);
    }
  }
}
