// 2-D convolution on WASM as implicit GEMM, stride 1: each sample is copied into a zero-bordered
// frame whose rows are `Wp` wide, and row k = (c, i, j) of the GEMM's B operand is that frame
// shifted by c·plane + i·DH·Wp + j·DW: a table of offsets, no im2col. Output columns run over the
// frame's width (the Wp − OW extra ones are computed and dropped). Strided convolutions copy
// their windows (im2col). Grouped convolutions run one GEMM per group; depthwise ones (one input
// channel per group) their own direct loops (depthwise.ts).
import {
  add,
  FuncBuilder,
  get,
  i32,
  loadF,
  loadV,
  set,
  splat,
  storeF,
  storeV,
  sub,
  mul,
  vadd,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import type { ConvWindow } from "../../../ops.js";
import { dotProduct, outerProduct, type RowStarts } from "../tiles.js";
import { wasmActivation, type WasmActivation } from "./activations.js";
import { depthwise, depthwiseGradInput, depthwiseGradWeight } from "./depthwise.js";
import {
  at,
  copyPlanes,
  F32,
  overRun,
  zeroFill,
  type WasmKernel,
  type WasmStep,
} from "./kernel.js";

const ceil8 = (n: number): number => Math.ceil(n / 8) * 8;
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** The convolution ops: every one's attributes are a window. */
type ConvStep = WasmStep<"conv2d" | "conv2d_grad_input" | "conv2d_grad_weight">;

/** A zero-bordered frame of `planes` planes of rows × cols, with slack for the last taps' reads. */
function frame(s: ConvStep, planes: number, rows: number, cols: number) {
  const floats = planes * rows * cols + cols + 16;
  return { base: s.scratch(floats * F32), floats };
}

/**
 * Byte offsets of the taps (p, i, j) in a frame of planes × rows × cols, p outermost, the taps
 * `DH` rows and `DW` columns apart.
 */
function tapTable(
  s: ConvStep,
  planes: number,
  rows: number,
  cols: number,
  taps: { KH: number; KW: number; DH: number; DW: number },
) {
  const offsets: number[] = [];
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < taps.KH; i++)
      for (let j = 0; j < taps.KW; j++)
        offsets.push((p * rows * cols + i * taps.DH * cols + j * taps.DW) * F32);
  return s.table(offsets);
}

/**
 * One input channel per group: the depthwise loops. An ungrouped convolution of one input
 * channel stays on the GEMM, which its many output channels fill.
 */
const isDepthwise = (d: ConvWindow): boolean => d.G > 1 && d.C === d.G;

/** `g`·`bytes` for a group index g: a constant for the one group of an ungrouped convolution. */
const scaled = (g: Expr, bytes: number): Expr =>
  g.op === "i32.const" ? i32(g.value * bytes) : mul(g, i32(bytes));

/**
 * `body(g)` for each group g: inline for one group (the common case keeps its exact code), else
 * in a loop.
 */
function overGroups(fb: FuncBuilder, G: number, body: (g: Expr) => Expr[]): Expr[] {
  if (G === 1) return body(i32(0));
  const g = fb.local("i32");
  return fb.loop(g, i32(0), i32(G), 1, body(get(g)), true);
}

/**
 * Rows of `outRows` × `outCols` from a GEMM result whose rows are `stride` floats apart into the
 * NCHW planes at `dst` (local, advanced), adding bias[plane] and applying `act`, set or added.
 * With `keep` (the bytes from `dst`'s tensor to another of its layout) the value before `act` is
 * stored there too.
 */
