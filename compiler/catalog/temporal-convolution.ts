// TemporalConvolution: 1-D convolution, weight [out, in/groups, kernel] as PyTorch's Conv1d; lowered
// onto SpatialConvolution's kernels over [in, 1, length] (temporal.ts).
import { weightAndBias, writtenSizeAgrees } from "./types.js";
import { spatialConvolution } from "./spatial-convolution.js";
import { checkGroups } from "./window.js";
import { requireTemporal, temporalArgs, temporalLayer, temporalWindowOutput } from "./temporal.js";

const convolutionArg = (name: string) => spatialConvolution.args.find((a) => a.name === name)!;

export const temporalConvolution = temporalLayer(spatialConvolution, {
  name: "TemporalConvolution",
  summary:
    "1-D convolution over a [channels, length] input (PyTorch's Conv1d): ECG, accelerometer, audio.",
  aliases: ["Conv1d", "Conv1D", "Convolution1D"],
  // SpatialConvolution's order, its window arguments one number each (the others are its own).
  args: [
    convolutionArg("out"),
    temporalArgs.kernel,
    temporalArgs.stride,
    temporalArgs.pad,
    convolutionArg("bias"),
    {
      ...convolutionArg("dilation"),
      type: "int",
      doc: "spacing of the kernel's taps; a kernel k then spans dilation·(k − 1) + 1",
    },
    convolutionArg("groups"),
    convolutionArg("in"),
  ],
  shapeRule:
    "[C, L] → [out, ⌊(L + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1]; C and out divisible by groups",
  outputShape(ctx) {
    const input = requireTemporal(ctx);
    if (!input) return undefined;
    if (!writtenSizeAgrees(ctx, input, "in", "channels")) return undefined;
    if (!checkGroups(ctx, input[0]!, ctx.args["out"] as number)) return undefined;
    const length = temporalWindowOutput(ctx, input);
    return length === undefined ? undefined : [ctx.args["out"] as number, length];
  },
  params(input, args) {
    const kernel = args["kernel"] as number;
    const out = args["out"] as number;
    const perGroup = input[0]! / (args["groups"] as number);
    return weightAndBias([out, perGroup, kernel], perGroup * kernel, out, args["bias"] === true);
  },
  flops: (input, args, output) =>
    (2 * output[0]! * output[1]! * input[0]! * (args["kernel"] as number)) /
    (args["groups"] as number),
});
