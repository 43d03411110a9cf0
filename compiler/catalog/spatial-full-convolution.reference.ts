// SpatialFullConvolution's reference: the transposed convolution, from the taps of the
// convolution it transposes (compiler/catalog/convolution-taps.ts).
import { transposedBackward, transposedForward } from "./convolution-taps.js";
import { convAttrs } from "./lowering.js";
import type { ReferenceRule } from "./types.js";

/**
 * Each input pixel x[n,c,ih,iw] adds x · w[c,k,i,j] to y[n, g·out/G + k, ih·SH − PH + i·DH,
 * iw·SW − PW + j·DW] for the out/G channels k of c's group g (weight [in, out/G, kH, kW]); what lands outside the output (the padding) is cut off, and the
 * output's extra `adj` rows and columns receive only what falls there, plus the bias.
 */
export const fullConvolutionReference: ReferenceRule = {
  // The convolution whose input has our output's shape and whose output has our input's.
  forward: (c) => ({ y: transposedForward(c, convAttrs(c.output, c.inputs[0]!, c.args)) }),
  backward: (c) => transposedBackward(c, convAttrs(c.output, c.inputs[0]!, c.args)),
};
