// The adaptive pooling family: a fixed output size, each window spanning the input rows and
// columns PyTorch's AdaptiveAvgPool2d and AdaptiveMaxPool2d give it.
import { adaptiveRange, type AdaptiveWindow, type Window } from "../ops.js";
import {
  size,
  type LayerDef,
  type LowerContext,
  type ReferenceContext,
  type ReferenceRule,
  type Shape,
} from "./types.js";
import { argmaxBackward } from "./pooling.js";
import { requireSpatial } from "./window.js";

const adaptiveAttrs = (input: Shape, output: Shape): AdaptiveWindow => ({
  C: input[0]!,
  H: input[1]!,
  W: input[2]!,
  OH: output[1]!,
  OW: output[2]!,
});

/**
 * Where the output divides the input, the windows are an ordinary pooling's (kernel = stride =
 * input / output, no padding): such a layer runs on the window kernels, global pooling included.
 */
function evenWindow(a: AdaptiveWindow): Window | undefined {
  if (a.H % a.OH !== 0 || a.W % a.OW !== 0) return undefined;
  const [KH, KW] = [a.H / a.OH, a.W / a.OW];
  return { ...a, K: a.C, KH, KW, SH: KH, SW: KW, PH: 0, PW: 0 };
}

/** Calls `visit` with every output position, its window's first input and its window's size. */
function eachWindow(c: ReferenceContext, visit: (out: number, taps: number[]) => void): void {
  const { C, H, W, OH, OW } = adaptiveAttrs(c.inputs[0]!, c.output);
  for (let nc = 0; nc < c.N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const [h0, h1] = adaptiveRange(oh, H, OH);
        const [w0, w1] = adaptiveRange(ow, W, OW);
        const taps: number[] = [];
        for (let i = h0; i < h1; i++) for (let j = w0; j < w1; j++) taps.push((nc * H + i) * W + j);
        visit((nc * OH + oh) * OW + ow, taps);
      }
}

/** y = the window's maximum; its gradient goes to the first maximum in row-major order. */
const maxReference: ReferenceRule = {
  forward(c) {
    const x = c.x[0]!;
    const y = new Float64Array(c.N * size(c.output));
    const argmax = new Float64Array(y.length);
    eachWindow(c, (out, taps) => {
      let best = taps[0]!;
      for (const at of taps) if (x[at]! > x[best]!) best = at;
      y[out] = x[best]!;
      argmax[out] = best;
    });
    return { y, saved: { argmax } };
  },
  backward: argmaxBackward,
};

/** y = the mean of the window's taps (its own size: windows of one layer may differ by one). */
const averageReference: ReferenceRule = {
  forward(c) {
    const x = c.x[0]!;
    const y = new Float64Array(c.N * size(c.output));
    eachWindow(c, (out, taps) => {
      let sum = 0;
      for (const at of taps) sum += x[at]!;
      y[out] = sum / taps.length;
    });
    return { y };
  },
  backward(c) {
    const dx = new Float64Array(c.x[0]!.length);
    eachWindow(c, (out, taps) => {
      for (const at of taps) dx[at] += c.dy[out]! / taps.length;
    });
    return { dx: [dx] };
  },
};

export function adaptivePoolingLayer(
  name: string,
  summary: string,
  aliases: string[],
  kind: "max" | "avg",
): LayerDef {
  const pooled = (c: LowerContext) => {
    const a = adaptiveAttrs(c.inputs[0]!, c.output);
    return { a, even: evenWindow(a) };
  };
  return {
    name,
    summary,
    aliases,
    args: [
      { name: "h", type: "int", min: 1, doc: "output height" },
      {
        name: "w",
        type: "int",
        min: 1,
        default: (args) => args["h"]!,
        doc: "output width (default: h)",
      },
    ],
    shapeRule:
      "[C, H, W] → [C, h, w]; output row i pools input rows ⌊i·H/h⌋ to ⌈(i+1)·H/h⌉ − 1, same for columns (PyTorch's rule: windows may overlap by one, and h > H repeats rows)",
    outputShape(ctx) {
      const input = requireSpatial(ctx);
      return input && [input[0]!, ctx.args["h"] as number, ctx.args["w"] as number];
    },
    lowering: {
      forward(c) {
        const { a, even } = pooled(c);
        if (even) c.step(kind === "max" ? "max_pool" : "avg_pool", [c.x[0]!], [c.y], even);
        else
          c.step(kind === "max" ? "adaptive_max_pool" : "adaptive_avg_pool", [c.x[0]!], [c.y], a);
      },
      backward(c) {
        const dx = c.dx(0);
        if (!dx) return;
        const { a, even } = pooled(c);
        // Max pooling finds each window's argmax again from its input and output.
        const inputs = kind === "max" ? [c.x[0]!, c.y, c.dy] : [c.dy];
        if (even)
          c.step(
            kind === "max" ? "max_pool_grad" : "avg_pool_grad",
            inputs,
            [dx.tensor],
            even,
            dx.accumulate,
          );
        else
          c.step(
            kind === "max" ? "adaptive_max_pool_grad" : "adaptive_avg_pool_grad",
            inputs,
            [dx.tensor],
            a,
            dx.accumulate,
          );
      },
    },
    reference: kind === "max" ? maxReference : averageReference,
  };
}
