// Batch normalisation's reference: per-channel statistics over the batch and positions, as PyTorch.
import { size, type ReferenceContext, type ReferenceRule } from "./types.js";

/** Calls `visit` with the index of every value of channel `ch`: [N, C, S] per sample. */
function eachOfChannel(c: ReferenceContext, ch: number, visit: (i: number) => void) {
  const C = c.output[0]!;
  const S = size(c.output.slice(1));
  for (let n = 0; n < c.N; n++) for (let s = 0; s < S; s++) visit((n * C + ch) * S + s);
}

/**
 * Training: x̂ = (x − μ) / √(σ² + eps) with the batch mean μ and biased variance σ² of each
 * channel; the running mean and (unbiased) variance move towards them by `momentum`.
 * Evaluation: the running statistics stand in for μ and σ². y = weight · x̂ + bias (affine).
 */
export const batchNormReference: ReferenceRule = {
  forward(c) {
    const C = c.output[0]!;
    const M = c.N * size(c.output.slice(1));
    const x = c.x[0]!;
    const eps = c.args["eps"] as number;
    const momentum = c.args["momentum"] as number;
    const [runningMean, runningVar] = [c.param("running_mean"), c.param("running_var")];
    const mean = new Float64Array(C);
    const variance = new Float64Array(C);
    const state = {
      running_mean: Float64Array.from(runningMean),
      running_var: Float64Array.from(runningVar),
    };
    for (let ch = 0; ch < C; ch++) {
      if (c.training) {
        eachOfChannel(c, ch, (i) => (mean[ch] += x[i]! / M));
        eachOfChannel(c, ch, (i) => (variance[ch] += (x[i]! - mean[ch]!) ** 2 / M));
        state.running_mean[ch] = (1 - momentum) * runningMean[ch]! + momentum * mean[ch]!;
        state.running_var[ch] =
          (1 - momentum) * runningVar[ch]! + momentum * variance[ch]! * (M / (M - 1));
      } else {
        mean[ch] = runningMean[ch]!;
        variance[ch] = runningVar[ch]!;
      }
    }
    const y = new Float64Array(x.length);
    for (let ch = 0; ch < C; ch++) {
      const [w, b] = c.args["affine"] ? [c.param("weight")[ch]!, c.param("bias")[ch]!] : [1, 0];
      eachOfChannel(c, ch, (i) => {
        y[i] = (w * (x[i]! - mean[ch]!)) / Math.sqrt(variance[ch]! + eps) + b;
      });
    }
    return { y, saved: { mean, variance }, ...(c.training ? { state } : {}) };
  },
  /**
   * The chain rule through x̂: in training μ and σ² depend on every x of the channel,
   * ∂σ²/∂x_i = 2(x_i − μ)/M and ∂μ/∂x_i = 1/M; in evaluation they are constants.
   */
  backward(c) {
    const C = c.output[0]!;
    const M = c.N * size(c.output.slice(1));
    const x = c.x[0]!;
    const eps = c.args["eps"] as number;
    const [mean, variance] = [c.saved["mean"]!, c.saved["variance"]!];
    const dx = new Float64Array(x.length);
    const dweight = new Float64Array(C);
    const dbias = new Float64Array(C);
    for (let ch = 0; ch < C; ch++) {
      const w = c.args["affine"] ? c.param("weight")[ch]! : 1;
      const mu = mean[ch]!;
      const v = variance[ch]! + eps;
      const dxhat = (i: number) => c.dy[i]! * w;
      let dvar = 0;
      // dL/dμ through σ² is Σ dL/dσ² · (−2(x_i − μ))/M, which is zero: Σ (x_i − μ) = 0.
      let dmean = 0;
      eachOfChannel(c, ch, (i) => {
        dweight[ch] += (c.dy[i]! * (x[i]! - mu)) / Math.sqrt(v);
        dbias[ch] += c.dy[i]!;
        dvar += dxhat(i) * (x[i]! - mu) * -0.5 * v ** -1.5;
        dmean -= dxhat(i) / Math.sqrt(v);
      });
      eachOfChannel(c, ch, (i) => {
        dx[i] = dxhat(i) / Math.sqrt(v);
        if (c.training) dx[i] += (dvar * 2 * (x[i]! - mu)) / M + dmean / M;
      });
    }
    return { dx: [dx], ...(c.args["affine"] ? { dparams: { weight: dweight, bias: dbias } } : {}) };
  },
};
