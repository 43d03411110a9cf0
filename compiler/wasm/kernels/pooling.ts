// Max pooling on WASM for windows that lie inside the input (no padding): the taps are unrolled
// with constant offsets. The gradient recomputes the argmax (first maximum, as PyTorch picks it).
import { add, f32, get, i32, loadF, mul, set, storeF, sub } from "../builder.js";
import type { Expr } from "../encoder.js";
import { at, F32, num, zeroFill, type WasmKernel, type WasmStep } from "./kernel.js";

function windows(s: WasmStep) {
  const [C, H, W, OH, OW, KH, KW, SH, SW, PH, PW] = [
    "C",
    "H",
    "W",
    "OH",
    "OW",
    "KH",
    "KW",
    "SH",
    "SW",
    "PH",
    "PW",
  ].map((k) => num(s.a, k)) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const inside = PH === 0 && PW === 0 && (OH - 1) * SH + KH <= H && (OW - 1) * SW + KW <= W;
  const taps: number[] = [];
  for (let i = 0; i < KH; i++) for (let j = 0; j < KW; j++) taps.push((i * W + j) * F32);
  return { C, H, W, OH, OW, SH, SW, inside, taps };
}

/**
 * Visits the output positions of this thread's planes (threads split the N·C planes):
 * `body(window, out)` with `window` the byte pointer of the window's first input and `out` the
 * output's byte offset from the output base, both locals.
 */
function overWindows(s: WasmStep, body: (window: number, out: number) => Expr[]): Expr[] {
  const { fb, N } = s;
  const w = windows(s);
  const [plane, row, win, out, nc, oh, ow] = Array.from({ length: 7 }, () =>
    fb.local("i32"),
  ) as number[] as [number, number, number, number, number, number, number];
  const { lo, hi } = s.part({ op: "i32.mul", a: N, b: i32(w.C) });
  const perRow = [
    set(win, get(row)),
    ...fb.loop(
      ow,
      i32(0),
      i32(w.OW),
      1,
      [
        ...body(win, out),
        set(win, add(get(win), i32(w.SW * F32))),
        set(out, add(get(out), i32(F32))),
      ],
      true,
    ),
    set(row, add(get(row), i32(w.SH * w.W * F32))),
  ];
  const perPlane = [
    set(row, get(plane)),
    ...fb.loop(oh, i32(0), i32(w.OH), 1, perRow, true),
    set(plane, add(get(plane), i32(w.H * w.W * F32))),
  ];
  return [
    set(plane, at(s.ins[0]!, lo, w.H * w.W * F32)),
    set(out, mul(lo, i32(w.OH * w.OW * F32))),
    ...fb.loop(nc, lo, hi, 1, perPlane),
  ];
}

export const maxPool: WasmKernel = (s) => {
  const w = windows(s);
  if (!w.inside) return undefined;
  const m = s.fb.local("f32");
  const v = s.fb.local("f32");
  const y = s.fb.local("i32");
  return [
    set(y, s.outs[0]!),
    ...overWindows(s, (win, out) => [
      set(m, f32(-Infinity)),
      ...w.taps.flatMap((t) => [
        set(v, loadF(get(win), t)),
        set(m, { op: "select", a: get(v), b: get(m), c: { op: "f32.gt", a: get(v), b: get(m) } }),
      ]),
      storeF(add(get(y), get(out)), get(m)),
    ]),
  ];
};

/** dx[argmax] (+)= dy per window; inputs x, y, dy. */
export const maxPoolGrad: WasmKernel = (s) => {
  const w = windows(s);
  if (!w.inside) return undefined;
  const { fb } = s;
  const [m, g] = [fb.local("f32"), fb.local("f32")];
  const [y, dy, dx, shift] = Array.from({ length: 4 }, () => fb.local("i32")) as number[] as [
    number,
    number,
    number,
    number,
  ];
  // The window pointer walks x; dx at the same position is that pointer plus (dx − x).
  const first = (win: number, t: number, rest: Expr[]): Expr[] => [
    {
      op: "if",
      cond: { op: "f32.eq", a: loadF(get(win), t), b: get(m) },
      then: [
        storeF(
          add(get(win), get(shift)),
          { op: "f32.add", a: loadF(add(get(win), get(shift)), t), b: get(g) },
          t,
        ),
      ],
      else: rest,
    },
  ];
  return [
    ...(s.acc ? [] : zeroPlanes(s, w.H * w.W)),
    set(y, s.ins[1]!),
    set(dy, s.ins[2]!),
    set(dx, s.outs[0]!),
    set(shift, { op: "i32.sub", a: get(dx), b: s.ins[0]! }),
    ...overWindows(s, (win, out) => [
      set(m, loadF(add(get(y), get(out)))),
      set(g, loadF(add(get(dy), get(out)))),
      ...w.taps.reduceRight<Expr[]>((rest, t) => first(win, t, rest), []),
    ]),
  ];
};

/** Zeroes this thread's planes of the first output (the same split as overWindows). */
function zeroPlanes(s: WasmStep, plane: number): Expr[] {
  const { lo, hi } = s.part({ op: "i32.mul", a: s.N, b: i32(num(s.a, "C")) });
  return zeroFill(s.fb, at(s.outs[0]!, lo, plane * F32), mul(sub(hi, lo), i32(plane)));
}