export function epilogue(
  fb: FuncBuilder,
  src: Expr,
  dst: number,
  shape: { planes: number; rows: number; cols: number; stride: number; planeStride: number },
  mode: { bias?: Expr; act: WasmActivation; add: boolean; keep?: Expr },
): Expr[] {
  const [S, s, p, r, B, K] = fb.locals("i32", 6);
  const d = dst;
  const bv = fb.local("v128");
  const bs = fb.local("f32");
  const [kv, ks] = [fb.local("v128"), fb.local("f32")];
  const vec = (o: number): Expr[] => {
    let v: Expr = loadV(get(s), o);
    if (mode.bias) v = vadd(v, get(bv));
    const kept = mode.keep ? [set(kv, v), storeV(add(get(d), get(K)), get(kv), o)] : [];
    if (mode.keep) v = get(kv);
    v = mode.act.vec(v);
    if (mode.add) v = vadd(loadV(get(d), o), v);
    return [...kept, storeV(get(d), v, o)];
  };
  const scalar = (o: number): Expr[] => {
    let v: Expr = loadF(get(s), o);
    if (mode.bias) v = { op: "f32.add", a: v, b: get(bs) };
    const kept = mode.keep ? [set(ks, v), storeF(add(get(d), get(K)), get(ks), o)] : [];
    if (mode.keep) v = get(ks);
    v = mode.act.scalar(v);
    if (mode.add) v = { op: "f32.add", a: loadF(get(d), o), b: v };
    return [...kept, storeF(get(d), v, o)];
  };
  const row = [
    set(s, add(get(S), { op: "i32.mul", a: get(r), b: i32(shape.stride * F32) })),
    ...overRun(fb, shape.cols, [s, d], vec, scalar),
    ...(shape.cols & 3 ? [set(d, add(get(d), i32((shape.cols & 3) * F32)))] : []),
  ];
  const plane = [
    ...(mode.bias
      ? [set(bs, loadF(get(B))), set(bv, splat(get(bs))), set(B, add(get(B), i32(F32)))]
      : []),
    ...fb.loop(r, i32(0), i32(shape.rows), 1, row, true),
    set(S, add(get(S), i32(shape.planeStride * F32))),
  ];
  return [
    set(S, src),
    ...(mode.bias ? [set(B, mode.bias)] : []),
    ...(mode.keep ? [set(K, mode.keep)] : []),
    ...fb.loop(p, i32(0), i32(shape.planes), 1, plane, true),
  ];
}

/**
 * Copying each column panel of B into L1 first pays off once enough row tiles read it: from 8
 * tiles (32 rows) on, measured on the workloads' convolutions (docs/wasm-backend.md).
 */
function packed(s: ConvStep, rows: number, K: number): { pack?: Expr } {
  return rows >= 32 ? { pack: s.scratch(K * 32) } : {};
}

/** A pointer local at sample `first` of a tensor of `floats` per sample, moved on per sample. */
export function perSample(fb: FuncBuilder, base: Expr, first: Expr, floats: number) {
  const local = fb.local("i32");
  return {
    local,
    init: set(local, at(base, first, floats * F32)),
    next: set(local, add(get(local), i32(floats * F32))),
  };
}

/**
 * The input windows of one sample as GEMM rows k = (c, i, j). Implicit (stride 1 only): rows are
 * the zero-bordered frame shifted by a table of tap offsets, `pitch` = OH·Wp rounded up to 8,
 * and the Wp − OW extra columns of each output row are computed and dropped. Explicit (im2col):
 * rows of exactly OH·OW columns copied from the frame, `pitch` = that rounded up to 8.
 */
interface Windows {
  /** Once per step: the frame's border (and the copies' padding) start at zero. */
  setup: Expr[];
  /** The sample at byte address `x` into the frame (and the columns) at slot `at`. */
  fill(x: Expr, at: Expr): Expr[];
  /** Row k of B, relative to a slot's base. */
  rows(base: Expr): RowStarts;
  /** Floats from one GEMM row to the next, columns computed per row, output row pitch. */
  pitch: number;
  count: number;
  rowStride: number;
  /** Bytes of one slot. */
  slot: number;
  /** Bytes from one group's first row of B to the next group's. */
  group: number;
}

