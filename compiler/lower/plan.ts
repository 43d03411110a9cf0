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
  // First fit: each tensor goes to the lowest gap left by tensors no longer live when it is
  // first written, else on top. The gaps are kept as a list rather than recomputed from every
  // placed tensor, which made planning quadratic in the number of steps.
  const arena = new FreeList();
  const expiring = new Map<number, { start: number; size: number }[]>();
  let expired = -1; // the steps whose last tensors have been freed
  let perSampleSize = 0;
  for (const t of live) {
    const size = elementCount(t.shape);
    const begin = first.get(t.id)!;
    for (; expired < begin - 1; expired++) {
      for (const r of expiring.get(expired + 1) ?? []) arena.free(r.start, r.size);
      expiring.delete(expired + 1);
    }
    const start = arena.allocate(size);
    const end = last.get(t.id)!;
    const list = expiring.get(end) ?? [];
    list.push({ start, size });
    expiring.set(end, list);
    offsets[t.id] = { fixed: fixedSize, perSample: start };
    perSampleSize = Math.max(perSampleSize, start + size);
  }
  for (const t of tensors) {
    if (t.aliasOf !== undefined) offsets[t.id] = offsets[root(t.id)]!;
  }
  return { offsets, fixedSize, perSampleSize };
}

/** Free space in the per-sample arena: sorted, coalesced gaps below `top`, all free above it. */
class FreeList {
  private readonly gaps: { start: number; end: number }[] = [];
  private top = 0;

  /** The start of the lowest gap that holds `size`, else the top. */
  allocate(size: number): number {
    const i = this.gaps.findIndex((g) => g.end - g.start >= size);
    if (i < 0) {
      this.top += size;
      return this.top - size;
    }
    const gap = this.gaps[i]!;
    const start = gap.start;
    gap.start += size;
    if (gap.start === gap.end) this.gaps.splice(i, 1);
    return start;
  }

  free(start: number, size: number): void {
    if (size === 0) return;
    let end = start + size;
    // The gaps before and after the freed range, found by binary search: merge with them.
    let lo = 0;
    let hi = this.gaps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.gaps[mid]!.start < start) lo = mid + 1;
      else hi = mid;
    }
    let from = lo;
    let count = 0;
    if (from > 0 && this.gaps[from - 1]!.end === start) {
      from--;
      start = this.gaps[from]!.start;
      count++;
    }
    if (this.gaps[lo]?.start === end) {
      end = this.gaps[lo]!.end;
      count++;
    }
    if (end === this.top) {
      this.gaps.splice(from, count);
      this.top = start;
    } else {
      this.gaps.splice(from, count, { start, end });
    }
  }
}
