// Max and average pooling on WASM, forward and backward, for every window, stride and padding.
// A padded plane (or one a ceil-mode window runs past) is first copied into a frame whose border
// no window takes (NaN for max: never greater, never equal; zero for average: it adds nothing),
// so every window lies whole in its source. Windows of up to 49 taps go four to an f32x4 along
// the output row, each tap's lanes gathered by shuffles from loads shared along the row; larger
// ones one at a time, each row of taps in f32x4. Gradients spread each row of taps into
// consecutive vectors, stored into dx, or added where windows overlap (into a zeroed frame then
// copied out, as where padded). Max pooling's recomputes the argmax: the first tap equal to the
// output, as PyTorch's. An average divides by KH·KW, or where windows count differently (ceil
// mode, count_include_pad=false) by a table of divisors. Adaptive windows (whose sizes differ)
// read their bounds from tables and run row by row in f32x4.
import {
  add,
  f32,
  fadd,
  get,
  i32,
  lane,
  loadF,
  loadI,
  loadV,
  mul,
  set,
  splat,
  storeF,
  storeV,
  sub,
  vadd,
  ZERO_V,
} from "../builder.js";
import type { FuncBuilder } from "../builder.js";
import type { Expr } from "../encoder.js";
import { pick, pickCost, type Lane } from "../lanes.js";
import { adaptiveRange, type Window } from "../../../ops.js";
import {
  at,
  copyPlanes,
  F32,
  fill,
  overRun,
  zeroFill,
  type WasmKernel,
  type WasmStep,
} from "./kernel.js";

type PoolStep = WasmStep<"max_pool" | "max_pool_grad" | "avg_pool" | "avg_pool_grad">;

/**
 * Taps unrolled for four windows at once. Beyond, a window wide enough to fill vectors runs alone
 * (global pooling has one window per plane: four windows per vector would leave three lanes idle).
 */
const UNROLLED_TAPS = 49;

function geometry(a: Window) {
  // A ceil-mode window may run past the trailing padding: the frame reaches its last tap.
  const rows = Math.max(a.H + 2 * a.PH, (a.OH - 1) * a.SH + a.KH);
  const pitch = Math.max(a.W + 2 * a.PW, (a.OW - 1) * a.SW + a.KW);
  const framed = rows > a.H || pitch > a.W;
  return {
    ...a,
    framed,
    /** Rows of the source: the plane's, or its frame's. */
    rows,
    /** Floats from one source row to the next: the plane's, or its frame's. */
    pitch,
    /** Bytes of a frame, with room for the 3 floats a last vector reads or adds past its end. */
    frameBytes: (rows * pitch + 3) * F32,
    grouped: a.KW < 4 || a.KH * a.KW <= UNROLLED_TAPS,
    overlap: a.SW < a.KW || a.SH < a.KH,
    /** Every input position lies in exactly one window. */
    tiled: !framed && a.SW === a.KW && a.SH === a.KH && a.OW * a.SW === a.W && a.OH * a.SH === a.H,
  };
}

type Geometry = ReturnType<typeof geometry>;

interface Walk {
  /** The tensor whose planes are walked (x, or dx for the average's gradient). */
  tensor: Expr;
  /** Where each plane's windows are read instead, once `before` has copied it there. */
  frame?: Expr;
  before?: (plane: Expr) => Expr[];
  after?: (plane: Expr) => Expr[];
  /**
   * `v` adjacent windows of an output row (up to four when grouped, else one): `win` is the byte
   * address of the first one's top-left tap, `out` the byte offset of its output in its tensor,
   * `inPlane` that offset from its plane's first output.
   */
  windows(win: number, out: number, v: number, inPlane: Expr): Expr[];
}

