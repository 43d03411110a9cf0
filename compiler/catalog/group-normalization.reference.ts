// The per-sample normalisations' reference: statistics of each sample's group of channels, as
// PyTorch's GroupNorm (LayerNorm and InstanceNorm are groups of all values, and of one channel).
import type { GroupNormAttrs } from "../ops.js";
import type { Args, ReferenceContext, ReferenceRule, Shape } from "./types.js";

/** Calls `visit(i, ch)` for every value of group `g` of sample `n`: its index and channel. */
function eachOfGroup(
  a: GroupNormAttrs,
  n: number,
  g: number,
  visit: (i: number, ch: number) => void,
) {
  const per = a.C / a.G;
  for (let ch = g * per; ch < (g + 1) * per; ch++)
    for (let s = 0; s < a.S; s++) visit((n * a.C + ch) * a.S + s, ch);
}

const scale = (a: GroupNormAttrs, c: ReferenceContext) =>
  a.affine ? [c.param("weight"), c.param("bias")] : [undefined, undefined];

/**
 * x̂ = (x − μ) / √(σ² + eps) with the mean μ and biased variance σ² of the sample's group, in
 * training and evaluation alike; y = weight[c] · x̂ + bias[c] with affine.
 */
export const groupNormReference = (
  attrsOf: (shape: Shape, args: Args) => GroupNormAttrs,
): ReferenceRule => ({
  forward(c) {
    const a = attrsOf(c.output, c.args);
    const x = c.x[0]!;
    const M = (a.C / a.G) * a.S;
    const [w, b] = scale(a, c);
    const mean = new Float64Array(c.N * a.G);
    const variance = new Float64Array(c.N * a.G);
    const y = new Float64Array(x.length);
    for (let n = 0; n < c.N; n++)
      for (let g = 0; g < a.G; g++) {
        const k = n * a.G + g;
        eachOfGroup(a, n, g, (i) => (mean[k] += x[i]! / M));
        eachOfGroup(a, n, g, (i) => (variance[k] += (x[i]! - mean[k]!) ** 2 / M));
        eachOfGroup(a, n, g, (i, ch) => {
          const xhat = (x[i]! - mean[k]!) / Math.sqrt(variance[k]! + a.eps);
          y[i] = w && b ? w[ch]! * xhat + b[ch]! : xhat;
        });
      }
    return { y, saved: { mean, variance } };
  },
  /**
   * The chain rule through x̂, μ and σ² of each group (M values): with ĝ = dy · weight[c],
   * dx = (ĝ − Σĝ/M − x̂ · Σ(ĝ·x̂)/M) / √(σ² + eps); dweight[c] = Σ dy·x̂, dbias[c] = Σ dy over
   * the batch and the channel's positions.
   */
  backward(c) {
    const a = attrsOf(c.output, c.args);
    const x = c.x[0]!;
    const M = (a.C / a.G) * a.S;
    const [w] = scale(a, c);
    const [mean, variance] = [c.saved["mean"]!, c.saved["variance"]!];
    const dx = new Float64Array(x.length);
    const dweight = new Float64Array(a.C);
    const dbias = new Float64Array(a.C);
    for (let n = 0; n < c.N; n++)
      for (let g = 0; g < a.G; g++) {
        const k = n * a.G + g;
        const inv = 1 / Math.sqrt(variance[k]! + a.eps);
        const xhat = (i: number) => (x[i]! - mean[k]!) * inv;
        const ghat = (i: number, ch: number) => c.dy[i]! * (w ? w[ch]! : 1);
        let sum = 0;
        let dot = 0;
        eachOfGroup(a, n, g, (i, ch) => {
          sum += ghat(i, ch);
          dot += ghat(i, ch) * xhat(i);
          dweight[ch] += c.dy[i]! * xhat(i);
          dbias[ch] += c.dy[i]!;
        });
        eachOfGroup(a, n, g, (i, ch) => {
          dx[i] = (ghat(i, ch) - sum / M - (xhat(i) * dot) / M) * inv;
        });
      }
    return { dx: [dx], ...(a.affine ? { dparams: { weight: dweight, bias: dbias } } : {}) };
  },
});
