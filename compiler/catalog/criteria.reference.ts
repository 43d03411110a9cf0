// The criteria's reference: each loss (mean reduction, as PyTorch's default) and its gradient.
import { size, type Shape } from "./types.js";

/** What a criterion's reference sees: the output it judges and the target, batch first. */
export interface CriterionContext {
  readonly x: Float64Array;
  /** Class indices (NLL, CrossEntropy) or values of the output's shape. */
  readonly target: ArrayLike<number>;
  /** The per-sample output shape. */
  readonly output: Shape;
  readonly N: number;
}

/** A criterion's meaning: the loss (mean over the batch, unweighted) and its gradient in x. */
export interface CriterionReference {
  loss(c: CriterionContext): number;
  grad(c: CriterionContext): Float64Array;
}

/** Calls `visit` with channel 0's index and the target class at every (sample, position). */
function eachPosition(
  c: CriterionContext,
  visit: (o: number, t: number, C: number, S: number) => void,
) {
  const C = c.output[0]!;
  const S = size(c.output.slice(1));
  for (let n = 0; n < c.N; n++)
    for (let s = 0; s < S; s++) visit(n * C * S + s, c.target[n * S + s]!, C, S);
}

/** The mean over samples and positions (PyTorch's reduction='mean' without class weights). */
const positions = (c: CriterionContext) => c.N * size(c.output.slice(1));

/** −log-probability of the target class. */
export const nll: CriterionReference = {
  loss(c) {
    let total = 0;
    eachPosition(c, (o, t, _, S) => (total -= c.x[o + t * S]!));
    return total / positions(c);
  },
  grad(c) {
    const g = new Float64Array(c.x.length);
    eachPosition(c, (o, t, _, S) => (g[o + t * S] = -1 / positions(c)));
    return g;
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

/** log Σ_k exp(x_k) − x_target; ∂/∂x_k = softmax(x)_k − [k = target]. */
export const crossEntropy: CriterionReference = {
  loss(c) {
    let total = 0;
    eachPosition(c, (o, t, C, S) => (total += logSumExp(c.x, o, C, S) - c.x[o + t * S]!));
    return total / positions(c);
  },
  grad(c) {
    const g = new Float64Array(c.x.length);
    eachPosition(c, (o, t, C, S) => {
      const lse = logSumExp(c.x, o, C, S);
      for (let k = 0; k < C; k++)
        g[o + k * S] = (Math.exp(c.x[o + k * S]! - lse) - (k === t ? 1 : 0)) / positions(c);
    });
    return g;
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
