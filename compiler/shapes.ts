// Shape inference: each graph node gets its static per-sample shape, parameters and FLOPs.
import type { Span } from "../grammar/ast.js";
import { layers } from "./catalog/index.js";
import { size, type Shape, type ShapeContext } from "./catalog/types.js";
import { atUseSite, diagnostic, formatShape, type Diagnostic } from "./diagnostics.js";
import type { GraphNode, ModelGraph } from "./graph.js";
import type { IRNode, ModelIR } from "./ir.js";
import { BYTES_PER_VALUE, MAX_MODEL_BYTES, MAX_TENSOR_ELEMENTS } from "./limits.js";
import { shapeFixes } from "./shape-fixes.js";

/** Returns the nodes whose shape is known; a node after an error stays unknown, silently. */
export function inferShapes(
  graph: ModelGraph,
  report: (d: Diagnostic) => void,
): Map<number, IRNode> {
  const known = new Map<number, IRNode>();
  for (const node of graph.nodes) {
    const typed = inferNode(node, known, report);
    if (typed) known.set(node.id, typed);
  }
  return known;
}

function inferNode(
  node: GraphNode,
  known: Map<number, IRNode>,
  report: (d: Diagnostic) => void,
): IRNode | undefined {
  const base = {
    id: node.id,
    op: node.op,
    name: node.name,
    inputs: node.inputs,
    attrs: node.args,
    range: node.range,
  };
  const located = node.site ? { site: node.site } : {};
  const inputs = node.inputs.map((id) => known.get(id)?.shape);
  const emit = (d: Diagnostic, at?: string) => {
    // Inside an inlined block, the problem is the use in the model: point there.
    if (node.site) {
      report(
        atUseSite({ ...d, range: node.range }, node.site, `${node.op} '${node.name}' is here`),
      );
    } else {
      const fixes = inputs[0] ? shapeFixes(d, node, inputs[0], at) : [];
      report({
        ...d,
        range: (at && node.argRanges[at]) || node.range,
        ...(fixes.length > 0 ? { fixes } : {}),
      });
    }
  };
  // Before anything is allocated, every tensor must fit in memory: the budget of limits.ts.
  const fits = (what: string, shape: Shape, perSample: boolean): boolean => {
    const count = size(shape);
    if (count <= MAX_TENSOR_ELEMENTS) return true;
    const params = { what, shape: formatShape(shape), count, perSample };
    emit(diagnostic("tensor-too-large", node.range, params));
    return false;
  };
  if (node.op === "Input") {
    const shape = node.args["shape"] as Shape;
    if (!fits(`input '${node.name}'`, shape, true)) return undefined;
    return { ...base, ...located, shape, params: [], flops: 0 };
  }
  if (inputs.some((s) => s === undefined)) return undefined;
  const def = layers.get(node.op)!;
  const ctx: ShapeContext = {
    layer: node.op,
    inputs: inputs as Shape[],
    inputNames: node.inputNames,
    args: node.args,
    error(code, params, at) {
      emit(diagnostic(code, node.range, params), at);
      return undefined;
    },
    warn(code, params, at) {
      emit(diagnostic(code, node.range, params), at);
    },
  };
  const shape = def.outputShape(ctx);
  if (!shape || !fits(`${node.op} output`, shape, true)) return undefined;
  const input = inputs[0]!;
  const params = (def.params?.(input, node.args, shape) ?? []).map((p) => ({
    ...p,
    name: `${node.name}.${p.name}`,
    frozen: false,
  }));
  if (!params.every((p) => fits(`${node.op} parameter '${p.name}'`, p.shape, false)))
    return undefined;
  return { ...base, ...located, shape, params, flops: def.flops?.(input, node.args, shape) ?? 0 };
}

/**
 * Reports a model whose parameters and one sample's activations cannot fit in memory even
 * at batch 1: nothing could be allocated for it. At the model's name.
 */
export function checkMemory(
  model: ModelIR,
  nameRange: Span,
  report: (d: Diagnostic) => void,
): void {
  let params = 0;
  let activations = 0;
  for (const node of model.nodes) {
    activations += size(node.shape);
    for (const p of node.params) params += size(p.shape);
  }
  const bytes = { params: params * BYTES_PER_VALUE, activations: activations * BYTES_PER_VALUE };
  if (bytes.params + bytes.activations <= MAX_MODEL_BYTES) return;
  report(diagnostic("model-too-large", nameRange, { model: model.name, ...bytes }));
}