function windows(s: ConvStep, explicit: boolean, slots: number): Windows {
  const d = s.a;
  const { fb } = s;
  const Hp = d.H + 2 * d.PH;
  const Wp = d.W + 2 * d.PW;
  const Kd = d.C * d.KH * d.KW;
  const frameFloats = d.C * Hp * Wp + Wp + 16;
  const framed = (x: Expr, dst: Expr) =>
    copyPlanes(fb, x, dst, { planes: d.C, h: d.H, w: d.W, H: Hp, W: Wp, top: d.PH, left: d.PW });
  if (!explicit) {
    const slot = align16(frameFloats * F32);
    const frames = s.scratch(slots * slot);
    const table = tapTable(s, d.C, Hp, Wp, d);
    return {
      setup: zeroFill(fb, frames, (slots * slot) / F32),
      fill: (x, at) => framed(x, add(frames, at)),
      rows: (base) => ({ base: add(frames, base), table }),
      pitch: ceil8(d.OH * Wp),
      count: ceil8(d.OH * Wp),
      rowStride: Wp,
      slot,
      group: (d.C / d.G) * Hp * Wp * F32,
    };
  }
  const P = d.OH * d.OW;
  const P8 = ceil8(P);
  const frame = s.scratch(align16(frameFloats * F32));
  const slot = Kd * P8 * F32;
  const columns = s.scratch(slots * slot);
  const [c, oh, src, dst, S, D, k, col] = fb.locals("i32", 8);
  const copyRow =
    d.SW === 1
      ? overRun(
          fb,
          d.OW,
          [src!, dst!],
          (o) => [storeV(get(dst!), loadV(get(src!), o), o)],
          (o) => [storeF(get(dst!), loadF(get(src!), o), o)],
        )
      : fb.loop(
          col!,
          i32(0),
          i32(d.OW),
          1,
          [
            storeF(get(dst!), loadF(get(src!))),
            set(src!, add(get(src!), i32(d.SW * F32))),
            set(dst!, add(get(dst!), i32(F32))),
          ],
          true,
        );
  const perChannel: Expr[] = [];
  for (let i = 0; i < d.KH; i++)
    for (let j = 0; j < d.KW; j++) {
      const t = i * d.KW + j;
      perChannel.push(
        set(S!, add(get(c!), i32((i * d.DH * Wp + j * d.DW) * F32))),
        set(D!, add(get(k!), i32(t * P8 * F32))),
        ...fb.loop(
          oh!,
          i32(0),
          i32(d.OH),
          1,
          [
            set(src!, get(S!)),
            set(dst!, get(D!)),
            ...copyRow,
            set(S!, add(get(S!), i32(d.SH * Wp * F32))),
            set(D!, add(get(D!), i32(d.OW * F32))),
          ],
          true,
        ),
      );
    }
  const channel = fb.local("i32");
  return {
    setup: [...zeroFill(fb, frame, frameFloats), ...zeroFill(fb, columns, (slots * slot) / F32)],
    // c walks the frame's planes and k the columns' blocks of KH·KW rows.
    fill: (x, at) => [
      ...framed(x, frame),
      set(c!, frame),
      set(k!, add(columns, at)),
      ...fb.loop(
        channel,
        i32(0),
        i32(d.C),
        1,
        [
          ...perChannel,
          set(c!, add(get(c!), i32(Hp * Wp * F32))),
          set(k!, add(get(k!), i32(d.KH * d.KW * P8 * F32))),
        ],
        true,
      ),
    ],
    rows: (base) => ({ base: add(columns, base), k: P8 * F32 }),
    pitch: P8,
    count: P,
    rowStride: d.OW,
    slot,
    group: (d.C / d.G) * d.KH * d.KW * P8 * F32,
  };
}

/**
 * Explicit windows only where implicit ones cannot go (strides): measured, the copied columns
 * (Kd rows of OH·OW floats, 230 KB for the cnn workload's conv2) fall out of L1 and cost more
 * than the Wp − OW wasted columns of the implicit frame (docs/wasm-backend.md).
 */
const explicitNeeded = (s: ConvStep): boolean => s.a.SH !== 1 || s.a.SW !== 1;

/**
 * y[n,k] = act(b[k] + Σ_c,i,j w[k,c,i,j] · x[n, c0+c, oh·SH−PH+i·DH, ow·SW−PW+j·DW]), c over the
 * C/G channels of k's group starting at c0.
 */
