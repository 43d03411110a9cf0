// Shape inference: each graph node gets its static per-sample shape, parameters and FLOPs.
import { layers } from "./catalog/index.js";
import type { Shape, ShapeContext } from "./catalog/types.js";
import { atUseSite, diagnostic, type Diagnostic } from "./diagnostics.js";
import type { GraphNode, ModelGraph } from "./graph.js";
import type { IRNode } from "./ir.js";
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
  if (node.op === "Input") {
    return { ...base, ...located, shape: node.args["shape"] as Shape, params: [], flops: 0 };
  }
  const inputs = node.inputs.map((id) => known.get(id)?.shape);
  if (inputs.some((s) => s === undefined)) return undefined;
  const def = layers.get(node.op)!;
  const emit = (d: Diagnostic, at?: string) => {
    // Inside an inlined block, the problem is the use in the model: point there.
    if (node.site) {
      report(
        atUseSite({ ...d, range: node.range }, node.site, `${node.op} '${node.name}' is here`),
      );
    } else {
      const fixes = shapeFixes(d, node, inputs[0]!, at);
      report({
        ...d,
        range: (at && node.argRanges[at]) || node.range,
        ...(fixes.length > 0 ? { fixes } : {}),
      });
    }
  };
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
  if (!shape) return undefined;
  const input = inputs[0]!;
  const params = (def.params?.(input, node.args, shape) ?? []).map((p) => ({
    ...p,
    name: `${node.name}.${p.name}`,
  }));
  return { ...base, ...located, shape, params, flops: def.flops?.(input, node.args, shape) ?? 0 };
}
