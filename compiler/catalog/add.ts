// Add: elementwise sum of values of one shape (residual connections).
import { formatShape } from "../diagnostics.js";
import { emitJoinGrad } from "./lowering.js";
import { size, type LayerDef } from "./types.js";

export const add: LayerDef = {
  name: "Add",
  summary: "Elementwise sum of two or more values of the same shape.",
  aliases: ["CAddTable", "Sum", "add"],
  args: [],
  inputs: "many",
  shapeRule: "[s], [s], ... → [s]",
  outputShape(ctx) {
    const [first, ...rest] = ctx.inputs;
    if (rest.some((s) => s.length !== first!.length || s.some((d, i) => d !== first![i]))) {
      const listing = ctx.inputs
        .map((s, i) => `${ctx.inputNames[i]} is ${formatShape(s)}`)
        .join(", ");
      return ctx.error("add-mismatch", { detail: listing });
    }
    return first;
  },
  lowering: {
    forward(c) {
      c.step("add", [...c.x], [c.y], { size: size(c.output) });
    },
    backward(c) {
      emitJoinGrad(c, "add_grad", (accumulate) => ({ size: size(c.output), accumulate }));
    },
  },
  // y = Σ inputs; every input's gradient is dy.
  reference: {
    forward(c) {
      const y = new Float64Array(c.x[0]!.length);
      for (const x of c.x) for (let i = 0; i < y.length; i++) y[i] += x[i]!;
      return { y };
    },
    backward: (c) => ({ dx: c.x.map(() => Float64Array.from(c.dy)) }),
  },
};
