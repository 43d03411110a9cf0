// Lowering: a checked model becomes a kernel program — forward, loss, and its compile-time gradient.
import { layers } from "../catalog/index.js";
import type { Epilogue, GradientContext, LowerContext } from "../catalog/types.js";
import type { IRNode, ModelIR } from "../ir.js";
import { elementCount, type Program, type Step, type Tensor } from "./program.js";

/** Layers an elementwise activation can be fused into (bias + activation in their output loop). */
const fusesActivation = new Set(["SpatialConvolution", "Linear"]);

export class LoweringError extends Error {}

class ProgramBuilder {
  readonly tensors: Tensor[] = [];
  readonly forward: Step[] = [];
  readonly loss: Step[] = [];
  readonly backward: Step[] = [];

  tensor(t: Omit<Tensor, "id">): number {
    const id = this.tensors.length;
    this.tensors.push({ id, ...t });
    return id;
  }

  /** The tensor whose memory `id` uses (following View/Flatten and fused activations). */
  root(id: number): number {
    let t = this.tensors[id]!;
    while (t.aliasOf !== undefined) t = this.tensors[t.aliasOf]!;
    return t.id;
  }
}

export function lower(model: ModelIR): Program {
  const b = new ProgramBuilder();
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const consumers = new Map<number, IRNode[]>();
  for (const n of model.nodes)
    for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const isOutput = new Set(model.outputs.map((o) => o.node));

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

  // Which activations fuse into the layer before them: that layer's output must feed nothing else.
  const epilogues = new Map<number, Epilogue>();
  const fused = new Set<number>();
  for (const n of model.nodes) {
    const rule = layers.get(n.op)?.lowering;
    const producer = byId.get(n.inputs[0] ?? -1);
    if (!rule?.epilogue || !producer || !fusesActivation.has(producer.op)) continue;
    if (
      consumers.get(producer.id)!.length !== 1 ||
      isOutput.has(producer.id) ||
      epilogues.has(producer.id)
    )
      continue;
    epilogues.set(producer.id, rule.epilogue(n.attrs));
    fused.add(n.id);
  }

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
  const context = (n: IRNode, steps: Step[]): LowerContext => ({
    inputs: n.inputs.map((i) => byId.get(i)!.shape),
    output: n.shape,
    args: n.attrs,
    x: n.inputs.map((i) => values.get(i)!),
    y: values.get(n.id)!,
    epilogue: epilogues.get(n.id),
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
      steps.push({ kernel, inputs, outputs, attrs, accumulate });
    },
  });

  for (const n of model.nodes) {
    const rule = layers.get(n.op)?.lowering;
    if (rule && !rule.alias && !fused.has(n.id)) rule.forward(context(n, b.forward));
  }

  // Gradients: one tensor per memory root; the first part written overwrites, later ones add.
  const gradOfRoot = new Map<number, number>();
  const written = new Set<number>();
  const gradient = (value: number) => {
    const root = b.root(value);
    let g = gradOfRoot.get(root);
    if (g === undefined) {
      const t = b.tensors[root]!;
      g = b.tensor({
        name: `grad:${t.name}`,
        shape: t.shape,
        perSample: true,
        dtype: "f32",
        role: "gradient",
      });
      gradOfRoot.set(root, g);
    }
    return g;
  };
  const part = (value: number) => {
    const tensor = gradient(value);
    const accumulate = written.has(tensor);
    written.add(tensor);
    return { tensor, accumulate };
  };

  const targets: Program["targets"] = [];
  const lossTensor = b.tensor({
    name: "loss",
    shape: [1],
    perSample: false,
    dtype: "f32",
    role: "loss",
  });
  /** LogSoftMax nodes whose backward the fused LogSoftMax+NLL gradient replaces. */
  const skipBackward = new Set<number>();
  model.criterion.forEach((term, k) => {
    const node = byId.get(term.node)!;
    const out = values.get(node.id)!;
    const classes = term.targetKind === "classes";
    const target = b.tensor({
      name: `target:${term.output}`,
      shape: term.target,
      perSample: true,
      dtype: classes ? "i32" : "f32",
      role: "target",
    });
    targets.push({
      name: term.output,
      tensor: target,
      criterion: term.criterion,
      ...(classes ? { classes: node.shape[0]! } : {}),
    });
    const C = node.shape[0]!;
    const S = elementCount(node.shape.slice(1));
    const attrs = { C, S, P: elementCount(node.shape), weight: term.weight };
    const lossStep = (kernel: string) =>
      b.loss.push({
        kernel,
        inputs: [out, target],
        outputs: [lossTensor],
        attrs,
        accumulate: k > 0,
      });
    const gradStep = (kernel: string, input: number, extra: Record<string, string> = {}) => {
      const { tensor, accumulate } = part(input);
      b.backward.push({
        kernel,
        inputs: [input, target],
        outputs: [tensor],
        attrs: { ...attrs, ...extra },
        accumulate,
      });
    };
    if (term.criterion === "NLL") {
      lossStep("nll");
      const logSoftmaxFused = node.op === "LogSoftMax" && consumers.get(node.id) === undefined;
      if (logSoftmaxFused) {
        skipBackward.add(node.id);
        // The gradient goes straight to LogSoftMax's input: softmax − one-hot.
        const { tensor, accumulate } = part(values.get(node.inputs[0]!)!);
        b.backward.push({
          kernel: "class_loss_grad",
          inputs: [out, target],
          outputs: [tensor],
          attrs: { ...attrs, mode: "log_softmax_nll" },
          accumulate,
        });
      } else gradStep("class_loss_grad", out, { mode: "nll" });
    } else if (term.criterion === "CrossEntropy") {
      lossStep("cross_entropy");
      gradStep("class_loss_grad", out, { mode: "cross_entropy" });
    } else {
      const kernel = term.criterion === "MSE" ? "mse" : "bce";
      lossStep(kernel);
      gradStep(`${kernel}_grad`, out);
    }
  });

  for (const n of [...model.nodes].reverse()) {
    const rule = layers.get(n.op)?.lowering;
    if (!rule || rule.alias || fused.has(n.id) || skipBackward.has(n.id)) continue;
    const y = values.get(n.id)!;
    const dy = gradOfRoot.get(b.root(y));
    if (dy === undefined || !written.has(dy)) continue; // the loss does not depend on it
    const ctx: GradientContext = {
      ...context(n, b.backward),
      dy,
      dx: (i) => part(values.get(n.inputs[i]!)!),
      dparam: (name) => {
        const g = grads.get(`${n.name}.${name}`)!;
        written.add(g);
        return g;
      },
    };
    rule.backward(ctx);
  }
  for (const g of grads.values()) {
    if (written.has(g)) continue;
    const attrs = { size: elementCount(b.tensors[g]!.shape), perSample: false };
    b.backward.push({ kernel: "zero", inputs: [], outputs: [g], attrs, accumulate: false });
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
    inputGrads: model.inputs.map((i) => ({ name: i.name, tensor: gradient(values.get(i.node)!) })),
    lossTensor,
  };
}