/** This thread's planes (threads split the N·C planes), row by row of outputs. */
function walk(s: PoolStep, g: Geometry, w: Walk): Expr[] {
  const { fb } = s;
  const [plane, nc, oh, k, rowStart, outStart, win, out, planeOut] = fb.locals("i32", 9);
  const inPlane = sub(get(out), get(planeOut));
  const { lo, hi } = s.part(mul(s.N, i32(g.C)));
  const per = g.grouped ? 4 : 1;
  const [runs, rest] = [Math.floor(g.OW / per), g.OW % per];
  const next = (v: number) => [
    set(win, add(get(win), i32(v * g.SW * F32))),
    set(out, add(get(out), i32(v * F32))),
  ];
  const row = [
    set(win, get(rowStart)),
    set(out, get(outStart)),
    ...(runs > 0
      ? fb.loop(k, i32(0), i32(runs), 1, [...w.windows(win, out, per, inPlane), ...next(per)], true)
      : []),
    ...(rest > 0 ? w.windows(win, out, rest, inPlane) : []),
    set(rowStart, add(get(rowStart), i32(g.SH * g.pitch * F32))),
    set(outStart, add(get(outStart), i32(g.OW * F32))),
  ];
  const perPlane = [
    ...(w.before?.(get(plane)) ?? []),
    set(rowStart, w.frame ?? get(plane)),
    set(planeOut, get(outStart)),
    ...fb.loop(oh, i32(0), i32(g.OH), 1, row, true),
    ...(w.after?.(get(plane)) ?? []),
    set(plane, add(get(plane), i32(g.H * g.W * F32))),
  ];
  return [
    set(plane, at(w.tensor, lo, g.H * g.W * F32)),
    set(outStart, mul(lo, i32(g.OH * g.OW * F32))),
    ...fb.loop(nc, lo, hi, 1, perPlane),
  ];
}

/** The plane at `plane` into the frame's interior (its border is set once per step). */
const frameIn = (s: PoolStep, g: Geometry, plane: Expr, frame: Expr): Expr[] =>
  copyPlanes(s.fb, plane, frame, {
    planes: 1,
    h: g.H,
    w: g.W,
    H: g.rows,
    W: g.pitch,
    top: g.PH,
    left: g.PW,
  });

/** The frame's interior into the plane at `plane`, set or added. */
const frameOut = (s: PoolStep, g: Geometry, frame: Expr, plane: Expr): Expr[] =>
  copyPlanes(s.fb, frame, plane, {
    planes: 1,
    h: g.rows,
    w: g.pitch,
    H: g.H,
    W: g.W,
    top: -g.PH,
    left: -g.PW,
    add: s.acc,
  });

// ---------------------------------------------------------------------------------------------
// Taps gathered, outputs stored.

/** Loads (their first float) covering ascending float positions, and each position's lane. */
function cover(positions: (number | undefined)[]): { starts: number[]; want: Lane[] } {
  const starts: number[] = [];
  const want = positions.map((p): Lane => {
    if (p === undefined) return undefined;
    let k = starts.findIndex((start) => p >= start && p < start + 4);
    if (k < 0) k = starts.push(p) - 1;
    return { from: k, lane: p - starts[k]! };
  });
  return { starts, want };
}

/**
 * The taps of one row of v grouped windows: lane l of tap j is the float j + l·SW from the row's
 * first, `offset` bytes from `base`. Loads covering the whole row, held in `held` (locals), serve
 * the taps they serve at no more instructions than the tap's own loads and shuffles.
 */
function rowTaps(g: Geometry, held: number[], base: Expr, offset: number, v: number) {
  const lanes = (j: number) => [0, 1, 2, 3].map((l) => (l < v ? j + l * g.SW : undefined));
  const row = Array.from({ length: g.KW }, (_, j) => lanes(j)).flat();
  const shared = cover([...new Set(row.filter((p) => p !== undefined))].sort((a, b) => a - b));
  const used = new Set<number>();
  const taps = Array.from({ length: g.KW }, (_, j) => {
    const own = cover(lanes(j));
    const want = lanes(j).map((p): Lane => {
      if (p === undefined) return undefined;
      const k = shared.starts.findIndex((start) => p >= start && p < start + 4);
      return { from: k, lane: p - shared.starts[k]! };
    });
    if (pickCost(want) > own.starts.length + pickCost(own.want)) {
      const sources = own.starts.map((p) => loadV(base, offset + p * F32));
      return pick(sources, own.want);
    }
    for (const l of want) if (l && l !== "zero") used.add(l.from);
    return pick(
      held.map((l) => get(l)),
      want,
    );
  });
  const loads = [...used].map((k) => set(held[k]!, loadV(base, offset + shared.starts[k]! * F32)));
  return { loads, taps };
}

/** Locals enough for the shared loads of any row. */
const rowLoads = (s: PoolStep, g: Geometry): number[] =>
  Array.from({ length: Math.ceil((3 * g.SW + g.KW) / 4) }, () => s.fb.local("v128"));

