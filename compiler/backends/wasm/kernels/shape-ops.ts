// Kernels that move values on WASM: Add, Concat along channels, nearest and bilinear upsampling,
// their gradients, and the zero fill. Threads split the outputs: flat ranges cut at vector groups,
// the samples of a Concat, the input rows of a nearest upsampling, the planes of a bilinear one.
import {
  add as iadd,
  fadd,
  fmul,
  get,
  i32,
  lane,
  loadF,
  loadI,
  loadV,
  mul,
  SCALAR,
  set,
  shuffle,
  splatLoad,
  storeF,
  storeV,
  sub,
  VECTOR,
  type Lanes,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import { bilinearTaps, type BilinearTap } from "../../../ops.js";
import {
  at,
  F32,
  laneLocal,
  needed,
  overRange,
  overRun,
  zeroFill,
  type WasmKernel,
  type WasmStep,
} from "./kernel.js";

/** y = Σ inputs, left to right, over this thread's share of the N · size floats. */
export const add: WasmKernel<"add"> = (s) => {
  const { lo, hi } = s.part(mul(s.N, i32(s.a.size)), 4);
  return overRange(s.fb, lo, hi, [...s.ins, s.outs[0]!], (p, o, L) => {
    const terms = s.ins.map((_, k) => L.load(get(p[k]!), o));
    return [L.store(get(p.at(-1)!), terms.reduce(L.add), o)];
  });
};

/**
 * Each input's gradient is dy, set or added to as its flag says. One value may be several inputs
 * (Add(x, x)): its parts are written in input order, the first overwriting, the next adding.
 */
export const addGrad: WasmKernel<"add_grad"> = (s) => {
  const { fb } = s;
  const outs = s.outs.flatMap((dx, k) => (needed(dx) ? [{ dx, acc: s.a.accumulate[k]! }] : []));
  const { lo, hi } = s.part(mul(s.N, i32(s.a.size)), 4);
  const dy = laneLocal(fb);
  return overRange(fb, lo, hi, [s.ins[0]!, ...outs.map((o) => o.dx)], (p, o, L) => {
    const value = dy[L.type];
    return [
      set(value, L.load(get(p[0]!), o)),
      ...outs.map((out, k) => L.store(get(p[k + 1]!), get(value), o, out.acc)),
    ];
  });
};

/**
 * Each sample of this thread's share of the batch as slices: part k's sample (`sizes[k]` floats
 * at `parts[k]`) is the slice of the whole's sample after the parts before it. `move(k, part,
 * whole, o, lanes)` for the parts that have an address, with pointer locals into both.
 */
function slices(
  s: WasmStep<"concat" | "concat_grad">,
  whole: Expr,
  parts: Expr[],
  move: (k: number, part: number, whole: number, offset: number, lanes: Lanes) => Expr[],
): Expr[] {
  const { fb } = s;
  const { sizes } = s.a;
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const [n, p, w] = fb.locals("i32", 3);
  const { lo, hi } = s.part(s.N);
  let start = 0;
  const perSample = sizes.flatMap((size, k) => {
    const offset = start;
    start += size;
    if (!needed(parts[k]!)) return [];
    return [
      set(p, at(parts[k]!, get(n), size * F32)),
      set(w, iadd(at(whole, get(n), total * F32), i32(offset * F32))),
      ...overRun(
        fb,
        size,
        [p, w],
        (o) => move(k, p, w, o, VECTOR),
        (o) => move(k, p, w, o, SCALAR),
      ),
    ];
  });
  return fb.loop(n, lo, hi, 1, perSample);
}

export const concat: WasmKernel<"concat"> = (s) =>
  slices(s, s.outs[0]!, s.ins, (_, p, w, o, L) => [L.store(get(w), L.load(get(p), o), o)]);

/** Each input's gradient is its slice of dy; the parts of one value go in input order. */
export const concatGrad: WasmKernel<"concat_grad"> = (s) =>
  slices(s, s.ins[0]!, s.outs, (k, p, w, o, L) => [
    L.store(get(p), L.load(get(w), o), o, s.a.accumulate[k]),
  ]);

/** The f32x4 whose lane j is float `floats[j]` of the vectors in `vs` laid end to end. */
function gather(vs: number[], floats: readonly number[]): Expr {
  const from = floats.map((f) => f >> 2);
  const [first, second, ...others] = [...new Set(from)] as [number, ...number[]];
  if (second === undefined && floats.every((f, j) => (f & 3) === j)) return get(vs[first]!);
  // One shuffle places the lanes of the first two vectors, one more each further vector.
  let acc = shuffle(
    get(vs[first]!),
    get(vs[second ?? first]!),
    floats.map((f, j) => (from[j] === first ? f & 3 : from[j] === second ? 4 + (f & 3) : 0)),
  );
  for (const v of others)
    acc = shuffle(
      acc,
      get(vs[v]!),
      floats.map((f, j) => (from[j] === v ? 4 + (f & 3) : j)),
    );
  return acc;
}

/**
 * For this thread's share of the N·C·H input rows: `row(x, y)` with pointer locals at the input
 * row (in `small`) and at the first of its `scale` output rows (in `big`), which `row` may move.
 */
function upsampleRows(
  s: WasmStep<"upsample_nearest" | "upsample_nearest_grad">,
  small: Expr,
  big: Expr,
  row: (x: number, y: number) => Expr[],
): Expr[] {
  const { fb } = s;
  const { C, H, W, scale } = s.a;
  const [r, x, y] = fb.locals("i32", 3);
  const { lo, hi } = s.part(mul(s.N, i32(C * H)));
  return fb.loop(r, lo, hi, 1, [
    set(x, at(small, get(r), W * F32)),
    set(y, at(big, get(r), scale * scale * W * F32)),
    ...row(x, y),
  ]);
}

/**
 * A row's W inputs four at a time, `group` on the pointers to four inputs and to their 4·scale
 * outputs in the first output row, then `tail(t)` for each of the W mod 4 last inputs.
 */
function upsampleGroups(
  s: WasmStep<"upsample_nearest" | "upsample_nearest_grad">,
  x: number,
  y: number,
  group: Expr[],
  tail: (t: number) => Expr[],
): Expr[] {
  const { W, scale } = s.a;
  const g = s.fb.local("i32");
  const groups = W >> 2;
  const advance = [set(x, iadd(get(x), i32(16))), set(y, iadd(get(y), i32(16 * scale)))];
  return [
    ...(groups > 0 ? s.fb.loop(g, i32(0), i32(groups), 1, [...group, ...advance], true) : []),
    ...Array.from({ length: W & 3 }, (_, t) => tail(t)).flat(),
  ];
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * y[r·scale + a][j·scale + b] = x[r][j]: four inputs make `scale` vectors of outputs (lane j of
 * vector q is input ⌊(4q + j) / scale⌋), each stored to the `scale` output rows.
 */
export const upsampleNearest: WasmKernel<"upsample_nearest"> = (s) => {
  const { fb } = s;
  const { W, scale } = s.a;
  const rowBytes = W * scale * F32;
  const [v, u] = fb.locals("v128", 2);
  const e = fb.local("f32");
  return upsampleRows(s, s.ins[0]!, s.outs[0]!, (x, y) => {
    const group = [
      set(v, loadV(get(x))),
      ...range(scale).flatMap((q) => [
        set(
          u,
          gather(
            [v],
            range(4).map((j) => Math.floor((4 * q + j) / scale)),
          ),
        ),
        ...range(scale).map((a) => storeV(get(y), get(u), a * rowBytes + 16 * q)),
      ]),
    ];
    const tail = (t: number) => [
      set(e, loadF(get(x), t * F32)),
      ...range(scale).flatMap((a) =>
        range(scale).map((b) => storeF(get(y), get(e), a * rowBytes + (t * scale + b) * F32)),
      ),
    ];
    return upsampleGroups(s, x, y, group, tail);
  });
};

/**
 * dx[r][j] (+)= Σ over the scale × scale copies: for four inputs, the `scale` vectors of their
 * outputs are summed down the rows first, then lanes j·scale + b are gathered and summed over b.
 */
export const upsampleNearestGrad: WasmKernel<"upsample_nearest_grad"> = (s) => {
  const { fb, acc } = s;
  const { W, scale } = s.a;
  const rowBytes = W * scale * F32;
  const columns = fb.locals("v128", scale);
  return upsampleRows(s, s.outs[0]!, s.ins[0]!, (dx, dy) => {
    const down = (L: Lanes, offset: number): Expr =>
      range(scale)
        .map((a) => L.load(get(dy), a * rowBytes + offset))
        .reduce(L.add);
    const group = [
      ...columns.map((c, q) => set(c, down(VECTOR, 16 * q))),
      VECTOR.store(
        get(dx),
        range(scale)
          .map((b) =>
            gather(
              columns,
              range(4).map((j) => j * scale + b),
            ),
          )
          .reduce(VECTOR.add),
        0,
        acc,
      ),
    ];
    const tail = (t: number) => [
      SCALAR.store(
        get(dx),
        range(scale)
          .map((b) => down(SCALAR, (t * scale + b) * F32))
          .reduce(SCALAR.add),
        t * F32,
        acc,
      ),
    ];
    return upsampleGroups(s, dx, dy, group, tail);
  });
};

/** t = 0 over this thread's share of the tensor. */
export const zero: WasmKernel<"zero"> = (s) => {
  const { size, perSample } = s.a;
  const { lo, hi } = s.part(perSample ? mul(s.N, i32(size)) : size, 4);
  return zeroFill(s.fb, at(s.outs[0]!, lo, F32), sub(hi, lo));
};

// ---------------------------------------------------------------------------------------------
// Bilinear upsampling: threads split the N·C planes. Each output row blends its two input rows
// into a scratch row in f32x4, then each output reads its two columns of that row. The gradient
// reverses it: a row's outputs spread into a scratch row, added to the two input rows.

type BilinearStep = WasmStep<"upsample_bilinear" | "upsample_bilinear_grad">;

const f32Bits = (v: number): number => new Int32Array(Float32Array.of(v).buffer)[0]!;

/** 16 bytes per output row (column): its two inputs' byte offsets, then their weights as f32. */
const tapTable = (s: BilinearStep, taps: BilinearTap[], pitch: number): number =>
  s.table(
    taps.flatMap((t) => [t.i0 * pitch * F32, t.i1 * pitch * F32, f32Bits(t.l0), f32Bits(t.l1)]),
  );

/** Locals an output row works with. */
interface BilinearRow {
  /** The input plane's two rows (of `small`). */
  r0: number;
  r1: number;
  /** Their weights, splatted. */
  h0: number;
  h1: number;
  /** The scratch row of W floats. */
  tmp: number;
  /** The column table's entry of the row's first output. */
  ct: number;
}

/**
 * For this thread's planes, output row by output row: `row` with its locals; `out` (a local)
 * walks the outputs (of `big`) in order. `clear` zeroes each plane of `small` first.
 */
function bilinearRows(
  s: BilinearStep,
  small: Expr,
  big: Expr,
  out: number,
  clear: boolean,
  row: (r: BilinearRow) => Expr[],
): Expr[] {
  const { fb, a } = s;
  const [OH, OW] = [a.H * a.scale, a.W * a.scale];
  const rowTable = tapTable(s, bilinearTaps(a.H, a.scale, a.alignCorners), a.W);
  const colTable = tapTable(s, bilinearTaps(a.W, a.scale, a.alignCorners), 1);
  const [nc, oh, plane, rt, ct, r0, r1, tmp] = fb.locals("i32", 8);
  const [h0, h1] = fb.locals("v128", 2);
  const { lo, hi } = s.part(mul(s.N, i32(a.C)));
  const perRow = [
    set(r0, iadd(get(plane), loadI(get(rt)))),
    set(r1, iadd(get(plane), loadI(get(rt), 4))),
    set(h0, splatLoad(get(rt), 8)),
    set(h1, splatLoad(get(rt), 12)),
    set(ct, i32(colTable)),
    ...row({ r0, r1, h0, h1, tmp, ct }),
    set(rt, iadd(get(rt), i32(16))),
  ];
  const perPlane = [
    ...(clear ? zeroFill(fb, get(plane), a.H * a.W) : []),
    set(rt, i32(rowTable)),
    ...fb.loop(oh, i32(0), i32(OH), 1, perRow, true),
    set(plane, iadd(get(plane), i32(a.H * a.W * F32))),
  ];
  return [
    set(tmp, s.scratch(a.W * F32)),
    set(plane, at(small, lo, a.H * a.W * F32)),
    set(out, at(big, lo, OH * OW * F32)),
    ...fb.loop(nc, lo, hi, 1, perPlane),
  ];
}

/** Over the W floats of rows at pointer locals set from `starts`: f32x4 groups, then f32. */
function acrossRow(
  s: BilinearStep,
  starts: Expr[],
  body: (p: number[], o: number, L: Lanes) => Expr[],
): Expr[] {
  const p = starts.map(() => s.fb.local("i32"));
  return [
    ...starts.map((start, k) => set(p[k]!, start)),
    ...overRun(
      s.fb,
      s.a.W,
      p,
      (o) => body(p, o, VECTOR),
      (o) => body(p, o, SCALAR),
    ),
  ];
}

/** A splatted weight at the lanes' width: the vector, or its first lane. */
const weight = (L: Lanes, v: number): Expr => (L.type === "v128" ? get(v) : lane(get(v), 0));

/** Float `column` of the scratch row, the column's input offset at `index` bytes into `ct`. */
const scratchAt = (r: BilinearRow, index: number): Expr =>
  iadd(get(r.tmp), loadI(get(r.ct), index));

/** y = w0 · t[c0] + w1 · t[c1] with t = h0 · x[r0] + h1 · x[r1]. */
export const upsampleBilinear: WasmKernel<"upsample_bilinear"> = (s) => {
  const { fb, a } = s;
  const [y, ow] = fb.locals("i32", 2);
  return bilinearRows(s, s.ins[0]!, s.outs[0]!, y, false, (r) => [
    ...acrossRow(s, [get(r.r0), get(r.r1), get(r.tmp)], (p, o, L) => [
      L.store(
        get(p[2]!),
        L.add(
          L.mul(weight(L, r.h0), L.load(get(p[0]!), o)),
          L.mul(weight(L, r.h1), L.load(get(p[1]!), o)),
        ),
        o,
      ),
    ]),
    ...fb.loop(
      ow,
      i32(0),
      i32(a.W * a.scale),
      1,
      [
        storeF(
          get(y),
          fadd(
            fmul(loadF(get(r.ct), 8), loadF(scratchAt(r, 0))),
            fmul(loadF(get(r.ct), 12), loadF(scratchAt(r, 4))),
          ),
        ),
        set(y, iadd(get(y), i32(F32))),
        set(r.ct, iadd(get(r.ct), i32(16))),
      ],
      true,
    ),
  ]);
};

/** t[c0] += w0 · dy, t[c1] += w1 · dy along the output row; then dx[r0] += h0 · t, dx[r1] += h1 · t. */
export const upsampleBilinearGrad: WasmKernel<"upsample_bilinear_grad"> = (s) => {
  const { fb, a } = s;
  const [dy, ow] = fb.locals("i32", 2);
  const g = fb.local("f32");
  const spread = (r: BilinearRow, index: number, w: number): Expr =>
    storeF(
      scratchAt(r, index),
      fadd(loadF(scratchAt(r, index)), fmul(loadF(get(r.ct), w), get(g))),
    );
  return bilinearRows(s, s.outs[0]!, s.ins[0]!, dy, !s.acc, (r) => [
    ...zeroFill(fb, get(r.tmp), a.W),
    ...fb.loop(
      ow,
      i32(0),
      i32(a.W * a.scale),
      1,
      [
        set(g, loadF(get(dy))),
        spread(r, 0, 8),
        spread(r, 4, 12),
        set(dy, iadd(get(dy), i32(F32))),
        set(r.ct, iadd(get(r.ct), i32(16))),
      ],
      true,
    ),
    // Two passes: the last row's two inputs are one row.
    ...[
      [r.r0, r.h0],
      [r.r1, r.h1],
    ].flatMap(([row, h]) =>
      acrossRow(s, [get(row!), get(r.tmp)], (p, o, L) => [
        L.store(get(p[0]!), L.mul(weight(L, h!), L.load(get(p[1]!), o)), o, true),
      ]),
    ),
  ]);
};
