// Lowering pieces shared by several layers: window attributes, the fused bias+activation gradient.
import { pair, type Args, type GradientContext, type LowerContext, type Shape } from "./types.js";

/** The constants every windowed kernel specialises on. */
export function windowAttrs(input: Shape, output: Shape, args: Args) {
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

export function epilogueAttrs(c: LowerContext) {
  return {
    act: c.epilogue?.act ?? "",
    actParams: c.epilogue?.actParams ?? "",
    bias: c.args["bias"] === true,
  };
}

/**
 * The backward of a layer's epilogue in one pass: the fused activation's derivative applied to
 * dy in place, and the bias gradient summed from it. Afterwards c.dy holds the pre-activation
 * gradient. `channels` × `spatial` is the per-sample layout of the output.
 */
export function epilogueBackward(c: GradientContext, channels: number, spatial: number): void {
  const { act, actParams, bias } = epilogueAttrs(c);
  if (!act && !bias) return;
  const outputs = [...(act ? [c.dy] : []), ...(bias ? [c.dparam("bias")] : [])];
  c.step("activation_grad", [c.y, c.dy], outputs, {
    act,
    actParams,
    bias,
    C: channels,
    S: spatial,
  });
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
export function emitJoinGrad(
  c: GradientContext,
  kernel: string,
  grads: ({ tensor: number; accumulate: boolean } | undefined)[],
  attrs: Record<string, number | string>,
): void {
  const needed = grads.filter((g): g is { tensor: number; accumulate: boolean } => g !== undefined);
  if (needed.length === 0) return;
  const accumulate = grads.map((g) => (g?.accumulate ? "1" : "0")).join(",");
  c.step(
    kernel,
    [c.dy],
    grads.map((g) => g?.tensor ?? -1),
    { ...attrs, accumulate },
  );
}
