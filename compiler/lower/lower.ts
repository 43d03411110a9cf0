// Lowering: a checked model becomes a kernel program — forward, loss, and its compile-time
// gradient. Each layer's catalog entry adds its own steps; this file walks the graph.
import { criterionByName, layers } from "../catalog/index.js";
import type { CriterionLowerContext } from "../catalog/criteria.js";
import type { GradientContext, LowerContext } from "../catalog/types.js";
import type { IRNode, ModelIR } from "../ir.js";
import { step } from "../ops.js";
import { Gradients } from "./autodiff.js";
import { chooseFusion } from "./fusion.js";
import { ProgramBuilder } from "./program-builder.js";
import { elementCount, type Program, type Step } from "./program.js";

export class LoweringError extends Error {}

export function lower(model: ModelIR): Program {
  const b = new ProgramBuilder();
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const consumers = new Map<number, IRNode[]>();
  for (const n of model.nodes)
    for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);

  // Parameters first, trainable ones contiguous (the optimizer's flat buffer), gradients alike.
  const params = new Map<string, number>();
  const allParams = model.nodes.flatMap((n) => n.params);
  for (const p of [
    ...allParams.filter((q) => q.trainable),
    ...allParams.filter((q) => !q.trainable),
  ]) {
    const role = p.trainable ? "param" : "state";
    params.set(
      p.name,
      b.tensor({
        name: p.name,
        shape: p.shape,
        perSample: false,
        dtype: "f32",
        role,
        init: p.init,
      }),
    );
  }
  const grads = new Map<string, number>();
  for (const p of allParams.filter((q) => q.trainable)) {
    grads.set(
      p.name,
      b.tensor({
        name: `grad:${p.name}`,
        shape: p.shape,
        perSample: false,
        dtype: "f32",
        role: "grad",
      }),
    );
  }

  const { epilogues, fused, unfused } = chooseFusion(model, consumers);
  const values = new Map<number, number>();
  for (const n of model.nodes) {
    const rule = layers.get(n.op)?.lowering;
    const base = { name: n.name, shape: n.shape, perSample: true, dtype: "f32" as const };
    if (n.op === "Input") values.set(n.id, b.tensor({ ...base, role: "input" }));
    else if (rule?.alias || fused.has(n.id)) {
      values.set(n.id, b.tensor({ ...base, role: "value", aliasOf: values.get(n.inputs[0]!)! }));
    } else if (!rule) throw new LoweringError(`${n.op} ('${n.name}') cannot be compiled yet`);
    else values.set(n.id, b.tensor({ ...base, role: "value" }));
  }

  const scratch = new Map<string, number>();
  const context = (n: IRNode, steps: Step[]): LowerContext => {
    // The steps of a layer compute a fused activation after it too.
    const fusedAct = epilogues.get(n.id);
    const layers = fusedAct ? [n.name, fusedAct.layer] : [n.name];
    return {
      name: n.name,
      inputs: n.inputs.map((i) => byId.get(i)!.shape),
      output: n.shape,
      args: n.attrs,
      x: n.inputs.map((i) => values.get(i)!),
      y: values.get(n.id)!,
      epilogue: fusedAct?.act,
      param(name) {
        return params.get(`${n.name}.${name}`)!;
      },
      scratch(name, shape, perSample) {
        const key = `${n.name}:${name}`;
        let id = scratch.get(key);
        if (id === undefined) {
          id = b.tensor({ name: key, shape, perSample, dtype: "f32", role: "scratch" });
          scratch.set(key, id);
        }
        return id;
      },
      step(kernel, inputs, outputs, attrs, accumulate = false) {
        steps.push(step({ kernel, inputs, outputs, attrs, accumulate, layers }));
      },
    };
  };

  for (const n of model.nodes) {
    const rule = layers.get(n.op)?.lowering;
    if (rule && !rule.alias && !fused.has(n.id)) rule.forward(context(n, b.forward));
  }

  const gradients = new Gradients(b);
  const lossTensor = b.tensor({
    name: "loss",
    shape: [1],
    perSample: false,
    dtype: "f32",
    role: "loss",
  });
  /** Layers whose backward a criterion's gradient step took over (LogSoftMax before NLL). */
  const skipBackward = new Set<number>();
  const targets: Program["targets"] = model.criterion.map((term, k) => {
    const node = byId.get(term.node)!;
    const x = values.get(node.id)!;
    const classes = term.targetKind === "classes";
    const target = b.tensor({
      name: `target:${term.output}`,
      shape: term.target,
      perSample: true,
      dtype: classes ? "i32" : "f32",
      role: "target",
    });
    const C = node.shape[0]!;
    const S = elementCount(node.shape.slice(1));
    const c: CriterionLowerContext = {
      x,
      target,
      attrs: { C, S, P: elementCount(node.shape), weight: term.weight },
      args: term.args,
      producer: {
        op: node.op,
        input: node.inputs[0] === undefined ? undefined : values.get(node.inputs[0]),
        soleUse: consumers.get(node.id) === undefined,
      },
      // The first term writes the loss, the others add to it.
      loss(kernel, attrs) {
        const [inputs, outputs, accumulate] = [[x, target], [lossTensor], k > 0];
        b.loss.push(step({ kernel, inputs, outputs, attrs, accumulate, layers: [term.criterion] }));
      },
      grad(kernel, of, attrs) {
        const { tensor, accumulate } = gradients.part(of);
        // A gradient past the producer computes the producer's backward too.
        const layers = skipBackward.has(node.id) ? [node.name, term.criterion] : [term.criterion];
        const [inputs, outputs] = [[x, target], [tensor]];
        b.backward.push(step({ kernel, inputs, outputs, attrs, accumulate, layers }));
      },
      skipProducerBackward: () => skipBackward.add(node.id),
    };
    criterionByName.get(term.criterion)!.lowering(c);
    return {
      name: term.output,
      tensor: target,
      criterion: term.criterion,
      ...(classes ? { classes: C } : {}),
      ...(classes && term.args["ignore"] !== undefined
        ? { ignore: term.args["ignore"] as number }
        : {}),
    };
  });

  for (const n of [...model.nodes].reverse()) {
    const rule = layers.get(n.op)?.lowering;
    if (!rule || rule.alias || fused.has(n.id) || skipBackward.has(n.id)) continue;
    const dy = gradients.reached(values.get(n.id)!);
    if (dy === undefined) continue; // the loss does not depend on it
    const ctx: GradientContext = {
      ...context(n, b.backward),
      dy,
      dx: (i) => gradients.part(values.get(n.inputs[i]!)!),
      dparam: (name) => {
        const g = grads.get(`${n.name}.${name}`);
        if (g !== undefined) gradients.wrote(g);
        return g;
      },
    };
    rule.backward(ctx);
  }
  for (const g of grads.values()) {
    if (gradients.has(g)) continue;
    const attrs = { size: elementCount(b.tensors[g]!.shape), perSample: false };
    const layers = [b.tensors[g]!.name.replace(/^grad:/, "")];
    b.backward.push(
      step({ kernel: "zero", inputs: [], outputs: [g], attrs, accumulate: false, layers }),
    );
  }

  return {
    model: model.name,
    tensors: b.tensors,
    forward: b.forward,
    loss: b.loss,
    backward: b.backward,
    inputs: model.inputs.map((i) => ({ name: i.name, tensor: values.get(i.node)! })),
    outputs: model.outputs.map((o) => ({ name: o.name, tensor: values.get(o.node)! })),
    targets,
    params: [...params].map(([name, tensor]) => ({ name, tensor, grad: grads.get(name) })),
    inputGrads: model.inputs.map((i) => ({
      name: i.name,
      tensor: gradients.of(values.get(i.node)!),
    })),
    lossTensor,
    unfused,
  };
}
