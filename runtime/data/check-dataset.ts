// Does the data fit the model? Input shape, finite inputs, target shapes and kinds, class counts,
// class indices in range and finite values.
import { NetcError } from "../errors.js";
import { formatShape, sizeOf, type Dataset, type Target } from "./dataset.js";
import { listClasses } from "./labels.js";

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
  /** The label that counts for nothing (the criterion's `ignore=`): valid whatever its value. */
  ignore?: number;
}

export interface ModelExpectation {
  model: string;
  inputShape: readonly number[];
  criterion: readonly ExpectedTarget[];
}

/** `model M`, or `model M's output species` when the model has several targets. */
export function scorer(expected: ModelExpectation, term: ExpectedTarget): string {
  const single = expected.criterion.length === 1;
  return single ? `model ${expected.model}` : `model ${expected.model}'s output ${term.output}`;
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

/** `record 7`, or where the data says record 7 comes from (`cat/007.png`, `line 9 of a.csv`). */
function recordName(record: number, locate: ((record: number) => string) | undefined): string {
  return locate ? locate(record) : `record ${record}`;
}

/** Element `i` of per-sample `shape`, in a message: ` (element [4, 17])`, nothing for a scalar. */
function element(i: number, shape: readonly number[]): string {
  const per = sizeOf(shape);
  return shape.length > 0 && per > 1 ? ` (element ${position(i % per, shape)})` : "";
}

/** The first value that is NaN or infinite, named by its record and element. */
function checkFinite(
  values: Float32Array,
  shape: readonly number[],
  locate: Dataset["locate"],
  what: string,
): void {
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x - x === 0) continue; // finite; NaN and ±Infinity give NaN
    const record = Math.floor(i / sizeOf(shape));
    throw new NetcError(
      `the data's ${what} at ${recordName(record, locate)}${element(i, shape)} is ${x}: training needs finite numbers`,
    );
  }
}

/** Labels in [0, classes), or the term's ignored label. */
function checkLabels(
  target: Target,
  scoredBy: string,
  classes: number,
  ignore: number | undefined,
  locate: Dataset["locate"],
): void {
  const per = sizeOf(target.shape);
  const data = target.data;
  for (let i = 0; i < data.length; i++) {
    const label = data[i]!;
    if ((label < 0 || label >= classes) && label !== ignore) {
      const record = Math.floor(i / per);
      throw new NetcError(
        `label ${label} at ${recordName(record, locate)}${element(i, target.shape)} is out of range for the ${classes} classes of ${scoredBy}`,
      );
    }
  }
}

/** Data that names its classes must name as many as the model's output scores. */
function checkClassCount(target: Target, term: ExpectedTarget, scoredBy: string): void {
  // Class values (0/1, one-hot) were encoded for the model's shape: only indices remain to check.
  const classes = term.classes;
  if (target.classes === undefined || classes === undefined || target.classes === classes) return;
  const names = target.classNames ? ` (${listClasses(target.classNames)})` : "";
  throw new NetcError(
    `the data has ${target.classes} classes${names} but ${scoredBy} scores ${classes}`,
  );
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
  checkFinite(dataset.inputs, dataset.inputShape, dataset.locate, "input");
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
    const locate = target.locate ?? dataset.locate;
    checkClassCount(target, term, scorer(expected, term));
    if (kind === "classes" && term.classes !== undefined) {
      checkLabels(target, scorer(expected, term), term.classes, term.ignore, locate);
    }
    if (target.data instanceof Float32Array && target.data !== dataset.inputs) {
      checkFinite(target.data, target.shape, locate, `target ${term.output}`);
    }
    return index;
  });
}
