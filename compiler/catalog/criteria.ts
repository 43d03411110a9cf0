// Criteria (losses): what target each takes, which head it expects, as rows of one table.
import { formatShape, type DiagnosticCode } from "../diagnostics.js";
import type { LossAttrs, OpAttrs, OpName } from "../ops.js";
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
    /**
     * Without that head the loss means nothing (NLL of raw scores falls without bound, BCE of
     * values outside [0, 1] is not a loss), so `netc train` stops on the lint unless allowed.
     */
    stopsTraining?: true;
  };
  reference: CriterionReference;
  lowering: CriterionLowering;
}

/** Ops that write a loss, and ops that write a criterion's gradient. */
type LossOp = "nll" | "cross_entropy" | "mse" | "bce";
type LossGradOp = "class_loss_grad" | "mse_grad" | "bce_grad";

/** What a criterion's lowering sees: its output and target tensors, and the layer making it. */
export interface CriterionLowerContext {
  /** The output judged, and its target. */
  readonly x: number;
  readonly target: number;
  /** The output's channels and positions, and the term's weight. */
  readonly attrs: LossAttrs;
  /** The layer that makes the output, its input value, and whether nothing else reads it. */
  readonly producer: { op: string; input: number | undefined; soleUse: boolean };
  /** The loss step: reads (x, target), adds its weighted mean into the loss. */
  loss<K extends LossOp>(kernel: K, attrs: OpAttrs[K]): void;
  /** A gradient step reading (x, target) and writing the gradient of `of` (x, or deeper). */
  grad<K extends LossGradOp & OpName>(kernel: K, of: number, attrs: OpAttrs[K]): void;
  /** The gradient step writes past the producer: its own backward must not run. */
  skipProducerBackward(): void;
}

export type CriterionLowering = (c: CriterionLowerContext) => void;

/** MSE and BCE: a loss and its gradient with respect to the output. */
const pointwise =
  (loss: "mse" | "bce", grad: "mse_grad" | "bce_grad"): CriterionLowering =>
  (c) => {
    c.loss(loss, c.attrs);
    c.grad(grad, c.x, c.attrs);
  };

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
      stopsTraining: true,
    },
    reference: nll,
    lowering(c) {
      c.loss("nll", c.attrs);
      // After a LogSoftMax that nothing else reads, the gradient goes straight to the
      // LogSoftMax's input, as softmax − one-hot: one kernel for both layers.
      if (c.producer.op === "LogSoftMax" && c.producer.soleUse && c.producer.input !== undefined) {
        c.skipProducerBackward();
        c.grad("class_loss_grad", c.producer.input, { ...c.attrs, mode: "log_softmax_nll" });
      } else c.grad("class_loss_grad", c.x, { ...c.attrs, mode: "nll" });
    },
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
    lowering(c) {
      c.loss("cross_entropy", c.attrs);
      c.grad("class_loss_grad", c.x, { ...c.attrs, mode: "cross_entropy" });
    },
  },
  {
    name: "BCE",
    summary:
      "Binary cross-entropy of probabilities in (0, 1) against targets in [0, 1] of the same shape.",
    aliases: ["BCELoss", "BCECriterion", "BinaryCrossEntropy"],
    target: sameShape,
    head: {
      lint: "bce-without-sigmoid",
      accepts: (op) => op === "Sigmoid",
      missing: "Sigmoid",
      stopsTraining: true,
    },
    reference: bce,
    lowering: pointwise("bce", "bce_grad"),
  },
  {
    name: "MSE",
    summary: "Mean squared error against targets of the same shape.",
    aliases: ["MSELoss", "MSECriterion", "L2"],
    target: sameShape,
    reference: mse,
    lowering: pointwise("mse", "mse_grad"),
  },
];

/** The lints `netc train` stops on (see `stopsTraining`). */
export const trainingStoppers: readonly DiagnosticCode[] = criteria.flatMap((c) =>
  c.head?.stopsTraining ? [c.head.lint] : [],
);
