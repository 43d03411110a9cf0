// The memory plan: tensors live at the same time never share memory; the arena is smaller than the sum.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { compile } from "../compiler/compile.js";
import { planMemory, type MemoryPlan } from "../compiler/lower/plan.js";
import { elementCount, type Program, type Step, type Tensor } from "../compiler/lower/program.js";

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

  test("the free list places every tensor where first fit over the live ones does", () => {
    const programs = samples.map((file) => {
      const result = compile(readFileSync(new URL(file, samplesDir), "utf8"));
      if (!result.ok) throw new Error(result.error);
      return result.compiled.program;
    });
    for (const program of [...programs, trainingChain(300)]) {
      expect(planMemory(program).offsets).toEqual(firstFit(program).offsets);
    }
  });

  test("planning takes time linear in the steps (it was quadratic: 1.7 s at 10,000 layers)", () => {
    const time = (program: Program) => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        planMemory(program);
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    const [small, large] = [trainingChain(10_000), trainingChain(40_000)];
    // Linear is 4 times as long; quadratic was 16.
    expect(time(large) / time(small)).toBeLessThan(8);
  });
});

/**
 * A chain of `n` activations trained as the lowering makes it: each value lives from its step
 * to its gradient's, so all are live at the loss, and the gradients come and go backwards.
 */
function trainingChain(n: number): Program {
  const tensors: Tensor[] = [];
  const tensor = (role: Tensor["role"]) => {
    const id = tensors.length;
    const perSample = role !== "loss";
    tensors.push({ id, name: `t${id}`, shape: [1 + (id % 7)], perSample, dtype: "f32", role });
    return id;
  };
  const step = (inputs: number[], outputs: number[]) =>
    ({
      kernel: "activation",
      inputs,
      outputs,
      attrs: {},
      accumulate: false,
      layers: [],
    }) as unknown as Step;
  const values = [tensor("input")];
  for (let i = 0; i < n; i++) values.push(tensor("value"));
  const loss = tensor("loss");
  const grads = values.map(() => tensor("gradient"));
  return {
    model: "Chain",
    tensors,
    forward: values.slice(1).map((y, i) => step([values[i]!], [y])),
    loss: [step([values[n]!], [loss, grads[n]!])],
    backward: values.slice(1).map((_, k) => {
      const i = n - 1 - k;
      return step([values[i + 1]!, grads[i + 1]!], [grads[i]!]);
    }),
    inputs: [{ name: "x", tensor: values[0]! }],
    outputs: [{ name: "y", tensor: values[n]! }],
    targets: [],
    params: [],
    inputGrads: [],
    lossTensor: loss,
    unfused: [],
  };
}

/** The plan as it was first written, quadratic but plain: the reference for the free list. */
function firstFit(program: Program): MemoryPlan {
  const { tensors } = program;
  const steps = [...program.forward, ...program.loss, ...program.backward];
  const root = (id: number): number => {
    let t = tensors[id]!;
    while (t.aliasOf !== undefined) t = tensors[t.aliasOf]!;
    return t.id;
  };
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  steps.forEach((step, i) => {
    for (const id of [...step.inputs, ...step.outputs]) {
      if (id < 0) continue;
      const r = root(id);
      if (!first.has(r)) first.set(r, i);
      last.set(r, i);
    }
  });
  const pinned = [...program.inputs, ...program.targets, ...program.outputs, ...program.inputGrads];
  for (const { tensor } of pinned) {
    first.set(root(tensor), -1);
    last.set(root(tensor), steps.length);
  }
  const plan = planMemory(program);
  const offsets = plan.offsets.map((o) => ({ ...o }));
  const live = tensors
    .filter((t) => t.perSample && t.aliasOf === undefined && first.has(t.id))
    .sort((a, b) => first.get(a.id)! - first.get(b.id)! || a.id - b.id);
  const placed: { start: number; size: number; last: number }[] = [];
  for (const t of live) {
    const size = elementCount(t.shape);
    const begin = first.get(t.id)!;
    const busy = placed.filter((p) => p.last >= begin).sort((a, b) => a.start - b.start);
    let start = 0;
    for (const p of busy) {
      if (p.start - start >= size) break;
      start = Math.max(start, p.start + p.size);
    }
    placed.push({ start, size, last: last.get(t.id)! });
    offsets[t.id] = { fixed: offsets[t.id]!.fixed, perSample: start };
  }
  for (const t of tensors) if (t.aliasOf !== undefined) offsets[t.id] = offsets[root(t.id)]!;
  return { ...plan, offsets };
}