/** The first v lanes of `value` at `addr`. */
function storeLanes(s: PoolStep, addr: Expr, value: Expr, v: number): Expr[] {
  if (v === 4) return [storeV(addr, value)];
  const t = s.fb.local("v128");
  return [
    set(t, value),
    ...Array.from({ length: v }, (_, m) => storeF(addr, lane(get(t), m), 4 * m)),
  ];
}

// ---------------------------------------------------------------------------------------------
// Forward.

/** How a window's taps fold into its value. */
interface Fold {
  /** What a frame's border holds: a value that changes no window's. */
  border: number;
  init: number;
  vec(acc: Expr, tap: Expr): Expr;
  /** Folds `tap` into the f32 local `acc`. */
  scalar(acc: number, tap: Expr): Expr[];
  /** The folded taps as the window's value (the average divides by the window's size). */
  doneVec(acc: Expr, inPlane: Expr): Expr;
  doneScalar(acc: Expr, inPlane: Expr): Expr;
}

/** Max takes a tap only when greater, so NaN taps are passed over; pmax does just that. */
function maxFold(fb: FuncBuilder): Fold {
  const t = fb.local("f32");
  return {
    border: NaN,
    init: -Infinity,
    vec: (acc, tap) => ({ op: "f32x4.pmax", a: acc, b: tap }),
    scalar: (acc, tap) => [
      set(t, tap),
      set(acc, {
        op: "select",
        a: get(t),
        b: get(acc),
        c: { op: "f32.gt", a: get(t), b: get(acc) },
      }),
    ],
    doneVec: (acc) => acc,
    doneScalar: (acc) => acc,
  };
}

/** A sum; a frame's zero border adds nothing. */
const sumFold: Omit<Fold, "doneVec" | "doneScalar"> = {
  border: 0,
  init: 0,
  vec: vadd,
  scalar: (acc, tap) => [set(acc, fadd(get(acc), tap))],
};

/**
 * Average pooling's divisor of the windows whose outputs start `inPlane` bytes into their plane:
 * KH·KW, or where windows differ the step's table of them (f32 bits, with 3 floats of slack for
 * a vector read at the last output).
 */
function meanDivisor(s: WasmStep<"avg_pool" | "avg_pool_grad">) {
  const { divisors, KH, KW } = s.a;
  const table =
    divisors && s.table([...new Int32Array(Float32Array.from([...divisors, 1, 1, 1]).buffer)]);
  return {
    vec: (inPlane: Expr): Expr =>
      table === undefined ? splat(f32(KH * KW)) : loadV(add(i32(table), inPlane)),
    scalar: (inPlane: Expr): Expr =>
      table === undefined ? f32(KH * KW) : loadF(add(i32(table), inPlane)),
  };
}

/** The sum over the window divided by its divisor: its whole size unless the step's table says. */
function meanFold(s: WasmStep<"avg_pool">): Fold {
  const divisor = meanDivisor(s);
  return {
    ...sumFold,
    doneVec: (acc, inPlane) => ({ op: "f32x4.div", a: acc, b: divisor.vec(inPlane) }),
    doneScalar: (acc, inPlane) => ({ op: "f32.div", a: acc, b: divisor.scalar(inPlane) }),
  };
}

