// SpatialConvolution: 2-D convolution, weight [out, in/groups, kH, kW] as PyTorch's Conv2d.
import { formatShape } from "../diagnostics.js";
import { biasArg, pair, weightAndBias, type LayerDef } from "./types.js";
import { convolutionBackward, convolutionForward } from "./convolution-taps.js";
import { checkGroups, requireSpatial, windowArgs, windowOutput } from "./window.js";
import {
  convAttrs,
  epilogueAttrs,
  epilogueBackward,
  epilogueOutputs,
  weightGradient,
  weightInputs,
} from "./lowering.js";

export const spatialConvolution: LayerDef = {
  name: "SpatialConvolution",
  summary:
    "2-D convolution over a [channels, height, width] input, dilated or grouped (depthwise) as PyTorch's Conv2d.",
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
    windowArgs.dilation,
    windowArgs.groups,
    {
      name: "in",
      type: "int",
      min: 1,
      optional: true,
      namedOnly: true,
      doc: "input channels, checked against the input (inferred when left out)",
    },
  ],
  shapeRule:
    "[C, H, W] → [out, ⌊(H + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1, same for W]; C and out divisible by groups",
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
    if (!checkGroups(ctx, input[0]!, ctx.args["out"] as number)) return undefined;
    const hw = windowOutput(ctx, input);
    return hw && [ctx.args["out"] as number, ...hw];
  },
  params(input, args) {
    const [kh, kw] = pair(args["kernel"]);
    const out = args["out"] as number;
    const perGroup = input[0]! / (args["groups"] as number);
    return weightAndBias([out, perGroup, kh, kw], perGroup * kh * kw, out, args["bias"] === true);
  },
  flops: (input, args, output) => {
    const [kh, kw] = pair(args["kernel"]);
    const perGroup = input[0]! / (args["groups"] as number);
    return 2 * output[0]! * output[1]! * output[2]! * perGroup * kh * kw;
  },
  lowering: {
    forward(c) {
      const attrs = { ...convAttrs(c.inputs[0]!, c.output, c.args), ...epilogueAttrs(c) };
      c.step("conv2d", weightInputs(c), epilogueOutputs(c), attrs);
    },
    backward(c) {
      const attrs = convAttrs(c.inputs[0]!, c.output, c.args);
      epilogueBackward(c, attrs.K, attrs.OH * attrs.OW);
      const dx = c.dx(0);
      if (dx)
        c.step(
          "conv2d_grad_input",
          [c.dy, c.param("weight")],
          [dx.tensor],
          { ...attrs, bias: false },
          dx.accumulate,
        );
      weightGradient(c, "conv2d_grad_weight", [c.dy, c.x[0]!], attrs);
    },
  },
  // y[n,k,oh,ow] = b[k] + Σ_c,i,j w[k,c,i,j] · x[n, g·C/G + c, oh·SH − PH + i·DH, ow·SW − PW + j·DW]
  // over the C/G channels c of k's group g, the terms outside the input being zero padding.
  reference: {
    forward: (c) => ({ y: convolutionForward(c, convAttrs(c.inputs[0]!, c.output, c.args)) }),
    backward: (c) => convolutionBackward(c, convAttrs(c.inputs[0]!, c.output, c.args)),
  },
};
