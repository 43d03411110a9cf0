// Dropout: zeroes elements with probability p while training, scaling the rest by 1/(1-p).
import { size, type LayerDef } from "./types.js";

export const dropout: LayerDef = {
  name: "Dropout",
  summary:
    "Zeroes each element with probability p while training (the rest scaled by 1/(1 − p)); identity in evaluation.",
  aliases: ["dropout", "SpatialDropout"],
  args: [
    {
      name: "p",
      type: "float",
      default: 0.5,
      min: 0,
      below: 1,
      doc: "drop probability, in [0, 1)",
    },
  ],
  shapeRule: "shape unchanged",
  outputShape: (ctx) => ctx.inputs[0],
  lowering: {
    forward(c) {
      const mask = c.scratch("mask", c.output, true);
      c.step("dropout", [c.x[0]!], [c.y, mask], { p: c.args["p"] as number, size: size(c.output) });
    },
    backward(c) {
      const dx = c.dx(0);
      const mask = c.scratch("mask", c.output, true);
      if (dx)
        c.step("dropout_grad", [c.dy, mask], [dx.tensor], { size: size(c.output) }, dx.accumulate);
    },
  },
};
