// Dropout: zeroes elements with probability p while training, scaling the rest by 1/(1-p).
import { dropoutSalt } from "../../runtime/dropout.js";
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
      const attrs = { p: c.args["p"] as number, size: size(c.output), salt: dropoutSalt(c.name) };
      c.step("dropout", [c.x[0]!], [c.y, mask], attrs);
    },
    backward(c) {
      const dx = c.dx(0);
      const mask = c.scratch("mask", c.output, true);
      if (dx)
        c.step("dropout_grad", [c.dy, mask], [dx.tensor], { size: size(c.output) }, dx.accumulate);
    },
  },
  // Training: each element kept with probability 1 − p and scaled by 1/(1 − p); a draw below p
  // drops it (element i's draw, from the pass and the layer). Evaluation: the identity. The
  // gradient passes through the same mask.
  reference: {
    forward(c) {
      const p = c.args["p"] as number;
      const x = c.x[0]!;
      const mask = new Float64Array(x.length).fill(1);
      if (c.training)
        for (let i = 0; i < x.length; i++) mask[i] = c.uniform(i) < p ? 0 : 1 / (1 - p);
      return { y: x.map((v, i) => v * mask[i]!), saved: { mask } };
    },
    backward(c) {
      const mask = c.saved["mask"]!;
      return { dx: [c.dy.map((g, i) => g * mask[i]!)] };
    },
  },
};
