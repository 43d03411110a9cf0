// The pointwise criteria on WASM (MSE, BCE, L1 and SmoothL1, BCEWithLogits, KLDiv), and the
// reduction every criterion's loss shares: a weighted sum over the first `count` samples, summed
// by one thread. The gradients split the batch by thread.
import {
  add,
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
import { exp, log, log1p, logInto, valued } from "../math.js";
import {
  at,
  F32,
  f32Table,
  laneLocal,
  overRange,
  overRun,
  zeroFill,
  type WasmKernel,
  type WasmStep,
} from "./kernel.js";

type LossStep = WasmStep<
  "nll" | "cross_entropy" | "mse" | "bce" | "smooth_l1" | "bce_logits" | "kl_div"
>;
type GradStep = WasmStep<"mse_grad" | "bce_grad" | "smooth_l1_grad" | "kl_div_grad">;

export const select = (a: Expr, b: Expr, c: Expr): Expr => ({ op: "select", a, b, c });
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
export function lossTerm(
  s: LossStep,
  per: number,
  sum: (total: number) => Expr[],
  /**
   * An f32 local `sum` sets to the mean's denominator (the class criteria's weighted count),
   * instead of count · per; where it is 0, the term is 0 (see criteria.reference.ts).
   */
  counted?: number,
): Expr[] {
  const total = s.fb.local("f32");
  const loss = s.outs[0]!;
  const { lo, hi } = s.part(i32(1));
  const term = fmul(f32(s.a.weight), get(total));
  const value =
    counted === undefined
      ? fdiv(term, countTimes(s, per))
      : select(fdiv(term, get(counted)), f32(0), { op: "f32.gt", a: get(counted), b: f32(0) });
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

/** SmoothL1 (L1 at β = 0): 0.5·d²/β where |d| < β, |d| − 0.5·β elsewhere. */
export const smoothL1: WasmKernel<"smooth_l1"> = (s) => {
  const { beta } = s.a;
  const d = laneLocal(s.fb);
  return lossTerm(s, s.a.P, (total) =>
    sampleSums(s, [s.ins[0]!, s.ins[1]!], total, (p, o, L, sum) => {
      const D = d[L.type];
      const abs = L.abs(L.sub(L.load(get(p[0]!), o), L.load(get(p[1]!), o)));
      const huber = L.select(
        L.mul(L.const(0.5 / beta), L.mul(get(D), get(D))),
        L.sub(get(D), L.const(0.5 * beta)),
        L.lt(get(D), L.const(beta)),
      );
      return [set(D, abs), set(sum, L.add(get(sum), beta > 0 ? huber : get(D)))];
    }),
  );
};

/** k · (d/β where |d| < β, else sign(d)); sign is 0 at 0 and NaN at NaN, as PyTorch's. */
export const smoothL1Grad: WasmKernel<"smooth_l1_grad"> = (s) => {
  const { fb } = s;
  const { beta } = s.a;
  const d = laneLocal(fb);
  return lossGrad(s, s.a.weight, (x, t, k, L) => {
    const D = d[L.type];
    const negative = L.select(L.const(-1), get(D), L.lt(get(D), L.const(0)));
    const sign = L.select(L.const(1), negative, L.gt(get(D), L.const(0)));
    const g =
      beta > 0
        ? L.select(L.div(get(D), L.const(beta)), sign, L.lt(L.abs(get(D)), L.const(beta)))
        : sign;
    return valued(fb, L.type, [set(D, L.sub(x, t))], L.mul(k, g));
  });
};

type BCELogitsStep = WasmStep<"bce_logits" | "bce_logits_grad">;

/** The positive weight of channel c (an i32 expression): 1, the one given, or c's own. */
function positiveWeights(s: BCELogitsStep): (c: Expr) => Expr {
  const w = s.a.posWeight;
  if (!w || w.length === 1) return () => f32(w?.[0] ?? 1);
  return f32Table(s, w);
}

/** BCEWithLogits' locals of each width: x, t, e = exp(−|x|) and the channel's weight. */
function bceLogitsLocals(s: BCELogitsStep) {
  const { fb } = s;
  const [x, t, e, pw] = [laneLocal(fb), laneLocal(fb), laneLocal(fb), laneLocal(fb)];
  /** Statements loading x and t at the pointers, and setting e. */
  const load = (L: Lanes, px: number, pt: number, o: number): Expr[] => [
    set(x[L.type], L.load(get(px), o)),
    set(t[L.type], L.load(get(pt), o)),
    set(e[L.type], exp(fb, L, L.neg(L.abs(get(x[L.type]))))),
  ];
  /** 1 + (p − 1)·t: the factor of the positive term; 1 without pos_weight. */
  const factor = (L: Lanes): Expr =>
    s.a.posWeight
      ? L.add(L.const(1), L.mul(L.sub(get(pw[L.type]), L.const(1)), get(t[L.type])))
      : L.const(1);
  return { x, t, e, pw, load, factor };
}
/**
 * BCEWithLogits: max(x, 0) − x·t + log1p(e^−|x|), or with pos_weight p (1 − t)·x + (1 + (p −
 * 1)·t)·(max(−x, 0) + log1p(e^−|x|)): no overflow for any x. Samples run channel by channel,
 * each channel's weight set before its run of S floats.
 */
export const bceLogits: WasmKernel<"bce_logits"> = (s) => {
  const { fb } = s;
  const { C, S, P } = s.a;
  const weight = positiveWeights(s);
  const { x, t, e, pw, load, factor } = bceLogitsLocals(s);
  const [n, c, px, pt] = fb.locals("i32", 4);
  const [sumV, sumS] = [fb.local("v128"), fb.local("f32")];
  const term = (o: number, L: Lanes, sum: number): Expr[] => {
    const [X, T] = [get(x[L.type]), get(t[L.type])];
    const log1pE = log1p(fb, L, get(e[L.type]));
    const value = s.a.posWeight
      ? L.add(
          L.mul(L.sub(L.const(1), T), X),
          L.mul(factor(L), L.add(L.max(L.neg(X), L.const(0)), log1pE)),
        )
      : L.add(L.sub(L.max(X, L.const(0)), L.mul(X, T)), log1pE);
    return [...load(L, px, pt, o), set(sum, L.add(get(sum), value))];
  };
  // A constant run leaves the pointers at its tail's start (kernel.ts overRun): step past it.
  const tail = (S & 3) * F32;
  const pastTail = tail ? [set(px, add(get(px), i32(tail))), set(pt, add(get(pt), i32(tail)))] : [];
  const perChannel = [
    set(pw.f32, weight(get(c))),
    set(pw.v128, splat(get(pw.f32))),
    ...overRun(
      fb,
      S,
      [px, pt],
      (o) => term(o, VECTOR, sumV),
      (o) => term(o, SCALAR, sumS),
    ),
    ...pastTail,
  ];
  return lossTerm(s, P, (total) => [
    set(px, s.ins[0]!),
    set(pt, s.ins[1]!),
    set(sumV, ZERO_V),
    set(sumS, f32(0)),
    ...fb.loop(n, i32(0), s.count, 1, fb.loop(c, i32(0), i32(C), 1, perChannel)),
    set(total, fadd(hsum(get(sumV)), get(sumS))),
  ]);
};

/**
 * k · ((1 − t) − (1 + (p − 1)·t)·σ(−x)), σ(−x) = e/(1 + e) for x ≥ 0 and 1/(1 + e) below, with
 * e = e^−|x|. Threads split the batch's (sample, channel) runs of S floats.
 */
export const bceLogitsGrad: WasmKernel<"bce_logits_grad"> = (s) => {
  const { fb, acc } = s;
  const { C, S, P } = s.a;
  const weight = positiveWeights(s);
  const { x, t, e, pw, load, factor } = bceLogitsLocals(s);
  const k = laneLocal(fb);
  const [r, px, pt, pd] = fb.locals("i32", 4);
  const { lo, hi } = s.part(mul(s.N, i32(C)));
  const value = (o: number, L: Lanes): Expr[] => {
    const one = L.const(1);
    const [X, E] = [get(x[L.type]), get(e[L.type])];
    const onePlusE = L.add(one, E);
    const sigmoidOfMinusX = L.select(L.div(E, onePlusE), L.div(one, onePlusE), L.ge(X, L.const(0)));
    const g = L.sub(L.sub(one, get(t[L.type])), L.mul(factor(L), sigmoidOfMinusX));
    return [...load(L, px, pt, o), L.store(get(pd), L.mul(get(k[L.type]), g), o, acc)];
  };
  const channel = sub(get(r), mul({ op: "i32.div_u", a: get(r), b: i32(C) }, i32(C)));
  return [
    set(k.f32, fdiv(f32(s.a.weight), countTimes(s, P))),
    set(k.v128, splat(get(k.f32))),
    ...fb.loop(r, lo, hi, 1, [
      set(px, at(s.ins[0]!, get(r), S * F32)),
      set(pt, at(s.ins[1]!, get(r), S * F32)),
      set(pd, at(s.outs[0]!, get(r), S * F32)),
      {
        op: "if",
        cond: { op: "i32.lt_s", a: get(r), b: mul(s.count, i32(C)) },
        then: [
          set(pw.f32, weight(channel)),
          set(pw.v128, splat(get(pw.f32))),
          ...overRun(
            fb,
            S,
            [px, pt, pd],
            (o) => value(o, VECTOR),
            (o) => value(o, SCALAR),
          ),
        ],
        // Padding samples past `count`: a zero gradient, or nothing added.
        else: acc ? [] : zeroFill(fb, get(pd), S),
      },
    ]),
  ];
};

/**
 * KLDiv: t·log t − t·x (0·log 0 = 0, NaN for t < 0 as PyTorch's xlogy), or e^t·(t − x) for
 * log-probability targets; the sum over the batch's elements over the batch (batchmean).
 */
export const klDiv: WasmKernel<"kl_div"> = (s) => {
  const { fb } = s;
  const [x, t] = [laneLocal(fb), laneLocal(fb)];
  return lossTerm(s, 1, (total) =>
    sampleSums(s, [s.ins[0]!, s.ins[1]!], total, (p, o, L, sum) => {
      const [X, T] = [get(x[L.type]), get(t[L.type])];
      const zero = L.const(0);
      const xlogx = L.select(zero, L.mul(T, log(fb, L, T)), L.eq(T, zero));
      const value = s.a.logTarget
        ? L.mul(exp(fb, L, T), L.sub(T, X))
        : L.sub(L.select(xlogx, L.const(NaN), L.ge(T, zero)), L.mul(T, X));
      return [
        set(x[L.type], L.load(get(p[0]!), o)),
        set(t[L.type], L.load(get(p[1]!), o)),
        set(sum, L.add(get(sum), value)),
      ];
    }),
  );
};

/** −k·t, or −k·e^t, with k = weight / count (lossGrad divides by count · P). */
export const klDivGrad: WasmKernel<"kl_div_grad"> = (s) =>
  lossGrad(s, s.a.weight * s.a.P, (_, t, k, L) =>
    L.neg(L.mul(k, s.a.logTarget ? exp(s.fb, L, t) : t)),
  );
