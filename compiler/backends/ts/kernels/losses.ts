// Criteria: each a mean over the first `count` samples (KLDiv: per sample), times its weight.
import type { BCELogitsAttrs, ClassLossAttrs } from "../../../ops.js";
import { assign, type EmitArgs, type KernelEmitter } from "./kernel.js";

/** The criteria that go element by element, and their gradients. */
type PointwiseOp = "mse" | "bce" | "smooth_l1" | "bce_logits" | "kl_div";
type PointwiseGradOp =
  "mse_grad" | "bce_grad" | "smooth_l1_grad" | "bce_logits_grad" | "kl_div_grad";

/** Loss kernels add into the loss scalar; the first criterion term overwrites it. */
const store = (loss: string, acc: boolean, value: string) => `f[${loss}] ${assign(acc)} ${value};`;

/**
 * Entry `v` (an integer expression) of constant `values`, as a chain of comparisons: an array
 * literal would allocate at every step.
 */
const lookup = (values: readonly number[], v: string): string =>
  values
    .slice(0, -1)
    .reduceRight((rest, value, i) => `(${v} === ${i} ? ${value} : ${rest})`, String(values.at(-1)));

/** The weight of class `v`: 1, or `weights=`'s entry. */
const classWeight = (a: ClassLossAttrs, v: string): string =>
  a.classWeights ? lookup(a.classWeights, v) : "1";

/** Skips the ignored class (`ignore=`): it adds nothing and is not counted. */
const unlessIgnored = (a: ClassLossAttrs, then: string) =>
  a.ignore === undefined ? "" : `if (t === ${a.ignore}) ${then}`;

/** For each counted (n, s) of the first `count` samples: `o`, the target `t` and its weight `w`. */
const countedPositions = (ins: string[], a: ClassLossAttrs, body: string) =>
  `for (let n = 0; n < count; n++) for (let s = 0; s < ${a.S}; s++) {
  const o = n * ${a.C * a.S} + s, t = iv[${ins[1]} + n * ${a.S} + s];
  ${unlessIgnored(a, "continue;")}
  const w = ${classWeight(a, "t")};
  ${body}
}`;

/**
 * Σ of `term` over the counted positions, divided by the sum of their weights (PyTorch's weighted
 * mean; 0 where nothing counts, see criteria.reference.ts).
 */
function classLoss(
  ins: string[],
  outs: string[],
  a: ClassLossAttrs,
  acc: boolean,
  term: string,
): string {
  return `{ let total = 0, counted = 0;
${countedPositions(ins, a, `counted += w;\n  ${term}`)}
${store(outs[0]!, acc, `counted > 0 ? ${a.weight} * total / counted : 0`)} }`;
}

/** NLL of log-probabilities: −w[t]·x[t]. */
export const nll: KernelEmitter<"nll"> = ({ ins, outs, a, acc }) =>
  classLoss(ins, outs, a, acc, `total -= w * f[${ins[0]} + o + t * ${a.S}];`);

/** m = the maximum of the scores at `o`, z = Σ exp(x − m): logsumexp = m + log z, stably. */
const maxAndSum = (x: string, C: number, S: number) => `let m = -Infinity;
  for (let c = 0; c < ${C}; c++) { const v = f[${x} + o + c * ${S}]; if (v > m) m = v; }
  let z = 0;
  for (let c = 0; c < ${C}; c++) z += Math.exp(f[${x} + o + c * ${S}] - m);`;

/**
 * CrossEntropy of raw scores: (1 − ε)·w[t]·(lse − x[t]), plus with label smoothing ε
 * ε/C·Σ_c w[c]·(lse − x[c]).
 */
export const crossEntropy: KernelEmitter<"cross_entropy"> = ({ ins, outs, a, acc }) => {
  const { C, S, smoothing: e } = a;
  const x = (c: string) => `f[${ins[0]} + o + ${c} * ${S}]`;
  const smooth =
    e > 0
      ? `\n  for (let c = 0; c < ${C}; c++) total += ${e / C} * ${classWeight(a, "c")} * (lse - ${x("c")});`
      : "";
  return classLoss(
    ins,
    outs,
    a,
    acc,
    `${maxAndSum(ins[0]!, C, S)}
  const lse = m + Math.log(z);
  total += ${1 - e} * w * (lse - ${x("t")});${smooth}`,
  );
};

