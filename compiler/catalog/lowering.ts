// Lowering pieces shared by several layers: window attributes, the fused bias+activation gradient.
import {
  activationRow,
  type ConvWindow,
  type Epilogue,
  type OpAttrs,
  type OpName,
  type Window,
} from "../ops.js";
import { pair, type Args, type GradientContext, type LowerContext, type Shape } from "./types.js";

/** The constants every windowed kernel specialises on. */
export function windowAttrs(input: Shape, output: Shape, args: Args): Window {
  const [KH, KW] = pair(args["kernel"]);
  const [SH, SW] = pair(args["stride"]);
  const [PH, PW] = pair(args["pad"]);
  return {
    C: input[0]!,
    H: input[1]!,
    W: input[2]!,
    K: output[0]!,
    OH: output[1]!,
    OW: output[2]!,
    KH: KH!,
    KW: KW!,
    SH: SH!,
    SW: SW!,
    PH: PH!,
    PW: PW!,
  };
}

/** A convolution's window: its dilation (1 when the layer has none) and groups besides. */
export function convAttrs(input: Shape, output: Shape, args: Args): ConvWindow {
  const [DH, DW] = args["dilation"] === undefined ? [1, 1] : pair(args["dilation"]);
  const G = typeof args["groups"] === "number" ? args["groups"] : 1;
  return { ...windowAttrs(input, output, args), DH, DW, G };
}

/** The layer's bias, and the activation fused into it if any. */
export function epilogueAttrs(c: LowerContext): Epilogue {
  const bias = c.args["bias"] === true;
  return c.epilogue ? { bias, act: c.epilogue } : { bias };
}

/**
 * The outputs of a layer with an epilogue: y, and the value before the activation when the
 * activation's derivative reads it (kept for the backward, the memory the activation's own
 * input would have taken unfused).
 */
export function epilogueOutputs(c: LowerContext): number[] {
  const keep = c.epilogue && activationRow(c.epilogue).gradReads === "x";
  return keep ? [c.y, c.scratch("pre-activation", c.output, true)] : [c.y];
}

/**
 * The backward of a layer's epilogue in one pass: the fused activation's derivative applied to
 * dy in place, and the bias gradient summed from it. Afterwards c.dy holds the pre-activation
 * gradient. `channels` × `spatial` is the per-sample layout of the output.
 */
export function epilogueBackward(c: GradientContext, channels: number, spatial: number): void {
  const { act, bias } = epilogueAttrs(c);
  // A frozen layer's bias gets no gradient: the pass is then the activation's alone.
  const db = bias ? c.dparam("bias") : undefined;
  if (!act && db === undefined) return;
  const outputs = [...(act ? [c.dy] : []), ...(db !== undefined ? [db] : [])];
  const attrs = { bias: db !== undefined, ...(act ? { act } : {}), C: channels, S: spatial };
  // The derivative reads y, or the kept value before the activation.
  const read = epilogueOutputs(c);
  c.step("activation_grad", [read[read.length - 1]!, c.dy], outputs, attrs);
}

/** The weight-gradient step of a layer, unless the layer is frozen. */
export function weightGradient<K extends "conv2d_grad_weight" | "linear_grad_weight">(
  c: GradientContext,
  kernel: K,
  inputs: number[],
  attrs: OpAttrs[K],
): void {
  const dw = c.dparam("weight");
  if (dw !== undefined) c.step(kernel, inputs, [dw], attrs);
}

/** Inputs of a layer with a weight and an optional bias. */
export const weightInputs = (c: LowerContext): number[] => [
  c.x[0]!,
  c.param("weight"),
  ...(c.args["bias"] === true ? [c.param("bias")] : []),
];

/**
 * The backward of a layer joining several values (Add, Concat): one kernel writing every input's
 * gradient, each overwritten or added to on its own (a value may already hold another part).
 */
export function emitJoinGrad<K extends OpName & ("add_grad" | "concat_grad")>(
  c: GradientContext,
  kernel: K,
  attrs: (accumulate: boolean[]) => OpAttrs[K],
): void {
  const grads = c.x.map((_, i) => c.dx(i));
  if (grads.every((g) => g === undefined)) return;
  const accumulate = grads.map((g) => g?.accumulate ?? false);
  c.step(
    kernel,
    [c.dy],
    grads.map((g) => g?.tensor ?? -1),
    attrs(accumulate),
  );
}
