// TemporalMaxPooling and TemporalAveragePooling: PyTorch's MaxPool1d and AvgPool1d, lowered onto
// the 2-D pooling kernels over [C, 1, length] (temporal.ts).
import { spatialAveragePooling } from "./spatial-average-pooling.js";
import { spatialMaxPooling } from "./spatial-max-pooling.js";
import { requireTemporal, temporalArgs, temporalLayer, temporalWindowOutput } from "./temporal.js";
import type { LayerDef } from "./types.js";

function temporalPooling(
  spatial: LayerDef,
  name: string,
  summary: string,
  aliases: string[],
): LayerDef {
  return temporalLayer(spatial, {
    name,
    summary,
    aliases,
    args: [
      temporalArgs.kernel,
      {
        ...temporalArgs.stride,
        default: (args) => args["kernel"]!,
        doc: "step between windows (default: kernel)",
      },
      { ...temporalArgs.pad, doc: "padding at each end, at most half the kernel" },
      // ceil, and average pooling's count_include_pad: flags, the same in 1-D.
      ...spatial.args.filter((a) => a.namedOnly),
    ],
    shapeRule:
      "[C, L] → [C, ⌊(L + 2·pad − kernel) / stride⌋ + 1]; with ceil=true ⌈…⌉ + 1, less one if the last window would start past the input and its leading padding (PyTorch's ceil_mode)",
    outputShape(ctx) {
      const input = requireTemporal(ctx);
      if (!input) return undefined;
      const [kernel, pad] = [ctx.args["kernel"] as number, ctx.args["pad"] as number];
      if (pad * 2 > kernel) {
        return ctx.error(
          "argument-range",
          { name: "pad", value: String(pad), bound: `at most half the kernel ${kernel}` },
          "pad",
        );
      }
      const length = temporalWindowOutput(ctx, input);
      return length === undefined ? undefined : [input[0]!, length];
    },
  });
}

export const temporalMaxPooling = temporalPooling(
  spatialMaxPooling,
  "TemporalMaxPooling",
  "Maximum over each window along the length, per channel (PyTorch's MaxPool1d).",
  ["MaxPool1d", "MaxPooling1D"],
);

export const temporalAveragePooling = temporalPooling(
  spatialAveragePooling,
  "TemporalAveragePooling",
  "Mean over each window along the length, per channel (PyTorch's AvgPool1d).",
  ["AvgPool1d", "AveragePooling1D"],
);