/**
 * The gradient of a class criterion with respect to its input, written straight from the
 * target, times k = weight / Σ counted w: NLL's −w[t] at the target; LogSoftMax+NLL fused and
 * CrossEntropy w[t]·(softmax − one-hot), with label smoothing (1 − ε)·w[t]·(p − one-hot) +
 * ε/C·(W·p − w[c]), W = Σ_c w[c]. Samples past `count` and ignored positions get zero.
 */
export const classLossGrad: KernelEmitter<"class_loss_grad"> = ({ ins, outs, a, acc }) => {
  const { C, S, mode, smoothing: e } = a;
  const [x, t] = ins;
  const dx = outs[0];
  const xc = `f[${x} + o + c * ${S}]`;
  // No closures in the loop: the step must not allocate.
  const stats = mode === "cross_entropy" ? maxAndSum(x!, C, S) : "";
  const prob = mode === "cross_entropy" ? `Math.exp(${xc} - m) / z` : `Math.exp(${xc})`;
  const W = a.classWeights?.reduce((sum, v) => sum + v, 0) ?? C;
  const oneHot = `(${prob} - (c === t ? 1 : 0))`;
  const value =
    mode === "nll"
      ? `(c === t ? -k * w : 0)`
      : e > 0
        ? `k * (${1 - e} * w * ${oneHot} + ${e / C} * (${W} * ${prob} - ${classWeight(a, "c")}))`
        : `k * w * ${oneHot}`;
  const zero = acc ? "" : `for (let c = 0; c < ${C}; c++) f[${dx} + o + c * ${S}] = 0;`;
  return `{ let counted = 0;
${countedPositions(ins, a, "counted += w;")}
const k = counted > 0 ? ${a.weight} / counted : 0;
for (let n = 0; n < N; n++) for (let s = 0; s < ${S}; s++) {
  const o = n * ${C * S} + s, t = iv[${t} + n * ${S} + s];
  if (n >= count) { ${zero} continue; }
  ${unlessIgnored(a, `{ ${zero} continue; }`)}
  const w = ${classWeight(a, "t")};
  ${stats}
  for (let c = 0; c < ${C}; c++) f[${dx} + o + c * ${S}] ${assign(acc)} ${value};
} }`;
};

/**
 * For each element of the first `samples` samples: `x` and `t` its output and target, `c` its
 * channel (after `channel`, the channel's constants), then `body`.
 */
const eachElement = (
  samples: "count" | "N",
  { ins, a }: EmitArgs<PointwiseOp | PointwiseGradOp>,
  channel: string,
  body: string,
) => `for (let n = 0; n < ${samples}; n++) for (let c = 0; c < ${a.C}; c++) { ${channel}
  for (let i = n * ${a.P} + c * ${a.S}; i < n * ${a.P} + (c + 1) * ${a.S}; i++) {
    const x = f[${ins[0]} + i], t = f[${ins[1]} + i];
    ${body}
  }
}`;

/** The mean's denominator: count · P, or count alone (KLDiv's batchmean). */
const denominator = (per: "count" | "count * P", P: number) =>
  per === "count" ? "count" : `(count * ${P})`;

/**
 * A pointwise loss: Σ of `term` (an expression of `x`, `t` and, per channel `c`, `channel`'s
 * constants) over the first `count` samples, times the term's weight, over `per`.
 */
function pointwiseLoss(
  e: EmitArgs<PointwiseOp>,
  term: string,
  per: "count" | "count * P",
  channel = "",
): string {
  const { outs, a, acc } = e;
  return `{ let total = 0;
${eachElement("count", e, channel, `total += ${term};`)}
${store(outs[0]!, acc, `${a.weight} * total / ${denominator(per, a.P)}`)} }`;
}

/** A pointwise gradient: dx = k · `value` (of `x` and `t`), k = weight / `per`; 0 past `count`. */
function pointwiseGrad(
  e: EmitArgs<PointwiseGradOp>,
  value: string,
  per: "count" | "count * P",
  channel = "",
): string {
  const { outs, a, acc } = e;
  const dx = `f[${outs[0]} + i] ${assign(acc)} n < count ? k * ${value} : 0;`;
  return `{ const k = ${a.weight} / ${denominator(per, a.P)};
${eachElement("N", e, channel, dx)} }`;
}

