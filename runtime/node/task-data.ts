// The data `netc train` and `netc eval` use for a model: the user's own (`--data`), else
// Fashion-MNIST (classes or reconstruction) or one of the generated sets (segmentation,
// detection, ECG), chosen by the model's input and task. Either way it is checked against the
// model before anything runs.
import type { Layout } from "../api-types.js";
import { expectationOf } from "../bind-data.js";
import { checkDataset, type ModelExpectation } from "../data/check-dataset.js";
import { formatShape, sizeOf, toReconstruction, type Dataset } from "../data/dataset.js";
import { holdOut } from "../data/split.js";
import { detectionSet } from "../data/synthetic-detection.js";
import { ecgClassNames, ecgMinLength, ecgRate, ecgSet } from "../data/synthetic-ecg.js";
import { segmentationSet } from "../data/synthetic-segmentation.js";
import { NetcError } from "../errors.js";
import { Rng } from "../rng.js";
import { taskOf, type Task } from "../task.js";
import { loadFashionMnist } from "./fashion-mnist.js";
import { loadUserData } from "./user-data.js";

export interface TaskData {
  /** Undefined for models whose metrics netc does not know (loss only): BCE, regression. */
  task: Task | undefined;
  train: Dataset;
  test: Dataset;
  /** One line for the user: what the data is and how much there is. */
  description: string;
  /** Further lines for the user: arrays read, classes named, the test part held out. */
  notes: string[];
  /** For class targets: a name per class, for the confusion matrix. */
  classNames?: readonly string[];
  /** True when the test set was held out of data that had none. */
  heldOut?: boolean;
}

export interface TaskDataOptions {
  /** The user's data (`--data`): a file or directory (runtime/node/user-data.ts). */
  data?: string;
  /** The CSV columns that are targets (`--label`). */
  labels?: readonly string[];
  /** Resize images to the model's input size (`--resize`). */
  resize?: boolean;
  /** The fraction held out as the test set where the data has none (`--test-split`). */
  testSplit?: number;
  /** Seeds the held-out choice: the run's seed, so that eval sees the same test set. */
  seed?: number;
  /** Only the first `limit` training samples (`--limit`). */
  limit?: number;
}

/** The part held out of data without a test part unless `--test-split` says otherwise. */
export const DEFAULT_TEST_SPLIT = 0.1;

/** The generated sets' sizes: enough to learn from in a few minutes on two cores. */
const SYNTHETIC_TRAIN = 1024;
const SYNTHETIC_TEST = 256;
/** The generated sets do not depend on the training seed: `eval` sees the same test set. */
const SYNTHETIC_SEED = 0;

const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

const known =
  "give your own with --data PATH (image folders, .npz, .npy, .csv: see docs/data.md); " +
  "without it, netc train has Fashion-MNIST for input [1, 28, 28] (NLL or CrossEntropy over 10 classes, or MSE to reconstruct the image), " +
  "a generated segmentation set for input [1, 32, 32] (NLL or CrossEntropy per pixel, 2 classes), " +
  `a generated ECG set for input [1, L], L ≥ ${ecgMinLength} (NLL or CrossEntropy over ${ecgClassNames.length} heartbeat classes) ` +
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

/** Both sets checked against the model: a mismatch is an error before the first step. */
function checked(data: TaskData, model: ModelExpectation): TaskData {
  checkDataset(data.train, model);
  checkDataset(data.test, model);
  return data;
}

/** The user's data for the model, a test part held out where it has none. */
function userData(layout: Layout, path: string, options: TaskDataOptions): TaskData {
  const task = taskOf(layout);
  const model = expectationOf(layout);
  const loaded = loadUserData(path, model, task?.kind === "reconstruction", options);
  const notes = [...loaded.notes];
  let { train, test } = loaded;
  const heldOut = !test;
  if (!test) {
    const fraction = options.testSplit ?? DEFAULT_TEST_SPLIT;
    const seed = options.seed ?? 0;
    ({ train, test } = holdOut(train, fraction, seed));
    notes.push(
      `held out ${count(test.count)} of ${count(train.count + test.count)} samples (${Number((fraction * 100).toPrecision(3))}%, seed ${seed}) as the test set: ${path} has no test part`,
    );
  }
  const limited = firstSamples(train, options.limit ?? Infinity);
  const first =
    limited.count < train.count ? `; training on the first ${count(limited.count)}` : "";
  return checked(
    {
      task,
      train: limited,
      test,
      description: loaded.description + first,
      notes,
      heldOut,
      ...(loaded.classNames ? { classNames: loaded.classNames } : {}),
    },
    model,
  );
}

