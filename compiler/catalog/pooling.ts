// The pooling family: window arguments and shape rule shared by max and average pooling.
import { formatPair, pair, type LayerDef } from "./types.js";
import { requireSpatial, windowArgs, windowOutput } from "./window.js";

export function poolingLayer(name: string, summary: string, aliases: string[]): LayerDef {
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
  };
}
