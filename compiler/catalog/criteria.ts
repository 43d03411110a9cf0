// Criteria (losses): what target each takes, which head it expects, as rows of one table.
import { formatShape, type DiagnosticCode } from "../diagnostics.js";
import type { ClassLossAttrs, LossAttrs, OpAttrs, OpName } from "../ops.js";
import {
  bce,
  bceWithLogits,
  classOptions,
  crossEntropy,
  klDiv,
  mse,
  nll,
  smoothL1,
  type CriterionReference,
} from "./criteria.reference.js";
import type { ArgSpec, Args, Shape } from "./types.js";

export interface CriterionDef {
  name: string;
  summary: string;
  aliases: string[];
  /** Named options, PyTorch's arguments of the loss (`NLL(weights=[…], ignore=255)`). */
  options: ArgSpec[];
  /** The options checked against the output's shape: an error detail, or undefined. */
  checkOptions?(args: Args, output: Shape): string | undefined;
  /** The target shape per sample for an output shape, or an error detail. */
  target(output: Shape): { shape: Shape; kind: "classes" | "values" } | { error: string };
  /** A lint when the output comes from an unexpected head (the producing layer's op). */
  head?: {
    lint: DiagnosticCode;
    accepts: (op: string) => boolean;
    /** The layer that makes an output what the criterion expects: the lint's quick fix. */
    missing?: string;
    /** The layer whose work the criterion does itself: the lint's quick fix removes it. */
    superfluous?: string;
    /**
     * Without that head the loss means nothing (NLL of raw scores falls without bound, BCE of
     * values outside [0, 1] is not a loss), so `netc train` stops on the lint unless allowed.
     */
    stopsTraining?: true;
  };
  reference: CriterionReference;
  lowering: CriterionLowering;
}

/** Criteria whose loss and gradient go element by element: `K` and `K_grad` share attributes. */
type PointwiseLoss = "mse" | "bce" | "smooth_l1" | "bce_logits" | "kl_div";

/** Ops that write a loss, and ops that write a criterion's gradient. */
type LossOp = "nll" | "cross_entropy" | PointwiseLoss;
type LossGradOp = "class_loss_grad" | `${PointwiseLoss}_grad`;

