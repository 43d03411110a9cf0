// Memory planning: every tensor gets an offset in one arena, per-sample tensors by liveness.
import { elementCount, type Program } from "./program.js";

/**
 * Offsets are in 4-byte elements. A tensor's offset is `fixed + N · perSample`: parameters,
 * gradients and other whole tensors have perSample 0; per-sample tensors sit after the fixed
 * region, and since all their sizes scale with the batch N, one plan serves every batch size.
 */
export interface MemoryPlan {
  offsets: { fixed: number; perSample: number }[];
  fixedSize: number;
  perSampleSize: number;
}

export function planMemory(program: Program): MemoryPlan {
  const { tensors } = program;
  const steps = [...program.forward, ...program.loss, ...program.backward];
  const end = steps.length;
  const root = (id: number): number => {
    let t = tensors[id]!;
    while (t.aliasOf !== undefined) t = tensors[t.aliasOf]!;
    return t.id;
  };

  // Live ranges of per-sample roots, in step indices (inclusive).
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
  // What the caller writes before the step or reads after it lives throughout.
  const pinned = [
    ...program.inputs.map((t) => t.tensor),
    ...program.targets.map((t) => t.tensor),
    ...program.outputs.map((t) => t.tensor),
    ...program.inputGrads.map((t) => t.tensor),
  ].map(root);
  for (const r of pinned) {
    first.set(r, -1);
    last.set(r, end);
  }

  const offsets = tensors.map(() => ({ fixed: 0, perSample: 0 }));
  let fixedSize = 0;
  // Trainable parameters, then their gradients, each contiguous and in the same order.
  for (const role of ["param", "grad", "state", "loss", "scratch"] as const) {
    for (const t of tensors) {
      if (t.role !== role || t.perSample) continue;
      offsets[t.id] = { fixed: fixedSize, perSample: 0 };
      fixedSize += elementCount(t.shape);
    }
  }

  const live = tensors
    .filter((t) => t.perSample && t.aliasOf === undefined && first.has(t.id))
    .sort((a, b) => first.get(a.id)! - first.get(b.id)! || a.id - b.id);
  const placed: { start: number; size: number; last: number }[] = [];
  let perSampleSize = 0;
  for (const t of live) {
    const size = elementCount(t.shape);
    const begin = first.get(t.id)!;
    // First fit among the gaps left by tensors no longer live.
    const busy = placed.filter((p) => p.last >= begin).sort((a, b) => a.start - b.start);
    let start = 0;
    for (const p of busy) {
      if (p.start - start >= size) break;
      start = Math.max(start, p.start + p.size);
    }
    placed.push({ start, size, last: last.get(t.id)! });
    offsets[t.id] = { fixed: fixedSize, perSample: start };
    perSampleSize = Math.max(perSampleSize, start + size);
  }
  for (const t of tensors) {
    if (t.aliasOf !== undefined) offsets[t.id] = offsets[root(t.id)]!;
  }
  return { offsets, fixedSize, perSampleSize };
}
