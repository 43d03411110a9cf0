// A data set in memory: float inputs and one or more targets per sample, whatever file it came from.
import { NetcError } from "../errors.js";
import type { IdxArray } from "./idx.js";

/** One target per sample, for one output of the model. */
export interface Target {
  /** The model output this target is for (`boxes`); absent when the data has a single target. */
  output?: string;
  /** Int32Array: class indices (NLL, CrossEntropy); Float32Array: values (MSE, BCE). */
  data: Int32Array | Float32Array;
  /** Per sample: `[]` for one class index, `[32, 32]` for one per pixel, `[1, 28, 28]` for values. */
  shape: number[];
  /**
   * How many classes the data defines (class folders, named labels, a known set), which must be
   * the model's; absent when the labels are bare numbers, which need only be in range.
   */
  classes?: number;
  /** A name per class, for reports: class indices, or values that encode classes (0/1, one-hot). */
  classNames?: readonly string[];
  /** Where record `i`'s target comes from, for errors, when not from the inputs' file. */
  locate?: (record: number) => string;
}

export interface Dataset {
  /** `count` samples of `inputShape`, row-major, one after another. */
  inputs: Float32Array;
  /** Per sample, as the model's `input` declares it: `[1, 28, 28]`. */
  inputShape: number[];
  count: number;
  targets: Target[];
  /** Where record `i` comes from, for errors: `cat/001.png`, `line 7 of iris.csv`; else `record i`. */
  locate?: (record: number) => string;
}

/** A generated set and the shapes drawn in each sample, for tests and pictures. */
export interface SyntheticSet<Scene> {
  dataset: Dataset;
  scenes: Scene[][];
}

/** Elements per sample of a per-sample shape (1 for `[]`). */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export const formatShape = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/** The files the IDX arrays came from, named in errors. */
export interface IdxSources {
  images: string;
  labels: string;
}

/**
 * Images and labels from IDX files: pixels scaled to [0, 1], a rank-3 image file `[N, H, W]`
 * becoming samples `[1, H, W]` (one channel, as convolutions take them). `classes`, when given,
 * bounds the labels; otherwise it is the largest label plus one.
 */
export function fromIdx(
  images: IdxArray,
  labels: IdxArray,
  sources: IdxSources,
  classes?: number,
  classNames?: readonly string[],
): Dataset {
  if (images.dims.length < 2) {
    throw new NetcError(
      `${sources.images} holds ${formatShape(images.dims)}, not images: expected [count, height, width]`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new NetcError(
      `${sources.labels} holds ${formatShape(labels.dims)}, not labels: expected [count]`,
    );
  }
  const count = images.dims[0]!;
  if (labels.dims[0] !== count) {
    throw new NetcError(
      `${sources.images} has ${count} images but ${sources.labels} has ${labels.dims[0]} labels`,
    );
  }
  const rest = images.dims.slice(1);
  const inputShape = rest.length === 2 ? [1, ...rest] : rest;
  const inputs = new Float32Array(images.data.length);
  for (let i = 0; i < inputs.length; i++) inputs[i] = images.data[i]! / 255;
  const data = Int32Array.from(labels.data);
  for (let i = 0; i < count; i++) {
    const label = data[i]!;
    if (classes !== undefined && label >= classes) {
      throw new NetcError(
        `label ${label} at record ${i} of ${sources.labels} is out of range for ${classes} classes`,
      );
    }
  }
  const target: Target = { data, shape: [] };
  if (classes !== undefined) target.classes = classes;
  if (classNames) target.classNames = classNames;
  return { inputs, inputShape, count, targets: [target] };
}

/** The autoencoder's data: each image is its own target (shared, not copied). */
export function toReconstruction(images: Dataset): Dataset {
  const target: Target = { data: images.inputs, shape: [...images.inputShape] };
  return { ...images, targets: [target] };
}
