// TemporalConvolution: 1-D convolution, weight [out, in, kernel] as PyTorch's Conv1d; lowered
// onto SpatialConvolution's kernels over [in, 1, length] (temporal.ts).
import { biasArg, weightAndBias, writtenSizeAgrees } from "./types.js";
import { spatialConvolution } from "./spatial-convolution.js";
import { requireTemporal, temporalArgs, temporalLayer, temporalWindowOutput } from "./temporal.js";

const convolutionArg = (name: string) => spatialConvolution.args.find((a) => a.name === name)!;

export const temporalConvolution = temporalLayer(spatialConvolution, {
  name: "TemporalConvolution",
  summary:
    "1-D convolution over a [channels, length] input (PyTorch's Conv1d): ECG, accelerometer, audio.",
  aliases: ["Conv1d", "Conv1D", "Convolution1D"],
  // out, then the window, then bias and in, as SpatialConvolution's (whose out and in these are).
  args: [
    convolutionArg("out"),
    temporalArgs.kernel,
    temporalArgs.stride,
    temporalArgs.pad,
    biasArg,
    convolutionArg("in"),
  ],
  shapeRule: "[C, L] → [out, ⌊(L + 2·pad − kernel) / stride⌋ + 1]",
  outputShape(ctx) {
    const input = requireTemporal(ctx);
    if (!input) return undefined;
    if (!writtenSizeAgrees(ctx, input, "in", "channels")) return undefined;
    const length = temporalWindowOutput(ctx, input);
    return length === undefined ? undefined : [ctx.args["out"] as number, length];
  },
  params(input, args) {
    const kernel = args["kernel"] as number;
    const out = args["out"] as number;
    return weightAndBias([out, input[0]!, kernel], input[0]! * kernel, out, args["bias"] === true);
  },
  flops: (input, args, output) =>
    2 * output[0]! * output[1]! * input[0]! * (args["kernel"] as number),
});
