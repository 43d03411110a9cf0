// Does the data fit the model? Input shape, target shapes and kinds, and class indices in range.
import { NetcError } from "../errors.js";
import { formatShape, sizeOf, type Dataset, type Target } from "./dataset.js";

/** What one criterion term takes; a compiler `CriterionTerm` plus the class count of its output. */
export interface ExpectedTarget {
  /** `NLL`, `MSE`, ...: named in errors. */
  criterion: string;
  output: string;
  /** Per sample. */
  target: readonly number[];
  targetKind: "classes" | "values";
  /** For class indices: the channels of the output (`[C]` or `[C, H, W]`). */
  classes?: number;
}

export interface ModelExpectation {
  model: string;
  inputShape: readonly number[];
  criterion: readonly ExpectedTarget[];
}

/** The data's target for a term: by output name, or the single unnamed target. */
function targetFor(dataset: Dataset, term: ExpectedTarget, model: string): number {
  const named = dataset.targets.findIndex((t) => t.output === term.output);
  if (named >= 0) return named;
  if (dataset.targets.length === 1 && dataset.targets[0]!.output === undefined) return 0;
  const have = dataset.targets.map((t) => t.output ?? "(unnamed)").join(", ");
  throw new NetcError(
    `model ${model}'s criterion ${term.criterion}(${term.output}) needs a target for output ${term.output}, but the data has targets for: ${have}`,
  );
}

/** `[4, 17]` for element 4 * 32 + 17 of a `[32, 32]` target: where a bad label sits. */
function position(index: number, shape: readonly number[]): string {
  const at: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    at.unshift(index % shape[d]!);
    index = Math.floor(index / shape[d]!);
  }
  return formatShape(at);
}

function checkLabels(target: Target, classes: number): void {
  const per = sizeOf(target.shape);
  const data = target.data;
  for (let i = 0; i < data.length; i++) {
    const label = data[i]!;
    if (label < 0 || label >= classes) {
      const record = Math.floor(i / per);
      const where = target.shape.length > 0 ? ` (element ${position(i % per, target.shape)})` : "";
      throw new NetcError(
        `label ${label} at record ${record}${where} is out of range for ${classes} classes`,
      );
    }
  }
}

/**
 * Throws a NetcError naming the mismatch when the data does not fit the model; returns, for each
 * criterion term, the index of its target in `dataset.targets`.
 */
export function checkDataset(dataset: Dataset, expected: ModelExpectation): number[] {
  const { model } = expected;
  if (dataset.count === 0) throw new NetcError(`the data for model ${model} has no samples`);
  const have = formatShape(dataset.inputShape);
  if (have !== formatShape(expected.inputShape)) {
    const what = dataset.inputShape.length === 3 ? "images" : "samples";
    throw new NetcError(
      `the data has ${what} of shape ${have} but model ${model} takes input ${formatShape(expected.inputShape)}`,
    );
  }
  return expected.criterion.map((term) => {
    const index = targetFor(dataset, term, model);
    const target = dataset.targets[index]!;
    const kind = target.data instanceof Int32Array ? "classes" : "values";
    const wanted = `${term.targetKind === "classes" ? "class indices" : "values"} of shape ${formatShape(term.target)}`;
    const got = `${kind === "classes" ? "class indices" : "values"} of shape ${formatShape(target.shape)}`;
    if (kind !== term.targetKind || got !== wanted) {
      throw new NetcError(
        `the data has targets of ${got} but model ${model}'s criterion ${term.criterion} takes ${wanted}`,
      );
    }
    if (kind === "classes" && term.classes !== undefined) checkLabels(target, term.classes);
    return index;
  });
}
