// The criteria's reference: each loss (mean reduction, as PyTorch's default) and its gradient.
import type { ClassLossAttrs } from "../ops.js";
import { size, type Args, type Shape } from "./types.js";

/** What a criterion's reference sees: the output it judges and the target, batch first. */
export interface CriterionContext {
  readonly x: Float64Array;
  /** Class indices (NLL, CrossEntropy) or values of the output's shape. */
  readonly target: ArrayLike<number>;
  /** The per-sample output shape. */
  readonly output: Shape;
  readonly N: number;
  /** The term's options (`weights=`, `ignore=`, `beta=`…), bound to the criterion's `options`. */
  readonly args: Args;
}

/** A criterion's meaning: the loss (mean over the batch, unweighted) and its gradient in x. */
export interface CriterionReference {
  loss(c: CriterionContext): number;
  grad(c: CriterionContext): Float64Array;
}

/** The class criteria's options, read from the bound arguments. */
export type ClassOptions = Pick<ClassLossAttrs, "classWeights" | "ignore" | "smoothing">;

export const classOptions = (args: Args): ClassOptions => ({
  classWeights: args["weights"] as readonly number[] | undefined,
  ignore: args["ignore"] as number | undefined,
  smoothing: (args["label_smoothing"] as number | undefined) ?? 0,
});

/**
 * Calls `visit` with channel 0's index, the target class and its weight at every counted
 * (sample, position): not at the ignored class. Returns the sum of those weights, the mean's
 * denominator (PyTorch's weighted mean).
 */
function eachPosition(
  c: CriterionContext,
  visit: (o: number, t: number, w: number, C: number, S: number) => void,
): number {
  const { classWeights, ignore } = classOptions(c.args);
  const C = c.output[0]!;
  const S = size(c.output.slice(1));
  let counted = 0;
  for (let n = 0; n < c.N; n++)
    for (let s = 0; s < S; s++) {
      const t = c.target[n * S + s]!;
      if (t === ignore) continue;
      const w = classWeights?.[t] ?? 1;
      counted += w;
      visit(n * C * S + s, t, w, C, S);
    }
  return counted;
}

/**
 * Divides by the counted weight. Where nothing counts (every target ignored, or weighted 0)
 * PyTorch's mean is 0/0 = NaN; netc takes 0, so a batch of void pixels does not end training.
 */
const mean = (total: number, counted: number) => (counted > 0 ? total / counted : 0);
const scaled = (g: Float64Array, counted: number) => g.map((v) => mean(v, counted));

/** −w[t]·log-probability of the target class. */
export const nll: CriterionReference = {
  loss(c) {
    let total = 0;
    const counted = eachPosition(c, (o, t, w, _, S) => (total -= w * c.x[o + t * S]!));
    return mean(total, counted);
  },
  grad(c) {
    const g = new Float64Array(c.x.length);
    return scaled(
      g,
      eachPosition(c, (o, t, w, _, S) => (g[o + t * S] = -w)),
    );
  },
};

/** log Σ_k exp(x_k) over the channels at one position, shifted by the maximum (which cancels). */
function logSumExp(x: Float64Array, o: number, C: number, S: number): number {
  let m = -Infinity;
  for (let k = 0; k < C; k++) m = Math.max(m, x[o + k * S]!);
  let z = 0;
  for (let k = 0; k < C; k++) z += Math.exp(x[o + k * S]! - m);
  return m + Math.log(z);
}

/**
 * (1 − ε)·w[t]·(lse − x_t) + ε/C·Σ_k w[k]·(lse − x_k), lse = log Σ_k exp(x_k): PyTorch 1.13's
 * CrossEntropyLoss with label smoothing ε; ∂/∂x_k = (1 − ε)·w[t]·(p_k − [k = t]) + ε/C·(W·p_k − w[k])
 * with p = softmax(x) and W = Σ_k w[k].
 */
export const crossEntropy: CriterionReference = {
  loss(c) {
    const { classWeights, smoothing: e } = classOptions(c.args);
    let total = 0;
    const counted = eachPosition(c, (o, t, w, C, S) => {
      const lse = logSumExp(c.x, o, C, S);
      total += (1 - e) * w * (lse - c.x[o + t * S]!);
      for (let k = 0; k < C; k++)
        total += (e / C) * (classWeights?.[k] ?? 1) * (lse - c.x[o + k * S]!);
    });
    return mean(total, counted);
  },
  grad(c) {
    const { classWeights, smoothing: e } = classOptions(c.args);
    const g = new Float64Array(c.x.length);
    const counted = eachPosition(c, (o, t, w, C, S) => {
      const lse = logSumExp(c.x, o, C, S);
      const W = classWeights?.reduce((a, b) => a + b, 0) ?? C;
      for (let k = 0; k < C; k++) {
        const p = Math.exp(c.x[o + k * S]! - lse);
        g[o + k * S] =
          (1 - e) * w * (p - (k === t ? 1 : 0)) + (e / C) * (W * p - (classWeights?.[k] ?? 1));
      }
    });
    return scaled(g, counted);
  },
};

