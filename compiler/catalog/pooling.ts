// The pooling family: window arguments and shape rule shared by max and average pooling.
import type { MeanWindow, Window } from "../ops.js";
import {
  formatPair,
  pair,
  size,
  type ArgSpec,
  type Args,
  type LayerDef,
  type ReferenceBackwardContext,
  type ReferenceContext,
  type ReferenceGradients,
  type ReferenceRule,
  type Shape,
} from "./types.js";
import { windowAttrs } from "./lowering.js";
import { requireSpatial, windowArgs, windowOutput } from "./window.js";

/**
 * Calls `visit` with every output position and each input element of its window; positions in
 * the padding, or past it in ceil mode, are skipped (−∞ for max pooling, zero for average
 * pooling: neither contributes).
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

/**
 * What window `o` along a dimension counts in its mean (PyTorch's avg_pool2d): its taps up to
 * the end of the trailing padding, or with `countPad` false only those inside the input.
 */
function counted(
  o: number,
  stride: number,
  pad: number,
  kernel: number,
  size: number,
  countPad: boolean,
) {
  const start = o * stride - pad;
  const end = Math.min(start + kernel, size + pad);
  return countPad ? end - start : Math.min(end, size) - Math.max(start, 0);
}

/** Each output position's divisor in a plane, or undefined where every one is KH·KW. */
function divisors(w: Window, countPad: boolean): number[] | undefined {
  const rows = Array.from({ length: w.OH }, (_, o) => counted(o, w.SH, w.PH, w.KH, w.H, countPad));
  const cols = Array.from({ length: w.OW }, (_, o) => counted(o, w.SW, w.PW, w.KW, w.W, countPad));
  const all = rows.flatMap((r) => cols.map((c) => r * c));
  return all.every((d) => d === w.KH * w.KW) ? undefined : all;
}

const meanAttrs = (input: Shape, output: Shape, args: Args): MeanWindow => {
  const w = windowAttrs(input, output, args);
  const d = divisors(w, args["count_include_pad"] !== false);
  return d ? { ...w, divisors: d } : w;
};

/** Each output's gradient to the input its forward saved as `argmax`: a max pooling's backward. */
export function argmaxBackward(c: ReferenceBackwardContext): ReferenceGradients {
  const dx = new Float64Array(c.x[0]!.length);
  const argmax = c.saved["argmax"]!;
  for (let out = 0; out < c.dy.length; out++) dx[argmax[out]!] += c.dy[out]!;
  return { dx: [dx] };
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
  backward: argmaxBackward,
};

/** The divisor of output `out` (any sample and channel): KH·KW, or its own. */
function divisorOf(c: ReferenceContext): (out: number) => number {
  const a = meanAttrs(c.inputs[0]!, c.output, c.args);
  const plane = a.OH * a.OW;
  return (out) => a.divisors?.[out % plane] ?? a.KH * a.KW;
}

/** y = the window's sum over its divisor: kernel height × width unless ceil mode or count_include_pad change it. */
const averageReference: ReferenceRule = {
  forward(c) {
    const x = c.x[0]!;
    const divisor = divisorOf(c);
    const y = new Float64Array(c.N * size(c.output));
    eachWindow(c, (out, at) => (y[out] += x[at]! / divisor(out)));
    return { y };
  },
  backward(c) {
    const divisor = divisorOf(c);
    const dx = new Float64Array(c.x[0]!.length);
    eachWindow(c, (out, at) => (dx[at] += c.dy[out]! / divisor(out)));
    return { dx: [dx] };
  },
};

const ceilArg: ArgSpec = {
  name: "ceil",
  type: "bool",
  default: false,
  namedOnly: true,
  doc: "round the output size up (PyTorch's ceil_mode, Caffe's rounding): a last window may run past the padding, but starts inside the input or its leading padding",
};

const countPadArg: ArgSpec = {
  name: "count_include_pad",
  type: "bool",
  default: true,
  namedOnly: true,
  doc: "count the zero padding in each window's divisor (PyTorch's default); false: divide by the taps inside the input",
};

export function poolingLayer(
  name: string,
  summary: string,
  aliases: string[],
  kernel: "max_pool" | "avg_pool",
): LayerDef {
  const attrs = kernel === "max_pool" ? windowAttrs : meanAttrs;
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
      ceilArg,
      ...(kernel === "avg_pool" ? [countPadArg] : []),
    ],
    shapeRule:
      "[C, H, W] → [C, ⌊(H + 2·pad − kernel) / stride⌋ + 1, same for W]; with ceil=true ⌈…⌉ + 1, less one if the last window would start past the input and its leading padding (PyTorch's ceil_mode)",
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
        c.step(kernel, [c.x[0]!], [c.y], attrs(c.inputs[0]!, c.output, c.args));
      },
      backward(c) {
        const dx = c.dx(0);
        if (!dx) return;
        const a = attrs(c.inputs[0]!, c.output, c.args);
        // Max pooling finds each window's argmax again from its input and output.
        if (kernel === "max_pool")
          c.step("max_pool_grad", [c.x[0]!, c.y, c.dy], [dx.tensor], a, dx.accumulate);
        else c.step("avg_pool_grad", [c.dy], [dx.tensor], a, dx.accumulate);
      },
    },
    reference: kernel === "max_pool" ? maxReference : averageReference,
  };
}
