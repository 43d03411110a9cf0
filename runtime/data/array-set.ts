// Named arrays (the members of a .npz, or a directory of .npy files) as training and test sets:
// x_train, y_train, x_test, y_test as Keras's mnist.npz has them, or x and y (no Node imports).
import { NetcError } from "../errors.js";
import { scorer, type ExpectedTarget, type ModelExpectation } from "./check-dataset.js";
import { formatShape, sizeOf, type Dataset, type Target } from "./dataset.js";
import { classTarget, indexNames, listClasses, targetPrefix } from "./labels.js";
import type { NdArray } from "./npy.js";

/** Where the arrays are: `data.npz` or a directory, and each array by key. */
export interface ArrayStore {
  name: string;
  keys: readonly string[];
  read(key: string): NdArray;
}

export interface ArraySets {
  train: Dataset;
  /** Absent when the store has no x_test: a part of `train` is held out. */
  test?: Dataset;
  /** What was read and how: one line each. */
  notes: string[];
}

const withoutOnes = (shape: readonly number[]) => formatShape(shape.filter((d) => d !== 1));

/** Shapes that differ only in dimensions of 1 hold the same values in the same order. */
const sameValues = (a: readonly number[], b: readonly number[]) =>
  withoutOnes(a) === withoutOnes(b);

/** `x_train [60000, 28, 28] uint8`: an array as the notes list what was read. */
function describe(key: string, array: NdArray): string {
  return `${key} ${formatShape(array.shape)} ${array.dtype}`;
}

function records(array: NdArray): number {
  if (array.shape.length === 0) {
    throw new NetcError(
      `${array.name} is a single number (shape []); it needs one record per sample`,
    );
  }
  return array.shape[0]!;
}

/**
 * The inputs of `array` as the model takes them: samples of the input's shape (dimensions of 1
 * aside), or channels last (`[H, W, C]`, Keras's layout) moved first. uint8 values are pixels and
 * are divided by 255; other numbers are kept as they are.
 */
function inputsOf(array: NdArray, model: ModelExpectation): Dataset {
  if (array.kind === "string") {
    throw new NetcError(`${array.name} holds strings; inputs must be numbers`);
  }
  const count = records(array);
  const sample = array.shape.slice(1);
  const shape = [...model.inputShape];
  const size = sizeOf(shape);
  const inputs = new Float32Array(count * size);
  const scale = array.dtype === "uint8" ? 1 / 255 : 1;
  const data = array.data;
  if (sameValues(sample, shape)) {
    for (let i = 0; i < inputs.length; i++) inputs[i] = data[i]! * scale;
  } else if (
    shape.length === 3 &&
    formatShape(sample) === formatShape([shape[1]!, shape[2]!, shape[0]!])
  ) {
    const [c, h, w] = shape as [number, number, number];
    for (let n = 0; n < count; n++) {
      for (let p = 0; p < h * w; p++) {
        for (let k = 0; k < c; k++)
          inputs[n * size + k * h * w + p] = data[(n * h * w + p) * c + k]! * scale;
      }
    }
  } else {
    throw new NetcError(
      `${array.name} holds ${count} samples of shape ${formatShape(sample)} but model ${model.model} takes input ${formatShape(shape)}`,
    );
  }
  const locate = (record: number) => `record ${record} of ${array.name}`;
  return { inputs, inputShape: shape, count, targets: [], locate };
}

const INT32_MAX = 2 ** 31 - 1;

