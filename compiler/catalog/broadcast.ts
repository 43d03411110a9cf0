// Broadcasting of per-sample shapes for the elementwise joins (Add, Mul), as numpy and PyTorch:
// shapes aligned from their last dimension, each pair of sizes equal or one of them 1. The
// batch is never broadcast.
import { formatShape } from "../diagnostics.js";
import type { BroadcastInput } from "../ops.js";
import { size, type ReferenceContext, type Shape, type ShapeContext } from "./types.js";

/**
 * The shape all inputs broadcast to, or undefined after an error naming the first pair that
 * does not (the values so far against the next one).
 */
export function broadcastShape(ctx: ShapeContext): Shape | undefined {
  let shape = ctx.inputs[0]!;
  let names = ctx.inputNames[0]!;
  for (let k = 1; k < ctx.inputs.length; k++) {
    const next = ctx.inputs[k]!;
    const rank = Math.max(shape.length, next.length);
    const [a, b] = [aligned(shape, rank), aligned(next, rank)];
    const dim = a.findIndex((d, i) => d !== b[i] && d !== 1 && b[i] !== 1);
    if (dim >= 0) {
      return ctx.error("broadcast-mismatch", {
        layer: ctx.layer,
        a: `${names} ${formatShape(shape)}`,
        b: `${ctx.inputNames[k]} ${formatShape(next)}`,
        // Counted in the longer shape, whose dimensions the aligned ones are.
        dim,
        sizeA: a[dim]!,
        sizeB: b[dim]!,
        ranksDiffer: shape.length !== next.length,
      });
    }
    shape = a.map((d, i) => Math.max(d, b[i]!));
    names = `${names} + ${ctx.inputNames[k]}`;
  }
  return shape;
}

/** `shape` with leading 1s up to `rank` dimensions. */
const aligned = (shape: Shape, rank: number): number[] => [
  ...Array<number>(rank - shape.length).fill(1),
  ...shape,
];

/** An input's strides along the output's dimensions: 0 where it has 1 (broadcast or not). */
function strides(input: Shape, output: Shape): number[] {
  const a = aligned(input, output.length);
  return a.map((d, i) => (d === 1 ? 0 : size(a.slice(i + 1))));
}

/**
 * The output's dimensions and every input's strides along them, with dimensions of 1 dropped and
 * neighbours merged where every input steps through both as through one (both kept, or both
 * broadcast): [C, 1, 1] against [C, H, W] becomes dims [C, H·W] with strides [1, 0] and [H·W, 1].
 */
export function broadcastPlan(inputs: readonly Shape[], output: Shape) {
  const all = inputs.map((s) => strides(s, output));
  const kept = output.flatMap((d, i) => (d === 1 ? [] : [i]));
  const dims: number[] = [];
  const merged: number[][] = inputs.map(() => []);
  for (const i of kept) {
    const last = dims.length - 1;
    const joins = last >= 0 && all.every((s, k) => merged[k]![last] === s[i]! * output[i]!);
    if (joins) {
      dims[last] = dims[last]! * output[i]!;
      all.forEach((s, k) => (merged[k]![last] = s[i]!));
    } else {
      dims.push(output[i]!);
      all.forEach((s, k) => merged[k]!.push(s[i]!));
    }
  }
  // A single value: one dimension of 1, so that kernels always have a loop.
  if (dims.length === 0)
    return { dims: [1], inputs: inputs.map(() => ({ size: 1, strides: [0] })) };
  return {
    dims,
    inputs: inputs.map((s, k): BroadcastInput => ({ size: size(s), strides: merged[k]! })),
  };
}

/** An input read through its strides, over all outputs of all samples: its value for each. */
export function broadcastRead(c: ReferenceContext, x: Float64Array, input: number): Float64Array {
  const plan = broadcastPlan(c.inputs, c.output);
  const { size: own, strides: steps } = plan.inputs[input]!;
  const P = size(c.output);
  const out = new Float64Array(c.N * P);
  for (let n = 0; n < c.N; n++)
    for (let p = 0; p < P; p++) out[n * P + p] = x[n * own + sourceOf(p, plan.dims, steps)]!;
  return out;
}

/** Sums `values` (one per output of every sample) into input `input`'s shape. */
export function broadcastReduce(c: ReferenceContext, values: Float64Array, input: number) {
  const plan = broadcastPlan(c.inputs, c.output);
  const { size: own, strides: steps } = plan.inputs[input]!;
  const P = size(c.output);
  const out = new Float64Array(c.N * own);
  for (let n = 0; n < c.N; n++)
    for (let p = 0; p < P; p++) out[n * own + sourceOf(p, plan.dims, steps)] += values[n * P + p]!;
  return out;
}

/** The index within a sample's input that output position `p` reads. */
function sourceOf(p: number, dims: readonly number[], steps: readonly number[]): number {
  let index = 0;
  for (let d = dims.length - 1; d >= 0; d--) {
    index += (p % dims[d]!) * steps[d]!;
    p = Math.floor(p / dims[d]!);
  }
  return index;
}