/** Mean squared error against a target of the same shape. */
export const mse: KernelEmitter<"mse"> = (e) => pointwiseLoss(e, "(x - t) * (x - t)", "count * P");

export const mseGrad: KernelEmitter<"mse_grad"> = (e) =>
  pointwiseGrad(e, "2 * (x - t)", "count * P");

/** Binary cross-entropy of probabilities; logs clamped at −100 as PyTorch does. */
export const bce: KernelEmitter<"bce"> = (e) =>
  pointwiseLoss(
    e,
    "-(t * Math.max(Math.log(x), -100) + (1 - t) * Math.max(Math.log(1 - x), -100))",
    "count * P",
  );

/** PyTorch's BCE gradient: (p − t) / max(p·(1 − p), 1e-12). */
export const bceGrad: KernelEmitter<"bce_grad"> = (e) =>
  pointwiseGrad(e, "(x - t) / Math.max(x * (1 - x), 1e-12)", "count * P");

/** SmoothL1: 0.5·d²/β below β, |d| − 0.5·β above; L1 at β = 0. */
export const smoothL1: KernelEmitter<"smooth_l1"> = (e) => {
  const { beta } = e.a;
  const d = "Math.abs(x - t)";
  const term =
    beta > 0 ? `(${d} < ${beta} ? ${0.5 / beta} * ${d} * ${d} : ${d} - ${0.5 * beta})` : d;
  return pointwiseLoss(e, term, "count * P");
};

/** d/β below β, sign(d) above (PyTorch's: 0 at d = 0). */
export const smoothL1Grad: KernelEmitter<"smooth_l1_grad"> = (e) => {
  const { beta } = e.a;
  const value =
    beta > 0
      ? `(Math.abs(x - t) < ${beta} ? (x - t) / ${beta} : Math.sign(x - t))`
      : "Math.sign(x - t)";
  return pointwiseGrad(e, value, "count * P");
};

/** Channel c's positive weight `p` (and `lw` its factor), for BCEWithLogits. */
const positiveWeight = (a: BCELogitsAttrs) => {
  const w = a.posWeight;
  return `const p = ${w ? lookup(w, w.length === 1 ? "0" : "c") : "1"};`;
};

/**
 * BCEWithLogits: (1 − t)·x + (1 + (p − 1)·t)·softplus(−x), with softplus(−x) = max(−x, 0) +
 * log1p(e^−|x|): no overflow for any x.
 */
export const bceLogits: KernelEmitter<"bce_logits"> = (e) => {
  const softplus = "(Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))))";
  // Without pos_weight, PyTorch's shorter form max(x, 0) − x·t + log1p(e^−|x|).
  const term = e.a.posWeight
    ? `(1 - t) * x + (1 + (p - 1) * t) * ${softplus}`
    : "Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)))";
  return pointwiseLoss(e, term, "count * P", positiveWeight(e.a));
};

/** (1 − t) − (1 + (p − 1)·t)·σ(−x), σ(−x) from e^−|x| on either side of 0. */
export const bceLogitsGrad: KernelEmitter<"bce_logits_grad"> = (e) =>
  pointwiseGrad(
    e,
    "(1 - t - (1 + (p - 1) * t) * (x >= 0 ? Math.exp(-x) / (1 + Math.exp(-x)) : 1 / (1 + Math.exp(x))))",
    "count * P",
    positiveWeight(e.a),
  );

/** KLDiv: t·(log t − x) (0 at t = 0), or e^t·(t − x) for log-probability targets; per sample. */
export const klDiv: KernelEmitter<"kl_div"> = (e) =>
  pointwiseLoss(
    e,
    e.a.logTarget ? "Math.exp(t) * (t - x)" : "(t === 0 ? 0 : t * Math.log(t)) - t * x",
    "count",
  );

/** −t, or −e^t, over the batch. */
export const klDivGrad: KernelEmitter<"kl_div_grad"> = (e) =>
  pointwiseGrad(e, e.a.logTarget ? "-Math.exp(t)" : "-t", "count");
