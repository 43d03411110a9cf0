// Batch normalisation over channels: SpatialBatchNormalization ([C, H, W]) and BatchNormalization ([C] or [C, L]).
import { formatShape } from "../diagnostics.js";
import { batchNormReference } from "./batch-normalization.reference.js";
import { rankHint } from "./window.js";
import { size, type Args, type LayerDef, type ParamInit } from "./types.js";

const zero: ParamInit = { kind: "constant", value: 0 };
const one: ParamInit = { kind: "constant", value: 1 };

/** Channels first, then everything else per sample: [C, S]. */
function normAttrs(shape: readonly number[], args: Args) {
  return {
    C: shape[0]!,
    S: size(shape.slice(1)),
    eps: args["eps"] as number,
    momentum: args["momentum"] as number,
    affine: args["affine"] === true,
  };
}

function batchNorm(
  name: string,
  summary: string,
  aliases: string[],
  ranks: number[],
  expected: string,
): LayerDef {
  return {
    name,
    summary,
    aliases,
    args: [
      {
        name: "features",
        type: "int",
        min: 1,
        optional: true,
        doc: "channels, checked against the input (inferred when left out)",
      },
      { name: "eps", type: "float", default: 1e-5, min: 0, doc: "added to the variance" },
      {
        name: "momentum",
        type: "float",
        default: 0.1,
        min: 0,
        max: 1,
        doc: "weight of the newest batch in the running statistics",
      },
      {
        name: "affine",
        type: "bool",
        default: true,
        doc: "learn a per-channel scale (weight) and shift (bias)",
      },
    ],
    shapeRule: `${expected} → unchanged`,
    outputShape(ctx) {
      const input = ctx.inputs[0]!;
      if (!ranks.includes(input.length)) {
        return ctx.error("rank-mismatch", {
          layer: name,
          expected: `a ${expected}`,
          shape: formatShape(input),
          hint: rankHint(name, input),
        });
      }
      const written = ctx.args["features"];
      if (typeof written === "number" && written !== input[0]) {
        return ctx.error(
          "input-size-mismatch",
          { layer: name, what: "channels", written, actual: input[0]!, shape: formatShape(input) },
          "features",
        );
      }
      return input;
    },
    lowering: {
      forward(c) {
        const attrs = normAttrs(c.output, c.args);
        const affine = attrs.affine ? [c.param("weight"), c.param("bias")] : [];
        const stats = [c.scratch("mean", [attrs.C], false), c.scratch("invstd", [attrs.C], false)];
        const inputs = [c.x[0]!, ...affine, c.param("running_mean"), c.param("running_var")];
        c.step("batch_norm", inputs, [c.y, ...stats], attrs);
      },
      backward(c) {
        const attrs = normAttrs(c.output, c.args);
        const stats = [c.scratch("mean", [attrs.C], false), c.scratch("invstd", [attrs.C], false)];
        const inputs = [c.x[0]!, ...(attrs.affine ? [c.param("weight")] : []), ...stats, c.dy];
        const dx = c.dx(0);
        // A frozen layer's scale and shift get no gradient; its input's still may be needed.
        const dweight = attrs.affine ? c.dparam("weight") : undefined;
        const affine = dweight !== undefined ? [dweight, c.dparam("bias")!] : [];
        if (!dx && affine.length === 0) return;
        const outputs = [dx?.tensor ?? -1, ...affine];
        c.step("batch_norm_grad", inputs, outputs, attrs, dx?.accumulate ?? false);
      },
    },
    params(input, args) {
      const c = [input[0]!];
      const stats = [
        { name: "running_mean", shape: c, trainable: false, init: zero },
        { name: "running_var", shape: c, trainable: false, init: one },
      ];
      const affine = [
        { name: "weight", shape: c, trainable: true, init: one },
        { name: "bias", shape: c, trainable: true, init: zero },
      ];
      return args["affine"] ? [...affine, ...stats] : stats;
    },
    reference: batchNormReference,
  };
}

export const spatialBatchNormalization = batchNorm(
  "SpatialBatchNormalization",
  "Normalises each channel over the batch and the spatial positions (PyTorch's BatchNorm2d).",
  ["BatchNorm2d", "BatchNorm"],
  [3],
  "[channels, height, width]",
);

export const batchNormalization = batchNorm(
  "BatchNormalization",
  "Normalises each feature of [C] or [C, L] over the batch (and the length), as PyTorch's BatchNorm1d.",
  ["BatchNorm1d", "BatchNormalization1d"],
  [1, 2],
  "[features] or [channels, length]",
);
