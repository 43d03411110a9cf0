// SoftMax, LogSoftMax and the class criteria on WASM, position by position over the C channels
// (stride S floats apart): scalar loops with exp and log from backends/wasm/math.ts. Threads
// split the samples; a loss, one number, is summed by one thread.
import {
  add,
  f32,
  fadd,
  fdiv,
  fmul,
  fsub,
  get,
  i32,
  loadF,
  loadI,
  mul,
  set,
  storeF,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import { expInto, logInto } from "../math.js";
import { F32, f32Table, type WasmKernel, type WasmStep } from "./kernel.js";
import { lossTerm, select } from "./losses.js";

/** The class criteria: their attributes add the term's weight to the channels. */
type ClassLossOp = "nll" | "cross_entropy" | "class_loss_grad";
type LossStep = WasmStep<ClassLossOp>;
/** Ops whose attributes give the channels C and positions S per sample. */
type ChannelStep = WasmStep<
  "softmax" | "softmax_grad" | "log_softmax" | "log_softmax_grad" | ClassLossOp
>;

/**
 * For samples [first, end) and positions p: `body(o, n, p)` with `o` the byte offset of channel
 * 0 of (n, p) from a tensor's base (locals).
 */
function positions(
  s: ChannelStep,
  first: Expr,
  end: Expr,
  body: (o: number, n: number, p: number) => Expr[],
) {
  const { fb } = s;
  const { C, S } = s.a;
  const [n, p, o] = fb.locals("i32", 3);
  const perSample = fb.loop(p, i32(0), i32(S), 1, [
    set(o, add(mul(get(n), i32(C * S * F32)), mul(get(p), i32(F32)))),
    ...body(o, n, p),
  ]);
  return fb.loop(n, first, end, 1, perSample);
}

/** `body(at)` for each channel c, `at` the byte offset o + c·S·4 (a local). */
function channels(s: ChannelStep, o: number, body: (at: number, c: number) => Expr[]): Expr[] {
  const { C, S } = s.a;
  const [c, at] = s.fb.locals("i32", 2);
  return [
    set(at, get(o)),
    ...s.fb.loop(c, i32(0), i32(C), 1, [...body(at, c), set(at, add(get(at), i32(S * F32)))], true),
  ];
}

const load = (base: Expr, at: number): Expr => loadF(add(base, get(at)));
const store = (base: Expr, at: number, v: Expr, acc = false): Expr =>
  storeF(add(base, get(at)), acc ? fadd(load(base, at), v) : v);

/** x at `at`, or −x (SoftMin: softmax of −x). */
const signed = (x: Expr, at: number, negate: boolean): Expr =>
  negate ? { op: "f32.neg", a: load(x, at) } : load(x, at);

/**
 * m = max over the channels of x (or −x) at o, z = Σ exp(x − m) (the caller's f32 locals).
 */
function maxAndSum(
  s: ChannelStep,
  x: Expr,
  o: number,
  m: number,
  z: number,
  negate = false,
): Expr[] {
  const { fb } = s;
  const [v, e] = fb.locals("f32", 2);
  return [
    set(m, f32(-Infinity)),
    ...channels(s, o, (at) => [
      set(v, signed(x, at, negate)),
      set(m, { op: "select", a: get(v), b: get(m), c: { op: "f32.gt", a: get(v), b: get(m) } }),
    ]),
    set(z, f32(0)),
    ...channels(s, o, (at) => [
      ...expInto(fb, fsub(signed(x, at, negate), get(m)), e),
      set(z, fadd(get(z), get(e))),
    ]),
  ];
}

function samples(s: ChannelStep) {
  return s.part(s.N);
}

/** softmax(x), or softmin(x) = softmax(−x). */
export const softmax: WasmKernel<"softmax"> = (s) => {
  const [x, y] = [s.ins[0]!, s.outs[0]!];
  const [m, z, e] = s.fb.locals("f32", 3);
  const { lo, hi } = samples(s);
  const { negate } = s.a;
  return positions(s, lo, hi, (o) => [
    ...maxAndSum(s, x, o, m, z, negate),
    ...channels(s, o, (at) => [
      ...expInto(s.fb, fsub(signed(x, at, negate), get(m)), e),
      store(y, at, { op: "f32.div", a: get(e), b: get(z) }),
    ]),
  ]);
};

export const logSoftmax: WasmKernel<"log_softmax"> = (s) => {
  const [x, y] = [s.ins[0]!, s.outs[0]!];
  const [m, z, lse] = s.fb.locals("f32", 3);
  const { lo, hi } = samples(s);
  return positions(s, lo, hi, (o) => [
    ...maxAndSum(s, x, o, m, z),
    ...logInto(s.fb, get(z), lse),
    set(lse, fadd(get(m), get(lse))),
    ...channels(s, o, (at) => [store(y, at, fsub(load(x, at), get(lse)))]),
  ]);
};

/** dx = y · (dy − Σ_c dy·y), negated for SoftMin: y · (Σ_c dy·y − dy). */
export const softmaxGrad: WasmKernel<"softmax_grad"> = (s) => {
  const [y, dy, dx] = [s.ins[0]!, s.ins[1]!, s.outs[0]!];
  const d = s.fb.local("f32");
  const { lo, hi } = samples(s);
  const diff = (at: number) =>
    s.a.negate ? fsub(get(d), load(dy, at)) : fsub(load(dy, at), get(d));
  return positions(s, lo, hi, (o) => [
    set(d, f32(0)),
    ...channels(s, o, (at) => [set(d, fadd(get(d), fmul(load(dy, at), load(y, at))))]),
    ...channels(s, o, (at) => [store(dx, at, fmul(load(y, at), diff(at)), s.acc)]),
  ]);
};

/** dx = dy − exp(y) · Σ_c dy */
export const logSoftmaxGrad: WasmKernel<"log_softmax_grad"> = (s) => {
  const [y, dy, dx] = [s.ins[0]!, s.ins[1]!, s.outs[0]!];
  const [d, e] = s.fb.locals("f32", 2);
  const { lo, hi } = samples(s);
  return positions(s, lo, hi, (o) => [
    set(d, f32(0)),
    ...channels(s, o, (at) => [set(d, fadd(get(d), load(dy, at)))]),
    ...channels(s, o, (at) => [
      ...expInto(s.fb, load(y, at), e),
      store(dx, at, fsub(load(dy, at), fmul(get(e), get(d))), s.acc),
    ]),
  ]);
};

/** The class index at sample n, position p: the i32 target [N, S]. */
const classAt = (s: LossStep, n: number, p: number): Expr =>
  loadI(add(s.ins[1]!, mul(add(mul(get(n), i32(s.a.S)), get(p)), i32(F32))));

/** The weight of class c (an i32 local): 1, or `weights=`'s entry in a constant table. */
type ClassWeight = (c: number) => Expr;

function classWeights(s: LossStep): ClassWeight {
  const w = s.a.classWeights;
  if (!w) return () => f32(1);
  const entry = f32Table(s, w);
  return (c) => entry(get(c));
}

/** `body` unless the target `t` is the ignored class (`ignore=`): that adds nothing. */
const unlessIgnored = (s: LossStep, t: number, body: Expr[]): Expr[] =>
  s.a.ignore === undefined
    ? body
    : [{ op: "if", cond: { op: "i32.ne", a: get(t), b: i32(s.a.ignore) }, then: body }];

/**
 * Over the counted positions of the first `count` samples: `t` the target and `w` its weight
 * (locals), added into `counted`, then `body(o)` for channel 0's offset `o`.
 */
function countedPositions(
  s: LossStep,
  weight: ClassWeight,
  [t, w, counted]: [number, number, number],
  body: (o: number) => Expr[],
): Expr[] {
  return [
    set(counted, f32(0)),
    ...positions(s, i32(0), s.count, (o, n, p) => [
      set(t, classAt(s, n, p)),
      ...unlessIgnored(s, t, [
        set(w, weight(t)),
        set(counted, fadd(get(counted), get(w))),
        ...body(o),
      ]),
    ]),
  ];
}

/**
 * A class criterion's loss: `term(o, t, w, total)` adds the value at each counted (sample,
 * position); the mean divides by the sum of the counted weights.
 */
function classLoss(
  s: WasmStep<"nll" | "cross_entropy">,
  weight: ClassWeight,
  term: (o: number, t: number, w: number, total: number) => Expr[],
): Expr[] {
  const t = s.fb.local("i32");
  const [w, counted] = s.fb.locals("f32", 2);
  const sum = (total: number) =>
    countedPositions(s, weight, [t, w, counted], (o) => term(o, t, w, total));
  return lossTerm(s, s.a.S, sum, counted);
}

/** x at channel `c` (an i32 local) of the position at `o`. */
const atClass = (s: LossStep, o: number, c: number): Expr =>
  loadF(add(add(s.ins[0]!, get(o)), mul(get(c), i32(s.a.S * F32))));

/** NLL of log-probabilities: −w[t]·x[t]. */
export const nll: WasmKernel<"nll"> = (s) =>
  classLoss(s, classWeights(s), (o, t, w, total) => [
    set(total, fsub(get(total), fmul(get(w), atClass(s, o, t)))),
  ]);

/**
 * CrossEntropy of raw scores: (1 − ε)·w[t]·(lse − x[t]), plus with label smoothing ε
 * ε/C·Σ_c w[c]·(lse − x[c]).
 */
export const crossEntropy: WasmKernel<"cross_entropy"> = (s) => {
  const x = s.ins[0]!;
  const { C, smoothing: e } = s.a;
  const [m, z, lse] = s.fb.locals("f32", 3);
  const weight = classWeights(s);
  const smooth = (o: number, total: number) =>
    channels(s, o, (at, c) => [
      set(total, fadd(get(total), fmul(f32(e / C), fmul(weight(c), fsub(get(lse), load(x, at)))))),
    ]);
  return classLoss(s, weight, (o, t, w, total) => [
    ...maxAndSum(s, x, o, m, z),
    ...logInto(s.fb, get(z), lse),
    set(lse, fadd(get(m), get(lse))),
    set(total, fadd(get(total), fmul(f32(1 - e), fmul(get(w), fsub(get(lse), atClass(s, o, t)))))),
    ...(e > 0 ? smooth(o, total) : []),
  ]);
};

/**
 * The gradient of a class criterion at its input, from the target, times k = weight / Σ counted
 * w: NLL's −k·w[t] at the target; LogSoftMax+NLL and CrossEntropy k·w[t]·(softmax − one-hot),
 * with label smoothing k·((1 − ε)·w[t]·(p − one-hot) + ε/C·(W·p − w[c])), W = Σ_c w[c].
 * Samples past `count` and ignored positions get zero. Each thread sums the counted weights of
 * the whole batch itself: one pass over the targets, cheaper than sharing it.
 */
export const classLossGrad: WasmKernel<"class_loss_grad"> = (s) => {
  const { fb } = s;
  const [x, dx] = [s.ins[0]!, s.outs[0]!];
  const { mode, C, smoothing: e } = s.a;
  const [k, m, z, prob, w, counted] = fb.locals("f32", 6);
  const t = fb.local("i32");
  const { lo, hi } = samples(s);
  const weight = classWeights(s);
  const isTarget = (c: number): Expr => ({ op: "i32.eq", a: get(c), b: get(t) });
  const W = s.a.classWeights?.reduce((sum, v) => sum + v, 0) ?? C;
  const value = (at: number, c: number): Expr[] => {
    if (mode === "nll") {
      const minusKw: Expr = { op: "f32.neg", a: fmul(get(k), get(w)) };
      return [store(dx, at, { op: "select", a: minusKw, b: f32(0), c: isTarget(c) }, s.acc)];
    }
    const probability: Expr[] =
      mode === "cross_entropy"
        ? [...expInto(fb, fsub(load(x, at), get(m)), prob), set(prob, fdiv(get(prob), get(z)))]
        : expInto(fb, load(x, at), prob);
    const oneHot: Expr = { op: "select", a: f32(1), b: f32(0), c: isTarget(c) };
    const hard = fmul(get(w), fsub(get(prob), oneHot));
    const smoothed = (): Expr =>
      fadd(fmul(f32(1 - e), hard), fmul(f32(e / C), fsub(fmul(f32(W), get(prob)), weight(c))));
    return [...probability, store(dx, at, fmul(get(k), e > 0 ? smoothed() : hard), s.acc)];
  };
  const ignored: Expr =
    s.a.ignore === undefined ? i32(0) : { op: "i32.eq", a: get(t), b: i32(s.a.ignore) };
  const positive: Expr = { op: "f32.gt", a: get(counted), b: f32(0) };
  return [
    ...countedPositions(s, weight, [t, w, counted], () => []),
    set(k, select(fdiv(f32(s.a.weight), get(counted)), f32(0), positive)),
    ...positions(s, lo, hi, (o, n, p) => [
      set(t, classAt(s, n, p)),
      {
        op: "if",
        cond: { op: "i32.or", a: { op: "i32.ge_s", a: get(n), b: s.count }, b: ignored },
        then: s.acc ? [] : channels(s, o, (at) => [store(dx, at, f32(0))]),
        else: [
          set(w, weight(t)),
          ...(mode === "cross_entropy" ? maxAndSum(s, x, o, m, z) : []),
          ...channels(s, o, value),
        ],
      },
    ]),
  ];
};
