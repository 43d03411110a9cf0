// SoftMax, LogSoftMax and the class criteria on WASM, position by position over the C channels
// (stride S floats apart): scalar loops with exp and log from backends/wasm/math.ts. Threads
// split the samples; a loss, one number, is summed by one thread.
import {
  add,
  f32,
  fadd,
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
import { F32, type WasmKernel, type WasmStep } from "./kernel.js";
import { lossTerm } from "./losses.js";

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

/** A class criterion's loss: `term` adds the value at each real (sample, position). */
function classLoss(
  s: WasmStep<"nll" | "cross_entropy">,
  term: (o: number, t: number, total: number) => Expr[],
): Expr[] {
  const t = s.fb.local("i32");
  return lossTerm(s, s.a.S, (total) =>
    positions(s, i32(0), s.count, (o, n, p) => [set(t, classAt(s, n, p)), ...term(o, t, total)]),
  );
}

/** NLL of log-probabilities: −x[target]. */
export const nll: WasmKernel<"nll"> = (s) => {
  const x = s.ins[0]!;
  const S = s.a.S;
  return classLoss(s, (o, t, total) => [
    set(total, fsub(get(total), loadF(add(add(x, get(o)), mul(get(t), i32(S * F32)))))),
  ]);
};

/** CrossEntropy of raw scores: logsumexp − x[target]. */
export const crossEntropy: WasmKernel<"cross_entropy"> = (s) => {
  const x = s.ins[0]!;
  const S = s.a.S;
  const [m, z, l] = s.fb.locals("f32", 3);
  return classLoss(s, (o, t, total) => [
    ...maxAndSum(s, x, o, m, z),
    ...logInto(s.fb, get(z), l),
    set(
      total,
      fadd(
        get(total),
        fsub(fadd(get(m), get(l)), loadF(add(add(x, get(o)), mul(get(t), i32(S * F32))))),
      ),
    ),
  ]);
};

/**
 * The gradient of a class criterion at its input, from the target: NLL's −k at the target;
 * LogSoftMax+NLL and CrossEntropy k·(softmax − one-hot). Samples past `count` get zero.
 */
export const classLossGrad: WasmKernel<"class_loss_grad"> = (s) => {
  const { fb } = s;
  const [x, dx] = [s.ins[0]!, s.outs[0]!];
  const { mode } = s.a;
  const [k, m, z, e] = fb.locals("f32", 4);
  const t = fb.local("i32");
  const { lo, hi } = samples(s);
  const S = s.a.S;
  const isTarget = (c: number): Expr => ({ op: "i32.eq", a: get(c), b: get(t) });
  const value = (at: number, c: number): Expr[] => {
    if (mode === "nll")
      return [
        store(
          dx,
          at,
          { op: "select", a: { op: "f32.neg", a: get(k) }, b: f32(0), c: isTarget(c) },
          s.acc,
        ),
      ];
    const p: Expr[] =
      mode === "cross_entropy"
        ? [
            ...expInto(fb, fsub(load(x, at), get(m)), e),
            set(e, { op: "f32.div", a: get(e), b: get(z) }),
          ]
        : expInto(fb, load(x, at), e);
    const oneHot: Expr = { op: "select", a: f32(1), b: f32(0), c: isTarget(c) };
    return [...p, store(dx, at, fmul(get(k), fsub(get(e), oneHot)), s.acc)];
  };
  return [
    set(k, {
      op: "f32.div",
      a: f32(s.a.weight),
      b: { op: "f32.convert_i32_s", a: mul(s.count, i32(S)) },
    }),
    ...positions(s, lo, hi, (o, n, p) => [
      {
        op: "if",
        cond: { op: "i32.ge_s", a: get(n), b: s.count },
        then: s.acc ? [] : channels(s, o, (at) => [store(dx, at, f32(0))]),
        else: [
          set(t, classAt(s, n, p)),
          ...(mode === "cross_entropy" ? maxAndSum(s, x, o, m, z) : []),
          ...channels(s, o, value),
        ],
      },
    ]),
  ];
};
