// Zero, reflection and replication padding on WASM, and its gradient. Threads split the N·C
// planes. Forward: the plane is copied into the output's interior (a negative zero padding crops
// it), then a border of zeros, or the border columns of the interior rows copied from the columns
// they mirror or repeat, then the border rows from whole rows. Backward undoes it in a frame:
// border rows added into the rows they copy, then border columns, then the interior copied out.
import {
  add,
  fadd,
  get,
  i32,
  loadF,
  loadI,
  loadV,
  mul,
  set,
  storeF,
  storeV,
  vadd,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import { padSource, type Padding } from "../../../ops.js";
import {
  at,
  copyPlanes,
  F32,
  overRun,
  zeroFill,
  type WasmKernel,
  type WasmStep,
} from "./kernel.js";

type PadStep = WasmStep<"pad" | "pad_grad">;

const outputSize = (a: Padding) => ({ HO: a.top + a.H + a.bottom, WO: a.left + a.W + a.right });

/** Output rows (columns) in the border, each with the output row (column) it copies. */
function borders(before: number, size: number, after: number, mode: Padding["mode"]) {
  const edge = (o: number) => ({ to: o, from: before + padSource(o - before, size, mode) });
  return [
    ...Array.from({ length: before }, (_, o) => edge(o)),
    ...Array.from({ length: after }, (_, k) => edge(before + size + k)),
  ];
}

/** `body(x, y)` for this thread's planes, with locals at the input plane and the output plane. */
function planes(s: PadStep, small: Expr, big: Expr, body: (x: Expr, y: Expr) => Expr[]): Expr[] {
  const { fb, a } = s;
  const { HO, WO } = outputSize(a);
  const [nc, x, y] = fb.locals("i32", 3);
  const { lo, hi } = s.part(mul(s.N, i32(a.C)));
  return [
    set(x, at(small, lo, a.H * a.W * F32)),
    set(y, at(big, lo, HO * WO * F32)),
    ...fb.loop(nc, lo, hi, 1, [
      ...body(get(x), get(y)),
      set(x, add(get(x), i32(a.H * a.W * F32))),
      set(y, add(get(y), i32(HO * WO * F32))),
    ]),
  ];
}

type Move = { from: number; to: number };

/**
 * The moves in order, from a constant table of their byte offsets (`unit` bytes a row or
 * column): `body` with locals at the source and the destination, once per move. A loop, not
 * unrolled: a padding of thousands of rows stays one small function.
 */
function eachMove(
  s: PadStep,
  base: Expr,
  moves: Move[],
  unit: number,
  body: (src: number, dst: number) => Expr[],
): Expr[] {
  if (moves.length === 0) return [];
  const { fb } = s;
  const table = s.table(moves.flatMap(({ from, to }) => [from * unit, to * unit]));
  const [t, k, src, dst] = fb.locals("i32", 4);
  return [
    set(t, i32(table)),
    ...fb.loop(
      k,
      i32(0),
      i32(moves.length),
      1,
      [
        set(src, add(base, loadI(get(t)))),
        set(dst, add(base, loadI(get(t), 4))),
        ...body(src, dst),
        set(t, add(get(t), i32(8))),
      ],
      true,
    ),
  ];
}

/** Rows `to` of a plane of WO-float rows at `plane` set to rows `from`, or added to. */
function rowMoves(s: PadStep, plane: Expr, moves: Move[], adds: boolean): Expr[] {
  const { WO } = outputSize(s.a);
  return eachMove(s, plane, moves, WO * F32, (src, dst) =>
    overRun(
      s.fb,
      WO,
      [src, dst],
      (o) => [
        storeV(
          get(dst),
          adds ? vadd(loadV(get(dst), o), loadV(get(src), o)) : loadV(get(src), o),
          o,
        ),
      ],
      (o) => [
        storeF(
          get(dst),
          adds ? fadd(loadF(get(dst), o), loadF(get(src), o)) : loadF(get(src), o),
          o,
        ),
      ],
    ),
  );
}

/** In each interior row of the plane at `plane`: columns `to` set to columns `from`, or added to. */
function columnMoves(s: PadStep, plane: Expr, moves: Move[], adds: boolean): Expr[] {
  const { a, fb } = s;
  if (moves.length === 0) return [];
  const { WO } = outputSize(a);
  const [row, k] = fb.locals("i32", 2);
  const move = eachMove(s, get(row), moves, F32, (src, dst) => [
    storeF(get(dst), adds ? fadd(loadF(get(dst)), loadF(get(src))) : loadF(get(src))),
  ]);
  return [
    set(row, add(plane, i32(a.top * WO * F32))),
    ...fb.loop(k, i32(0), i32(a.H), 1, [...move, set(row, add(get(row), i32(WO * F32)))], true),
  ];
}

export const pad: WasmKernel<"pad"> = (s) => {
  const { a } = s;
  const { HO, WO } = outputSize(a);
  const rows = borders(a.top, a.H, a.bottom, a.mode);
  const cols = borders(a.left, a.W, a.right, a.mode);
  const bordered = a.top > 0 || a.bottom > 0 || a.left > 0 || a.right > 0;
  return planes(s, s.ins[0]!, s.outs[0]!, (x, y) => [
    ...(a.mode === "zero" && bordered ? zeroFill(s.fb, y, HO * WO) : []),
    ...copyPlanes(s.fb, x, y, {
      planes: 1,
      h: a.H,
      w: a.W,
      H: HO,
      W: WO,
      top: a.top,
      left: a.left,
    }),
    ...(a.mode === "zero"
      ? []
      : [...columnMoves(s, y, cols, false), ...rowMoves(s, y, rows, false)]),
  ]);
};

export const padGrad: WasmKernel<"pad_grad"> = (s) => {
  const { a, fb } = s;
  const { HO, WO } = outputSize(a);
  const interior = {
    planes: 1,
    h: HO,
    w: WO,
    H: a.H,
    W: a.W,
    top: -a.top,
    left: -a.left,
    add: s.acc,
  };
  if (a.mode === "zero") {
    // A crop leaves input positions no output copies: their gradient is zero.
    const cropped = a.top < 0 || a.bottom < 0 || a.left < 0 || a.right < 0;
    return planes(s, s.outs[0]!, s.ins[0]!, (dx, dy) => [
      ...(cropped && !s.acc ? zeroFill(fb, dx, a.H * a.W) : []),
      ...copyPlanes(fb, dy, dx, interior),
    ]);
  }
  const frame = fb.local("i32");
  const bytes = HO * WO * F32;
  const rows = borders(a.top, a.H, a.bottom, a.mode);
  const cols = borders(a.left, a.W, a.right, a.mode);
  // The moves reversed: a border row's gradient goes to the row it copied, then the columns'.
  const back = (m: { from: number; to: number }) => ({ from: m.to, to: m.from });
  return [
    set(frame, s.scratch(bytes)),
    ...planes(s, s.outs[0]!, s.ins[0]!, (dx, dy) => [
      ...copyPlanes(fb, dy, get(frame), { planes: 1, h: HO, w: WO, H: HO, W: WO, top: 0, left: 0 }),
      ...rowMoves(s, get(frame), rows.map(back), true),
      ...columnMoves(s, get(frame), cols.map(back), true),
      ...copyPlanes(fb, get(frame), dx, interior),
    ]),
  ];
};
