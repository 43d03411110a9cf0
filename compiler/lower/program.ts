// The lowered program: tensors in one arena and the kernel steps of forward, loss and backward.
import type { ParamInit } from "../catalog/types.js";
import type { Step } from "../ops.js";

export type { Step } from "../ops.js";

export type TensorRole =
  | "input" // a model input, written by the caller
  | "target" // a criterion target, written by the caller
  | "param" // a trainable parameter (all contiguous: the optimizer's flat buffer)
  | "state" // a non-trainable parameter (batch-norm running statistics)
  | "grad" // the gradient of a trainable parameter (contiguous, same order as params)
  | "value" // an activation
  | "gradient" // the gradient of an activation or input
  | "scratch" // per-step temporaries kept for the backward pass (masks, statistics)
  | "loss"; // the scalar loss

export interface Tensor {
  id: number;
  name: string;
  /** Per-sample shape when `perSample` (the batch dimension is implicit), else the whole shape. */
  shape: readonly number[];
  perSample: boolean;
  dtype: "f32" | "i32";
  role: TensorRole;
  /** Shares memory with another tensor (View, Flatten, a fused activation's output). */
  aliasOf?: number;
  init?: ParamInit;
}

export interface Program {
  model: string;
  tensors: Tensor[];
  forward: Step[];
  /** The criterion's steps, writing the loss. */
  loss: Step[];
  backward: Step[];
  inputs: { name: string; tensor: number }[];
  outputs: { name: string; tensor: number }[];
  /**
   * `classes` for class-index targets (NLL, CrossEntropy): valid labels are 0 … classes − 1, and
   * `ignore` (the criterion's `ignore=`), which counts for nothing.
   */
  targets: { name: string; tensor: number; criterion: string; classes?: number; ignore?: number }[];
  params: { name: string; tensor: number; grad: number | undefined }[];
  inputGrads: { name: string; tensor: number }[];
  lossTensor: number;
  /** Activations next to a convolution or Linear that run as steps of their own, and why. */
  unfused: { layer: string; reason: string }[];
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * The backward steps that lead to a parameter's gradient: a training step runs only these (the
 * input gradients, often a whole first-layer convolution, are left out).
 */
export function parameterBackward(program: Program): Step[] {
  const needed = new Set<number>(program.tensors.filter((t) => t.role === "grad").map((t) => t.id));
  const kept: Step[] = [];
  for (const step of [...program.backward].reverse()) {
    if (!step.outputs.some((id) => needed.has(id))) continue;
    kept.push(step);
    for (const id of step.inputs) needed.add(id);
    // A step that adds into its output needs whoever wrote it first.
    if (step.accumulate) for (const id of step.outputs) needed.add(id);
  }
  return kept.reverse();
}