function pool(s: PoolStep, fold: Fold): Expr[] {
  const g = geometry(s.a);
  const { fb } = s;
  const y = fb.local("i32");
  const frame = g.framed ? s.scratch(g.frameBytes) : undefined;
  const [accV, rowV] = fb.locals("v128", 2);
  const accS = fb.local("f32");
  const [r, p] = fb.locals("i32", 2);
  const held = g.grouped ? rowLoads(s, g) : [];
  const grouped = (win: number, out: number, v: number, inPlane: Expr): Expr[] => {
    const body = [set(accV, splat(f32(fold.init)))];
    for (let i = 0; i < g.KH; i++) {
      const row = rowTaps(g, held, get(win), i * g.pitch * F32, v);
      body.push(...row.loads, ...row.taps.map((tap) => set(accV, fold.vec(get(accV), tap))));
    }
    return [...body, ...storeLanes(s, add(get(y), get(out)), fold.doneVec(get(accV), inPlane), v)];
  };
  // One window: each row's taps in vectors and a scalar tail, the lanes folded in at the end.
  // Rows fold apart, then into the window's: the rows' chains of dependent folds overlap.
  const single = (win: number, out: number, inPlane: Expr): Expr[] => [
    set(accV, splat(f32(fold.init))),
    set(accS, f32(fold.init)),
    ...windowRows(s, g, win, r, [
      set(p, get(r)),
      set(rowV, splat(f32(fold.init))),
      ...overRun(
        fb,
        g.KW,
        [p],
        (o) => [set(rowV, fold.vec(get(rowV), loadV(get(p), o)))],
        (o) => fold.scalar(accS, loadF(get(p), o)),
      ),
      set(accV, fold.vec(get(accV), get(rowV))),
    ]),
    ...[0, 1, 2, 3].flatMap((l) => fold.scalar(accS, lane(get(accV), l))),
    storeF(add(get(y), get(out)), fold.doneScalar(get(accS), inPlane)),
  ];
  return [
    set(y, s.outs[0]!),
    ...(frame ? fill(fb, frame, g.frameBytes / F32, fold.border) : []),
    ...walk(s, g, {
      tensor: s.ins[0]!,
      ...(frame ? { frame, before: (plane: Expr) => frameIn(s, g, plane, frame) } : {}),
      windows: (win, out, v, inPlane) =>
        g.grouped ? grouped(win, out, v, inPlane) : single(win, out, inPlane),
    }),
  ];
}

/** `body` once per row of the window at `win`, with the local `r` at the row's first tap. */
function windowRows(s: PoolStep, g: Geometry, win: number, r: number, body: Expr[]): Expr[] {
  const i = s.fb.local("i32");
  return [
    set(r, get(win)),
    ...s.fb.loop(i, i32(0), i32(g.KH), 1, [...body, set(r, add(get(r), i32(g.pitch * F32)))], true),
  ];
}

export const maxPool: WasmKernel<"max_pool"> = (s) => pool(s, maxFold(s.fb));
export const avgPool: WasmKernel<"avg_pool"> = (s) => pool(s, meanFold(s));

// ---------------------------------------------------------------------------------------------
// Gradients.

/**
 * One row of taps of v grouped windows, as vectors of consecutive positions from the first
 * window's first tap: window l's tap j lands at l·SW + j, with lane l of `parts[j]` (locals).
 * Taps j ≡ r (mod SW) land on the positions t·SW + r (residue r, lane t): tap r + k·SW of window
 * l where tap r of window l + k does. So each residue is its taps' parts shifted k lanes and
 * added (where windows overlap), and the residues interleave into the row: shifts, unpacks and
 * blends, one x64 instruction each. `sets` computes the residues into locals; a vector is
 * undefined where no tap lands. The last vector ends at the row's last position, or, `whole`,
 * has zeros past it.
 */
function spread(s: PoolStep, g: Geometry, parts: number[], v: number, whole: boolean) {
  const span = (v - 1) * g.SW + g.KW;
  const sets: Expr[] = [];
  /** Residue r's lanes 4b…4b + 3 in local blocks[r][b]; undefined: no tap lands there. */
  const blocks = Array.from({ length: g.SW }, (_, r) => {
    const read = (t: number) => t * g.SW + r < span;
    const shifts: number[] = [];
    for (let k = 0; r + k * g.SW < g.KW; k++) shifts.push(k);
    const row: (number | undefined)[] = [];
    for (let b = 0; read(4 * b); b++) {
      let sum: Expr | undefined;
      for (const k of shifts) {
        const want = [0, 1, 2, 3].map((m): Lane => {
          const [t, l] = [4 * b + m, 4 * b + m - k];
          if (!read(t)) return undefined;
          return l >= 0 && l < v ? { from: 0, lane: l } : "zero";
        });
        if (want.every((w) => w === undefined || w === "zero")) continue;
        const piece = pick([get(parts[r + k * g.SW]!)], want);
        sum = sum ? vadd(sum, piece) : piece;
      }
      if (sum?.op === "local.get" || !sum) row.push(sum?.local);
      else {
        const local = s.fb.local("v128");
        sets.push(set(local, sum));
        row.push(local);
      }
    }
    return row;
  });
  const locals: number[] = [];
  const vectors: (Expr | undefined)[] = [];
  for (let q = 0; 4 * q < span; q++) {
    const want = [0, 1, 2, 3].map((m): Lane => {
      const p = 4 * q + m;
      if (p >= span) return whole ? "zero" : undefined;
      const [r, t] = [p % g.SW, Math.floor(p / g.SW)];
      const local = blocks[r]![Math.floor(t / 4)];
      if (local === undefined) return "zero";
      if (!locals.includes(local)) locals.push(local);
      return { from: locals.indexOf(local), lane: t % 4 };
    });
    const lands = want.some((w) => w !== undefined && w !== "zero");
    vectors.push(lands ? pick(locals.map(get), want) : undefined);
  }
  return { sets, vectors, lanes: whole ? 4 * vectors.length : span };
}

