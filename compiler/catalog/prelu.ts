// PReLU: ReLU with a learnt slope for negative inputs, one shared by every channel or one per
// channel (PyTorch's PReLU: `weight` of num_parameters values, 0.25 at the start).
import { formatShape } from "../diagnostics.js";
import type { PReLU } from "../ops.js";
import { size, type Args, type LayerDef, type Shape } from "./types.js";

const attrs = (shape: Shape, args: Args): PReLU => ({
  C: shape[0]!,
  S: size(shape.slice(1)),
  shared: args["num_parameters"] === 1,
});

export const prelu: LayerDef = {
  name: "PReLU",
  summary:
    "x if x > 0, else a·x with a learnt: one a shared by all channels, or one per channel (dimension 0 of each sample).",
  aliases: ["Prelu", "ParametricReLU"],
  args: [
    {
      name: "num_parameters",
      type: "int",
      default: 1,
      min: 1,
      doc: "1 (one slope for all channels) or the input's channels (one each)",
    },
    { name: "init", type: "float", default: 0.25, doc: "the slopes' initial value" },
  ],
  shapeRule: "shape unchanged",
  outputShape(ctx) {
    const input = ctx.inputs[0]!;
    const count = ctx.args["num_parameters"] as number;
    if (count !== 1 && count !== input[0]) {
      return ctx.error(
        "input-size-mismatch",
        {
          layer: ctx.layer,
          what: "channels",
          written: count,
          actual: input[0]!,
          shape: formatShape(input),
        },
        "num_parameters",
      );
    }
    return input;
  },
  params: (_input, args) => [
    {
      name: "weight",
      shape: [args["num_parameters"] as number],
      trainable: true,
      init: { kind: "constant", value: args["init"] as number },
    },
  ],
  lowering: {
    forward(c) {
      c.step("prelu", [c.x[0]!, c.param("weight")], [c.y], attrs(c.output, c.args));
    },
    backward(c) {
      const dx = c.dx(0);
      // A frozen slope gets no gradient; the input's still may be needed.
      const dw = c.dparam("weight");
      if (!dx && dw === undefined) return;
      const inputs = [c.x[0]!, c.param("weight"), c.dy];
      const outputs = [dx?.tensor ?? -1, dw ?? -1];
      c.step("prelu_grad", inputs, outputs, attrs(c.output, c.args), dx?.accumulate ?? false);
    },
  },
  // y = x if x > 0, else w[c]·x; dx = dy or w[c]·dy; dw[c] = Σ x·dy where x ≤ 0 (PyTorch's).
  reference: {
    forward(c) {
      const { C, S, shared } = attrs(c.output, c.args);
      const w = c.param("weight");
      const slope = (i: number) => w[shared ? 0 : Math.floor(i / S) % C]!;
      return { y: c.x[0]!.map((x, i) => (x > 0 ? x : slope(i) * x)) };
    },
    backward(c) {
      const { C, S, shared } = attrs(c.output, c.args);
      const [x, w] = [c.x[0]!, c.param("weight")];
      const channel = (i: number) => (shared ? 0 : Math.floor(i / S) % C);
      const dw = new Float64Array(w.length);
      const dx = x.map((v, i) => {
        const g = c.dy[i]!;
        if (!(v > 0)) dw[channel(i)] += v * g;
        return v > 0 ? g : w[channel(i)]! * g;
      });
      return { dx: [dx], dparams: { weight: dw } };
    },
  },
};
