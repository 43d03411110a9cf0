// The resolved graph: blocks inlined, names bound, arguments bound; shapes not yet known.
import type { Span } from "../grammar/ast.js";
import type { Args } from "./catalog/types.js";

/** Where a node inside an inlined block was used from in the model (outermost use). */
export interface UseSite {
  block: string;
  range: Span;
}

export interface GraphNode {
  id: number;
  /** "Input", or a catalog layer name. */
  op: string;
  /** Label path: `conv1`, `stage1.a`, or the position `3` for an unlabelled layer. */
  name: string;
  inputs: number[];
  /** How each input reads in a message: a bound name or the producing layer. */
  inputNames: string[];
  args: Args;
  argRanges: Record<string, Span>;
  /** Each argument's value alone, without `name=`. */
  valueRanges: Record<string, Span>;
  /** Where the layer is written (inside the block, for inlined nodes). */
  range: Span;
  site?: UseSite;
}

/** A source term of the model's own body (a layer or block use) and the node it yields. */
export interface Term {
  range: Span;
  node: number;
}

export interface NamedNode {
  name: string;
  node: number;
  range: Span;
}

export interface ModelGraph {
  name: string;
  range: Span;
  nodes: GraphNode[];
  inputs: NamedNode[];
  outputs: NamedNode[];
  /** Every output the model declares, also those unknown after an error (not "no such output"). */
  outputNames: string[];
  terms: Term[];
}