/** A spread row at `offset` bytes from the local `d`: stored, or added to what is there. */
function writeRow(
  s: PoolStep,
  d: number,
  offset: number,
  row: ReturnType<typeof spread>,
  stores: boolean,
): Expr[] {
  const t = s.fb.local("v128");
  return row.vectors.flatMap((value, q): Expr[] => {
    // Where nothing lands, the destination already holds zero or is added nothing.
    if (!value) return [];
    const base = offset + 16 * q;
    const lanes = Math.min(4, row.lanes - 4 * q);
    if (lanes === 4)
      return [storeV(get(d), stores ? value : vadd(loadV(get(d), base), value), base)];
    return [
      set(t, value),
      ...Array.from({ length: lanes }, (_, m) => {
        const x = lane(get(t), m);
        const o = base + 4 * m;
        return storeF(get(d), stores ? x : fadd(loadF(get(d), o), x), o);
      }),
    ];
  });
}

/**
 * What a gradient needs around its windows: the destination of each plane's scatter (dx's plane,
 * or a zeroed frame copied out to it after), and how windows write it. `writesAll`: the kernel
 * writes every tap of a window, so it may store instead of adding where windows do not overlap.
 */
function destination(s: PoolStep, g: Geometry, writesAll: boolean) {
  // Overlapping windows add into a frame: whole vectors, whose zeros past a row's end may land
  // on the next row, never on another thread's plane.
  const dxFrame = g.framed || g.overlap ? s.scratch(g.frameBytes) : undefined;
  // Stores need windows that do not overlap and a destination zeroed first (or wholly covered).
  const stores = writesAll && !g.overlap && (dxFrame !== undefined || !s.acc);
  const clears = !s.acc && !(stores && g.tiled);
  return {
    stores,
    whole: dxFrame !== undefined && !stores,
    frame: dxFrame,
    /** Before a plane's windows, given dx's plane. */
    before: (dx: Expr): Expr[] =>
      dxFrame
        ? zeroFill(s.fb, dxFrame, g.frameBytes / F32)
        : clears
          ? zeroFill(s.fb, dx, g.H * g.W)
          : [],
    after: (dx: Expr): Expr[] => (dxFrame ? frameOut(s, g, dxFrame, dx) : []),
  };
}

