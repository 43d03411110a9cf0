// Frozen layers: `freeze = [features, conv1]` in the train block names labelled layers or block
// uses whose parameters are not trained, as PyTorch's `module.requires_grad_(False)` or Keras's
// `layer.trainable = False`. The lowering then emits no gradient work for them.
import type { Expr } from "../grammar/ast.js";
import { diagnostic, type Diagnostic } from "./diagnostics.js";
import type { GraphNode } from "./graph.js";
import type { IRNode } from "./ir.js";
import { suggest } from "./suggest.js";

/** The `freeze` setting of the train block, for completion, hover and the reference. */
export const freezeSetting = {
  name: "freeze",
  value: "a label, or [labels]",
  doc: "labelled layers or block uses whose parameters are not trained: no gradient, no update",
} as const;

/** What `freeze` can name in one model. */
export interface FreezeScope {
  model: string;
  /**
   * Each label of the model's body, with the parameters of the layers it names (a block use's
   * label names its whole expansion); undefined where a shape error left a layer unknown.
   */
  labels: ReadonlyMap<string, { params: number | undefined }>;
  /** Labels inside labelled block uses, and the use's label: what `freeze` must name instead. */
  inner: ReadonlyMap<string, string>;
}

/** The label a layer's name starts with: `features` for `features.conv1`, none for `3` or `2.a`. */
export function labelOf(name: string): string | undefined {
  const first = name.split(".", 1)[0]!;
  return /^[A-Za-z_]/.test(first) ? first : undefined;
}

/** The labels of a model's layers (`graph`, all of them) and their parameters (`typed`). */
export function freezeScope(
  model: string,
  graph: readonly GraphNode[],
  typed: ReadonlyMap<number, IRNode>,
): FreezeScope {
  const labels = new Map<string, { params: number | undefined }>();
  const inner = new Map<string, string>();
  for (const node of graph) {
    const label = node.op === "Input" ? undefined : labelOf(node.name);
    if (label === undefined) continue;
    for (const part of node.name.split(".").slice(1)) {
      if (/^[A-Za-z_]/.test(part) && !inner.has(part)) inner.set(part, label);
    }
    const known = typed.get(node.id);
    const params = known?.params.reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
    const before = labels.get(label) ?? { params: 0 };
    const total =
      before.params === undefined || params === undefined ? undefined : before.params + params;
    labels.set(label, { params: total });
  }
  return { model, labels, inner };
}

/** The labels `freeze = ...` names, each once; every other name is a diagnostic. */
export function checkFreeze(
  value: Expr,
  scope: FreezeScope,
  report: (d: Diagnostic) => void,
): string[] {
  // A syntax error is already reported.
  if (value.kind === "Missing") return [];
  const labels: string[] = [];
  for (const item of value.kind === "Tuple" ? value.items : [value]) {
    if (item.kind === "Missing") continue;
    if (item.kind !== "Name") {
      const got =
        item.kind === "Number" || item.kind === "Bool"
          ? String(item.value)
          : item.kind === "Call"
            ? `${item.callee.name}(...)`
            : "an expression";
      const expected = "the labels of layers or block uses, such as [conv1, features]";
      report(diagnostic("argument-type", item.range, { name: "freeze", expected, got }));
      continue;
    }
    const label = scope.labels.get(item.name);
    if (!label) {
      const within = scope.inner.get(item.name);
      const suggestion = within ?? suggest(item.name, scope.labels.keys());
      const params = { name: item.name, model: scope.model, suggestion, within };
      report(diagnostic("unknown-label", item.range, params));
      continue;
    }
    if (label.params === 0)
      report(diagnostic("nothing-to-freeze", item.range, { name: item.name }));
    if (!labels.includes(item.name)) labels.push(item.name);
  }
  return labels;
}

/** How many values the frozen parameters of a model hold. */
export function frozenCount(nodes: readonly IRNode[]): number {
  return nodes
    .flatMap((n) => n.params)
    .filter((p) => p.frozen)
    .reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * The nodes with the parameters under `labels` frozen: not trainable, so the lowering gives them
 * no gradient and the optimizer no update. Buffers (batch-norm running statistics) are left as
 * they are: as in PyTorch, a frozen layer's running statistics still move in training mode.
 */
export function freezeNodes(nodes: readonly IRNode[], labels: readonly string[]): IRNode[] {
  const frozen = new Set(labels);
  return nodes.map((node) => {
    const label = labelOf(node.name);
    if (label === undefined || !frozen.has(label) || node.params.length === 0) return node;
    const params = node.params.map((p) =>
      p.trainable ? { ...p, trainable: false, frozen: true } : p,
    );
    return { ...node, params };
  });
}
