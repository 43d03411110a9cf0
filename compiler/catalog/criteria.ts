// Criteria (losses): what target each takes, which head it expects, as rows of one table.
import { formatShape, type DiagnosticCode } from "../diagnostics.js";
import { bce, crossEntropy, mse, nll, type CriterionReference } from "./criteria.reference.js";
import type { Shape } from "./types.js";

export interface CriterionDef {
  name: string;
  summary: string;
  aliases: string[];
  /** The target shape per sample for an output shape, or an error detail. */
  target(output: Shape): { shape: Shape; kind: "classes" | "values" } | { error: string };
  /** A lint when the output comes from an unexpected head (the producing layer's op). */
  head?: {
    lint: DiagnosticCode;
    accepts: (op: string) => boolean;
    /** The layer that makes an output what the criterion expects: the lint's quick fix. */
    missing?: string;
  };
  reference: CriterionReference;
}

function classTarget(output: Shape) {
  if (output.length >= 1 && output[0]! >= 2)
    return { shape: output.slice(1), kind: "classes" as const };
  // One channel is a yes/no score, which BCE takes.
  const hint = output[0] === 1 ? "; for one yes/no score, use BCE after a Sigmoid" : "";
  return {
    error: `needs one score per class along the channel dimension (at least 2), got ${formatShape(output)}${hint}`,
  };
}

const sameShape = (output: Shape) => ({ shape: output, kind: "values" as const });

export const criteria: CriterionDef[] = [
  {
    name: "NLL",
    summary:
      "Negative log-likelihood of class indices given log-probabilities; per pixel on [C, H, W] outputs.",
    aliases: ["NLLLoss", "ClassNLLCriterion", "NLLCriterion"],
    target: classTarget,
    head: {
      lint: "nll-without-logsoftmax",
      accepts: (op) => op === "LogSoftMax",
      missing: "LogSoftMax",
    },
    reference: nll,
  },
  {
    name: "CrossEntropy",
    summary: "LogSoftMax over channels followed by NLL, fused; takes raw scores (logits).",
    aliases: ["CrossEntropyLoss", "CrossEntropyCriterion", "SoftmaxCrossEntropy"],
    target: classTarget,
    head: {
      lint: "softmax-before-crossentropy",
      accepts: (op) => op !== "SoftMax" && op !== "LogSoftMax",
    },
    reference: crossEntropy,
  },
  {
    name: "BCE",
    summary:
      "Binary cross-entropy of probabilities in (0, 1) against targets in [0, 1] of the same shape.",
    aliases: ["BCELoss", "BCECriterion", "BinaryCrossEntropy"],
    target: sameShape,
    head: { lint: "bce-without-sigmoid", accepts: (op) => op === "Sigmoid", missing: "Sigmoid" },
    reference: bce,
  },
  {
    name: "MSE",
    summary: "Mean squared error against targets of the same shape.",
    aliases: ["MSELoss", "MSECriterion", "L2"],
    target: sameShape,
    reference: mse,
  },
];