/** dx[argmax] (+)= dy per window; inputs x, y, dy. */
export const maxPoolGrad: WasmKernel<"max_pool_grad"> = (s) => {
  const g = geometry(s.a);
  const { fb } = s;
  // One window at a time, only the first maximum is written.
  const dst = destination(s, g, g.grouped);
  const xFrame = g.framed ? s.scratch(g.frameBytes) : undefined;
  const [y, dy, toDx, shift, d, r, p] = fb.locals("i32", 7);
  const [m, gv, taken, hit, t] = fb.locals("v128", 5);
  const parts = g.grouped ? Array.from({ length: g.KW }, () => fb.local("v128")) : [];
  const held = g.grouped ? rowLoads(s, g) : [];
  // The window pointer walks x (or its frame); the same position's gradient is `shift` on.
  const grouped = (win: number, out: number, v: number): Expr[] => {
    const body = [
      set(m, loadV(add(get(y), get(out)))),
      set(gv, loadV(add(get(dy), get(out)))),
      set(taken, ZERO_V),
      set(d, add(get(win), get(shift))),
    ];
    for (let i = 0; i < g.KH; i++) {
      const taps = rowTaps(g, held, get(win), i * g.pitch * F32, v);
      body.push(...taps.loads);
      taps.taps.forEach((tap, j) => {
        // Each tap takes g where it is the first to equal the maximum.
        body.push(
          set(hit, { op: "v128.andnot", a: { op: "f32x4.eq", a: tap, b: get(m) }, b: get(taken) }),
          set(taken, { op: "v128.or", a: get(taken), b: get(hit) }),
          set(parts[j]!, { op: "v128.and", a: get(gv), b: get(hit) }),
        );
      });
      const row = spread(s, g, parts, v, dst.whole);
      body.push(...row.sets, ...writeRow(s, d, i * g.pitch * F32, row, dst.stores));
    }
    return body;
  };
  const [ms, gs] = [fb.local("f32"), fb.local("f32")];
  const found = fb.label();
  // Adds g at the tap `o` bytes from p and leaves the window: the first maximum has it.
  const take = (o: number): Expr[] => [
    storeF(add(get(p), get(shift)), fadd(loadF(add(get(p), get(shift)), o), get(gs)), o),
    { op: "br", label: found },
  ];
  const equal = (o: number): Expr => ({ op: "f32.eq", a: loadF(get(p), o), b: get(ms) });
  // One window: rows of taps four at a time, looked at one by one where one of the four is equal.
  const single = (win: number, out: number): Expr[] => [
    set(ms, loadF(add(get(y), get(out)))),
    set(gs, loadF(add(get(dy), get(out)))),
    set(t, splat(get(ms))),
    {
      op: "block",
      label: found,
      body: windowRows(s, g, win, r, [
        set(p, get(r)),
        ...overRun(
          fb,
          g.KW,
          [p],
          (o) => [
            {
              op: "if",
              cond: { op: "v128.any_true", a: { op: "f32x4.eq", a: loadV(get(p), o), b: get(t) } },
              then: [0, 1, 2, 3].map((l): Expr => ({
                op: "if",
                cond: equal(o + 4 * l),
                then: take(o + 4 * l),
              })),
            },
          ],
          (o) => [{ op: "if", cond: equal(o), then: take(o) }],
        ),
      ]),
    },
  ];
  return [
    set(y, s.ins[1]!),
    set(dy, s.ins[2]!),
    set(toDx, sub(s.outs[0]!, s.ins[0]!)),
    ...(xFrame ? fill(fb, xFrame, g.frameBytes / F32, NaN) : []),
    ...walk(s, g, {
      tensor: s.ins[0]!,
      ...(xFrame ? { frame: xFrame } : {}),
      before: (x) => [
        ...(xFrame ? frameIn(s, g, x, xFrame) : []),
        ...dst.before(add(x, get(toDx))),
        set(shift, sub(dst.frame ?? add(x, get(toDx)), xFrame ?? x)),
      ],
      after: (x) => dst.after(add(x, get(toDx))),
      windows: (win, out, v) => (g.grouped ? grouped(win, out, v) : single(win, out)),
    }),
  ];
};

/** dx (+)= dy / the window's divisor over each window; input dy. */
export const avgPoolGrad: WasmKernel<"avg_pool_grad"> = (s) => {
  const g = geometry(s.a);
  const { fb } = s;
  const dst = destination(s, g, true);
  const divisor = meanDivisor(s);
  const [dy, r, p] = fb.locals("i32", 3);
  const gv = fb.local("v128");
  const gs = fb.local("f32");
  // Every tap of a window takes the same part: one spread row serves all the window's rows.
  const grouped = (win: number, out: number, v: number, inPlane: Expr): Expr[] => {
    const row = spread(s, g, Array<number>(g.KW).fill(gv), v, dst.whole);
    const held = row.vectors.map((vector) => vector && fb.local("v128"));
    const once = { ...row, vectors: held.map((l) => (l === undefined ? undefined : get(l))) };
    return [
      set(gv, { op: "f32x4.div", a: loadV(add(get(dy), get(out))), b: divisor.vec(inPlane) }),
      ...row.sets,
      ...row.vectors.flatMap((vector, q) => (vector ? [set(held[q]!, vector)] : [])),
      ...Array.from({ length: g.KH }, (_, i) =>
        writeRow(s, win, i * g.pitch * F32, once, dst.stores),
      ).flat(),
    ];
  };
  const single = (win: number, out: number, inPlane: Expr): Expr[] => [
    set(gs, { op: "f32.div", a: loadF(add(get(dy), get(out))), b: divisor.scalar(inPlane) }),
    set(gv, splat(get(gs))),
    ...windowRows(s, g, win, r, [
      set(p, get(r)),
      ...overRun(
        fb,
        g.KW,
        [p],
        (o) => [storeV(get(p), dst.stores ? get(gv) : vadd(loadV(get(p), o), get(gv)), o)],
        (o) => [storeF(get(p), dst.stores ? get(gs) : fadd(loadF(get(p), o), get(gs)), o)],
      ),
    ]),
  ];
  return [
    set(dy, s.ins[0]!),
    ...walk(s, g, {
      tensor: s.outs[0]!,
      ...(dst.frame ? { frame: dst.frame } : {}),
      before: dst.before,
      after: dst.after,
      windows: (win, out, v, inPlane) =>
        g.grouped ? grouped(win, out, v, inPlane) : single(win, out, inPlane),
    }),
  ];
};

