// What a kernel is to the WASM backend: attributes and tensor addresses in, instructions out.
import type { OpAttrs, OpName } from "../../../ops.js";
import {
  add,
  f32,
  fadd,
  FuncBuilder,
  get,
  hsum,
  i32,
  loadF,
  loadV,
  mul,
  SCALAR,
  set,
  storeF,
  storeV,
  sub,
  VECTOR,
  type Lanes,
  vadd,
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
  /** Byte addresses of the step's tensors; one the step need not write is 0 (see `needed`). */
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

/**
 * Whether a step's tensor has an address: emit.ts gives an output the step need not write (a
 * gradient of −1) the address 0, where the control words lie and no tensor can.
 */
export const needed = (address: Expr): boolean =>
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

/** A local of each width: one for a body's f32x4 groups, one for its scalar tail. */
export const laneLocal = (fb: FuncBuilder): Record<Lanes["type"], number> => ({
  f32: fb.local("f32"),
  v128: fb.local("v128"),
});

/**
 * Over floats [lo, hi) of tensors at `bases`: `body(p, o, lanes)` with `p` pointer locals into
 * each (set to the range's start and advanced as it goes), once per f32x4 group and once per
 * float of the tail.
 */
export function overRange(
  fb: FuncBuilder,
  lo: Expr,
  hi: Expr,
  bases: Expr[],
  body: (p: number[], offset: number, lanes: Lanes) => Expr[],
): Expr[] {
  const p = bases.map(() => fb.local("i32"));
  return [
    ...bases.map((base, i) => set(p[i]!, at(base, lo, F32))),
    ...overRun(
      fb,
      sub(hi, lo),
      p,
      (o) => body(p, o, VECTOR),
      (o) => body(p, o, SCALAR),
    ),
  ];
}

/** Sets `floats` floats from the byte address `base` to `value`. */
export function fill(fb: FuncBuilder, base: Expr, floats: number | Expr, value: number): Expr[] {
  const p = fb.local("i32");
  const end = fb.local("i32");
  const bytes = typeof floats === "number" ? i32(floats * F32) : mul(floats, i32(F32));
  const vector = [...new Uint8Array(new Float32Array(4).fill(value).buffer)];
  // Whole vectors while 16 bytes remain, then single floats.
  return [
    set(p, base),
    set(end, add(get(p), bytes)),
    fb.until({ op: "i32.gt_s", a: add(get(p), i32(16)), b: get(end) }, [
      storeV(get(p), { op: "v128.const", bytes: vector }),
      set(p, add(get(p), i32(16))),
    ]),
    ...fb.loop(p, get(p), get(end), F32, [storeF(get(p), f32(value))]),
  ];
}

/** Zeroes `floats` floats from the byte address `base`. */
export const zeroFill = (fb: FuncBuilder, base: Expr, floats: number | Expr): Expr[] =>
  fill(fb, base, floats, 0);

/**
 * Copies `planes` planes of h × w floats from `src` into planes of H × W at `dst`, shifted down
 * by `top` rows and right by `left` columns (negative shifts crop), or adds them with `add`.
 * The rest of `dst` is not touched: a caller zeroes it once and copies sample after sample into
 * the same frame.
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
    add?: boolean;
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
    (o) => [
      storeV(get(d), shape.add ? vadd(loadV(get(d), o), loadV(get(s), o)) : loadV(get(s), o), o),
    ],
    (o) => [
      storeF(get(d), shape.add ? fadd(loadF(get(d), o), loadF(get(s), o)) : loadF(get(s), o), o),
    ],
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

/**
 * Constant f32 `values` in a table (their bit patterns: tables hold i32s) and a reader of entry
 * `i` (an i32 expression).
 */
export function f32Table(s: WasmStep, values: readonly number[]): (i: Expr) => Expr {
  const table = s.table(Array.from(new Int32Array(new Float32Array(values).buffer)));
  return (i) => loadF(add(i32(table), mul(i, i32(F32))));
}

/**
 * Each term summed over a run of `length` floats from the pointers `runs` (set by the caller),
 * added to the f32 locals `into`: f32x4 partial sums, reduced once after the run.
 */
export function sumRun(
  fb: FuncBuilder,
  length: number,
  runs: number[],
  terms: ((L: Lanes, o: number) => Expr)[],
  into: number[],
): Expr[] {
  const vec = terms.map(() => fb.local("v128"));
  return [
    ...vec.map((v) => set(v, ZERO_V)),
    ...overRun(
      fb,
      length,
      runs,
      (o) => terms.map((t, i) => set(vec[i]!, vadd(get(vec[i]!), t(VECTOR, o)))),
      (o) => terms.map((t, i) => set(into[i]!, fadd(get(into[i]!), t(SCALAR, o)))),
    ),
    ...into.map((l, i) => set(l, fadd(get(l), hsum(get(vec[i]!))))),
  ];
}
