// Zero, reflection and replication padding on WASM, and its gradient. Threads split the N·C
// planes. Forward: the plane is copied into the output's interior (a negative zero padding crops
// it), then a border of zeros, or the border columns of the interior rows copied from the columns
// they mirror or repeat, then the border rows from whole rows. Backward undoes it in a frame:
// border rows added into the rows they copy, then border columns, then the interior copied out.
import { add, fadd, get, i32, loadF, loadV, mul, set, storeF, storeV, vadd } from "../builder.js";
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

/** Row `to` of a plane of WO-float rows at `plane` set to row `from`, or added to. */
function rowMove(s: PadStep, plane: Expr, from: number, to: number, adds: boolean): Expr[] {
  const { WO } = outputSize(s.a);
  const [src, dst] = s.fb.locals("i32", 2);
  return [
    set(src, add(plane, i32(from * WO * F32))),
    set(dst, add(plane, i32(to * WO * F32))),
    ...overRun(
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
  ];
}

/** In each interior row of the plane at `plane`: column `to` set to column `from`, or added to. */
function columnMoves(
  s: PadStep,
  plane: Expr,
  moves: { from: number; to: number }[],
  adds: boolean,
) {
  const { a, fb } = s;
  if (moves.length === 0) return [];
  const { WO } = outputSize(a);
  const [row, k] = fb.locals("i32", 2);
  const move = ({ from, to }: { from: number; to: number }) =>
    adds
      ? storeF(get(row), fadd(loadF(get(row), to * F32), loadF(get(row), from * F32)), to * F32)
      : storeF(get(row), loadF(get(row), from * F32), to * F32);
  return [
    set(row, add(plane, i32(a.top * WO * F32))),
    ...fb.loop(
      k,
      i32(0),
      i32(a.H),
      1,
      [...moves.map(move), set(row, add(get(row), i32(WO * F32)))],
      true,
    ),
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
      : [
          ...columnMoves(s, y, cols, false),
          ...rows.flatMap(({ from, to }) => rowMove(s, y, from, to, false)),
        ]),
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
      ...rows.flatMap(({ from, to }) => rowMove(s, get(frame), to, from, true)),
      ...columnMoves(s, get(frame), cols.map(back), true),
      ...copyPlanes(fb, get(frame), dx, interior),
    ]),
  ];
};