// ---------------------------------------------------------------------------------------------
// Adaptive windows (the layers whose output divides the input run on the kernels above).

type AdaptiveStep = WasmStep<
  "adaptive_max_pool" | "adaptive_max_pool_grad" | "adaptive_avg_pool" | "adaptive_avg_pool_grad"
>;

/** A window of an adaptive walk: locals holding its top-left tap's address and its extent. */
interface AdaptiveWindowAt {
  /** Byte address of the window's first tap in the walked tensor. */
  win: number;
  /** Byte offset of its output in the output's tensor. */
  out: number;
  rows: number;
  cols: number;
}

/**
 * This thread's planes of the walked tensor (x, or dx for the average's gradient), window by
 * window; each window's first row and column and its extent come from two constant tables.
 */
function adaptiveWalk(
  s: AdaptiveStep,
  tensor: Expr,
  before: (plane: Expr) => Expr[],
  window: (w: AdaptiveWindowAt) => Expr[],
): Expr[] {
  const { fb, a } = s;
  const bounds = (out: number, size: number, pitch: number) =>
    Array.from({ length: out }, (_, i) => {
      const [start, end] = adaptiveRange(i, size, out);
      return [start * pitch * F32, end - start];
    }).flat();
  const rowTable = s.table(bounds(a.OH, a.H, a.W));
  const colTable = s.table(bounds(a.OW, a.W, 1));
  const [plane, nc, oh, ow, rt, ct, win, out, rows, cols] = fb.locals("i32", 10);
  const { lo, hi } = s.part(mul(s.N, i32(a.C)));
  const perWindow = [
    set(win, add(get(plane), add(loadI(get(rt)), loadI(get(ct))))),
    set(rows, loadI(get(rt), 4)),
    set(cols, loadI(get(ct), 4)),
    ...window({ win, out, rows, cols }),
    set(out, add(get(out), i32(F32))),
    set(ct, add(get(ct), i32(8))),
  ];
  const perRow = [
    set(ct, i32(colTable)),
    ...fb.loop(ow, i32(0), i32(a.OW), 1, perWindow, true),
    set(rt, add(get(rt), i32(8))),
  ];
  const perPlane = [
    ...before(get(plane)),
    set(rt, i32(rowTable)),
    ...fb.loop(oh, i32(0), i32(a.OH), 1, perRow, true),
    set(plane, add(get(plane), i32(a.H * a.W * F32))),
  ];
  return [
    set(plane, at(tensor, lo, a.H * a.W * F32)),
    set(out, mul(lo, i32(a.OH * a.OW * F32))),
    ...fb.loop(nc, lo, hi, 1, perPlane),
  ];
}

/** `vector(p, o)` and `scalar(p, o)` over each row of the window, `p` a pointer local. */
function adaptiveTaps(
  s: AdaptiveStep,
  w: AdaptiveWindowAt,
  vector: (p: number, o: number) => Expr[],
  scalar: (p: number, o: number) => Expr[],
): Expr[] {
  const { fb } = s;
  const [i, r, p] = fb.locals("i32", 3);
  return [
    set(r, get(w.win)),
    ...fb.loop(i, i32(0), get(w.rows), 1, [
      set(p, get(r)),
      ...overRun(
        fb,
        get(w.cols),
        [p],
        (o) => vector(p, o),
        (o) => scalar(p, o),
      ),
      set(r, add(get(r), i32(s.a.W * F32))),
    ]),
  ];
}