export const conv2d: WasmKernel<"conv2d"> = (s) => {
  const d = s.a;
  if (isDepthwise(d)) return depthwise(s);
  const act = wasmActivation(s.fb, s.a.act);
  const { fb } = s;
  const [x, w, b] = s.ins;
  // One group's GEMM: K/G rows, a reduction over its C/G channels' taps.
  const Kg = d.K / d.G;
  const Kd = (d.C / d.G) * d.KH * d.KW;
  const win = windows(s, explicitNeeded(s), 1);
  const out = s.scratch(d.K * win.pitch * F32);
  const { lo, hi } = s.part(s.N);
  const xn = perSample(fb, x!, lo, d.C * d.H * d.W);
  const yn = perSample(fb, s.outs[0]!, lo, d.K * d.OH * d.OW);
  const n = fb.local("i32");
  const sample = [
    ...win.fill(get(xn.local), i32(0)),
    ...overGroups(fb, d.G, (g) =>
      outerProduct(fb, {
        M: Kg,
        cols: win.count,
        K: Kd,
        a: { base: add(w!, scaled(g, Kg * Kd * F32)), row: Kd * F32, k: F32 },
        b: win.rows(scaled(g, win.group)),
        c: {
          base: add(out, scaled(g, Kg * win.pitch * F32)),
          row: win.pitch * F32,
          mode: "set",
          padded: true,
        },
        ...packed(s, Kg, Kd),
      }),
    ),
    ...epilogue(
      fb,
      out,
      yn.local,
      { planes: d.K, rows: d.OH, cols: d.OW, stride: win.rowStride, planeStride: win.pitch },
      {
        ...(s.a.bias ? { bias: b! } : {}),
        ...(s.outs[1] ? { keep: sub(s.outs[1], s.outs[0]!) } : {}),
        act,
        add: s.acc,
      },
    ),
    xn.next,
  ];
  return [...win.setup, xn.init, yn.init, ...fb.loop(n, lo, hi, 1, sample)];
};

/**
 * dx[n,c] (+)= Σ_k,i,j w[k,c,i,j] · dy[n,k, …]: by columns (any stride) or, for stride 1, as a
 * full correlation, whichever does less work for the shape. With `bias` (a transposed
 * convolution's forward pass) the planes start from b[c].
 */
export const conv2dGradInput: WasmKernel<"conv2d_grad_input"> = (s) => {
  const d = s.a;
  if (isDepthwise(d)) return depthwiseGradInput(s);
  const taps = d.KH * d.KW;
  const P8 = ceil8(d.OH * d.OW);
  // Multiply-adds (×2) of each way, the scatter counted at about two per element.
  const byColumns = 2 * d.C * taps * P8 * d.K + 4 * d.C * taps * d.OH * d.OW;
  const byCorrelation = 2 * d.C * ceil8(d.H * (d.W + d.KW - 1)) * d.K * taps;
  // The correlation's flipped kernel is written for adjacent taps and one group.
  const plain = d.DH === 1 && d.DW === 1 && d.G === 1;
  return plain && d.SH === 1 && d.SW === 1 && byCorrelation < byColumns
    ? gradInputByCorrelation(s)
    : gradInputByColumns(s);
};

/**
 * The columns dcol[(c,i,j), p] = Σ_k w[k,c,i,j] · dy[n,k,p] (an outer-product GEMM on w and dy as
 * they lie, one per group over its channels), then scattered into dx:
 * dx[c, oh·SH−PH+i·DH, ow·SW−PW+j·DW] += dcol[(c,i,j), (oh,ow)].
 */
