// What a kernel is to the WASM backend: attributes and tensor addresses in, instructions out.
import type { OpAttrs, OpName } from "../../../ops.js";
import {
  add,
  f32,
  FuncBuilder,
  get,
  i32,
  loadF,
  loadV,
  mul,
  set,
  storeF,
  storeV,
  ZERO_V,
} from "../builder.js";
import type { Expr } from "../encoder.js";

export interface WasmStep<K extends OpName = OpName> {
  fb: FuncBuilder;
  /** The batch and the count of real samples (i32). */
  N: Expr;
  count: Expr;
  /** i32: 1 in training mode (batch statistics, dropout), 0 in evaluation. */
  training: Expr;
  /** Byte addresses of the step's tensors; an output nothing needs (−1) is i32(0) (`given`). */
  ins: Expr[];
  outs: Expr[];
  a: OpAttrs[K];
  /** Add into the first output instead of overwriting it. */
  acc: boolean;
  /**
   * This thread's share [lo, hi) of `total` items: threads split every step, each writing its
   * own part of the outputs (so results do not depend on the thread count). `align` keeps the
   * cuts at multiples (vector groups).
   */
  part(total: number | Expr, align?: number): { lo: Expr; hi: Expr };
  /** A scratch region of `bytes` for this step and thread (zeroed by nobody: the kernel owns it). */
  scratch(bytes: number): Expr;
  /** A constant table of i32 values in memory; returns its byte address. */
  table(values: readonly number[]): number;
}

/** Instructions for the step, or undefined where the WASM backend leaves it to the JS kernel. */
export type WasmKernel<K extends OpName> = (s: WasmStep<K>) => Expr[] | undefined;

export const F32 = 4;

/** Whether a step's tensor has an address: one the program does not need has i32(0). */
export const given = (address: Expr): boolean =>
  !(address.op === "i32.const" && address.value === 0);

/** A byte-address constant plus i·stride for an i32 local i. */
export const at = (base: Expr, index: Expr, stride: number): Expr =>
  add(base, mul(index, i32(stride)));

/**
 * For each run of `length` floats starting at the pointers in `runs` (locals, advanced as it
 * goes): `vector(off)` on whole f32x4 groups and `scalar(off)` on the tail, where `off` is a
 * byte offset from the pointers' current values. A constant length unrolls the tail and leaves
 * the pointers at its start; a computed one loops over it and leaves them past the run.
 */
export function overRun(
  fb: FuncBuilder,
  length: number | Expr,
  runs: number[],
  vector: (offset: number) => Expr[],
  scalar: (offset: number) => Expr[],
): Expr[] {
  const advance = (bytes: number) => runs.map((r) => set(r, add(get(r), i32(bytes))));
  const body: Expr[] = [];
  if (typeof length !== "number") {
    const [n, g] = [fb.local("i32"), fb.local("i32")];
    body.push(set(n, length));
    const groups: Expr = { op: "i32.div_u", a: get(n), b: i32(4) };
    body.push(...fb.loop(g, i32(0), groups, 1, [...vector(0), ...advance(16)]));
    const tail: Expr = { op: "i32.and", a: get(n), b: i32(3) };
    body.push(...fb.loop(g, i32(0), tail, 1, [...scalar(0), ...advance(F32)]));
    return body;
  }
  const groups = length >> 2;
  if (groups > 0) {
    const g = fb.local("i32");
    body.push(...fb.loop(g, i32(0), i32(groups), 1, [...vector(0), ...advance(16)], true));
  }
  for (let t = 0; t < (length & 3); t++) body.push(...scalar(t * F32));
  return body;
}

/** Zeroes `floats` floats from the byte address `base`. */
export function zeroFill(fb: FuncBuilder, base: Expr, floats: number | Expr): Expr[] {
  const p = fb.local("i32");
  const end = fb.local("i32");
  const bytes = typeof floats === "number" ? i32(floats * F32) : mul(floats, i32(F32));
  // Whole vectors while 16 bytes remain, then single floats.
  return [
    set(p, base),
    set(end, add(get(p), bytes)),
    fb.until({ op: "i32.gt_s", a: add(get(p), i32(16)), b: get(end) }, [
      storeV(get(p), ZERO_V),
      set(p, add(get(p), i32(16))),
    ]),
    ...fb.loop(p, get(p), get(end), F32, [storeF(get(p), f32(0))]),
  ];
}

/**
 * Copies `planes` planes of h × w floats from `src` into planes of H × W at `dst`, shifted down
 * by `top` rows and right by `left` columns (negative shifts crop). The rest of `dst` is not
 * touched: a caller zeroes it once and copies sample after sample into the same frame.
 */
export function copyPlanes(
  fb: FuncBuilder,
  src: Expr,
  dst: Expr,
  shape: {
    planes: number;
    h: number;
    w: number;
    H: number;
    W: number;
    top: number;
    left: number;
    /** Floats from one destination plane to the next (default H·W). */
    plane?: number;
  },
): Expr[] {
  const { planes, h, w, H, W, top, left } = shape;
  const plane = shape.plane ?? H * W;
  const y0 = Math.max(0, -top);
  const y1 = Math.min(h, H - top);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(w, W - left);
  if (y1 <= y0 || x1 <= x0) return [];
  const [s, d, c, y, S, D] = fb.locals("i32", 6);
  const row = overRun(
    fb,
    x1 - x0,
    [s, d],
    (o) => [storeV(get(d), loadV(get(s), o), o)],
    (o) => [storeF(get(d), loadF(get(s), o), o)],
  );
  const perRow = [
    set(s, get(S)),
    set(d, get(D)),
    ...row,
    set(S, add(get(S), i32(w * F32))),
    set(D, add(get(D), i32(W * F32))),
  ];
  const perPlane = [
    ...fb.loop(y, i32(y0), i32(y1), 1, perRow, true),
    set(S, add(get(S), i32((h - (y1 - y0)) * w * F32))),
    set(D, add(get(D), i32((plane - (y1 - y0) * W) * F32))),
  ];
  return [
    set(S, add(src, i32((y0 * w + x0) * F32))),
    set(D, add(dst, i32(((y0 + top) * W + x0 + left) * F32))),
    ...fb.loop(c, i32(0), i32(planes), 1, perPlane, true),
  ];
}
