// Depthwise convolution on WASM (one input channel per group, K/C output channels each): direct
// loops over a zero-bordered frame of each sample, the taps unrolled with their weights held in
// registers. A GEMM per channel would reduce over only KH·KW terms: its tiles would spend more
// on setup than on arithmetic.
import {
  add,
  f32,
  fadd,
  fmul,
  FuncBuilder,
  get,
  hsum,
  i32,
  lane,
  loadF,
  loadV,
  mul,
  set,
  splatLoad,
  storeF,
  storeV,
  sub,
  vadd,
  vmul,
  ZERO_V,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import type { ConvWindow } from "../../../ops.js";
import { wasmActivation } from "./activations.js";
import { epilogue, fillPlanes, perSample } from "./convolution.js";
import { at, copyPlanes, F32, overRun, zeroFill, type WasmStep } from "./kernel.js";

type DepthwiseStep = WasmStep<"conv2d" | "conv2d_grad_input" | "conv2d_grad_weight">;

/** The frame's geometry and each tap's byte offset in it from a window's top-left corner. */
function geometry(d: ConvWindow) {
  const Hp = d.H + 2 * d.PH;
  const Wp = d.W + 2 * d.PW;
  const taps: number[] = [];
  for (let i = 0; i < d.KH; i++)
    for (let j = 0; j < d.KW; j++) taps.push((i * d.DH * Wp + j * d.DW) * F32);
  return { Hp, Wp, plane: Hp * Wp, taps, multiplier: d.K / d.C };
}

/**
 * For each output plane k and row oh: `row(src, dst)` with `src` at the frame's window corner of
 * (k's channel, oh, 0) and `dst` at (k, oh, 0) of a K × OH × OW tensor at `out`; `perPlane` runs
 * first with `wk` at k's KH·KW weights.
 */
function overRows(
  s: DepthwiseStep,
  frame: Expr,
  out: Expr,
  weights: Expr,
  perPlane: (wk: number) => Expr[],
  row: (src: number, dst: number) => Expr[],
): Expr[] {
  const d = s.a;
  const { fb } = s;
  const { Wp, plane, taps, multiplier } = geometry(d);
  const [k, oh, P, D, wk, src, dst] = fb.locals("i32", 7);
  const channel: Expr =
    multiplier === 1 ? get(k) : { op: "i32.div_u", a: get(k), b: i32(multiplier) };
  const rows = [
    set(src, get(P)),
    set(dst, get(D)),
    ...row(src, dst),
    set(P, add(get(P), i32(d.SH * Wp * F32))),
    set(D, add(get(D), i32(d.OW * F32))),
  ];
  return [
    set(D, out),
    set(wk, weights),
    ...fb.loop(
      k,
      i32(0),
      i32(d.K),
      1,
      [
        set(P, add(frame, mul(channel, i32(plane * F32)))),
        ...perPlane(wk),
        ...fb.loop(oh, i32(0), i32(d.OH), 1, rows, true),
        set(wk, add(get(wk), i32(taps.length * F32))),
      ],
      true,
    ),
  ];
}

/**
 * Over the OW output columns of a row: `vector(o, x)` on four at a time where the columns are
 * adjacent in the frame too (stride 1), `scalar(o, x)` on one, with `x(t)` the byte offset of tap
 * t's input from `src` and `o` the output's from `dst`.
 */
function overColumns(
  fb: FuncBuilder,
  d: ConvWindow,
  src: number,
  dst: number,
  vector: (o: number, x: (t: number) => number) => Expr[],
  scalar: (o: number, x: (t: number) => number) => Expr[],
): Expr[] {
  const { taps } = geometry(d);
  if (d.SW === 1)
    return overRun(
      fb,
      d.OW,
      [src, dst],
      (o) => vector(o, (t) => o + taps[t]!),
      (o) => scalar(o, (t) => o + taps[t]!),
    );
  const col = fb.local("i32");
  return fb.loop(
    col,
    i32(0),
    i32(d.OW),
    1,
    [
      ...scalar(0, (t) => taps[t]!),
      set(src, add(get(src), i32(d.SW * F32))),
      set(dst, add(get(dst), i32(F32))),
    ],
    true,
  );
}

/** Each tap's weight of plane k splatted into a register, set once per plane. */
function weightRegisters(fb: FuncBuilder, count: number) {
  const registers = Array.from({ length: count }, () => fb.local("v128"));
  return {
    registers,
    load: (wk: number) => registers.map((r, t) => set(r, splatLoad(get(wk), t * F32))),
  };
}

/** The sample at `x` into the frame's interior (its border stays zero). */
function framed(fb: FuncBuilder, d: ConvWindow, x: Expr, frame: Expr): Expr[] {
  const { Hp, Wp } = geometry(d);
  return copyPlanes(fb, x, frame, {
    planes: d.C,
    h: d.H,
    w: d.W,
    H: Hp,
    W: Wp,
    top: d.PH,
    left: d.PW,
  });
}

/** y[n,k] = act(b[k] + Σ_i,j w[k,i,j] · x[n, k/M, oh·SH−PH+i·DH, ow·SW−PW+j·DW]), M = K/C. */
export function depthwise(s: WasmStep<"conv2d">): Expr[] {
  const d = s.a;
  const { fb } = s;
  const [x, w, b] = s.ins;
  const { plane, taps } = geometry(d);
  const frame = s.scratch(d.C * plane * F32);
  const out = s.scratch(d.K * d.OH * d.OW * F32);
  const { registers, load } = weightRegisters(fb, taps.length);
  const [acc, one] = [fb.local("v128"), fb.local("f32")];
  const { lo, hi } = s.part(s.N);
  const xn = perSample(fb, x!, lo, d.C * d.H * d.W);
  const yn = perSample(fb, s.outs[0]!, lo, d.K * d.OH * d.OW);
  const n = fb.local("i32");
  const row = (src: number, dst: number) =>
    overColumns(
      fb,
      d,
      src,
      dst,
      (o, tap) => [
        set(acc, ZERO_V),
        ...registers.map((r, t) => set(acc, vadd(get(acc), vmul(get(r), loadV(get(src), tap(t)))))),
        storeV(get(dst), get(acc), o),
      ],
      (o, tap) => [
        set(one, f32(0)),
        ...registers.map((r, t) =>
          set(one, fadd(get(one), fmul(lane(get(r), 0), loadF(get(src), tap(t))))),
        ),
        storeF(get(dst), get(one), o),
      ],
    );
  const sample = [
    ...framed(fb, d, get(xn.local), frame),
    ...overRows(s, frame, out, w!, load, row),
    ...epilogue(
      fb,
      out,
      yn.local,
      { planes: d.K, rows: d.OH, cols: d.OW, stride: d.OW, planeStride: d.OH * d.OW },
      {
        ...(d.bias ? { bias: b! } : {}),
        ...(s.outs[1] ? { keep: sub(s.outs[1], s.outs[0]!) } : {}),
        act: wasmActivation(fb, d.act),
        add: s.acc,
      },
    ),
    xn.next,
  ];
  return [...zeroFill(fb, frame, d.C * plane), xn.init, yn.init, ...fb.loop(n, lo, hi, 1, sample)];
}

/**
 * dx[n,c] (+)= Σ over c's output planes k and taps of w[k,i,j] · dy[n,k,…]: each dy row scattered
 * into a frame of dx (so the padding needs no bounds), whose interior is then set into dx or
 * added to it. With `bias` (a transposed convolution's forward pass) dx starts from b[c].
 */
export function depthwiseGradInput(s: WasmStep<"conv2d_grad_input">): Expr[] {
  const d = s.a;
  const { fb } = s;
  const [dy, w, b] = s.ins;
  const { Hp, Wp, plane, taps } = geometry(d);
  const frame = s.scratch(d.C * plane * F32);
  const { registers, load } = weightRegisters(fb, taps.length);
  const [v, one] = [fb.local("v128"), fb.local("f32")];
  const { lo, hi } = s.part(s.N);
  const dyn = perSample(fb, dy!, lo, d.K * d.OH * d.OW);
  const dxn = perSample(fb, s.outs[0]!, lo, d.C * d.H * d.W);
  const n = fb.local("i32");
  // Here the frame is the destination (`src` of overRows) and dy the source (its `dst`).
  const row = (into: number, from: number) =>
    overColumns(
      fb,
      d,
      into,
      from,
      (o, tap) => [
        set(v, loadV(get(from), o)),
        ...registers.map((r, t) =>
          storeV(get(into), vadd(loadV(get(into), tap(t)), vmul(get(r), get(v))), tap(t)),
        ),
      ],
      (o, tap) => [
        set(one, loadF(get(from), o)),
        ...registers.map((r, t) =>
          storeF(
            get(into),
            fadd(loadF(get(into), tap(t)), fmul(lane(get(r), 0), get(one))),
            tap(t),
          ),
        ),
      ],
    );
  const start = s.acc ? [] : fillPlanes(fb, get(dxn.local), d.C, d.H * d.W, d.bias ? b : undefined);
  const sample = [
    ...zeroFill(fb, frame, d.C * plane),
    ...overRows(s, frame, get(dyn.local), w!, load, row),
    ...start,
    ...copyPlanes(fb, frame, get(dxn.local), {
      planes: d.C,
      h: Hp,
      w: Wp,
      H: d.H,
      W: d.W,
      top: -d.PH,
      left: -d.PW,
      add: true,
    }),
    dyn.next,
    dxn.next,
  ];
  return [dyn.init, dxn.init, ...fb.loop(n, lo, hi, 1, sample)];
}

/**
 * dw[k,i,j] = Σ_n,oh,ow dy[n,k,oh,ow] · x[n, k/M, oh·SH−PH+i·DH, ow·SW−PW+j·DW]: per sample and
 * plane, one accumulator per tap over the plane's rows, each dy vector loaded once for all taps.
 * Threads split the output channels k, each summing over the whole batch.
 */
export function depthwiseGradWeight(s: WasmStep<"conv2d_grad_weight">): Expr[] {
  const d = s.a;
  const { fb } = s;
  const [dy, x] = s.ins;
  const { plane, taps, multiplier, Wp } = geometry(d);
  const frame = s.scratch(d.C * plane * F32);
  const vectors = Array.from({ length: taps.length }, () => fb.local("v128"));
  const scalars = Array.from({ length: taps.length }, () => fb.local("f32"));
  const v = fb.local("v128");
  const one = fb.local("f32");
  const { lo, hi } = s.part(d.K);
  const xn = perSample(fb, x!, i32(0), d.C * d.H * d.W);
  const [n, k, oh, P, D, src, dst, wk] = fb.locals("i32", 8);
  const channel: Expr =
    multiplier === 1 ? get(k) : { op: "i32.div_u", a: get(k), b: i32(multiplier) };
  // Here `src` walks the frame and `dst` the row of dy (the roles of overColumns' forward pass).
  const row = overColumns(
    fb,
    d,
    src,
    dst,
    (o, tap) => [
      set(v, loadV(get(dst), o)),
      ...vectors.map((a, t) => set(a, vadd(get(a), vmul(get(v), loadV(get(src), tap(t)))))),
    ],
    (o, tap) => [
      set(one, loadF(get(dst), o)),
      ...scalars.map((a, t) => set(a, fadd(get(a), fmul(get(one), loadF(get(src), tap(t)))))),
    ],
  );
  const perPlane = [
    ...vectors.map((a) => set(a, ZERO_V)),
    ...scalars.map((a) => set(a, f32(0))),
    set(P, add(frame, mul(channel, i32(plane * F32)))),
    set(D, add(dy!, mul(add(mul(get(n), i32(d.K)), get(k)), i32(d.OH * d.OW * F32)))),
    ...fb.loop(
      oh,
      i32(0),
      i32(d.OH),
      1,
      [
        set(src, get(P)),
        set(dst, get(D)),
        ...row,
        set(P, add(get(P), i32(d.SH * Wp * F32))),
        set(D, add(get(D), i32(d.OW * F32))),
      ],
      true,
    ),
    ...vectors.map((a, t) =>
      storeF(get(wk), fadd(loadF(get(wk), t * F32), fadd(hsum(get(a)), get(scalars[t]!))), t * F32),
    ),
    set(wk, add(get(wk), i32(taps.length * F32))),
  ];
  const sample = [
    ...framed(fb, d, get(xn.local), frame),
    set(wk, at(s.outs[0]!, lo, taps.length * F32)),
    ...fb.loop(k, lo, hi, 1, perPlane),
    xn.next,
  ];
  return [
    ...zeroFill(fb, at(s.outs[0]!, lo, taps.length * F32), mul(sub(hi, lo), i32(taps.length))),
    ...zeroFill(fb, frame, d.C * plane),
    xn.init,
    ...fb.loop(n, i32(0), s.N, 1, sample),
  ];
}
