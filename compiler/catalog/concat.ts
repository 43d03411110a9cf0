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
      c.step("concat", [...c.x], [c.y], { sizes: c.inputs.map(size) });
    },
    backward(c) {
      emitJoinGrad(c, "concat_grad", (accumulate) => ({ sizes: c.inputs.map(size), accumulate }));
    },
  },
  // Each sample's output is the inputs' samples one after another (channels first, so this
  // joins the channels); each input's gradient is its part of the output's.
  reference: {
    forward(c) {
      const sizes = c.inputs.map(size);
      const total = size(c.output);
      const y = new Float64Array(c.N * total);
      for (let n = 0; n < c.N; n++) {
        let at = n * total;
        c.x.forEach((x, k) => {
          for (let i = 0; i < sizes[k]!; i++) y[at + i] = x[n * sizes[k]! + i]!;
          at += sizes[k]!;
        });
      }
      return { y };
    },
    backward(c) {
      const sizes = c.inputs.map(size);
      const total = size(c.output);
      const dx = sizes.map((s) => new Float64Array(c.N * s));
      for (let n = 0; n < c.N; n++) {
        let at = n * total;
        dx.forEach((d, k) => {
          for (let i = 0; i < sizes[k]!; i++) d[n * sizes[k]! + i] = c.dy[at + i]!;
          at += sizes[k]!;
        });
      }
      return { dx };
    },
  },
};