function gradInputByColumns(s: WasmStep<"conv2d_grad_input">): Expr[] {
  const d = s.a;
  const { fb } = s;
  const [dy, w, b] = s.ins;
  const taps = d.KH * d.KW;
  const Kd = d.C * taps;
  const [Cg, Kg] = [d.C / d.G, d.K / d.G];
  const P = d.OH * d.OW;
  const P8 = ceil8(P);
  const cols = s.scratch(Kd * P8 * F32);
  const { lo, hi } = s.part(s.N);
  const dyn = perSample(fb, dy!, lo, d.K * P);
  const dxn = perSample(fb, s.outs[0]!, lo, d.C * d.H * d.W);
  const [n, c, src, dst, row, S, D] = fb.locals("i32", 7);
  const scatter: Expr[] = [];
  for (let i = 0; i < d.KH; i++)
    for (let j = 0; j < d.KW; j++) {
      const [di, dj] = [i * d.DH, j * d.DW];
      const oh0 = Math.max(0, Math.ceil((d.PH - di) / d.SH));
      const oh1 = Math.min(d.OH, Math.floor((d.H - 1 + d.PH - di) / d.SH) + 1);
      const ow0 = Math.max(0, Math.ceil((d.PW - dj) / d.SW));
      const ow1 = Math.min(d.OW, Math.floor((d.W - 1 + d.PW - dj) / d.SW) + 1);
      if (oh1 <= oh0 || ow1 <= ow0) continue;
      const t = i * d.KW + j;
      const rowOp =
        d.SW === 1
          ? overRun(
              fb,
              ow1 - ow0,
              [src, dst],
              (o) => [storeV(get(dst), vadd(loadV(get(dst), o), loadV(get(src), o)), o)],
              (o) => [
                storeF(
                  get(dst),
                  { op: "f32.add", a: loadF(get(dst), o), b: loadF(get(src), o) },
                  o,
                ),
              ],
            )
          : fb.loop(
              row,
              i32(ow0),
              i32(ow1),
              1,
              [
                storeF(get(dst), { op: "f32.add", a: loadF(get(dst)), b: loadF(get(src)) }),
                set(src, add(get(src), i32(F32))),
                set(dst, add(get(dst), i32(d.SW * F32))),
              ],
              true,
            );
      const rows = fb.local("i32");
      scatter.push(
        set(S, add(mul(get(c), i32(taps * P8 * F32)), i32((t * P8 + oh0 * d.OW + ow0) * F32))),
        set(
          D,
          add(
            mul(get(c), i32(d.H * d.W * F32)),
            i32(((oh0 * d.SH + di - d.PH) * d.W + ow0 * d.SW + dj - d.PW) * F32),
          ),
        ),
        ...fb.loop(
          rows,
          i32(oh0),
          i32(oh1),
          1,
          [
            set(src, add(cols, get(S))),
            set(dst, add(get(dxn.local), get(D))),
            ...rowOp,
            set(S, add(get(S), i32(d.OW * F32))),
            set(D, add(get(D), i32(d.SH * d.W * F32))),
          ],
          true,
        ),
      );
    }
  // Group g: its Cg·taps rows of dcol from its Kg output channels' weights and gradients.
  const rows = Cg * taps;
  const sample = [
    ...overGroups(fb, d.G, (g) =>
      outerProduct(fb, {
        M: rows,
        cols: P,
        K: Kg,
        a: { base: add(w!, scaled(g, Kg * rows * F32)), row: F32, k: rows * F32 },
        b: { base: add(get(dyn.local), scaled(g, Kg * P * F32)), k: P * F32 },
        c: {
          base: add(cols, scaled(g, rows * P8 * F32)),
          row: P8 * F32,
          mode: "set",
          padded: true,
        },
        ...packed(s, rows, Kg),
      }),
    ),
    ...(s.acc ? [] : fillPlanes(fb, get(dxn.local), d.C, d.H * d.W, s.a.bias ? b : undefined)),
    ...fb.loop(c, i32(0), i32(d.C), 1, scatter, true),
    dyn.next,
    dxn.next,
  ];
  return [dyn.init, dxn.init, ...fb.loop(n, lo, hi, 1, sample)];
}

/** Sets `planes` planes of `size` floats at `base` to b[plane], or to zero without a bias. */
export function fillPlanes(
  fb: FuncBuilder,
  base: Expr,
  planes: number,
  size: number,
  bias?: Expr,
): Expr[] {
  if (!bias) return zeroFill(fb, base, planes * size);
  const [p, c, B] = [fb.local("i32"), fb.local("i32"), fb.local("i32")];
  const [v, f] = [fb.local("v128"), fb.local("f32")];
  return [
    set(p, base),
    set(B, bias),
    ...fb.loop(
      c,
      i32(0),
      i32(planes),
      1,
      [
        set(f, loadF(get(B))),
        set(v, splat(get(f))),
        ...overRun(
          fb,
          size,
          [p],
          (o) => [storeV(get(p), get(v), o)],
          (o) => [storeF(get(p), get(f), o)],
        ),
        ...(size & 3 ? [set(p, add(get(p), i32((size & 3) * F32)))] : []),
        set(B, add(get(B), i32(F32))),
      ],
      true,
    ),
  ];
}