/** PyTorch's ε of the BCE gradient: 1e-12 as a float32 (where p is 0 or 1, the gradient is (p − t)/ε). */
const epsilon = Math.fround(1e-12);

/**
 * −(t·log p + (1 − t)·log(1 − p)) with each log clamped at −100, as PyTorch's BCELoss; its
 * gradient is PyTorch's (p − t) / max(p·(1 − p), ε), the exact one wherever p is in (0, 1).
 */
export const bce: CriterionReference = {
  loss(c) {
    let total = 0;
    c.x.forEach((p, i) => {
      const t = c.target[i]!;
      total -= t * Math.max(Math.log(p), -100) + (1 - t) * Math.max(Math.log(1 - p), -100);
    });
    return total / c.x.length;
  },
  grad: (c) => c.x.map((p, i) => (p - c.target[i]!) / Math.max(p * (1 - p), epsilon) / c.x.length),
};

/** (x − t)², averaged over every element. */
export const mse: CriterionReference = {
  loss: (c) => c.x.reduce((total, v, i) => total + (v - c.target[i]!) ** 2, 0) / c.x.length,
  grad: (c) => c.x.map((v, i) => (2 * (v - c.target[i]!)) / c.x.length),
};

/**
 * 0.5·d²/β where |d| < β, else |d| − 0.5·β, with d = x − t: PyTorch's SmoothL1Loss; β = 0 is
 * L1Loss. ∂/∂x = d/β where |d| < β, else sign(d) (0 at d = 0, as PyTorch's sign).
 */
export const smoothL1 = (beta: (args: Args) => number): CriterionReference => ({
  loss(c) {
    const b = beta(c.args);
    let total = 0;
    c.x.forEach((v, i) => {
      const d = Math.abs(v - c.target[i]!);
      total += d < b ? (0.5 * d * d) / b : d - 0.5 * b;
    });
    return total / c.x.length;
  },
  grad(c) {
    const b = beta(c.args);
    return c.x.map((v, i) => {
      const d = v - c.target[i]!;
      return (Math.abs(d) < b ? d / b : Math.sign(d)) / c.x.length;
    });
  },
});

/** The positive weight of element i: 1, the one `pos_weight` given, or its channel's. */
function posWeightAt(c: CriterionContext, i: number): number {
  const w = c.args["pos_weight"] as readonly number[] | undefined;
  if (!w) return 1;
  if (w.length === 1) return w[0]!;
  const S = size(c.output.slice(1));
  return w[Math.floor((i % size(c.output)) / S)]!;
}

/**
 * (1 − t)·x + (1 + (p − 1)·t)·softplus(−x), softplus(−x) = max(−x, 0) + log(1 + e^−|x|): PyTorch's
 * BCEWithLogitsLoss with pos_weight p, without overflow for any x. ∂/∂x = (1 − t) − (1 + (p −
 * 1)·t)·σ(−x); at p = 1, σ(x) − t.
 */
export const bceWithLogits: CriterionReference = {
  loss(c) {
    let total = 0;
    c.x.forEach((x, i) => {
      const t = c.target[i]!;
      const softplus = Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
      total += (1 - t) * x + (1 + (posWeightAt(c, i) - 1) * t) * softplus;
    });
    return total / c.x.length;
  },
  grad: (c) =>
    c.x.map((x, i) => {
      const t = c.target[i]!;
      const sigmoidOfMinusX = 1 / (1 + Math.exp(x));
      return (1 - t - (1 + (posWeightAt(c, i) - 1) * t) * sigmoidOfMinusX) / c.x.length;
    }),
};

/**
 * t·(log t − x) (0 where t = 0), or with log-probability targets e^t·(t − x): PyTorch's
 * KLDivLoss, summed over each sample and averaged over the batch (reduction='batchmean', the
 * divergence per sample). ∂/∂x = −t (or −e^t) over the batch size.
 */
export const klDiv: CriterionReference = {
  loss(c) {
    const logTarget = c.args["log_target"] === true;
    let total = 0;
    c.x.forEach((x, i) => {
      const t = c.target[i]!;
      total += logTarget ? Math.exp(t) * (t - x) : (t === 0 ? 0 : t * Math.log(t)) - t * x;
    });
    return total / c.N;
  },
  grad(c) {
    const logTarget = c.args["log_target"] === true;
    return c.x.map((_, i) => {
      const t = c.target[i]!;
      return -(logTarget ? Math.exp(t) : t) / c.N;
    });
  },
};
