// Activations the WASM kernels apply in their epilogues, scalar and f32x4, with their gradients:
// the ones made of compares and selects. Others (exp, tanh) stay with the JS kernels for now.
import type { KernelAttrs } from "../../lower/program.js";
import { activationParams } from "../../kernels/activations.js";
import {
  add,
  f32,
  fmul,
  FuncBuilder,
  get,
  hsum,
  i32,
  loadF,
  loadV,
  mul,
  set,
  splat,
  storeF,
  storeV,
  sub,
  vmul,
  ZERO_V,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import { at, F32, num, overRun, zeroFill, type WasmKernel } from "./kernel.js";

/** Functions of operand expressions; each operand is evaluated once. */
export interface WasmActivation {
  vec(x: Expr): Expr;
  scalar(x: Expr): Expr;
  /** dy · act'(y), from the output y. */
  gradVec(y: Expr, dy: Expr): Expr;
  gradScalar(y: Expr, dy: Expr): Expr;
}

const tee = (local: number, value: Expr): Expr => ({ op: "local.tee", local, value });
const positiveV = (v: Expr): Expr => ({ op: "f32x4.gt", a: v, b: ZERO_V });
const positive = (v: Expr): Expr => ({ op: "f32.gt", a: v, b: f32(0) });

/** The activation named in `a.act` ("" is none), or undefined when WASM has no code for it. */
export function wasmActivation(fb: FuncBuilder, a: KernelAttrs): WasmActivation | undefined {
  const name = String(a["act"] ?? "");
  const tv = () => fb.local("v128");
  const ts = () => fb.local("f32");
  if (name === "") {
    return { vec: (x) => x, scalar: (x) => x, gradVec: (_, dy) => dy, gradScalar: (_, dy) => dy };
  }
  if (name === "relu") {
    const [v, s] = [tv(), ts()];
    return {
      vec: (x) => ({ op: "v128.and", a: tee(v, x), b: positiveV(get(v)) }),
      scalar: (x) => ({ op: "select", a: tee(s, x), b: f32(0), c: positive(get(s)) }),
      gradVec: (y, dy) => ({ op: "v128.and", a: dy, b: positiveV(y) }),
      gradScalar: (y, dy) => ({ op: "select", a: dy, b: f32(0), c: positive(y) }),
    };
  }
  if (name === "leaky_relu") {
    const [slope] = activationParams(a);
    const [v, s, gv, gs] = [tv(), ts(), tv(), ts()];
    const k = splat(f32(slope!));
    return {
      vec: (x) => ({
        op: "v128.bitselect",
        a: tee(v, x),
        b: vmul(get(v), k),
        c: positiveV(get(v)),
      }),
      scalar: (x) => ({
        op: "select",
        a: tee(s, x),
        b: fmul(get(s), f32(slope!)),
        c: positive(get(s)),
      }),
      gradVec: (y, dy) => ({
        op: "v128.bitselect",
        a: tee(gv, dy),
        b: vmul(get(gv), k),
        c: positiveV(y),
      }),
      gradScalar: (y, dy) => ({
        op: "select",
        a: tee(gs, dy),
        b: fmul(get(gs), f32(slope!)),
        c: positive(y),
      }),
    };
  }
  return undefined;
}

/** y = act(x), elementwise over N · size; threads split the samples. */
export const activation: WasmKernel = ({ fb, N, ins, outs, a, part }) => {
  const act = wasmActivation(fb, a);
  if (!act) return undefined;
  const [x, y, n] = [fb.local("i32"), fb.local("i32"), fb.local("i32")];
  const size = num(a, "size");
  const { lo, hi } = part(N);
  const run = overRun(
    fb,
    size,
    [x, y],
    (o) => [storeV(get(y), act.vec(loadV(get(x), o)), o)],
    (o) => [storeF(get(y), act.scalar(loadF(get(x), o)), o)],
  );
  return [
    set(x, at(ins[0]!, lo, size * F32)),
    set(y, at(outs[0]!, lo, size * F32)),
    ...fb.loop(n, lo, hi, 1, [...run, ...advanceTail([x, y], size)]),
  ];
};

/**
 * dx (+)= dy · act'(y) (dx may be dy itself) and, with `bias`, db[c] = Σ over the batch and the
 * S positions of channel c of dx: one pass for both. Threads split the channels, so each sums
 * its own bias gradients over the whole batch.
 */
export const activationGrad: WasmKernel = ({ fb, N, ins, outs, a, acc, part }) => {
  const act = wasmActivation(fb, a);
  if (!act) return undefined;
  const C = num(a, "C");
  const S = num(a, "S");
  const hasAct = String(a["act"] ?? "") !== "";
  const dxOut = hasAct ? outs[0] : undefined;
  const dbOut = a["bias"] ? outs[hasAct ? 1 : 0] : undefined;
  const [y, dy, dx, db, n, c] = fb.locals("i32", 6);
  const g = fb.local("v128");
  const gs = fb.local("f32");
  const sumV = fb.local("v128");
  const sumS = fb.local("f32");
  // Rows of channels (S = 1) are cut at vector groups; planes anywhere (6 channels: 3 and 3).
  const { lo, hi } = part(C, S === 1 ? 4 : 1);
  const runs = [y, dy, ...(dxOut ? [dx] : [])];
  // The runs start at channel lo of sample n.
  const start = (): Expr[] => {
    const offset = add(mul(get(n), i32(C * S * F32)), mul(lo, i32(S * F32)));
    return [
      set(y, add(ins[0]!, offset)),
      set(dy, add(ins[1]!, offset)),
      ...(dxOut ? [set(dx, add(dxOut, offset))] : []),
    ];
  };
  const body: Expr[] = [];
  if (dbOut) body.push(set(db, dbOut), ...zeroFill(fb, at(get(db), lo, F32), sub(hi, lo)));
  const writeV = (o: number): Expr[] =>
    dxOut
      ? [storeV(get(dx), acc ? { op: "f32x4.add", a: loadV(get(dx), o), b: get(g) } : get(g), o)]
      : [];
  const writeS = (o: number): Expr[] =>
    dxOut
      ? [storeF(get(dx), acc ? { op: "f32.add", a: loadF(get(dx), o), b: get(gs) } : get(gs), o)]
      : [];
  const gradV = (o: number) => set(g, act.gradVec(loadV(get(y), o), loadV(get(dy), o)));
  const gradS = (o: number) => set(gs, act.gradScalar(loadF(get(y), o), loadF(get(dy), o)));
  if (S === 1) {
    // A row of channels per sample: the bias sums are a vector add into db.
    const dbp = fb.local("i32");
    const row = overRun(
      fb,
      sub(hi, lo),
      [...runs, dbp],
      (o) => [
        gradV(o),
        ...writeV(o),
        ...(dbOut
          ? [storeV(get(dbp), { op: "f32x4.add", a: loadV(get(dbp), o), b: get(g) }, o)]
          : []),
      ],
      (o) => [
        gradS(o),
        ...writeS(o),
        ...(dbOut
          ? [storeF(get(dbp), { op: "f32.add", a: loadF(get(dbp), o), b: get(gs) }, o)]
          : []),
      ],
    );
    const perSample = [...start(), set(dbp, at(get(db), lo, F32)), ...row];
    body.push(...fb.loop(n, i32(0), N, 1, perSample, true));
    return body;
  }
  // Per (sample, channel): S positions, summed across lanes once.
  const plane = [
    set(sumV, ZERO_V),
    set(sumS, f32(0)),
    ...overRun(
      fb,
      S,
      runs,
      (o) => [gradV(o), ...writeV(o), set(sumV, { op: "f32x4.add", a: get(sumV), b: get(g) })],
      (o) => [gradS(o), ...writeS(o), set(sumS, { op: "f32.add", a: get(sumS), b: get(gs) })],
    ),
    ...advanceTail(runs, S),
    ...(dbOut
      ? [
          storeF(at(get(db), get(c), F32), {
            op: "f32.add",
            a: loadF(at(get(db), get(c), F32)),
            b: { op: "f32.add", a: hsum(get(sumV)), b: get(sumS) },
          }),
        ]
      : []),
  ];
  const perSample = [...start(), ...fb.loop(c, lo, hi, 1, plane)];
  body.push(...fb.loop(n, i32(0), N, 1, perSample, true));
  return body;
};

/** A constant-length overRun leaves its pointers at the tail: step them past it. */
function advanceTail(runs: number[], length: number): Expr[] {
  const tail = length & 3;
  return tail > 0 ? runs.map((r) => set(r, add(get(r), i32(tail * F32)))) : [];
}
