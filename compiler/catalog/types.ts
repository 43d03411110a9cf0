// The contract of a catalog entry: signature, shape rule, parameters and cost of one layer.
import { formatShape, type DiagnosticCode, type DiagnosticParams } from "../diagnostics.js";
import type { Activation, OpAttrs, OpName } from "../ops.js";

/** A per-sample shape: the batch dimension is implicit. */
export type Shape = readonly number[];

export type ArgType = "int" | "float" | "bool" | "size2" | "ints" | "floats";
import type { ArgValue, ParamInit } from "../../runtime/api-types.js";

// One definition each, in the runtime's API types: compiled modules carry them as data.
export type { ArgValue, ParamInit } from "../../runtime/api-types.js";

export type Args = Readonly<Record<string, ArgValue | undefined>>;

export interface ArgSpec {
  name: string;
  type: ArgType;
  doc: string;
  /** Absent: the argument is required (unless `optional`). A function derives it from others. */
  default?: ArgValue | ((args: Args) => ArgValue);
  /** May be left out with no default (e.g. an explicit input size that is otherwise inferred). */
  optional?: boolean;
  /** Only by name, never positional. */
  namedOnly?: boolean;
  /** Collects all remaining positional integers (`View(16, 25)`). */
  variadic?: boolean;
  /** Inclusive bounds on the number (each element of a size2/ints). */
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Exclusive upper bound. */
  below?: number;
  /** `Linear(400 -> 120)`: the number before the arrow sets the argument named here. */
  inputSize?: string;
}

export interface ParamSpec {
  /** Local name, prefixed by the layer's name: `weight`, `bias`, `running_mean`. */
  name: string;
  shape: Shape;
  /** False for buffers such as batch-norm running statistics. */
  trainable: boolean;
  init: ParamInit;
}

export interface ShapeContext {
  readonly layer: string;
  readonly inputs: readonly Shape[];
  /** How each input value reads in a message: a bound name, or the layer that makes it. */
  readonly inputNames: readonly string[];
  readonly args: Args;
  /** Reports an error at the layer, or at argument `at` when given; returns undefined. */
  error<C extends DiagnosticCode>(code: C, params: DiagnosticParams<C>, at?: string): undefined;
  warn<C extends DiagnosticCode>(code: C, params: DiagnosticParams<C>, at?: string): void;
}

export interface LayerDef {
  name: string;
  summary: string;
  /** Names from other frameworks, for "did you mean". */
  aliases?: string[];
  args: ArgSpec[];
  /** "many": takes two or more values as arguments (Concat, Add); otherwise one piped input. */
  inputs?: "many";
  /** The shape rule, in words, for the reference docs. */
  shapeRule: string;
  outputShape(ctx: ShapeContext): Shape | undefined;
  params?(input: Shape, args: Args, output: Shape): ParamSpec[];
  /** Forward FLOPs per sample: 2 per multiply-add of convolutions and linear layers. */
  flops?(input: Shape, args: Args, output: Shape): number;
  /** Absent: the layer checks but cannot be compiled yet. */
  lowering?: Lowering;
  /** What the layer means, in plain Float64 loops: the definition the compiled code must match. */
  reference?: ReferenceRule;
}

export const size = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export function pair(v: ArgValue | undefined): [number, number] {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v)) return [v[0] ?? 0, v[1] ?? 0];
  return [0, 0];
}

/** `5x5`, or `3x5` for a non-square window. */
export const formatPair = ([h, w]: readonly number[]): string => `${h}x${w}`;

/** Positional / named argument shared by layers with an output size and an explicit input size. */
export const biasArg: ArgSpec = {
  name: "bias",
  type: "bool",
  default: true,
  doc: "learn an additive bias",
};

/**
 * A weight and an optional bias, both uniform in ±1/√fanIn: PyTorch's default for Linear,
 * Conv2d and ConvTranspose2d (kaiming_uniform with a = √5 reduces to this bound).
 */
export function weightAndBias(
  weight: Shape,
  fanIn: number,
  out: number,
  bias: boolean,
): ParamSpec[] {
  const init: ParamInit = { kind: "uniform", bound: 1 / Math.sqrt(fanIn) };
  const w = { name: "weight", shape: weight, trainable: true, init };
  return bias ? [w, { name: "bias", shape: [out], trainable: true, init }] : [w];
}