/**
 * The full correlation of dy[n] with the flipped kernel: a stride-1 convolution of dy, framed by
 * KH−1−PH rows and KW−1−PW columns, with weights wf[c,k,i,j] = w[k,c,KH−1−i,KW−1−j].
 */
function gradInputByCorrelation(s: WasmStep<"conv2d_grad_input">): Expr[] {
  const d = s.a;
  const { fb } = s;
  const [dy, w, b] = s.ins;
  const Hq = d.H + d.KH - 1;
  const Wq = d.W + d.KW - 1;
  const Q8 = ceil8(d.H * Wq);
  const taps = d.KH * d.KW;
  const Kd = d.K * taps;
  const dypad = frame(s, d.K, Hq, Wq);
  const out = s.scratch(d.C * Q8 * F32);
  const flipped = s.scratch(d.C * Kd * F32);
  const table = tapTable(s, d.K, Hq, Wq, d);
  const [c, k, t, src, dst] = fb.locals("i32", 5);
  // wf[c, k, t] = w[k, c, taps − 1 − t]: the tap order reversed is the kernel flipped both ways.
  const flip = [
    set(dst, flipped),
    ...fb.loop(
      c,
      i32(0),
      i32(d.C),
      1,
      [
        ...fb.loop(
          k,
          i32(0),
          i32(d.K),
          1,
          [
            set(
              src,
              add(
                w!,
                add(
                  { op: "i32.mul", a: get(k), b: i32(d.C * taps * F32) },
                  { op: "i32.mul", a: get(c), b: i32(taps * F32) },
                ),
              ),
            ),
            ...fb.loop(
              t,
              i32(0),
              i32(taps),
              1,
              [
                storeF(get(dst), loadF(get(src), (taps - 1) * F32)),
                set(src, { op: "i32.sub", a: get(src), b: i32(F32) }),
                set(dst, add(get(dst), i32(F32))),
              ],
              true,
            ),
          ],
          true,
        ),
      ],
      true,
    ),
  ];
  const { lo, hi } = s.part(s.N);
  const dyn = perSample(fb, dy!, lo, d.K * d.OH * d.OW);
  const dxn = perSample(fb, s.outs[0]!, lo, d.C * d.H * d.W);
  const n = fb.local("i32");
  const identity = wasmActivation(fb, undefined);
  const sample = [
    ...copyPlanes(fb, get(dyn.local), dypad.base, {
      planes: d.K,
      h: d.OH,
      w: d.OW,
      H: Hq,
      W: Wq,
      top: d.KH - 1 - d.PH,
      left: d.KW - 1 - d.PW,
    }),
    ...outerProduct(fb, {
      M: d.C,
      cols: Q8,
      K: Kd,
      a: { base: flipped, row: Kd * F32, k: F32 },
      b: { base: dypad.base, table },
      c: { base: out, row: Q8 * F32, mode: "set", padded: true },
    }),
    ...epilogue(
      fb,
      out,
      dxn.local,
      { planes: d.C, rows: d.H, cols: d.W, stride: Wq, planeStride: Q8 },
      {
        ...(s.a.bias && !s.acc ? { bias: b! } : {}),
        act: identity,
        add: s.acc,
      },
    ),
    dyn.next,
  ];
  return [
    ...flip,
    ...zeroFill(fb, dypad.base, dypad.floats),
    dyn.init,
    dxn.init,
    ...fb.loop(n, lo, hi, 1, sample),
  ];
}

/**
 * dw[k,c,i,j] = Σ_n,oh,ow dy[n,k,oh,ow] · x[n, c0+c, oh·SH−PH+i·DH, ow·SW−PW+j·DW]: dot products
 * of dy's rows, read where they lie, with the explicit windows of G samples at a time (one
 * reduction across lanes per G samples, G as many as fit in a quarter of L2, at most 8). Threads
 * split the output channels k (of each group), each summing over the whole batch.
 */
