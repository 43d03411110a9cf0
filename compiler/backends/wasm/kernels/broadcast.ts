// Broadcast Add and Mul on WASM, and their gradient: along the output's innermost dimension each
// input is a run (f32x4) or one value repeated (a splat); the outer dimensions are loops that
// place the runs. Threads split the samples, so a gradient summed over broadcast positions is
// its thread's alone.
import {
  add,
  f32,
  fadd,
  get,
  i32,
  loadF,
  mul,
  SCALAR,
  set,
  splat,
  storeF,
  VECTOR,
  type FuncBuilder,
  type Lanes,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import type { BroadcastInput } from "../../../ops.js";
import {
  at,
  F32,
  needed,
  overRun,
  sumRun,
  zeroFill,
  type WasmKernel,
  type WasmStep,
} from "./kernel.js";

/** A tensor of the step read through its strides: its address and its pointer local. */
interface Operand {
  base: Expr;
  x: BroadcastInput;
  p: number;
  /** Along the innermost dimension: a run, or one value. */
  run: boolean;
  /** That one value, at both widths, when it is not a run. */
  s: number;
  v: number;
}

function operand(fb: FuncBuilder, base: Expr, x: BroadcastInput): Operand {
  const [s, v] = [fb.local("f32"), fb.local("v128")];
  return { base, x, p: fb.local("i32"), run: x.strides.at(-1) !== 0, s, v };
}

/** The operand at offset o of the run: a load, or its repeated value. */
const value = (L: Lanes, t: Operand, o: number): Expr =>
  t.run ? L.load(get(t.p), o) : get(L === VECTOR ? t.v : t.s);

/** The output's own strides along `dims`: contiguous. */
const outputOf = (dims: readonly number[]): BroadcastInput => ({
  size: dims.reduce((p, d) => p * d, 1),
  strides: dims.map((_, d) => dims.slice(d + 1).reduce((p, v) => p * v, 1)),
});

/**
 * For each of this thread's samples, `perSample`, then for each position of the outer dimensions
 * the operands' pointers set to their run (and a repeated value loaded), then `body`.
 */
function eachRun(
  s: WasmStep,
  dims: readonly number[],
  operands: Operand[],
  perSample: (n: number) => Expr[],
  body: Expr[],
): Expr[] {
  const { fb } = s;
  const n = fb.local("i32");
  const outer = dims.slice(0, -1).map(() => fb.local("i32"));
  const place = operands.flatMap((t) => {
    const index = outer.reduce<Expr>(
      (sum, i, d) => (t.x.strides[d] === 0 ? sum : add(sum, mul(get(i), i32(t.x.strides[d]!)))),
      mul(get(n), i32(t.x.size)),
    );
    const pointer = set(t.p, at(t.base, index, F32));
    return t.run ? [pointer] : [pointer, set(t.s, loadF(get(t.p))), set(t.v, splat(get(t.s)))];
  });
  const loops = outer.reduceRight<Expr[]>(
    (inner, i, d) => fb.loop(i, i32(0), i32(dims[d]!), 1, inner, true),
    [...place, ...body],
  );
  const { lo, hi } = s.part(s.N);
  return fb.loop(n, lo, hi, 1, [...perSample(n), ...loops]);
}

function binary(s: WasmStep<"broadcast_add" | "broadcast_mul">, op: "add" | "mul"): Expr[] {
  const { fb, a } = s;
  const [x, y] = [operand(fb, s.ins[0]!, a.a), operand(fb, s.ins[1]!, a.b)];
  const out = operand(fb, s.outs[0]!, outputOf(a.dims));
  const runs = [x, y, out].filter((t) => t.run).map((t) => t.p);
  const store = (L: Lanes, o: number) =>
    L.store(get(out.p), L[op](value(L, x, o), value(L, y, o)), o);
  const body = overRun(
    fb,
    a.dims.at(-1)!,
    runs,
    (o) => [store(VECTOR, o)],
    (o) => [store(SCALAR, o)],
  );
  return eachRun(s, a.dims, [x, y, out], () => [], body);
}

export const broadcastAdd: WasmKernel<"broadcast_add"> = (s) => binary(s, "add");
export const broadcastMul: WasmKernel<"broadcast_mul"> = (s) => binary(s, "mul");

/**
 * dx = Σ dy (· other) over the positions reading each value of x: along a run of x added in
 * place, along a repeated x summed over the run first. Each sample's dx is cleared before,
 * unless the step adds to it.
 */
export const broadcastGrad: WasmKernel<"broadcast_grad"> = (s) => {
  const { fb, a, acc } = s;
  if (!needed(s.outs[0]!)) return [];
  const dy = operand(fb, s.ins[0]!, outputOf(a.dims));
  const dx = operand(fb, s.outs[0]!, a.x);
  const other = a.other ? operand(fb, s.ins[1]!, a.other) : undefined;
  const term = (L: Lanes, o: number) =>
    other ? L.mul(value(L, dy, o), value(L, other, o)) : value(L, dy, o);
  const inner = a.dims.at(-1)!;
  const reads = [dy, ...(other ? [other] : [])].filter((t) => t.run).map((t) => t.p);
  let body: Expr[];
  if (dx.run) {
    body = overRun(
      fb,
      inner,
      [...reads, dx.p],
      (o) => [VECTOR.store(get(dx.p), term(VECTOR, o), o, true)],
      (o) => [SCALAR.store(get(dx.p), term(SCALAR, o), o, true)],
    );
  } else {
    const total = fb.local("f32");
    body = [
      set(total, f32(0)),
      ...sumRun(fb, inner, reads, [term], [total]),
      storeF(get(dx.p), fadd(loadF(get(dx.p)), get(total))),
    ];
  }
  const clear = (n: number) =>
    acc ? [] : zeroFill(fb, at(dx.base, get(n), a.x.size * F32), a.x.size);
  return eachRun(s, a.dims, [dy, dx, ...(other ? [other] : [])], clear, body);
};
