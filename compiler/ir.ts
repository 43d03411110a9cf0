// The typed IR: the resolved graph with a static per-sample shape on every node.
import type { Span } from "../grammar/ast.js";
import type { Args, ParamInit, Shape } from "./catalog/types.js";
import type { NamedNode, UseSite } from "./graph.js";
import type { TrainConfig } from "../runtime/api-types.js";

export interface IRParam {
  /** Full name, PyTorch style: `conv1.weight`, `stage1.a.bias`. */
  name: string;
  shape: Shape;
  /** The optimizer updates it: false for buffers and for the parameters of frozen layers. */
  trainable: boolean;
  /** A parameter of a layer the train block freezes (`freeze = [...]`); not trainable. */
  frozen: boolean;
  init: ParamInit;
}

export interface IRNode {
  id: number;
  op: string;
  name: string;
  inputs: number[];
  shape: Shape;
  attrs: Args;
  params: IRParam[];
  /** Forward FLOPs per sample (2 per multiply-add of convolutions and linear layers). */
  flops: number;
  range: Span;
  site?: UseSite;
}

export interface CriterionTerm {
  criterion: string;
  weight: number;
  output: string;
  node: number;
  /** Per-sample target shape; class indices for NLL/CrossEntropy. */
  target: Shape;
  targetKind: "classes" | "values";
  /** The criterion's options (`weights=`, `ignore=`…), bound to its `options`. */
  args: Args;
  range: Span;
}

// The `train` block's settings are data a compiled module carries: the runtime defines them.
export type { OptimizerConfig, TrainConfig } from "../runtime/api-types.js";

/** Where a source term of the model's body ends up: for inlay shapes and hover. */
export interface TermInfo {
  range: Span;
  node: number;
}

export interface ModelIR {
  name: string;
  range: Span;
  /** Nodes whose shape is known, in dependency order; ids index the full graph. */
  nodes: IRNode[];
  inputs: NamedNode[];
  outputs: NamedNode[];
  terms: TermInfo[];
  criterion: CriterionTerm[];
  train: TrainConfig;
}
