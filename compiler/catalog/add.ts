// Add: elementwise sum of values (residual connections), their shapes broadcast as PyTorch's.
import { broadcastPlan, broadcastRead, broadcastReduce, broadcastShape } from "./broadcast.js";
import { emitJoinGrad } from "./lowering.js";
import { size, type LayerDef, type Shape } from "./types.js";

const sameShapes = (inputs: readonly Shape[]) =>
  inputs.every((s) => s.length === inputs[0]!.length && s.every((d, i) => d === inputs[0]![i]));

export const add: LayerDef = {
  name: "Add",
  summary:
    "Elementwise sum of two or more values, shapes broadcast as in PyTorch ([C, 1, 1] + [C, H, W]).",
  aliases: ["CAddTable", "Sum", "add"],
  args: [],
  inputs: "many",
  shapeRule: "[s], [s], ... → [s]; sizes equal or 1, aligned from the last dimension",
  outputShape: broadcastShape,
  lowering: {
    forward(c) {
      if (sameShapes(c.inputs)) return c.step("add", [...c.x], [c.y], { size: size(c.output) });
      // Term by term into y: the first two, then y plus each next one.
      const plan = broadcastPlan(c.inputs, c.output);
      const strides = plan.dims.map((_, d) => size(plan.dims.slice(d + 1)));
      const full = { size: size(c.output), strides };
      c.x.slice(1).forEach((x, k) => {
        const a = k === 0 ? plan.inputs[0]! : full;
        const attrs = { dims: plan.dims, a, b: plan.inputs[k + 1]! };
        c.step("broadcast_add", [k === 0 ? c.x[0]! : c.y, x], [c.y], attrs);
      });
    },
    backward(c) {
      if (sameShapes(c.inputs))
        return emitJoinGrad(c, "add_grad", (accumulate) => ({ size: size(c.output), accumulate }));
      // Each input's gradient is dy summed over the dimensions it is broadcast along.
      const plan = broadcastPlan(c.inputs, c.output);
      c.x.forEach((_, i) => {
        const dx = c.dx(i);
        if (dx) {
          const attrs = { dims: plan.dims, x: plan.inputs[i]! };
          c.step("broadcast_grad", [c.dy], [dx.tensor], attrs, dx.accumulate);
        }
      });
    },
  },
  // y = Σ inputs, each read at the position it broadcasts to; its gradient is dy summed back.
  reference: {
    forward(c) {
      const y = new Float64Array(c.N * size(c.output));
      c.x.forEach((x, i) => broadcastRead(c, x, i).forEach((v, j) => (y[j] += v)));
      return { y };
    },
    backward: (c) => ({ dx: c.x.map((_, i) => broadcastReduce(c, c.dy, i)) }),
  },
};
