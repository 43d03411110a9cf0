// SpatialFullConvolution's reference: the transposed convolution straight from its definition.
import { windowAttrs } from "./lowering.js";
import type { ReferenceRule } from "./types.js";

/**
 * Each input pixel x[n,c,ih,iw] adds x · w[c,k,i,j] to y[n,k, ih·SH − PH + i, iw·SW − PW + j]
 * (weight [in, out, kH, kW]); what lands outside the output (the padding) is cut off, and the
 * output's extra `adj` rows and columns receive only what falls there, plus the bias.
 */
export const fullConvolutionReference: ReferenceRule = {
  forward(c) {
    const { C, H, W, K, OH, OW, KH, KW, SH, SW, PH, PW } = windowAttrs(
      c.inputs[0]!,
      c.output,
      c.args,
    );
    const [x, w] = [c.x[0]!, c.param("weight")];
    const y = new Float64Array(c.N * K * OH * OW);
    if (c.args["bias"]) {
      const b = c.param("bias");
      for (let n = 0; n < c.N; n++)
        for (let k = 0; k < K; k++)
          for (let p = 0; p < OH * OW; p++) y[(n * K + k) * OH * OW + p] = b[k]!;
    }
    for (let n = 0; n < c.N; n++)
      for (let ch = 0; ch < C; ch++)
        for (let ih = 0; ih < H; ih++)
          for (let iw = 0; iw < W; iw++)
            for (let k = 0; k < K; k++)
              for (let i = 0; i < KH; i++)
                for (let j = 0; j < KW; j++) {
                  const oh = ih * SH - PH + i;
                  const ow = iw * SW - PW + j;
                  if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                  y[((n * K + k) * OH + oh) * OW + ow] +=
                    x[((n * C + ch) * H + ih) * W + iw]! * w[((ch * K + k) * KH + i) * KW + j]!;
                }
    return { y };
  },
  backward(c) {
    const { C, H, W, K, OH, OW, KH, KW, SH, SW, PH, PW } = windowAttrs(
      c.inputs[0]!,
      c.output,
      c.args,
    );
    const [x, w, dy] = [c.x[0]!, c.param("weight"), c.dy];
    const dx = new Float64Array(x.length);
    const dw = new Float64Array(w.length);
    const db = new Float64Array(K);
    for (let n = 0; n < c.N; n++)
      for (let k = 0; k < K; k++)
        for (let p = 0; p < OH * OW; p++) db[k] += dy[(n * K + k) * OH * OW + p]!;
    for (let n = 0; n < c.N; n++)
      for (let ch = 0; ch < C; ch++)
        for (let ih = 0; ih < H; ih++)
          for (let iw = 0; iw < W; iw++)
            for (let k = 0; k < K; k++)
              for (let i = 0; i < KH; i++)
                for (let j = 0; j < KW; j++) {
                  const oh = ih * SH - PH + i;
                  const ow = iw * SW - PW + j;
                  if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                  const g = dy[((n * K + k) * OH + oh) * OW + ow]!;
                  const xi = ((n * C + ch) * H + ih) * W + iw;
                  const wi = ((ch * K + k) * KH + i) * KW + j;
                  dx[xi] += w[wi]! * g;
                  dw[wi] += x[xi]! * g;
                }
    const dparams: Record<string, Float64Array> = { weight: dw };
    if (c.args["bias"]) dparams["bias"] = db;
    return { dx: [dx], dparams };
  },
};
