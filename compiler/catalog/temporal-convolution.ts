// TemporalConvolution: 1-D convolution, weight [out, in, kernel] as PyTorch's Conv1d; lowered
// onto SpatialConvolution's kernels over [in, 1, length] (temporal.ts).
import { formatShape } from "../diagnostics.js";
import { biasArg, weightAndBias } from "./types.js";
import { spatialConvolution } from "./spatial-convolution.js";
import { requireTemporal, temporalArgs, temporalLayer, temporalWindowOutput } from "./temporal.js";

export const temporalConvolution = temporalLayer(spatialConvolution, {
  name: "TemporalConvolution",
  summary:
    "1-D convolution over a [channels, length] input (PyTorch's Conv1d): ECG, accelerometer, audio.",
  aliases: ["Conv1d", "Conv1D", "Convolution1D"],
  args: [
    {
      name: "out",
      type: "int",
      min: 1,
      inputSize: "in",
      doc: "output channels; `in -> out` also states the input channels",
    },
    temporalArgs.kernel,
    temporalArgs.stride,
    temporalArgs.pad,
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
  shapeRule: "[C, L] → [out, ⌊(L + 2·pad − kernel) / stride⌋ + 1]",
  outputShape(ctx) {
    const input = requireTemporal(ctx);
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