/** What a criterion's lowering sees: its output and target tensors, and the layer making it. */
export interface CriterionLowerContext {
  /** The output judged, and its target. */
  readonly x: number;
  readonly target: number;
  /** The output's channels and positions, and the term's weight. */
  readonly attrs: LossAttrs;
  /** The term's options, bound to the criterion's `options`. */
  readonly args: Args;
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

/** A pointwise criterion: its loss, and its gradient with respect to the output. */
const pointwise =
  <K extends PointwiseLoss>(
    loss: K,
    attrs: (c: CriterionLowerContext) => OpAttrs[K] & OpAttrs[`${K}_grad`],
  ): CriterionLowering =>
  (c) => {
    const a = attrs(c);
    c.loss(loss, a);
    c.grad(`${loss}_grad`, c.x, a);
  };

const lossAttrs = (c: CriterionLowerContext) => c.attrs;

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

/** NLLLoss's and CrossEntropyLoss's `weight` and `ignore_index`, named as netc names them. */
const classOptionSpecs: ArgSpec[] = [
  {
    name: "weights",
    type: "floats",
    namedOnly: true,
    optional: true,
    min: 0,
    doc: "a weight per class (PyTorch's `weight`): each target's term is scaled by its class's weight and the mean divides by the sum of the counted targets' weights",
  },
  {
    name: "ignore",
    type: "int",
    namedOnly: true,
    optional: true,
    doc: "a target class that counts for nothing (PyTorch's `ignore_index`, such as segmentation's void label 255): neither in the sum nor in the mean's count, and accepted by the data checks even outside [0, C)",
  },
];

/** `weights=` must give one weight per class. */
function checkClassOptions(args: Args, output: Shape): string | undefined {
  const weights = args["weights"] as readonly number[] | undefined;
  if (weights === undefined || weights.length === output[0]) return undefined;
  return `has ${weights.length} class weights for an output of ${output[0]} classes (${formatShape(output)})`;
}

const classAttrs = (c: CriterionLowerContext): ClassLossAttrs => ({
  ...c.attrs,
  ...classOptions(c.args),
});

export const criteria: CriterionDef[] = [
  {
    name: "NLL",
    summary:
      "Negative log-likelihood of class indices given log-probabilities; per pixel on [C, H, W] outputs.",
    aliases: ["NLLLoss", "ClassNLLCriterion", "NLLCriterion"],
    options: classOptionSpecs,
    checkOptions: checkClassOptions,
    target: classTarget,
    head: {
      lint: "nll-without-logsoftmax",
      accepts: (op) => op === "LogSoftMax",
      missing: "LogSoftMax",
      stopsTraining: true,
    },
    reference: nll,
    lowering(c) {
      const attrs = classAttrs(c);
      c.loss("nll", attrs);
      // After a LogSoftMax that nothing else reads, the gradient goes straight to the
      // LogSoftMax's input, as softmax − one-hot: one kernel for both layers.
      if (c.producer.op === "LogSoftMax" && c.producer.soleUse && c.producer.input !== undefined) {
        c.skipProducerBackward();
        c.grad("class_loss_grad", c.producer.input, { ...attrs, mode: "log_softmax_nll" });
      } else c.grad("class_loss_grad", c.x, { ...attrs, mode: "nll" });
    },
  },
  {
    name: "CrossEntropy",
    summary: "LogSoftMax over channels followed by NLL, fused; takes raw scores (logits).",
    aliases: ["CrossEntropyLoss", "CrossEntropyCriterion", "SoftmaxCrossEntropy"],
    options: [
      ...classOptionSpecs,
      {
        name: "label_smoothing",
        type: "float",
        namedOnly: true,
        default: 0,
        min: 0,
        max: 1,
        doc: "ε of PyTorch 1.13's label smoothing: the target becomes (1 − ε) on its class plus ε/C on every class (each weighted by `weights`)",
      },
    ],
    checkOptions: checkClassOptions,
    target: classTarget,
    head: {
      lint: "softmax-before-crossentropy",
      accepts: (op) => op !== "SoftMax" && op !== "LogSoftMax",
    },
    reference: crossEntropy,
    lowering(c) {
      const attrs = classAttrs(c);
      c.loss("cross_entropy", attrs);
      c.grad("class_loss_grad", c.x, { ...attrs, mode: "cross_entropy" });
    },
  },
  {
    name: "BCE",
    summary:
      "Binary cross-entropy of probabilities in (0, 1) against targets in [0, 1] of the same shape.",
    aliases: ["BCELoss", "BCECriterion", "BinaryCrossEntropy"],
    options: [],
    target: sameShape,
    head: {
      lint: "bce-without-sigmoid",
      accepts: (op) => op === "Sigmoid",
      missing: "Sigmoid",
      stopsTraining: true,
    },
    reference: bce,
    lowering: pointwise("bce", lossAttrs),
  },
  {
    name: "MSE",
    summary: "Mean squared error against targets of the same shape.",
    aliases: ["MSELoss", "MSECriterion", "L2"],
    options: [],
    target: sameShape,
    reference: mse,
    lowering: pointwise("mse", lossAttrs),
  },
  {
    name: "L1",
    summary: "Mean absolute error against targets of the same shape (PyTorch's L1Loss).",
    aliases: ["L1Loss", "AbsCriterion", "MAE"],
    options: [],
    target: sameShape,
    reference: smoothL1(() => 0),
    // PyTorch's smooth_l1_loss at β = 0 is l1_loss: one kernel for both.
    lowering: pointwise("smooth_l1", (c) => ({ ...c.attrs, beta: 0 })),
  },
  {
    name: "SmoothL1",
    summary:
      "Squared error below β and absolute error above (PyTorch's SmoothL1Loss, the box loss of Fast R-CNN and SSD), against targets of the same shape.",
    aliases: ["SmoothL1Loss", "SmoothL1Criterion", "Huber", "HuberLoss"],
    options: [
      {
        name: "beta",
        type: "float",
        namedOnly: true,
        default: 1,
        min: 0,
        doc: "where the loss turns from 0.5·d²/β to |d| − 0.5·β (d = output − target); 0 is L1",
      },
    ],
    target: sameShape,
    reference: smoothL1((args) => args["beta"] as number),
    lowering: pointwise("smooth_l1", (c) => ({ ...c.attrs, beta: c.args["beta"] as number })),
  },
  {
    name: "BCEWithLogits",
    summary:
      "Binary cross-entropy of raw scores (logits) against targets in [0, 1] of the same shape: the Sigmoid taken inside, without overflow (PyTorch's BCEWithLogitsLoss).",
    aliases: ["BCEWithLogitsLoss", "SigmoidBinaryCrossEntropy", "SigmoidCrossEntropy"],
    options: [
      {
        name: "pos_weight",
        type: "floats",
        namedOnly: true,
        optional: true,
        min: 0,
        doc: "the weight of the positive term (t·log σ(x)) per output channel, or one for all channels: PyTorch's `pos_weight` of shape [C, 1, 1] on [C, H, W] outputs, [C] on [C]",
      },
    ],
    checkOptions(args, output) {
      const w = args["pos_weight"] as readonly number[] | undefined;
      if (w === undefined || w.length === 1 || w.length === output[0]) return undefined;
      return `has ${w.length} values of pos_weight for an output of ${output[0]} channels (${formatShape(output)}): give one per channel, or one for all`;
    },
    target: sameShape,
    head: {
      lint: "sigmoid-before-bcewithlogits",
      accepts: (op) => op !== "Sigmoid",
      superfluous: "Sigmoid",
    },
    reference: bceWithLogits,
    lowering: pointwise("bce_logits", (c) => ({
      ...c.attrs,
      posWeight: c.args["pos_weight"] as readonly number[] | undefined,
    })),
  },
  {
    name: "KLDiv",
    summary:
      "Kullback-Leibler divergence of the target distribution from the output's log-probabilities, summed over each sample and averaged over the batch (PyTorch's KLDivLoss with reduction='batchmean'; its default 'mean' divides by every element and warns that it is not the divergence).",
    aliases: ["KLDivLoss", "DistKLDivCriterion", "KLDivergence"],
    options: [
      {
        name: "log_target",
        type: "bool",
        namedOnly: true,
        default: false,
        doc: "the target holds log-probabilities instead of probabilities (PyTorch's `log_target`)",
      },
    ],
    target: sameShape,
    head: {
      lint: "kldiv-without-logsoftmax",
      accepts: (op) => op === "LogSoftMax",
      missing: "LogSoftMax",
      stopsTraining: true,
    },
    reference: klDiv,
    lowering: pointwise("kl_div", (c) => ({
      ...c.attrs,
      logTarget: c.args["log_target"] === true,
    })),
  },
];

/** The lints `netc train` stops on (see `stopsTraining`). */
export const trainingStoppers: readonly DiagnosticCode[] = criteria.flatMap((c) =>
  c.head?.stopsTraining ? [c.head.lint] : [],
);
