// Linear: fully connected layer on one vector per sample, weight [out, in] as PyTorch's Linear.
import { formatShape } from "../diagnostics.js";
import {
  epilogueAttrs,
  epilogueBackward,
  epilogueOutputs,
  weightGradient,
  weightInputs,
} from "./lowering.js";
import { biasArg, size, weightAndBias, type LayerDef } from "./types.js";

export const linear: LayerDef = {
  name: "Linear",
  summary: "Fully connected layer: y = W·x + b on one vector per sample.",
  aliases: ["Dense", "FullyConnected", "FC", "InnerProduct"],
  args: [
    {
      name: "out",
      type: "int",
      min: 1,
      inputSize: "in",
      doc: "output features; `in -> out` also states the input features",
    },
    biasArg,
    {
      name: "in",
      type: "int",
      min: 1,
      optional: true,
      namedOnly: true,
      doc: "input features, checked against the input",
    },
  ],
  shapeRule: "[in] → [out]",
  outputShape(ctx) {
    const input = ctx.inputs[0]!;
    if (input.length !== 1)
      return ctx.error("linear-needs-vector", { shape: formatShape(input), features: size(input) });
    const written = ctx.args["in"];
    if (typeof written === "number" && written !== input[0]) {
      return ctx.error(
        "input-size-mismatch",
        {
          layer: ctx.layer,
          what: "features",
          written,
          actual: input[0]!,
          shape: formatShape(input),
        },
        "in",
      );
    }
    return [ctx.args["out"] as number];
  },
  params(input, args) {
    const out = args["out"] as number;
    return weightAndBias([out, input[0]!], input[0]!, out, args["bias"] === true);
  },
  flops: (input, _args, output) => 2 * input[0]! * output[0]!,
  lowering: {
    forward(c) {
      c.step("linear", weightInputs(c), epilogueOutputs(c), {
        I: c.inputs[0]![0]!,
        O: c.output[0]!,
        ...epilogueAttrs(c),
      });
    },
    backward(c) {
      const attrs = { I: c.inputs[0]![0]!, O: c.output[0]! };
      epilogueBackward(c, attrs.O, 1);
      const dx = c.dx(0);
      if (dx)
        c.step("linear_grad_input", [c.dy, c.param("weight")], [dx.tensor], attrs, dx.accumulate);
      weightGradient(c, "linear_grad_weight", [c.dy, c.x[0]!], attrs);
    },
  },
  // y[n,o] = b[o] + Σ_i w[o,i] · x[n,i]
  reference: {
    forward(c) {
      const [I, O] = [c.inputs[0]![0]!, c.output[0]!];
      const [x, w] = [c.x[0]!, c.param("weight")];
      const y = new Float64Array(c.N * O);
      for (let n = 0; n < c.N; n++)
        for (let o = 0; o < O; o++) {
          let s = c.args["bias"] ? c.param("bias")[o]! : 0;
          for (let i = 0; i < I; i++) s += w[o * I + i]! * x[n * I + i]!;
          y[n * O + o] = s;
        }
      return { y };
    },
    backward(c) {
      const [I, O] = [c.inputs[0]![0]!, c.output[0]!];
      const [x, w] = [c.x[0]!, c.param("weight")];
      const dx = new Float64Array(x.length);
      const dw = new Float64Array(w.length);
      const db = new Float64Array(O);
      for (let n = 0; n < c.N; n++)
        for (let o = 0; o < O; o++) {
          const g = c.dy[n * O + o]!;
          db[o] += g;
          for (let i = 0; i < I; i++) {
            dx[n * I + i] += w[o * I + i]! * g;
            dw[o * I + i] += x[n * I + i]! * g;
          }
        }
      const dparams: Record<string, Float64Array> = { weight: dw };
      if (c.args["bias"]) dparams["bias"] = db;
      return { dx: [dx], dparams };
    },
  },
};
