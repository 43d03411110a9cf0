// SpatialFullConvolution: transposed 2-D convolution, weight [in, out/groups, kH, kW] as PyTorch's
// ConvTranspose2d.
import { formatShape } from "../diagnostics.js";
import {
  biasArg,
  formatPair,
  pair,
  weightAndBias,
  type Args,
  type LayerDef,
  type Shape,
} from "./types.js";
import { convAttrs, epilogueBackward, weightGradient, weightInputs } from "./lowering.js";
import { fullConvolutionReference } from "./spatial-full-convolution.reference.js";
import { checkGroups, dilatedSpan, requireSpatial, windowArgs } from "./window.js";

/** The equivalent convolution's dimensions: its input is our output, its output our input. */
function swapped(input: Shape, output: Shape, args: Args) {
  return convAttrs(output, input, args);
}

export const spatialFullConvolution: LayerDef = {
  name: "SpatialFullConvolution",
  summary:
    "Transposed 2-D convolution (learned upsampling), dilated or grouped as PyTorch's ConvTranspose2d.",
  aliases: ["ConvTranspose2d", "Deconvolution", "Conv2DTranspose", "SpatialDeconvolution"],
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
    {
      name: "adj",
      type: "size2",
      default: 0,
      min: 0,
      doc: "extra rows/columns added to one side of the output (PyTorch's output_padding); less than stride or dilation",
    },
    biasArg,
    windowArgs.dilation,
    windowArgs.groups,
    {
      name: "in",
      type: "int",
      min: 1,
      optional: true,
      namedOnly: true,
      doc: "input channels, checked against the input",
    },
  ],
  shapeRule:
    "[C, H, W] → [out, (H − 1)·stride − 2·pad + dilation·(kernel − 1) + adj + 1, same for W]; C and out divisible by groups",
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
    const [kernel, stride, pad, adj, dilation] = ["kernel", "stride", "pad", "adj", "dilation"].map(
      (k) => pair(ctx.args[k]),
    );
    // PyTorch's bound: output_padding smaller than the stride or the dilation.
    if ([0, 1].some((d) => adj![d]! >= Math.max(stride![d]!, dilation![d]!))) {
      const dilated = dilation![0] !== 1 || dilation![1] !== 1;
      const bound = `less than stride ${formatPair(stride!)}${dilated ? ` or dilation ${formatPair(dilation!)}` : ""}`;
      return ctx.error("argument-range", { name: "adj", value: formatPair(adj!), bound }, "adj");
    }
    const hw = [0, 1].map(
      (d) =>
        (input[d + 1]! - 1) * stride![d]! -
        2 * pad![d]! +
        dilatedSpan(kernel![d]!, dilation![d]!) +
        adj![d]!,
    );
    // (H − 1)·stride + the kernel's span + adj is at least 1: only the padding can make the output empty.
    if (hw[0]! < 1 || hw[1]! < 1) {
      return ctx.error(
        "non-positive-size",
        {
          layer: ctx.layer,
          output: formatPair(hw),
          shape: formatShape(input),
          pad: pad![0] === pad![1] ? String(pad![0]) : formatPair(pad!),
        },
        "pad",
      );
    }
    return [ctx.args["out"] as number, ...hw];
  },
  params(input, args) {
    const [kh, kw] = pair(args["kernel"]);
    const out = args["out"] as number;
    const perGroup = out / (args["groups"] as number);
    // ConvTranspose2d's weight is [in, out/groups, kH, kW]; PyTorch takes fan-in from dimension 1.
    return weightAndBias(
      [input[0]!, perGroup, kh, kw],
      perGroup * kh * kw,
      out,
      args["bias"] === true,
    );
  },
  flops: (input, args, output) => {
    const [kh, kw] = pair(args["kernel"]);
    const perGroup = output[0]! / (args["groups"] as number);
    return 2 * input[0]! * input[1]! * input[2]! * perGroup * kh * kw;
  },
  lowering: {
    // A transposed convolution runs the convolution kernels with the roles of input and output
    // swapped: its forward pass is a convolution's input gradient, and so on.
    forward(c) {
      const attrs = { ...swapped(c.inputs[0]!, c.output, c.args), bias: c.args["bias"] === true };
      c.step("conv2d_grad_input", weightInputs(c), [c.y], attrs);
    },
    backward(c) {
      const attrs = swapped(c.inputs[0]!, c.output, c.args);
      epilogueBackward(c, attrs.C, attrs.H * attrs.W);
      const dx = c.dx(0);
      const plain = { ...attrs, bias: false };
      if (dx) c.step("conv2d", [c.dy, c.param("weight")], [dx.tensor], plain, dx.accumulate);
      weightGradient(c, "conv2d_grad_weight", [c.x[0]!, c.dy], attrs);
    },
  },
  reference: fullConvolutionReference,
};
