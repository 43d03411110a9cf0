// The reference interpreter: a model's IR run in Float64 by each op's catalog reference rule, with
// reverse-mode gradients over the graph — the definition the compiled code is tested against.
import { criterionByName, layers } from "./catalog/index.js";
import { size, type ReferenceContext, type ReferenceRule } from "./catalog/types.js";
import type { IRNode, ModelIR } from "./ir.js";

export interface InterpretOptions {
  /** Samples: every input and target holds N × its per-sample size values. */
  N: number;
  /** Training mode: batch statistics (and their running averages), dropout masks. */
  training: boolean;
  /**
   * Dropout's mask source in training: the uniform draw in [0, 1) of element `index` of the
   * Dropout layer named `layer`; an element is dropped when its draw is below p. Needed only
   * when a Dropout runs in training.
   */
  dropoutMask?: (layer: string, index: number) => number;
}

export interface Interpretation {
  /** Every node's value (inputs too) by node id, batch first. */
  values: Map<number, Float64Array>;
  outputs: Map<string, Float64Array>;
  /** The criterion's weighted sum; undefined without targets. */
  loss: number | undefined;
  /** The loss's gradient for every trainable parameter by full name; empty without targets. */
  grads: Map<string, Float64Array>;
  /** The loss's gradient for every input by name; empty without targets. */
  inputGrads: Map<string, Float64Array>;
  /** Every buffer after the pass: batch norm's running statistics move in training. */
  state: Map<string, Float64Array>;
}

/** One array for a model with one input (or one criterion term), else a record keyed by name. */
export type Named<T> = T | Readonly<Record<string, T>>;

const single = <T>(given: Named<T>): given is T =>
  Array.isArray(given) || ArrayBuffer.isView(given);

function pick<T>(given: Named<T>, name: string, names: readonly string[], kind: string): T {
  const value = single(given) ? (new Set(names).size === 1 ? given : undefined) : given[name];
  if (!value) throw new Error(`missing ${kind} '${name}' (pass a record keyed by ${kind} name)`);
  return value;
}

function expectLength(what: string, values: ArrayLike<number>, length: number): void {
  if (values.length !== length)
    throw new Error(`${what} has ${values.length} values, expected ${length}`);
}

export function interpret(
  model: ModelIR,
  params: ReadonlyMap<string, Float64Array>,
  inputs: Named<Float64Array>,
  targets: Named<ArrayLike<number>> | undefined,
  options: InterpretOptions,
): Interpretation {
  const { N, training } = options;
  const byId = new Map(model.nodes.map((n) => [n.id, n]));
  const inputNames = new Map(model.inputs.map((i) => [i.node, i.name]));
  const allParams = model.nodes.flatMap((n) => n.params);
  for (const p of allParams) {
    const value = params.get(p.name);
    if (!value) throw new Error(`missing parameter '${p.name}'`);
    expectLength(`parameter '${p.name}'`, value, size(p.shape));
  }
  const state = new Map<string, Float64Array>(
    allParams
      .filter((p) => !p.trainable)
      .map((p) => [p.name, Float64Array.from(params.get(p.name)!)]),
  );
  const rule = (n: IRNode): ReferenceRule => {
    const r = layers.get(n.op)?.reference;
    if (!r) throw new Error(`${n.op} ('${n.name}') has no reference rule`);
    return r;
  };
  const noMask = () => {
    throw new Error("a Dropout runs in training: pass options.dropoutMask");
  };

  const values = new Map<number, Float64Array>();
  const saved = new Map<number, Record<string, Float64Array>>();
  const context = (n: IRNode): ReferenceContext => ({
    x: n.inputs.map((i) => values.get(i)!),
    inputs: n.inputs.map((i) => byId.get(i)!.shape),
    output: n.shape,
    args: n.attrs,
    N,
    training,
    param: (name) => params.get(`${n.name}.${name}`)!,
    uniform: (index) => (options.dropoutMask ?? noMask)(n.name, index),
  });

  for (const n of model.nodes) {
    if (n.op === "Input") {
      const name = inputNames.get(n.id)!;
      const value = pick(inputs, name, [...inputNames.values()], "input");
      expectLength(`input '${name}'`, value, N * size(n.shape));
      values.set(n.id, Float64Array.from(value));
      continue;
    }
    const result = rule(n).forward(context(n));
    expectLength(`${n.op} ('${n.name}') output`, result.y, N * size(n.shape));
    values.set(n.id, result.y);
    saved.set(n.id, result.saved ?? {});
    for (const [local, value] of Object.entries(result.state ?? {}))
      state.set(`${n.name}.${local}`, value);
  }
  const outputs = new Map(model.outputs.map((o) => [o.name, values.get(o.node)!]));
  const grads = new Map<string, Float64Array>();
  const inputGrads = new Map<string, Float64Array>();
  if (!targets) return { values, outputs, loss: undefined, grads, inputGrads, state };

  // A value used several times (fan-out) collects the sum of its consumers' gradients.
  const dvalues = new Map<number, Float64Array>();
  const addTo = (node: number, g: Float64Array) => {
    const d = dvalues.get(node);
    if (!d) dvalues.set(node, Float64Array.from(g));
    else for (let i = 0; i < d.length; i++) d[i] += g[i]!;
  };
  let loss = 0;
  const outputNames = model.criterion.map((t) => t.output);
  for (const term of model.criterion) {
    const target = pick(targets, term.output, outputNames, "target");
    expectLength(`target '${term.output}'`, target, N * size(term.target));
    const output = byId.get(term.node)!.shape;
    const c = { x: values.get(term.node)!, target, output, N, args: term.args };
    const reference = criterionByName.get(term.criterion)!.reference;
    loss += term.weight * reference.loss(c);
    addTo(
      term.node,
      reference.grad(c).map((g) => term.weight * g),
    );
  }

  for (const p of allParams.filter((q) => q.trainable))
    grads.set(p.name, new Float64Array(size(p.shape)));
  for (const n of [...model.nodes].reverse()) {
    const dy = dvalues.get(n.id);
    if (n.op === "Input" || !dy) continue; // an input, or a value the loss does not depend on
    const r = rule(n).backward({
      ...context(n),
      y: values.get(n.id)!,
      dy,
      saved: saved.get(n.id)!,
    });
    r.dx.forEach((g, i) => addTo(n.inputs[i]!, g));
    for (const [local, g] of Object.entries(r.dparams ?? {})) {
      const total = grads.get(`${n.name}.${local}`);
      if (!total) continue; // a frozen parameter: nothing asks for its gradient
      for (let i = 0; i < total.length; i++) total[i] += g[i]!;
    }
  }
  for (const i of model.inputs) {
    const node = byId.get(i.node)!;
    inputGrads.set(i.name, dvalues.get(i.node) ?? new Float64Array(N * size(node.shape)));
  }
  return { values, outputs, loss, grads, inputGrads, state };
}
