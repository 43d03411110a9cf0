// The pooling family: window arguments and shape rule shared by max and average pooling.
import {
  formatPair,
  pair,
  size,
  type LayerDef,
  type ReferenceContext,
  type ReferenceRule,
} from "./types.js";
import { windowAttrs } from "./lowering.js";
import { requireSpatial, windowArgs, windowOutput } from "./window.js";

/**
 * Calls `visit` with every output position and each input element of its window; positions in
 * the padding are skipped (−∞ for max pooling, zero for average pooling: neither contributes).
 */
function eachWindow(c: ReferenceContext, visit: (out: number, at: number) => void): void {
  const { C, H, W, OH, OW, KH, KW, SH, SW, PH, PW } = windowAttrs(c.inputs[0]!, c.output, c.args);
  for (let n = 0; n < c.N; n++)
    for (let ch = 0; ch < C; ch++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const out = ((n * C + ch) * OH + oh) * OW + ow;
          for (let i = 0; i < KH; i++)
            for (let j = 0; j < KW; j++) {
              const ih = oh * SH - PH + i;
              const iw = ow * SW - PW + j;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                visit(out, ((n * C + ch) * H + ih) * W + iw);
            }
        }
}

/** y = the window's maximum; its gradient goes to the first maximum in row-major order (PyTorch's). */
const maxReference: ReferenceRule = {
  forward(c) {
    const x = c.x[0]!;
    const y = new Float64Array(c.N * size(c.output)).fill(-Infinity);
    const argmax = new Float64Array(y.length);
    eachWindow(c, (out, at) => {
      if (x[at]! > y[out]!) {
        y[out] = x[at]!;
        argmax[out] = at;
      }
    });
    return { y, saved: { argmax } };
  },
  backward(c) {
    const dx = new Float64Array(c.x[0]!.length);
    const argmax = c.saved["argmax"]!;
    for (let out = 0; out < c.dy.length; out++) dx[argmax[out]!] += c.dy[out]!;
    return { dx: [dx] };
  },
};

/** y = the window's sum over kernel height × width: padding counts (count_include_pad=True). */
const averageReference: ReferenceRule = {
  forward(c) {
    const x = c.x[0]!;
    const [KH, KW] = pair(c.args["kernel"]);
    const y = new Float64Array(c.N * size(c.output));
    eachWindow(c, (out, at) => (y[out] += x[at]! / (KH * KW)));
    return { y };
  },
  backward(c) {
    const [KH, KW] = pair(c.args["kernel"]);
    const dx = new Float64Array(c.x[0]!.length);
    eachWindow(c, (out, at) => (dx[at] += c.dy[out]! / (KH * KW)));
    return { dx: [dx] };
  },
};

export function poolingLayer(
  name: string,
  summary: string,
  aliases: string[],
  kernel: "max_pool" | "avg_pool",
): LayerDef {
  return {
    name,
    summary,
    aliases,
    args: [
      { name: "kernel", type: "size2", min: 1, doc: "window size: n or [h, w]" },
      {
        ...windowArgs.stride,
        default: (args) => args["kernel"]!,
        doc: "step between windows (default: kernel)",
      },
      { ...windowArgs.pad, doc: "padding on each side, at most half the kernel" },
    ],
    shapeRule:
      "[C, H, W] → [C, ⌊(H + 2·pad − kernel) / stride⌋ + 1, same for W] (floor, as PyTorch's ceil_mode=False)",
    outputShape(ctx) {
      const input = requireSpatial(ctx);
      if (!input) return undefined;
      const kernel = pair(ctx.args["kernel"]);
      const pad = pair(ctx.args["pad"]);
      if (pad[0] * 2 > kernel[0] || pad[1] * 2 > kernel[1]) {
        return ctx.error(
          "argument-range",
          {
            name: "pad",
            value: formatPair(pad),
            bound: `at most half the kernel ${formatPair(kernel)}`,
          },
          "pad",
        );
      }
      const hw = windowOutput(ctx, input);
      return hw && [input[0]!, ...hw];
    },
    lowering: {
      forward(c) {
        c.step(kernel, [c.x[0]!], [c.y], windowAttrs(c.inputs[0]!, c.output, c.args));
      },
      backward(c) {
        const dx = c.dx(0);
        if (!dx) return;
        // Max pooling finds each window's argmax again from its input and output.
        const inputs = kernel === "max_pool" ? [c.x[0]!, c.y, c.dy] : [c.dy];
        const attrs = windowAttrs(c.inputs[0]!, c.output, c.args);
        const grad = kernel === "max_pool" ? "max_pool_grad" : "avg_pool_grad";
        c.step(grad, inputs, [dx.tensor], attrs, dx.accumulate);
      },
    },
    reference: kernel === "max_pool" ? maxReference : averageReference,
  };
}
