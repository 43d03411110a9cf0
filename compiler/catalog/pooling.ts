// The pooling family: window arguments and shape rule shared by max and average pooling.
import { formatPair, pair, type LayerDef } from "./types.js";
import { windowAttrs } from "./lowering.js";
import { requireSpatial, windowArgs, windowOutput } from "./window.js";

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
        c.step(`${kernel}_grad`, inputs, [dx.tensor], attrs, dx.accumulate);
      },
    },
  };
}
