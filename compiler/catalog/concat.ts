// Concat: joins values along the channel dimension.
import { formatShape } from "../diagnostics.js";
import { emitJoinGrad } from "./lowering.js";
import { size, type LayerDef } from "./types.js";

export const concat: LayerDef = {
  name: "Concat",
  summary: "Joins two or more values along the channel (first per-sample) dimension.",
  aliases: ["Cat", "Concatenate", "JoinTable", "cat"],
  args: [],
  inputs: "many",
  shapeRule: "[C1, H, W], [C2, H, W], ... → [C1 + C2 + ..., H, W]",
  outputShape(ctx) {
    const [first, ...rest] = ctx.inputs;
    const listing = () =>
      ctx.inputs.map((s, i) => `${ctx.inputNames[i]} is ${formatShape(s)}`).join(", ");
    if (rest.some((s) => s.length !== first!.length)) {
      return ctx.error("concat-mismatch", { detail: `values of the same rank: ${listing()}` });
    }
    const differs = rest.some((s) => s.some((d, i) => i > 0 && d !== first![i]));
    if (differs) {
      const what =
        first!.length === 3 ? "equal height and width" : "equal sizes after the channel dimension";
      return ctx.error("concat-mismatch", { detail: `${what}: ${listing()}` });
    }
    return [ctx.inputs.reduce((sum, s) => sum + s[0]!, 0), ...first!.slice(1)];
  },
  lowering: {
    forward(c) {
      c.step("concat", [...c.x], [c.y], { sizes: c.inputs.map(size).join(",") });
    },
    backward(c) {
      const grads = c.x.map((_, i) => c.dx(i));
      emitJoinGrad(c, "concat_grad", grads, { sizes: c.inputs.map(size).join(",") });
    },
  },
};
