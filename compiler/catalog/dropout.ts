// Dropout: zeroes elements with probability p while training, scaling the rest by 1/(1-p).
import type { LayerDef } from "./types.js";

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
};
