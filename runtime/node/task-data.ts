// The data `netc train` and `netc eval` use for a model: Fashion-MNIST (classes or reconstruction)
// or one of the generated sets (segmentation, detection), chosen by the model's input and task.
import type { Layout } from "../api-types.js";
import { formatShape, sizeOf, toReconstruction, type Dataset } from "../data/dataset.js";
import { detectionSet } from "../data/synthetic-detection.js";
import { segmentationSet } from "../data/synthetic-segmentation.js";
import { NetcError } from "../errors.js";
import { Rng } from "../rng.js";
import { taskOf, type Task } from "../task.js";
import { loadFashionMnist } from "./fashion-mnist.js";

export interface TaskData {
  task: Task;
  train: Dataset;
  test: Dataset;
  /** One line for the user: what the data is and how much there is. */
  description: string;
  /** For class targets: a name per class, for the confusion matrix. */
  classNames?: readonly string[];
}

export interface TaskDataOptions {
  /** A Fashion-MNIST directory (`--data`). */
  dataDir?: string;
  /** Only the first `limit` training samples (`--limit`). */
  limit?: number;
}

/** The generated sets' sizes: enough to learn from in a few minutes on two cores. */
const SYNTHETIC_TRAIN = 1024;
const SYNTHETIC_TEST = 256;
/** The generated sets do not depend on the training seed: `eval` sees the same test set. */
const SYNTHETIC_SEED = 0;

const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

const known =
  "netc train has Fashion-MNIST for input [1, 28, 28] (NLL or CrossEntropy over 10 classes, or MSE to reconstruct the image), " +
  "a generated segmentation set for input [1, 32, 32] (NLL or CrossEntropy per pixel, 2 classes) " +
  "and a generated detection set for input [3, 64, 64] (outputs boxes [4, 8, 8] and objectness [1, 8, 8])";

/** The first `n` samples, sharing the data (no copy). */
function firstSamples(dataset: Dataset, n: number): Dataset {
  if (n >= dataset.count) return dataset;
  return {
    ...dataset,
    count: n,
    inputs: dataset.inputs.subarray(0, n * sizeOf(dataset.inputShape)),
    targets: dataset.targets.map((t) => ({ ...t, data: t.data.subarray(0, n * sizeOf(t.shape)) })),
  };
}

const is = (shape: readonly number[], expected: readonly number[]) =>
  formatShape(shape) === formatShape(expected);

/** The data for `layout`'s model, or a NetcError naming the data sets there are. */
export function taskData(layout: Layout, options: TaskDataOptions = {}): TaskData {
  const task = taskOf(layout);
  const input = layout.inputs.length === 1 ? layout.inputs[0]!.shape : undefined;
  const shapes = layout.inputs.map((i) => `${i.name} ${formatShape(i.shape)}`).join(", ");
  const criteria = [...new Set(layout.targets.map((t) => t.criterion))].join(" + ");
  const none = new NetcError(
    `no data for model ${layout.model} (input ${shapes}, criterion ${criteria}): ${known}`,
  );
  if (!task || !input) throw none;
  const limit = options.limit ?? Infinity;

  if (
    (task.kind === "classification" || task.kind === "reconstruction") &&
    is(input, [1, 28, 28])
  ) {
    const data = loadFashionMnist({ dataDir: options.dataDir });
    const train = firstSamples(data.train, limit);
    const limited =
      train.count < data.train.count ? `; training on the first ${count(train.count)}` : "";
    if (task.kind === "reconstruction") {
      return {
        task,
        train: toReconstruction(train),
        test: toReconstruction(data.test),
        description: `${data.description}, reconstructing the images${limited}`,
      };
    }
    const classNames = data.train.targets[0]!.classNames;
    return {
      task,
      train,
      test: data.test,
      description: data.description + limited,
      ...(classNames ? { classNames } : {}),
    };
  }

  const generated = task.kind === "segmentation" || task.kind === "detection";
  if (generated && options.dataDir !== undefined) {
    throw new NetcError(
      `--data is for Fashion-MNIST; model ${layout.model} trains on a generated ${task.kind} set`,
    );
  }
  const rng = new Rng(SYNTHETIC_SEED);
  const trainCount = Math.min(SYNTHETIC_TRAIN, limit);
  const sizes = `${count(trainCount)} train, ${count(SYNTHETIC_TEST)} test`;
  if (task.kind === "segmentation" && is(input, [1, 32, 32])) {
    const train = segmentationSet(trainCount, rng.fork("segmentation-train")).dataset;
    const test = segmentationSet(SYNTHETIC_TEST, rng.fork("segmentation-test")).dataset;
    return {
      task,
      train,
      test,
      description: `generated segmentation set (${sizes}): bright shapes on noise, a class per pixel`,
      ...(train.targets[0]!.classNames ? { classNames: train.targets[0]!.classNames } : {}),
    };
  }
  if (task.kind === "detection" && is(input, [3, 64, 64])) {
    const train = detectionSet(trainCount, rng.fork("detection-train")).dataset;
    const test = detectionSet(SYNTHETIC_TEST, rng.fork("detection-test")).dataset;
    return {
      task,
      train,
      test,
      description: `generated detection set (${sizes}): colored boxes on noise, one per cell of an 8x8 grid at most`,
    };
  }
  throw none;
}