export const conv2dGradWeight: WasmKernel<"conv2d_grad_weight"> = (s) => {
  const d = s.a;
  if (isDepthwise(d)) return depthwiseGradWeight(s);
  const { fb } = s;
  const [dy, x] = s.ins;
  const Kd = d.C * d.KH * d.KW;
  // Each output channel's row of dw: the taps of its group's channels.
  const [Kg, Kdg] = [d.K / d.G, Kd / d.G];
  const P = d.OH * d.OW;
  // Stride 1 reads the frame (as the forward pass); dy then needs the frame's row pitch too,
  // copied with zeros in the extra columns. Measured: 0.47 vs 0.55 ms for lenet5's conv1, whose
  // explicit windows cost a 25-row copy per sample on every thread.
  const explicit = explicitNeeded(s);
  const Wp = d.W + 2 * d.PW;
  const pitch = explicit ? P : ceil8(d.OH * Wp);
  const windowBytes = explicit
    ? Kd * ceil8(P) * F32
    : align16((d.C * (d.H + 2 * d.PH) * Wp + Wp + 16) * F32);
  const dyBytes = explicit ? 0 : d.K * pitch * F32;
  const G = Math.max(1, Math.min(8, Math.floor((256 * 1024) / (windowBytes + dyBytes))));
  const win = windows(s, explicit, G);
  const dyFrames = explicit ? undefined : s.scratch(G * dyBytes);
  const { lo, hi } = s.part(Kg);
  const xn = perSample(fb, x!, i32(0), d.C * d.H * d.W);
  const dyn = perSample(fb, dy!, i32(0), d.K * P);
  const dyg = perSample(fb, dy!, i32(0), G * d.K * P);
  const dw = at(s.outs[0]!, lo, Kdg * F32);
  const [n, g, k, slot, dySlot] = fb.locals("i32", 5);
  const left = sub(s.N, get(n!));
  const fill = [
    ...win.fill(get(xn.local), get(slot!)),
    xn.next,
    set(slot!, add(get(slot!), i32(win.slot))),
  ];
  if (dyFrames) {
    fill.push(
      ...copyPlanes(fb, get(dyn.local), add(dyFrames, get(dySlot!)), {
        planes: d.K,
        h: d.OH,
        w: d.OW,
        H: d.OH,
        W: Wp,
        top: 0,
        left: 0,
        plane: pitch,
      }),
      dyn.next,
      set(dySlot!, add(get(dySlot!), i32(dyBytes))),
    );
  }
  const group = [
    set(g!, { op: "select", a: i32(G), b: left, c: { op: "i32.gt_s", a: left, b: i32(G) } }),
    set(slot!, i32(0)),
    set(dySlot!, i32(0)),
    ...fb.loop(k!, i32(0), get(g!), 1, fill, true),
    ...overGroups(fb, d.G, (group) =>
      dotProduct(fb, {
        M: sub(hi, lo),
        cols: Kdg,
        L: pitch,
        segments: { count: get(g!), a: dyFrames ? dyBytes : d.K * P * F32, b: win.slot },
        a: {
          base: add(
            at(dyFrames ?? get(dyg.local), lo, pitch * F32),
            scaled(group, Kg * pitch * F32),
          ),
          row: pitch * F32,
        },
        b: win.rows(scaled(group, win.group)),
        c: { base: add(dw, scaled(group, Kg * Kdg * F32)), row: Kdg * F32, col: F32, mode: "add" },
      }),
    ),
    dyg.next,
  ];
  return [
    ...overGroups(fb, d.G, (group) =>
      zeroFill(fb, add(dw, scaled(group, Kg * Kdg * F32)), {
        op: "i32.mul",
        a: sub(hi, lo),
        b: i32(Kdg),
      }),
    ),
    ...win.setup,
    ...(dyFrames ? zeroFill(fb, dyFrames, (G * dyBytes) / F32) : []),
    xn.init,
    dyn.init,
    dyg.init,
    ...fb.loop(n!, i32(0), s.N, G, group, true),
  ];
};