/** The target of `term` from `array`: class indices (integers or names) or values. */
function targetOf(
  array: NdArray,
  term: ExpectedTarget,
  expected: ModelExpectation,
  notes: string[],
): Target {
  const model = expected.model;
  const sample = array.shape.slice(1);
  const locate = (record: number) => `record ${record} of ${array.name}`;
  const takes = `model ${model}'s criterion ${term.criterion}(${term.output}) takes`;
  if (array.kind === "string") {
    if (sample.length > 0) {
      throw new NetcError(
        `${array.name} holds names of shape ${formatShape(sample)}; names label whole samples, shape []`,
      );
    }
    const { names, indices } = indexNames(array.data);
    notes.push(
      `${targetPrefix(expected, term)}${array.name}: ${names.length} classes in sorted order: ${listClasses(names)}`,
    );
    return { ...classTarget(indices, names, term, model, array.name), locate };
  }
  const wanted = term.targetKind === "classes" ? "class indices" : "values";
  if (!sameValues(sample, term.target)) {
    throw new NetcError(
      `${array.name} holds targets of shape ${formatShape(sample)} but ${takes} ${wanted} of shape ${formatShape(term.target)}`,
    );
  }
  const shape = [...term.target];
  if (term.targetKind === "values") {
    return { output: term.output, data: Float32Array.from(array.data), shape, locate };
  }
  if (array.kind === "float") {
    throw new NetcError(
      `${array.name} holds ${array.dtype} numbers but ${takes} class indices: save integer labels (y.astype("int64"))`,
    );
  }
  const data = new Int32Array(array.data.length);
  for (let i = 0; i < data.length; i++) {
    const label = array.data[i]!;
    if (Math.abs(label) > INT32_MAX) {
      // Beyond int32 a label would wrap around: refuse it as checkDataset refuses any out of range.
      const record = Math.floor(i / sizeOf(shape));
      throw new NetcError(
        `label ${label} at ${locate(record)} is out of range for the ${term.classes} classes of ${scorer(expected, term)}`,
      );
    }
    data[i] = label;
  }
  return { output: term.output, data, shape, locate };
}

/** The array for each term: `y_train`, or `y_train_<output>` (required when there are several). */
function targetKey(
  store: ArrayStore,
  prefix: string,
  term: ExpectedTarget,
  single: boolean,
): string | undefined {
  const named = `${prefix}_${term.output}`;
  if (store.keys.includes(named)) return named;
  return single && store.keys.includes(prefix) ? prefix : undefined;
}

function missing(store: ArrayStore, wanted: string): NetcError {
  return new NetcError(
    `${store.name} has no ${wanted}; it holds ${store.keys.length > 0 ? store.keys.join(", ") : "no arrays"}. netc reads x_train, y_train and optionally x_test, y_test (Keras's mnist.npz), or x and y (then --test-split holds out a part); a model with several outputs takes y_train_<output> for each`,
  );
}

function setOf(
  store: ArrayStore,
  x: string,
  y: string,
  model: ModelExpectation,
  reconstruct: boolean,
  notes: string[],
): Dataset {
  const inputs = store.read(x);
  const dataset = inputsOf(inputs, model);
  const single = model.criterion.length === 1;
  const keys = model.criterion.map((term) => targetKey(store, y, term, single));
  const read = [describe(x, inputs)];
  const targetNotes: string[] = [];
  if (
    reconstruct &&
    keys.some((k) => k === undefined || !fits(store.read(k), model.criterion[0]!))
  ) {
    // An autoencoder: labels beside the images are not its targets.
    targetNotes.push(`${x}: the targets are the inputs themselves (the model reconstructs them)`);
  } else {
    model.criterion.forEach((term, t) => {
      const key = keys[t];
      if (key === undefined) {
        throw missing(
          store,
          single
            ? `${y} (or ${y}_${term.output})`
            : `${y}_${term.output} for output ${term.output}`,
        );
      }
      const array = store.read(key);
      if (records(array) !== dataset.count) {
        throw new NetcError(
          `${array.name} has ${records(array)} records but ${inputs.name} has ${dataset.count}`,
        );
      }
      dataset.targets.push(targetOf(array, term, model, targetNotes));
      read.push(describe(key, array));
    });
  }
  const scaled = inputs.dtype === "uint8" ? " (uint8 inputs divided by 255)" : "";
  notes.push(`read ${read.join(", ")}${scaled}`, ...targetNotes);
  return dataset;
}

const fits = (array: NdArray, term: ExpectedTarget) =>
  array.kind !== "string" && sameValues(array.shape.slice(1), term.target);

/**
 * The training and test sets in `store` for `model`. `reconstruct` (an autoencoder) makes the
 * inputs the targets unless the store has targets of the target's shape.
 */
export function arraySets(
  store: ArrayStore,
  model: ModelExpectation,
  reconstruct: boolean,
): ArraySets {
  const has = (key: string) => store.keys.includes(key);
  const notes: string[] = [];
  if (has("x_train")) {
    const train = setOf(store, "x_train", "y_train", model, reconstruct, notes);
    if (!has("x_test")) return { train, notes };
    const test = setOf(store, "x_test", "y_test", model, reconstruct, notes);
    return { train, test, notes };
  }
  if (has("x")) return { train: setOf(store, "x", "y", model, reconstruct, notes), notes };
  throw missing(store, "x_train or x");
}
