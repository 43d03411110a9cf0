// SpatialConvolution: 2-D convolution, weight [out, in, kH, kW] as PyTorch's Conv2d.
import { formatShape } from "../diagnostics.js";
import { biasArg, pair, weightAndBias, type LayerDef } from "./types.js";
import { requireSpatial, windowArgs, windowOutput } from "./window.js";
import { epilogueAttrs, epilogueBackward, weightInputs, windowAttrs } from "./lowering.js";

export const spatialConvolution: LayerDef = {
  name: "SpatialConvolution",
  summary: "2-D convolution over a [channels, height, width] input.",
  aliases: ["Conv2d", "Conv", "Convolution", "Conv2D"],
  args: [
    {
      name: "out",
      type: "int",
      min: 1,
      inputSize: "in",
      doc: "output channels; `in -> out` also states the input channels",
    },
    { name: "kernel", type: "size2", min: 1, doc: "window size: n or [h, w]" },
    windowArgs.stride,
    windowArgs.pad,
    biasArg,
    {
      name: "in",
      type: "int",
      min: 1,
      optional: true,
      namedOnly: true,
      doc: "input channels, checked against the input (inferred when left out)",
    },
  ],
  shapeRule: "[C, H, W] → [out, ⌊(H + 2·pad − kernel) / stride⌋ + 1, same for W]",
  outputShape(ctx) {
    const input = requireSpatial(ctx);
    if (!input) return undefined;
    const written = ctx.args["in"];
    if (typeof written === "number" && written !== input[0]) {
      return ctx.error(
        "input-size-mismatch",
        {
          layer: ctx.layer,
          what: "channels",
          written,
          actual: input[0]!,
          shape: formatShape(input),
        },
        "in",
      );
    }
    const hw = windowOutput(ctx, input);
    return hw && [ctx.args["out"] as number, ...hw];
  },
  params(input, args) {
    const [kh, kw] = pair(args["kernel"]);
    const out = args["out"] as number;
    return weightAndBias([out, input[0]!, kh, kw], input[0]! * kh * kw, out, args["bias"] === true);
  },
  flops: (input, args, output) => {
    const [kh, kw] = pair(args["kernel"]);
    return 2 * output[0]! * output[1]! * output[2]! * input[0]! * kh * kw;
  },
  lowering: {
    forward(c) {
      const attrs = { ...windowAttrs(c.inputs[0]!, c.output, c.args), ...epilogueAttrs(c) };
      c.step("conv2d", weightInputs(c), [c.y], attrs);
    },
    backward(c) {
      const attrs = windowAttrs(c.inputs[0]!, c.output, c.args);
      epilogueBackward(c, attrs.K, attrs.OH * attrs.OW);
      const dx = c.dx(0);
      if (dx)
        c.step("conv2d_grad_input", [c.dy, c.param("weight")], [dx.tensor], attrs, dx.accumulate);
      c.step("conv2d_grad_weight", [c.dy, c.x[0]!], [c.dparam("weight")], attrs);
    },
  },
  // y[n,k,oh,ow] = b[k] + Σ_c,i,j w[k,c,i,j] · x[n,c, oh·SH − PH + i, ow·SW − PW + j],
  // the terms outside the input being zero padding.
  reference: {
    forward(c) {
      const { C, H, W, K, OH, OW, KH, KW, SH, SW, PH, PW } = windowAttrs(
        c.inputs[0]!,
        c.output,
        c.args,
      );
      const [x, w, b] = [c.x[0]!, c.param("weight"), c.args["bias"] ? c.param("bias") : undefined];
      const y = new Float64Array(c.N * K * OH * OW);
      for (let n = 0; n < c.N; n++)
        for (let k = 0; k < K; k++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              let s = b ? b[k]! : 0;
              for (let ch = 0; ch < C; ch++)
                for (let i = 0; i < KH; i++)
                  for (let j = 0; j < KW; j++) {
                    const ih = oh * SH - PH + i;
                    const iw = ow * SW - PW + j;
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    s +=
                      w[((k * C + ch) * KH + i) * KW + j]! * x[((n * C + ch) * H + ih) * W + iw]!;
                  }
              y[((n * K + k) * OH + oh) * OW + ow] = s;
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
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              const g = dy[((n * K + k) * OH + oh) * OW + ow]!;
              db[k] += g;
              for (let ch = 0; ch < C; ch++)
                for (let i = 0; i < KH; i++)
                  for (let j = 0; j < KW; j++) {
                    const ih = oh * SH - PH + i;
                    const iw = ow * SW - PW + j;
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    const wi = ((k * C + ch) * KH + i) * KW + j;
                    const xi = ((n * C + ch) * H + ih) * W + iw;
                    dx[xi] += w[wi]! * g;
                    dw[wi] += x[xi]! * g;
                  }
            }
      const dparams: Record<string, Float64Array> = { weight: dw };
      if (c.args["bias"]) dparams["bias"] = db;
      return { dx: [dx], dparams };
    },
  },
};
