// Mul: elementwise product of two values, their shapes broadcast as PyTorch's (the gate of a
// squeeze-and-excitation block: [C, 1, 1] times [C, H, W]).
import { broadcastPlan, broadcastRead, broadcastReduce, broadcastShape } from "./broadcast.js";
import type { LayerDef } from "./types.js";

export const mul: LayerDef = {
  name: "Mul",
  summary:
    "Elementwise product of two values, shapes broadcast as in PyTorch ([C, 1, 1] · [C, H, W]).",
  aliases: ["CMulTable", "Multiply", "mul"],
  args: [],
  inputs: "many",
  shapeRule: "[s], [s] → [s]; sizes equal or 1, aligned from the last dimension",
  outputShape(ctx) {
    if (ctx.inputs.length !== 2)
      return ctx.error("arity-mismatch", {
        layer: ctx.layer,
        expected: "two values",
        got: ctx.inputs.length,
      });
    return broadcastShape(ctx);
  },
  lowering: {
    forward(c) {
      const plan = broadcastPlan(c.inputs, c.output);
      const [a, b] = plan.inputs as [(typeof plan.inputs)[0], (typeof plan.inputs)[0]];
      c.step("broadcast_mul", [c.x[0]!, c.x[1]!], [c.y], { dims: plan.dims, a, b });
    },
    backward(c) {
      // Each factor's gradient is dy times the other, summed over where it is broadcast.
      const plan = broadcastPlan(c.inputs, c.output);
      for (const i of [0, 1]) {
        const dx = c.dx(i);
        if (!dx) continue;
        const attrs = { dims: plan.dims, x: plan.inputs[i]!, other: plan.inputs[1 - i]! };
        c.step("broadcast_grad", [c.dy, c.x[1 - i]!], [dx.tensor], attrs, dx.accumulate);
      }
    },
  },
  reference: {
    forward(c) {
      const [a, b] = [broadcastRead(c, c.x[0]!, 0), broadcastRead(c, c.x[1]!, 1)];
      return { y: a.map((v, j) => v * b[j]!) };
    },
    backward(c) {
      const [a, b] = [broadcastRead(c, c.x[0]!, 0), broadcastRead(c, c.x[1]!, 1)];
      const da = broadcastReduce(
        c,
        c.dy.map((g, j) => g * b[j]!),
        0,
      );
      const db = broadcastReduce(
        c,
        c.dy.map((g, j) => g * a[j]!),
        1,
      );
      return { dx: [da, db] };
    },
  },
};
