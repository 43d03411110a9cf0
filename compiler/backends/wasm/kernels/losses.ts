// MSE and BCE on WASM, and the reduction every criterion's loss shares: a weighted mean over the
// first `count` samples, summed by one thread. The gradients split the batch's floats by thread.
import {
  f32,
  fadd,
  fdiv,
  fmul,
  get,
  hsum,
  i32,
  mul,
  SCALAR,
  set,
  splat,
  sub,
  VECTOR,
  ZERO_V,
  type Lanes,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import { logInto } from "../math.js";
import {
  at,
  F32,
  laneLocal,
  overRange,
  overRun,
  zeroFill,
  type WasmKernel,
  type WasmStep,
} from "./kernel.js";

type LossStep = WasmStep<"nll" | "cross_entropy" | "mse" | "bce">;
type GradStep = WasmStep<"mse_grad" | "bce_grad">;

const select = (a: Expr, b: Expr, c: Expr): Expr => ({ op: "select", a, b, c });
const countTimes = (s: { count: Expr }, per: number): Expr => ({
  op: "f32.convert_i32_s",
  a: mul(s.count, i32(per)),
});

/**
 * weight · total / (count · per) written to the loss, or added by every term after the first;
 * `sum(total)` adds the term's values into the f32 local `total`, set to 0 before. One thread
 * sums the whole batch: the sum then has one order whatever the thread count, and summing in
 * parts would take a barrier and a place the threads share for a few microseconds of work.
 */
export function lossTerm(s: LossStep, per: number, sum: (total: number) => Expr[]): Expr[] {
  const total = s.fb.local("f32");
  const loss = s.outs[0]!;
  const { lo, hi } = s.part(i32(1));
  const value = fdiv(fmul(f32(s.a.weight), get(total)), countTimes(s, per));
  return [
    {
      op: "if",
      cond: { op: "i32.lt_s", a: lo, b: hi },
      then: [set(total, f32(0)), ...sum(total), SCALAR.store(loss, value, 0, s.acc)],
    },
  ];
}

/**
 * Σ over the first `count` samples of the P floats at each of `bases`: `term(p, o, lanes, acc)`
 * adds into the local `acc` of the lanes' type. Each sample is summed apart in f32x4 partial
 * sums and a scalar tail, then the samples' sums are added.
 */
function sampleSums(
  s: LossStep,
  bases: Expr[],
  total: number,
  term: (p: number[], offset: number, lanes: Lanes, acc: number) => Expr[],
): Expr[] {
  const { fb } = s;
  const { P } = s.a;
  const n = fb.local("i32");
  const p = bases.map(() => fb.local("i32"));
  const [sumV, sumS] = [fb.local("v128"), fb.local("f32")];
  return fb.loop(n, i32(0), s.count, 1, [
    ...bases.map((base, k) => set(p[k]!, at(base, get(n), P * F32))),
    set(sumV, ZERO_V),
    set(sumS, f32(0)),
    ...overRun(
      fb,
      P,
      p,
      (o) => term(p, o, VECTOR, sumV),
      (o) => term(p, o, SCALAR, sumS),
    ),
    set(total, fadd(get(total), fadd(hsum(get(sumV)), get(sumS)))),
  ]);
}

/**
 * dx (+)= value(x, t, k) with k = `numerator` / (count · P) over this thread's share of the
 * batch's floats; past the first `count` samples dx is 0 (or left as it is when adding).
 */
function lossGrad(
  s: GradStep,
  numerator: number,
  value: (x: Expr, t: Expr, k: Expr, lanes: Lanes) => Expr,
): Expr[] {
  const { fb, acc } = s;
  const { P } = s.a;
  const [x, t, dx] = [s.ins[0]!, s.ins[1]!, s.outs[0]!];
  const { lo, hi } = s.part(mul(s.N, i32(P)), 4);
  const [valid, mid] = fb.locals("i32", 2);
  const k = laneLocal(fb);
  const lt = (a: Expr, b: Expr): Expr => ({ op: "i32.lt_s", a, b });
  return [
    set(k.f32, fdiv(f32(numerator), countTimes(s, P))),
    set(k.v128, splat(get(k.f32))),
    // [lo, mid) holds real samples, [mid, hi) padding.
    set(valid, mul(s.count, i32(P))),
    set(mid, select(lo, select(get(valid), hi, lt(get(valid), hi)), lt(get(valid), lo))),
    ...overRange(fb, lo, get(mid), [x, t, dx], (p, o, L) => {
      const v = value(L.load(get(p[0]!), o), L.load(get(p[1]!), o), get(k[L.type]), L);
      return [L.store(get(p[2]!), v, o, acc)];
    }),
    ...(acc ? [] : zeroFill(fb, at(dx, get(mid), F32), sub(hi, get(mid)))),
  ];
}

/** Mean squared error: Σ (x − t)² over the real samples. */
export const mse: WasmKernel<"mse"> = (s) => {
  const { fb } = s;
  const d = laneLocal(fb);
  return lossTerm(s, s.a.P, (total) =>
    sampleSums(s, [s.ins[0]!, s.ins[1]!], total, (p, o, L, sum) => {
      const diff = d[L.type];
      const squared = L.mul(
        {
          op: "local.tee",
          local: diff,
          value: L.sub(L.load(get(p[0]!), o), L.load(get(p[1]!), o)),
        },
        get(diff),
      );
      return [set(sum, L.add(get(sum), squared))];
    }),
  );
};

/** 2k · (x − t) */
export const mseGrad: WasmKernel<"mse_grad"> = (s) =>
  lossGrad(s, 2 * s.a.weight, (x, t, k, L) => L.mul(k, L.sub(x, t)));

/**
 * Statements that leave max(log x, −100) in `out`, as PyTorch's BCELoss clamps; NaN for a
 * negative x or NaN. logInto takes normal floats only, and the clamp acts below e^−100, a
 * denormal: those are scaled by 2^23 first (exact) and 23·ln 2 taken off. logInto makes 0 and
 * −0 numbers far below −100 (−104 and −504), so the clamp gives −100 for them too.
 */
function clampedLogInto(s: LossStep, L: Lanes, x: Expr, out: number): Expr[] {
  const { fb } = s;
  const v = fb.local(L.type);
  const denormal = fb.local(L.type === "f32" ? "i32" : "v128");
  const c = L.const;
  return [
    set(v, x),
    set(denormal, L.lt(get(v), c(2 ** -126))),
    ...logInto(fb, L.select(L.mul(get(v), c(2 ** 23)), get(v), get(denormal)), out, L),
    set(out, L.sub(get(out), L.select(c(23 * Math.LN2), c(0), get(denormal)))),
    set(out, L.max(get(out), c(-100))),
    set(out, L.select(get(out), c(NaN), L.le(c(0), get(v)))),
  ];
}

/** Binary cross-entropy: −Σ t·log p + (1 − t)·log(1 − p), each log clamped. */
export const bce: WasmKernel<"bce"> = (s) => {
  const { fb } = s;
  const locals = [0, 1, 2, 3].map(() => laneLocal(fb));
  return lossTerm(s, s.a.P, (total) =>
    sampleSums(s, [s.ins[0]!, s.ins[1]!], total, (ptr, o, L, sum) => {
      const [p, t, logP, logQ] = locals.map((l) => l[L.type]) as [number, number, number, number];
      const one = L.const(1);
      return [
        set(p, L.load(get(ptr[0]!), o)),
        set(t, L.load(get(ptr[1]!), o)),
        ...clampedLogInto(s, L, get(p), logP),
        ...clampedLogInto(s, L, L.sub(one, get(p)), logQ),
        set(
          sum,
          L.sub(get(sum), L.add(L.mul(get(t), get(logP)), L.mul(L.sub(one, get(t)), get(logQ)))),
        ),
      ];
    }),
  );
};

/** PyTorch's BCE gradient: k · (p − t) / max(p·(1 − p), 1e-12). */
export const bceGrad: WasmKernel<"bce_grad"> = (s) => {
  const { fb } = s;
  const q = laneLocal(fb);
  return lossGrad(s, s.a.weight, (x, t, k, L) => {
    const p = q[L.type];
    const tee: Expr = { op: "local.tee", local: p, value: x };
    const variance = L.mul(get(p), L.sub(L.const(1), get(p)));
    return L.mul(L.div(L.sub(tee, t), L.max(variance, L.const(1e-12))), k);
  });
};