/**
 * Whether argument `arg`, where written (`in=`, `features=`), agrees with the input's first
 * dimension (`what`: channels, features); reports the mismatch at the argument if not.
 */
export function writtenSizeAgrees(
  ctx: ShapeContext,
  input: Shape,
  arg: string,
  what: string,
): boolean {
  const written = ctx.args[arg];
  if (typeof written !== "number" || written === input[0]) return true;
  const shape = formatShape(input);
  ctx.error(
    "input-size-mismatch",
    { layer: ctx.layer, what, written, actual: input[0]!, shape },
    arg,
  );
  return false;
}

/** What a layer's lowering sees: its tensors and a way to add kernel steps. */
export interface LowerContext {
  /** The layer's full name (`conv1`, `stage1.a`, `3`): unique in the model. */
  readonly name: string;
  readonly inputs: readonly Shape[];
  readonly output: Shape;
  readonly args: Args;
  /** Tensor ids of the inputs, the output and the named parameters. */
  readonly x: readonly number[];
  readonly y: number;
  param(name: string): number;
  /** A tensor of the layer's own, kept from forward to backward (masks, batch statistics). */
  scratch(name: string, shape: Shape, perSample: boolean): number;
  /** An activation that follows this layer and was fused into it. */
  readonly epilogue: Activation | undefined;
  /** Adds a kernel step; `accumulate` adds into its first output instead of overwriting it. */
  step<K extends OpName>(
    kernel: K,
    inputs: number[],
    outputs: number[],
    attrs: OpAttrs[K],
    accumulate?: boolean,
  ): void;
}

export interface GradientContext extends LowerContext {
  /** The gradient of the output. */
  readonly dy: number;
  /** Where input i's gradient goes, and whether it adds to a part already there; undefined if unneeded. */
  dx(i: number): { tensor: number; accumulate: boolean } | undefined;
  /**
   * The gradient of a trainable parameter; undefined for a frozen one, whose gradient no step
   * may compute (a layer emits no weight-gradient kernel for it).
   */
  dparam(name: string): number | undefined;
}

/** How a layer becomes kernels: its forward steps, and its gradient rule as backward steps. */
export interface Lowering {
  /** The output is the input's memory, unchanged (View, Flatten; Dropout in evaluation). */
  alias?: boolean;
  /** This layer is an elementwise activation: the lowering may fuse it into the layer before. */
  activation?(args: Args): Activation;
  forward(c: LowerContext): void;
  backward(c: GradientContext): void;
}

/**
 * What a reference rule sees: every tensor a flat Float64Array, batch first (N × the per-sample
 * shape, NCHW for images).
 */
export interface ReferenceContext {
  /** The input values, one per input, each N × size(inputs[i]). */
  readonly x: readonly Float64Array[];
  readonly inputs: readonly Shape[];
  readonly output: Shape;
  readonly args: Args;
  readonly N: number;
  /** Training mode: batch statistics, dropout masks. */
  readonly training: boolean;
  /** A parameter or buffer by its local name (`weight`, `running_mean`), as before this pass. */
  param(name: string): Float64Array;
  /** Dropout's mask source: element `index`'s uniform draw in [0, 1) for this layer and pass. */
  uniform(index: number): number;
}

export interface ReferenceForward {
  y: Float64Array;
  /** What the backward pass needs besides inputs and output (a dropout mask, batch statistics). */
  saved?: Record<string, Float64Array>;
  /** New values of buffers by local name (batch norm's running statistics in training). */
  state?: Record<string, Float64Array>;
}

export interface ReferenceBackwardContext extends ReferenceContext {
  readonly y: Float64Array;
  /** The gradient of the loss with respect to the output. */
  readonly dy: Float64Array;
  readonly saved: Readonly<Record<string, Float64Array>>;
}

export interface ReferenceGradients {
  /** The gradient of each input, in order. */
  dx: Float64Array[];
  /** The gradient of every trainable parameter, by local name. */
  dparams?: Record<string, Float64Array>;
}

/** A layer's meaning: its forward rule, and beside it the gradient rule of that forward. */
export interface ReferenceRule {
  forward(c: ReferenceContext): ReferenceForward;
  backward(c: ReferenceBackwardContext): ReferenceGradients;
}
