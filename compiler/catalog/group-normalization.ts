// Per-sample normalisation: GroupNormalization, LayerNormalization and InstanceNormalization
// (PyTorch's GroupNorm, LayerNorm and InstanceNorm1d/2d), all one kernel op: statistics per
// sample and group of channels, then a learnt scale (weight) and shift (bias).
import { formatShape } from "../diagnostics.js";
import type { GroupNormAttrs } from "../ops.js";
import { groupNormReference } from "./group-normalization.reference.js";
import {
  size,
  type ArgSpec,
  type Args,
  type LayerDef,
  type ParamInit,
  type Shape,
} from "./types.js";

const zero: ParamInit = { kind: "constant", value: 0 };
const one: ParamInit = { kind: "constant", value: 1 };

const epsArg: ArgSpec = {
  name: "eps",
  type: "float",
  default: 1e-5,
  min: 0,
  doc: "added to the variance",
};

const channelsArg = (name: string, doc: string): ArgSpec => ({
  name,
  type: "int",
  min: 1,
  optional: true,
  doc: `${doc}, checked against the input (inferred when left out)`,
});

/** What each layer normalises over, as the op's channels, positions and groups. */
type AttrsOf = (shape: Shape, args: Args) => GroupNormAttrs;

const common = (shape: Shape, args: Args) => ({
  C: shape[0]!,
  S: size(shape.slice(1)),
  eps: args["eps"] as number,
  affine: args["affine"] === true,
});

function normalization(
  def: Pick<LayerDef, "name" | "summary" | "aliases" | "args" | "shapeRule" | "outputShape">,
  attrsOf: AttrsOf,
  /** The shape of the scale and of the shift. */
  affineShape: (input: Shape) => Shape,
): LayerDef {
  return {
    ...def,
    params(input, args) {
      if (args["affine"] !== true) return [];
      const shape = affineShape(input);
      return [
        { name: "weight", shape, trainable: true, init: one },
        { name: "bias", shape, trainable: true, init: zero },
      ];
    },
    // Per value: the mean and variance sums, the normalisation and the affine.
    flops: (input) => 8 * size(input),
    lowering: {
      forward(c) {
        const a = attrsOf(c.output, c.args);
        const affine = a.affine ? [c.param("weight"), c.param("bias")] : [];
        const stats = [c.scratch("mean", [a.G], true), c.scratch("invstd", [a.G], true)];
        c.step("group_norm", [c.x[0]!, ...affine], [c.y, ...stats], a);
      },
      backward(c) {
        const a = attrsOf(c.output, c.args);
        const [mean, invstd] = [c.scratch("mean", [a.G], true), c.scratch("invstd", [a.G], true)];
        const dx = c.dx(0);
        if (dx) {
          const weight = a.affine ? [c.param("weight")] : [];
          const inputs = [c.x[0]!, ...weight, mean, invstd, c.dy];
          c.step("group_norm_grad", inputs, [dx.tensor], a, dx.accumulate);
        }
        // A frozen layer's scale and shift get no gradient.
        const dweight = a.affine ? c.dparam("weight") : undefined;
        if (dweight !== undefined) {
          const outputs = [dweight, c.dparam("bias")!];
          c.step("group_norm_grad_params", [c.x[0]!, mean, invstd, c.dy], outputs, a);
        }
      },
    },
    reference: groupNormReference(attrsOf),
  };
}

/** The input's rank is one of `ranks`, else an error naming what the layer takes. */
function checkRank(
  ctx: Parameters<LayerDef["outputShape"]>[0],
  ranks: readonly number[],
  expected: string,
): boolean {
  const input = ctx.inputs[0]!;
  if (ranks.includes(input.length)) return true;
  ctx.error("rank-mismatch", { layer: ctx.layer, expected, shape: formatShape(input) });
  return false;
}

/** A written channel count (argument `name`) agrees with the input's. */
function checkChannels(ctx: Parameters<LayerDef["outputShape"]>[0], name: string): boolean {
  const input = ctx.inputs[0]!;
  const written = ctx.args[name];
  if (typeof written !== "number" || written === input[0]) return true;
  ctx.error(
    "input-size-mismatch",
    { layer: ctx.layer, what: "channels", written, actual: input[0]!, shape: formatShape(input) },
    name,
  );
  return false;
}

export const groupNormalization = normalization(
  {
    name: "GroupNormalization",
    summary:
      "Normalises each sample over groups of channels, then scales and shifts each channel (PyTorch's GroupNorm).",
    aliases: ["GroupNorm"],
    args: [
      {
        name: "groups",
        type: "int",
        min: 1,
        doc: "groups the channels are split into (PyTorch's num_groups)",
      },
      channelsArg("channels", "channels (PyTorch's num_channels)"),
      epsArg,
      {
        name: "affine",
        type: "bool",
        default: true,
        doc: "learn a per-channel scale (weight) and shift (bias)",
      },
    ],
    shapeRule: "[channels, …] → unchanged; channels divisible by groups",
    outputShape(ctx) {
      if (
        !checkRank(ctx, [1, 2, 3], "a [channels], [channels, length] or [channels, height, width]")
      )
        return undefined;
      if (!checkChannels(ctx, "channels")) return undefined;
      const input = ctx.inputs[0]!;
      const groups = ctx.args["groups"] as number;
      if (input[0]! % groups !== 0) {
        return ctx.error(
          "norm-groups",
          { layer: ctx.layer, channels: input[0]!, groups, shape: formatShape(input) },
          "groups",
        );
      }
      return input;
    },
  },
  (shape, args) => ({ ...common(shape, args), G: args["groups"] as number }),
  (input) => [input[0]!],
);

export const layerNormalization = normalization(
  {
    name: "LayerNormalization",
    summary:
      "Normalises each sample over all its values, then scales and shifts each value (PyTorch's LayerNorm).",
    aliases: ["LayerNorm"],
    args: [
      epsArg,
      {
        name: "affine",
        type: "bool",
        default: true,
        doc: "learn a scale (weight) and shift (bias) of the per-sample shape (PyTorch's elementwise_affine)",
      },
    ],
    shapeRule: "any shape → unchanged",
    outputShape: (ctx) => ctx.inputs[0],
  },
  // Every value is a channel of its own in one group: the affine is elementwise.
  (shape, args) => ({ ...common([size(shape)], args), G: 1 }),
  (input) => input,
);

export const instanceNormalization = normalization(
  {
    name: "InstanceNormalization",
    summary:
      "Normalises each channel of each sample over its positions (PyTorch's InstanceNorm2d and 1d).",
    aliases: ["InstanceNorm2d", "InstanceNorm1d", "InstanceNorm"],
    args: [
      channelsArg("features", "channels (PyTorch's num_features)"),
      epsArg,
      {
        name: "affine",
        type: "bool",
        default: false,
        doc: "learn a per-channel scale (weight) and shift (bias); off by default as in PyTorch, whose default track_running_stats=False netc follows: no running statistics, the same in training and evaluation",
      },
    ],
    shapeRule: "[channels, length] or [channels, height, width] → unchanged",
    outputShape(ctx) {
      if (!checkRank(ctx, [2, 3], "a [channels, length] or [channels, height, width]"))
        return undefined;
      return checkChannels(ctx, "features") ? ctx.inputs[0] : undefined;
    },
  },
  (shape, args) => ({ ...common(shape, args), G: shape[0]! }),
  (input) => [input[0]!],
);