const windowSize = (w: AdaptiveWindowAt): Expr => ({
  op: "f32.convert_i32_s",
  a: mul(get(w.rows), get(w.cols)),
});

/** Each window's taps folded, then `done` makes the fold the window's value. */
function adaptivePool(
  s: AdaptiveStep,
  fold: Omit<Fold, "doneVec" | "doneScalar">,
  done: (acc: Expr, w: AdaptiveWindowAt) => Expr,
): Expr[] {
  const { fb } = s;
  const [accV, y] = [fb.local("v128"), fb.local("i32")];
  const accS = fb.local("f32");
  return [
    set(y, s.outs[0]!),
    ...adaptiveWalk(
      s,
      s.ins[0]!,
      () => [],
      (w) => [
        set(accV, splat(f32(fold.init))),
        set(accS, f32(fold.init)),
        ...adaptiveTaps(
          s,
          w,
          (p, o) => [set(accV, fold.vec(get(accV), loadV(get(p), o)))],
          (p, o) => fold.scalar(accS, loadF(get(p), o)),
        ),
        ...[0, 1, 2, 3].flatMap((l) => fold.scalar(accS, lane(get(accV), l))),
        storeF(add(get(y), get(w.out)), done(get(accS), w)),
      ],
    ),
  ];
}

export const adaptiveMaxPool: WasmKernel<"adaptive_max_pool"> = (s) =>
  adaptivePool(s, maxFold(s.fb), (acc) => acc);

export const adaptiveAvgPool: WasmKernel<"adaptive_avg_pool"> = (s) =>
  adaptivePool(s, sumFold, (acc, w) => ({ op: "f32.div", a: acc, b: windowSize(w) }));

/** dx[first maximum] (+)= dy per window, the taps looked at one by one; inputs x, y, dy. */
export const adaptiveMaxPoolGrad: WasmKernel<"adaptive_max_pool_grad"> = (s) => {
  const { fb, a } = s;
  const [y, dy, toDx, i, j, r, p] = fb.locals("i32", 7);
  const [m, g] = fb.locals("f32", 2);
  const found = fb.label();
  return [
    set(y, s.ins[1]!),
    set(dy, s.ins[2]!),
    set(toDx, sub(s.outs[0]!, s.ins[0]!)),
    ...adaptiveWalk(
      s,
      s.ins[0]!,
      (x) => (s.acc ? [] : zeroFill(fb, add(x, get(toDx)), a.H * a.W)),
      (w) => [
        set(m, loadF(add(get(y), get(w.out)))),
        set(g, loadF(add(get(dy), get(w.out)))),
        set(r, get(w.win)),
        {
          op: "block",
          label: found,
          body: fb.loop(i, i32(0), get(w.rows), 1, [
            set(p, get(r)),
            ...fb.loop(j, i32(0), get(w.cols), 1, [
              {
                op: "if",
                cond: { op: "f32.eq", a: loadF(get(p)), b: get(m) },
                then: [
                  storeF(add(get(p), get(toDx)), fadd(loadF(add(get(p), get(toDx))), get(g))),
                  { op: "br", label: found },
                ],
              },
              set(p, add(get(p), i32(F32))),
            ]),
            set(r, add(get(r), i32(a.W * F32))),
          ]),
        },
      ],
    ),
  ];
};

/** dx (+)= dy / the window's size over each window (windows may overlap); input dy. */
export const adaptiveAvgPoolGrad: WasmKernel<"adaptive_avg_pool_grad"> = (s) => {
  const { fb, a } = s;
  const dy = fb.local("i32");
  const gv = fb.local("v128");
  const gs = fb.local("f32");
  return [
    set(dy, s.ins[0]!),
    ...adaptiveWalk(
      s,
      s.outs[0]!,
      (dx) => (s.acc ? [] : zeroFill(fb, dx, a.H * a.W)),
      (w) => [
        set(gs, { op: "f32.div", a: loadF(add(get(dy), get(w.out))), b: windowSize(w) }),
        set(gv, splat(get(gs))),
        ...adaptiveTaps(
          s,
          w,
          (p, o) => [storeV(get(p), vadd(loadV(get(p), o), get(gv)), o)],
          (p, o) => [storeF(get(p), fadd(loadF(get(p), o), get(gs)), o)],
        ),
      ],
    ),
  ];
};
