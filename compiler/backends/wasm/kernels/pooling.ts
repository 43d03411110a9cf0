// Max pooling on WASM for windows that lie inside the input (no padding): the taps are unrolled
// with constant offsets, and 2×2 windows at stride 2 take four outputs per f32x4 (even and odd
// lanes shuffled apart). The gradient recomputes the argmax: the first maximum, as PyTorch's.
import {
  add,
  f32,
  get,
  i32,
  loadF,
  loadV,
  mul,
  set,
  shuffle,
  splat,
  storeF,
  storeV,
  sub,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import { at, F32, zeroFill, type WasmKernel, type WasmStep } from "./kernel.js";

/** The pooling ops: every one's attributes are a window. */
type PoolStep = WasmStep<"max_pool" | "max_pool_grad">;

function windows(s: PoolStep) {
  const d = s.a;
  const inside =
    d.PH === 0 && d.PW === 0 && (d.OH - 1) * d.SH + d.KH <= d.H && (d.OW - 1) * d.SW + d.KW <= d.W;
  const taps: number[] = [];
  for (let i = 0; i < d.KH; i++) for (let j = 0; j < d.KW; j++) taps.push((i * d.W + j) * F32);
  // 2×2 at stride 2: groups of four outputs read eight floats from each of two rows.
  const pairs = d.KH === 2 && d.KW === 2 && d.SH === 2 && d.SW === 2 ? d.OW >> 2 : 0;
  return { ...d, inside, taps, groups: pairs };
}

type Window = ReturnType<typeof windows>;

/**
 * Visits the output rows of this thread's planes (threads split the N·C planes): `row(input,
 * out)` with `input` the byte pointer of the row's first window and `out` the byte offset of its
 * first output from the output base, both locals the callee may advance.
 */
function overRows(s: PoolStep, w: Window, row: (input: number, out: number) => Expr[]): Expr[] {
  const { fb, N } = s;
  const [plane, input, out, nc, oh, rowStart, outStart] = fb.locals("i32", 7);
  const { lo, hi } = s.part({ op: "i32.mul", a: N, b: i32(w.C) });
  const perRow = [
    set(input, get(rowStart)),
    set(out, get(outStart)),
    ...row(input, out),
    set(rowStart, add(get(rowStart), i32(w.SH * w.W * F32))),
    set(outStart, add(get(outStart), i32(w.OW * F32))),
  ];
  const perPlane = [
    set(rowStart, get(plane)),
    ...s.fb.loop(oh, i32(0), i32(w.OH), 1, perRow, true),
    set(plane, add(get(plane), i32(w.H * w.W * F32))),
  ];
  return [
    set(plane, at(s.ins[0]!, lo, w.H * w.W * F32)),
    set(outStart, mul(lo, i32(w.OH * w.OW * F32))),
    ...fb.loop(nc, lo, hi, 1, perPlane),
  ];
}

/** The windows of a row from `first` on, one at a time, advancing both pointers. */
function eachWindow(
  s: PoolStep,
  w: Window,
  count: number,
  input: number,
  out: number,
  body: Expr[],
) {
  if (count <= 0) return [];
  const k = s.fb.local("i32");
  return s.fb.loop(
    k,
    i32(0),
    i32(count),
    1,
    [...body, set(input, add(get(input), i32(w.SW * F32))), set(out, add(get(out), i32(F32)))],
    true,
  );
}

const EVENS = [0, 2, 4, 6];
const ODDS = [1, 3, 5, 7];
const greater = (a: Expr, b: Expr): Expr => ({ op: "f32x4.gt", a, b });
const pick = (a: Expr, b: Expr, mask: Expr): Expr => ({ op: "v128.bitselect", a, b, c: mask });

/** The four taps of four 2×2 windows at `input`: (0,0), (0,1), (1,0), (1,1), in argmax order. */
function quadTaps(w: Window, input: number): Expr[] {
  const row = (r: number) => [
    loadV(get(input), r * w.W * F32),
    loadV(get(input), r * w.W * F32 + 16),
  ];
  const [a0, a1] = row(0);
  const [b0, b1] = row(1);
  return [
    shuffle(a0!, a1!, EVENS),
    shuffle(a0!, a1!, ODDS),
    shuffle(b0!, b1!, EVENS),
    shuffle(b0!, b1!, ODDS),
  ];
}

export const maxPool: WasmKernel<"max_pool"> = (s) => {
  const w = windows(s);
  if (!w.inside) return undefined;
  const { fb } = s;
  const [m, v] = [fb.local("f32"), fb.local("f32")];
  const [mv, tv] = [fb.local("v128"), fb.local("v128")];
  const y = fb.local("i32");
  // m starts below everything and takes a tap only when greater: NaN taps are passed over.
  const scalar = (input: number, out: number): Expr[] => [
    set(m, f32(-Infinity)),
    ...w.taps.flatMap((t) => [
      set(v, loadF(get(input), t)),
      set(m, { op: "select", a: get(v), b: get(m), c: { op: "f32.gt", a: get(v), b: get(m) } }),
    ]),
    storeF(add(get(y), get(out)), get(m)),
  ];
  const quad = (input: number, out: number): Expr[] => [
    set(mv, splat(f32(-Infinity))),
    ...quadTaps(w, input).flatMap((tap) => [
      set(tv, tap),
      set(mv, pick(get(tv), get(mv), greater(get(tv), get(mv)))),
    ]),
    storeV(add(get(y), get(out)), get(mv)),
  ];
  return [
    set(y, s.outs[0]!),
    ...overRows(s, w, (input, out) => [
      ...eachQuad(s, w, input, out, quad),
      ...eachWindow(s, w, w.OW - 4 * w.groups, input, out, scalar(input, out)),
    ]),
  ];
};

/** Groups of four 2×2 windows, advancing the pointers past them. */
function eachQuad(
  s: PoolStep,
  w: Window,
  input: number,
  out: number,
  body: (input: number, out: number) => Expr[],
) {
  if (w.groups === 0) return [];
  const k = s.fb.local("i32");
  return s.fb.loop(
    k,
    i32(0),
    i32(w.groups),
    1,
    [
      ...body(input, out),
      set(input, add(get(input), i32(8 * F32))),
      set(out, add(get(out), i32(4 * F32))),
    ],
    true,
  );
}

/** dx[argmax] (+)= dy per window; inputs x, y, dy. */
export const maxPoolGrad: WasmKernel<"max_pool_grad"> = (s) => {
  const w = windows(s);
  if (!w.inside) return undefined;
  const { fb } = s;
  const [m, g] = [fb.local("f32"), fb.local("f32")];
  const [y, dy, shift] = fb.locals("i32", 3);
  // The window pointer walks x; dx at the same position is that pointer plus (dx − x).
  const dxAt = (input: number): Expr => add(get(input), get(shift));
  const first = (input: number, t: number, rest: Expr[]): Expr[] => [
    {
      op: "if",
      cond: { op: "f32.eq", a: loadF(get(input), t), b: get(m) },
      then: [storeF(dxAt(input), { op: "f32.add", a: loadF(dxAt(input), t), b: get(g) }, t)],
      else: rest,
    },
  ];
  const scalar = (input: number, out: number): Expr[] => [
    set(m, loadF(add(get(y), get(out)))),
    set(g, loadF(add(get(dy), get(out)))),
    ...w.taps.reduceRight<Expr[]>((rest, t) => first(input, t, rest), []),
  ];
  // Four windows at once: each tap takes g where it is the first to equal the maximum.
  const [mv, gv, taken, hit] = fb.locals("v128", 4);
  const parts = fb.locals("v128", 4);
  const quad = (input: number, out: number): Expr[] => {
    const body: Expr[] = [
      set(mv, loadV(add(get(y), get(out)))),
      set(gv, loadV(add(get(dy), get(out)))),
      set(taken, { op: "v128.const", bytes: Array<number>(16).fill(0) }),
    ];
    quadTaps(w, input).forEach((tap, t) => {
      body.push(
        set(hit, { op: "v128.andnot", a: { op: "f32x4.eq", a: tap, b: get(mv) }, b: get(taken) }),
        set(taken, { op: "v128.or", a: get(taken), b: get(hit) }),
        set(parts[t]!, { op: "v128.and", a: get(gv), b: get(hit) }),
      );
    });
    // Windows do not overlap: each dx position gets one window's part, interleaved back.
    for (const r of [0, 1]) {
      const [evens, odds] = [get(parts[2 * r]!), get(parts[2 * r + 1]!)];
      for (const half of [0, 1]) {
        const offset = r * w.W * F32 + 16 * half;
        let value = shuffle(evens, odds, half === 0 ? [0, 4, 1, 5] : [2, 6, 3, 7]);
        if (s.acc) value = { op: "f32x4.add", a: loadV(dxAt(input), offset), b: value };
        body.push(storeV(dxAt(input), value, offset));
      }
    }
    return body;
  };
  return [
    // Positions no window covers (an odd last row or column) keep their zero.
    ...(s.acc ? [] : zeroPlanes(s, w.H * w.W)),
    set(y, s.ins[1]!),
    set(dy, s.ins[2]!),
    set(shift, sub(s.outs[0]!, s.ins[0]!)),
    ...overRows(s, w, (input, out) => [
      ...eachQuad(s, w, input, out, quad),
      ...eachWindow(s, w, w.OW - 4 * w.groups, input, out, scalar(input, out)),
    ]),
  ];
};

/** Zeroes this thread's planes of the first output (the same split as overRows). */
function zeroPlanes(s: PoolStep, plane: number): Expr[] {
  const { lo, hi } = s.part({ op: "i32.mul", a: s.N, b: i32(s.a.C) });
  return zeroFill(s.fb, at(s.outs[0]!, lo, plane * F32), mul(sub(hi, lo), i32(plane)));
}
