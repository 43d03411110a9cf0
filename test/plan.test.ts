// The memory plan: tensors live at the same time never share memory; the arena is smaller than the sum.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { compile } from "../compiler/compile.js";
import { planMemory } from "../compiler/lower/plan.js";
import { elementCount } from "../compiler/lower/program.js";

const samplesDir = new URL("../samples/", import.meta.url);
const samples = readdirSync(samplesDir).filter((f) => f.endsWith(".net"));

describe("memory plan", () => {
  test.each(samples)("%s: simultaneously live tensors do not overlap", (file) => {
    const result = compile(readFileSync(new URL(file, samplesDir), "utf8"));
    if (!result.ok) throw new Error(result.error);
    const { program } = result.compiled;
    const plan = planMemory(program);
    const steps = [...program.forward, ...program.loss, ...program.backward];
    const root = (id: number): number => {
      const t = program.tensors[id]!;
      return t.aliasOf === undefined ? id : root(t.aliasOf);
    };
    // Per-sample extents in per-sample units (fixed tensors come first and never move).
    const extent = (id: number) => {
      const t = program.tensors[id]!;
      const o = plan.offsets[id]!;
      return t.perSample
        ? { start: o.perSample, end: o.perSample + elementCount(t.shape), fixed: false }
        : { start: o.fixed, end: o.fixed + elementCount(t.shape), fixed: true };
    };
    steps.forEach((step) => {
      const ids = [...new Set([...step.inputs, ...step.outputs].filter((i) => i >= 0).map(root))];
      for (const a of ids)
        for (const b of ids) {
          if (a >= b) continue;
          const [x, y] = [extent(a), extent(b)];
          if (x.fixed !== y.fixed) continue;
          const overlap = x.start < y.end && y.start < x.end;
          expect(
            overlap,
            `${step.kernel}: ${program.tensors[a]!.name} and ${program.tensors[b]!.name}`,
          ).toBe(false);
        }
    });
    const unplanned = program.tensors
      .filter((t) => t.perSample && t.aliasOf === undefined)
      .reduce((s, t) => s + elementCount(t.shape), 0);
    expect(plan.perSampleSize).toBeLessThanOrEqual(unplanned);
  });

  test("trainable parameters and their gradients are each one contiguous region, in the same order", () => {
    const result = compile(readFileSync(new URL("lenet5.net", samplesDir), "utf8"));
    if (!result.ok) throw new Error(result.error);
    const { layout } = result.compiled;
    let at = layout.paramRegion.offset;
    for (const p of layout.params.filter((q) => q.trainable)) {
      expect(p.offset.fixed).toBe(at);
      at += elementCount(p.shape);
    }
    expect(at - layout.paramRegion.offset).toBe(61_706);
    expect(layout.gradRegion.size).toBe(61_706);
  });
});
