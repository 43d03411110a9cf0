// The taps of a 2-D convolution — every (input, output, weight) index triple it multiplies —
// the one definition the reference rules of the convolution and of its transpose are written from.
import type { ConvWindow } from "../ops.js";
import type { ReferenceBackwardContext, ReferenceContext, ReferenceGradients } from "./types.js";

type Dims = ConvWindow;

/**
 * Calls `visit` for each term w[k,c,i,j] · x[n, g·C/G + c, ih, iw] of y[n,k,oh,ow], with g the
 * group of output channel k and c one of its C/G input channels, where ih = oh·SH − PH + i·DH
 * and iw = ow·SW − PW + j·DW lie inside the input (padding adds nothing).
 */
function forEachTap(d: Dims, N: number, visit: (xi: number, yi: number, wi: number) => void): void {
  // Whole numbers (the checker saw to it), kept small integers so the index arithmetic stays so.
  const Cg = (d.C / d.G) | 0;
  const Kg = (d.K / d.G) | 0;
  const { H, W, KH, KW, DH, DW } = d;
  for (let n = 0; n < N; n++)
    for (let k = 0; k < d.K; k++) {
      const c0 = n * d.C + Math.floor(k / Kg) * Cg;
      for (let oh = 0; oh < d.OH; oh++)
        for (let ow = 0; ow < d.OW; ow++) {
          const [top, left] = [oh * d.SH - d.PH, ow * d.SW - d.PW];
          const yi = ((n * d.K + k) * d.OH + oh) * d.OW + ow;
          for (let c = 0; c < Cg; c++)
            for (let i = 0; i < KH; i++)
              for (let j = 0; j < KW; j++) {
                const ih = top + i * DH;
                const iw = left + j * DW;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                visit(((c0 + c) * H + ih) * W + iw, yi, ((k * Cg + c) * KH + i) * KW + j);
              }
        }
    }
}

/** An [N, channels, spatial] tensor holding the bias of each channel (zeros without one). */
function fromBias(c: ReferenceContext, channels: number, spatial: number): Float64Array {
  const y = new Float64Array(c.N * channels * spatial);
  if (!c.args["bias"]) return y;
  const b = c.param("bias");
  for (let nc = 0; nc < c.N * channels; nc++)
    y.fill(b[nc % channels]!, nc * spatial, (nc + 1) * spatial);
  return y;
}

function withBiasGradient(
  c: ReferenceBackwardContext,
  grads: { dx: Float64Array; dw: Float64Array },
  channels: number,
  spatial: number,
): ReferenceGradients {
  const dparams: Record<string, Float64Array> = { weight: grads.dw };
  if (c.args["bias"]) {
    const db = new Float64Array(channels);
    for (let p = 0; p < c.dy.length; p++) db[Math.floor(p / spatial) % channels] += c.dy[p]!;
    dparams["bias"] = db;
  }
  return { dx: [grads.dx], dparams };
}

/** y = b + Σ over the taps of w · x (x is the input, y the output: weight [out, in/G, kH, kW]). */
export function convolutionForward(c: ReferenceContext, d: Dims): Float64Array {
  const [x, w] = [c.x[0]!, c.param("weight")];
  const y = fromBias(c, d.K, d.OH * d.OW);
  forEachTap(d, c.N, (xi, yi, wi) => (y[yi] += w[wi]! * x[xi]!));
  return y;
}

export function convolutionBackward(c: ReferenceBackwardContext, d: Dims): ReferenceGradients {
  const [x, w] = [c.x[0]!, c.param("weight")];
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  forEachTap(d, c.N, (xi, yi, wi) => {
    dx[xi] += w[wi]! * c.dy[yi]!;
    dw[wi] += x[xi]! * c.dy[yi]!;
  });
  return withBiasGradient(c, { dx, dw }, d.K, d.OH * d.OW);
}

/**
 * The transposed convolution is the same taps read the other way: each input pixel (the tap's
 * output side) spreads x · w over the output (the tap's input side), weight [in, out/G, kH, kW].
 * `d` describes the convolution whose input is our output.
 */
export function transposedForward(c: ReferenceContext, d: Dims): Float64Array {
  const [x, w] = [c.x[0]!, c.param("weight")];
  const y = fromBias(c, d.C, d.H * d.W);
  forEachTap(d, c.N, (yi, xi, wi) => (y[yi] += x[xi]! * w[wi]!));
  return y;
}

export function transposedBackward(c: ReferenceBackwardContext, d: Dims): ReferenceGradients {
  const [x, w] = [c.x[0]!, c.param("weight")];
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  forEachTap(d, c.N, (yi, xi, wi) => {
    dx[xi] += w[wi]! * c.dy[yi]!;
    dw[wi] += x[xi]! * c.dy[yi]!;
  });
  return withBiasGradient(c, { dx, dw }, d.C, d.H * d.W);
}
