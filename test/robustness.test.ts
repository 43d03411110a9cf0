// Property tests: truncated and mutated samples never make parse or check throw; diagnostics stay well-formed.
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { check, type CheckResult } from "../compiler/index.js";

const samplesDir = new URL("../samples/", import.meta.url);
const samples = readdirSync(samplesDir)
  .filter((f) => f.endsWith(".net"))
  .map((f) => ({ name: f, text: readFileSync(new URL(f, samplesDir), "utf8") }));

/** What every check result must satisfy, whatever the input. */
function expectWellFormed(text: string, result: CheckResult): void {
  for (const d of result.diagnostics) {
    expect(d.range.pos).toBeGreaterThanOrEqual(0);
    expect(d.range.end).toBeGreaterThanOrEqual(d.range.pos);
    expect(d.range.end).toBeLessThanOrEqual(text.length);
    expect(d.message).not.toMatch(/undefined|NaN|\[object /);
    expect(d.message.length).toBeGreaterThan(0);
  }
  for (const model of result.models) {
    for (const node of model.nodes) {
      expect(node.shape.every((n) => Number.isInteger(n) && n > 0)).toBe(true);
    }
  }
}

/** Pieces of the language to splice in: tokens that stress recovery. */
const fragments = [
  "->",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ":",
  "=",
  "+",
  "-",
  "*",
  "/",
  "\n",
  "#",
  " ",
  "model",
  "block",
  "input",
  "output",
  "criterion",
  "train",
  "in",
  "x",
  "0",
  "-1",
  "3.5",
  "1e9",
  "SpatialConvolution(",
  "Linear(",
  "View(",
  "Concat(",
  "Add(",
  "ReLU",
  "kernel=",
  "pad=",
  "Residual(",
  "DoubleConv(",
  "NLL",
  "MSE(",
  "true",
  "@",
  "\u00e9",
  "\t",
];

describe("robustness", () => {
  test.each(samples)("every truncation of $name checks without throwing", ({ text }) => {
    for (let cut = 0; cut <= text.length; cut++) {
      const prefix = text.slice(0, cut);
      expectWellFormed(prefix, check(prefix));
    }
  });

  test.each(samples)("random mutations of $name check without throwing", ({ text }) => {
    const mutation = fc.record({
      at: fc.nat({ max: text.length }),
      remove: fc.nat({ max: 12 }),
      insert: fc.array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 3 })), {
        maxLength: 4,
      }),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (mutations) => {
        let mutated = text;
        for (const m of mutations) {
          const at = Math.min(m.at, mutated.length);
          mutated = mutated.slice(0, at) + m.insert.join("") + mutated.slice(at + m.remove);
        }
        expectWellFormed(mutated, check(mutated));
      }),
      { numRuns: 300, seed: 20261124 },
    );
  });

  test("a half-typed sample still has shapes for everything before the error", () => {
    const lenet = samples.find((s) => s.name === "lenet5.net")!.text;
    const cut = lenet.indexOf("  View(400)");
    const result = check(
      lenet.slice(0, cut) + "  conv3: SpatialConvolution(16, kern\n" + lenet.slice(cut),
    );
    expect(result.diagnostics.length).toBeGreaterThan(0);
    const shapes = result.models[0]!.nodes.map((n) => `${n.name}:${n.shape.join("x")}`);
    expect(shapes).toEqual(expect.arrayContaining(["conv1:6x28x28", "conv2:16x10x10", "5:16x5x5"]));
  });
});