/** The data for `layout`'s model, or a NetcError naming the data sets there are. */
export function taskData(layout: Layout, options: TaskDataOptions = {}): TaskData {
  if (options.data !== undefined) return userData(layout, options.data, options);
  const task = taskOf(layout);
  const input = layout.inputs.length === 1 ? layout.inputs[0]!.shape : undefined;
  const shapes = layout.inputs.map((i) => `${i.name} ${formatShape(i.shape)}`).join(", ");
  const criteria = [...new Set(layout.targets.map((t) => t.criterion))].join(" + ");
  const none = new NetcError(
    `no data for model ${layout.model} (input ${shapes}, criterion ${criteria}): ${known}`,
  );
  if (!task || !input) throw none;
  const model = expectationOf(layout);
  const limit = options.limit ?? Infinity;

  if (
    (task.kind === "classification" || task.kind === "reconstruction") &&
    is(input, [1, 28, 28])
  ) {
    const data = loadFashionMnist();
    const train = firstSamples(data.train, limit);
    const limited =
      train.count < data.train.count ? `; training on the first ${count(train.count)}` : "";
    if (task.kind === "reconstruction") {
      return checked(
        {
          task,
          train: toReconstruction(train),
          test: toReconstruction(data.test),
          description: `${data.description}, reconstructing the images${limited}`,
          notes: [],
        },
        model,
      );
    }
    const classNames = data.train.targets[0]!.classNames;
    return checked(
      {
        task,
        train,
        test: data.test,
        description: data.description + limited,
        notes: [],
        ...(classNames ? { classNames } : {}),
      },
      model,
    );
  }

  const rng = new Rng(SYNTHETIC_SEED);
  const trainCount = Math.min(SYNTHETIC_TRAIN, limit);
  const sizes = `${count(trainCount)} train, ${count(SYNTHETIC_TEST)} test`;
  if (task.kind === "segmentation" && is(input, [1, 32, 32])) {
    const train = segmentationSet(trainCount, rng.fork("segmentation-train")).dataset;
    const test = segmentationSet(SYNTHETIC_TEST, rng.fork("segmentation-test")).dataset;
    return checked(
      {
        task,
        train,
        test,
        description: `generated segmentation set (${sizes}): bright shapes on noise, a class per pixel`,
        notes: [],
        ...(train.targets[0]!.classNames ? { classNames: train.targets[0]!.classNames } : {}),
      },
      model,
    );
  }
  if (
    task.kind === "classification" &&
    task.classes === ecgClassNames.length &&
    input.length === 2 &&
    input[0] === 1 &&
    input[1]! >= ecgMinLength
  ) {
    const length = input[1]!;
    const train = ecgSet(trainCount, rng.fork("ecg-train"), length).dataset;
    const test = ecgSet(SYNTHETIC_TEST, rng.fork("ecg-test"), length).dataset;
    return checked(
      {
        task,
        train,
        test,
        description: `generated ECG set (${sizes}): single-lead ${length / ecgRate} s windows at ${ecgRate} Hz, ${ecgClassNames.join(", ")}`,
        notes: [],
        classNames: ecgClassNames,
      },
      model,
    );
  }
  if (task.kind === "detection" && is(input, [3, 64, 64])) {
    const train = detectionSet(trainCount, rng.fork("detection-train")).dataset;
    const test = detectionSet(SYNTHETIC_TEST, rng.fork("detection-test")).dataset;
    return checked(
      {
        task,
        train,
        test,
        description: `generated detection set (${sizes}): colored boxes on noise, one per cell of an 8x8 grid at most`,
        notes: [],
      },
      model,
    );
  }
  throw none;
}
