// The `train` block's `augment` setting: a list of torchvision's transforms, as `Compose` takes
// them, bound against their signatures and checked against the model's input.
import type { Expr, Span } from "../grammar/ast.js";
import type { AugmentStep } from "../runtime/api-types.js";
import { bindCall, type CallSetting } from "./bind-call.js";
import type { ArgSpec } from "./catalog/types.js";
import { diagnostic } from "./diagnostics.js";
import type { EvalContext } from "./values.js";

export interface AugmentationDef {
  name: AugmentStep["name"];
  summary: string;
  args: ArgSpec[];
}

export const augmentations: AugmentationDef[] = [
  {
    name: "RandomCrop",
    summary:
      "Pads the image with zeros on each side, then crops it back to its size at a random place (torchvision's RandomCrop with fill 0).",
    args: [
      {
        name: "size",
        type: "size2",
        min: 1,
        doc: "the crop's height and width: the input's",
      },
      {
        name: "padding",
        type: "int",
        default: 0,
        min: 0,
        doc: "zeros added on each side before cropping",
      },
    ],
  },
  {
    name: "RandomHorizontalFlip",
    summary: "Mirrors the image left to right with probability p.",
    args: [{ name: "p", type: "float", default: 0.5, min: 0, max: 1, doc: "the probability" }],
  },
];

/** The model's input, as far as the checker knows it (no shape after an error in the body). */
export interface AugmentedInput {
  name: string;
  shape: readonly number[] | undefined;
}

const formatShape = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/**
 * The steps of `augment = [RandomCrop(28, padding=4), RandomHorizontalFlip]`, or undefined after
 * reporting what is wrong: an unknown transform, a bad argument, an input that is not an image
 * or whose size the crop does not keep.
 */
export const augmentSetting: CallSetting = {
  name: "augment",
  doc: "applied in order to each training sample, drawn from the run's seed",
  catalog: augmentations,
  expected: `a list of ${augmentations.map((a) => `${a.name}(...)`).join(" and ")}`,
  unknown: (name, range, { known }, suggestion) =>
    diagnostic("unknown-augmentation", range, { name, known, suggestion }),
};

export function checkAugment(
  value: Expr,
  inputs: readonly AugmentedInput[],
  ctx: EvalContext,
): AugmentStep[] | undefined {
  if (value.kind === "Missing") return undefined; // a syntax error, already reported
  const report = (range: Span, detail: string) =>
    ctx.report(diagnostic("augment-mismatch", range, { detail }));
  const steps: AugmentStep[] = [];
  let ok = true;
  for (const step of value.kind === "Tuple" ? value.items : [value]) {
    const bound = bindCall(augmentSetting, step, ctx);
    if (!bound) {
      ok = false;
      continue;
    }
    const input = inputs.length === 1 ? inputs[0]! : undefined;
    if (!input) {
      report(
        step.range,
        `${bound.name} augments a model's one input, but this model has ${inputs.length}`,
      );
      ok = false;
      continue;
    }
    if (!input.shape) continue; // the input's own error is reported
    if (input.shape.length !== 3) {
      report(
        step.range,
        `${bound.name} needs an image input [channels, height, width], but input '${input.name}' is ${formatShape(input.shape)}`,
      );
      ok = false;
      continue;
    }
    if (bound.name === "RandomHorizontalFlip") {
      steps.push({ name: "RandomHorizontalFlip", p: bound.args["p"] as number });
      continue;
    }
    const given = bound.args["size"] as number | number[];
    const size: [number, number] =
      typeof given === "number" ? [given, given] : [given[0]!, given[1]!];
    const [height, width] = input.shape.slice(1) as [number, number];
    if (size[0] !== height || size[1] !== width) {
      const range = bound.valueRanges["size"] ?? step.range;
      const larger = size[0] > height || size[1] > width;
      report(
        range,
        larger
          ? `RandomCrop's size ${formatShape(size)} is larger than input '${input.name}' ${formatShape(input.shape)}; the crop keeps the image's size: ${formatShape([height, width])}`
          : `RandomCrop's size ${formatShape(size)} would make images smaller than input '${input.name}' ${formatShape(input.shape)} takes; the crop keeps the image's size: ${formatShape([height, width])} (padding shifts it)`,
      );
      ok = false;
      continue;
    }
    steps.push({ name: "RandomCrop", size, padding: bound.args["padding"] as number });
  }
  return ok ? steps : undefined;
}
