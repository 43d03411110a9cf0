// PReLU on WASM, f32x4 over each channel's positions: the forward, and the input and weight
// gradients in one pass. A shared weight makes each sample one plane under weight 0.
import {
  add,
  f32,
  fadd,
  get,
  hsum,
  i32,
  loadF,
  loadV,
  mul,
  SCALAR,
  set,
  splat,
  storeF,
  storeV,
  VECTOR,
  ZERO_V,
  type Lanes,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import { at, F32, needed, overRun, type WasmKernel } from "./kernel.js";

/** y = x if x > 0, else w·x; threads split the samples. */
export const prelu: WasmKernel<"prelu"> = ({ fb, N, ins, outs, a, part }) => {
  const [planes, S] = a.shared ? [1, a.C * a.S] : [a.C, a.S];
  const [x, y, n, c] = fb.locals("i32", 4);
  const [wS, vS] = fb.locals("f32", 2);
  const [wV, vV] = fb.locals("v128", 2);
  const { lo, hi } = part(N);
  const value = (L: Lanes, v: number, w: number, load: Expr): Expr =>
    L.select(
      { op: "local.tee", local: v, value: load },
      L.mul(get(w), get(v)),
      L.gt(get(v), L.const(0)),
    );
  const plane = (base: Expr) => at(base, add(mul(get(n), i32(planes)), get(c)), S * F32);
  const body = [
    set(x, plane(ins[0]!)),
    set(y, plane(outs[0]!)),
    set(wS, loadF(a.shared ? ins[1]! : at(ins[1]!, get(c), F32))),
    set(wV, splat(get(wS))),
    ...overRun(
      fb,
      S,
      [x, y],
      (o) => [storeV(get(y), value(VECTOR, vV, wV, loadV(get(x), o)), o)],
      (o) => [storeF(get(y), value(SCALAR, vS, wS, loadF(get(x), o)), o)],
    ),
  ];
  return fb.loop(n, lo, hi, 1, fb.loop(c, i32(0), i32(planes), 1, body, true));
};

/**
 * dx (+)= x > 0 ? dy : w·dy and dw[c] = Σ over the batch and positions of x ≤ 0 ? x·dy : 0,
 * either left out when not needed. Threads split the channels, each summing its own weights'
 * gradients over the whole batch; a shared weight sums over all of them, so one thread takes all.
 */
export const preluGrad: WasmKernel<"prelu_grad"> = ({ fb, N, ins, outs, a, acc, part }) => {
  const { C, S, shared } = a;
  const [xIn, wIn, dyIn] = [ins[0]!, ins[1]!, ins[2]!];
  const dxOut = needed(outs[0]!) ? outs[0] : undefined;
  const dwOut = needed(outs[1]!) ? outs[1] : undefined;
  const share = shared ? part(1) : part(C);
  const [lo, hi] = shared ? [mul(share.lo, i32(C)), mul(share.hi, i32(C))] : [share.lo, share.hi];
  const [xp, dyp, dxp, n, c] = fb.locals("i32", 5);
  const [wS, xS, gS, sumS] = fb.locals("f32", 4);
  const [wV, xV, gV, sumV] = fb.locals("v128", 4);
  const [maskS, maskV] = [fb.local("i32"), fb.local("v128")];
  const runs = [xp, dyp, ...(dxOut ? [dxp] : [])];
  /** One group (or float) at offset o: dx written, the weight's term added to `sum`. */
  const group = (L: Lanes, o: number): Expr[] => {
    const [w, xv, g, sum, mask] =
      L === VECTOR ? [wV, xV, gV, sumV, maskV] : [wS, xS, gS, sumS, maskS];
    const [load, store] = L === VECTOR ? [loadV, storeV] : [loadF, storeF];
    const dx = L.select(get(g), L.mul(get(w), get(g)), get(mask));
    return [
      set(xv, load(get(xp), o)),
      set(g, load(get(dyp), o)),
      set(mask, L.gt(get(xv), L.const(0))),
      ...(dxOut ? [store(get(dxp), acc ? L.add(load(get(dxp), o), dx) : dx, o)] : []),
      ...(dwOut
        ? [set(sum, L.add(get(sum), L.select(L.const(0), L.mul(get(xv), get(g)), get(mask))))]
        : []),
    ];
  };
  const weight = (base: Expr) => (shared ? base : at(base, get(c), F32));
  const plane = (base: Expr) => at(base, add(mul(get(n), i32(C)), get(c)), S * F32);
  const body = [
    set(xp, plane(xIn)),
    set(dyp, plane(dyIn)),
    ...(dxOut ? [set(dxp, plane(dxOut))] : []),
    set(wS, loadF(weight(wIn))),
    set(wV, splat(get(wS))),
    set(sumS, f32(0)),
    set(sumV, ZERO_V),
    ...overRun(
      fb,
      S,
      runs,
      (o) => group(VECTOR, o),
      (o) => group(SCALAR, o),
    ),
    ...(dwOut
      ? [storeF(weight(dwOut), fadd(loadF(weight(dwOut)), fadd(hsum(get(sumV)), get(sumS))))]
      : []),
  ];
  const zero = dwOut
    ? fb.loop(c, share.lo, share.hi, 1, [storeF(at(dwOut, get(c), F32), f32(0))])
    : [];
  return [...zero, ...fb.loop(n, i32(0), N, 1, fb.loop(c, lo, hi, 1, body), true)];
};
