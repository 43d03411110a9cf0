// The data netc has for a model that brings none, chosen by the model's input and task:
// Fashion-MNIST (classes, or reconstruction) or one of the generated sets (segmentation, ECG,
// detection). `netc train` (runtime/node/task-data.ts) and the playground's trainer choose here,
// so that both train on the same samples; each loads Fashion-MNIST its own way (files on disk,
// or the page's copy), and the generated sets are made here. Browser-safe: no Node imports.
import type { Layout } from "../api-types.js";
import { expectationOf } from "../bind-data.js";
import { NetcError } from "../errors.js";
import { Rng } from "../rng.js";
import { taskOf, type Task } from "../task.js";
import { checkDataset, type ModelExpectation } from "./check-dataset.js";
import { formatShape, sizeOf, toReconstruction, type Dataset } from "./dataset.js";
import { detectionSet } from "./synthetic-detection.js";
import { ecgClassNames, ecgMinLength, ecgRate, ecgSet } from "./synthetic-ecg.js";
import { segmentationSet } from "./synthetic-segmentation.js";

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

/** The generated sets' sizes: enough to learn from in a few minutes on two cores. */
const GENERATED_TRAIN = 1024;
const GENERATED_TEST = 256;
/** The generated sets do not depend on the training seed: `eval` sees the same test set. */
const GENERATED_SEED = 0;

/** 1024 → "1,024". */
export const formatSamples = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** The sets there are, for the message of a model that fits none. */
const builtinSets =
  "Fashion-MNIST for input [1, 28, 28] (NLL or CrossEntropy over 10 classes, or MSE to reconstruct the image), " +
  "a generated segmentation set for input [1, 32, 32] (NLL or CrossEntropy per pixel, 2 classes), " +
  `a generated ECG set for input [1, L], L ≥ ${ecgMinLength} (NLL or CrossEntropy over ${ecgClassNames.length} heartbeat classes) ` +
  "and a generated detection set for input [3, 64, 64] (outputs boxes [4, 8, 8] and objectness [1, 8, 8])";

/**
 * The error for a model none of the sets fits: `own` says how to give one's own data there,
 * `offerer` who has the sets ("netc train", "the playground").
 */
export function noBuiltinData(layout: Layout, own: string, offerer: string): NetcError {
  const shapes = layout.inputs.map((i) => `${i.name} ${formatShape(i.shape)}`).join(", ");
  const criteria = [...new Set(layout.targets.map((t) => t.criterion))].join(" + ");
  return new NetcError(
    `no data for model ${layout.model} (input ${shapes}, criterion ${criteria}): ${own}; without it, ${offerer} has ${builtinSets}`,
  );
}

/** The first `n` samples, sharing the data (no copy). */
export function firstSamples(dataset: Dataset, n: number): Dataset {
  if (n >= dataset.count) return dataset;
  return {
    ...dataset,
    count: n,
    inputs: dataset.inputs.subarray(0, n * sizeOf(dataset.inputShape)),
    targets: dataset.targets.map((t) => ({ ...t, data: t.data.subarray(0, n * sizeOf(t.shape)) })),
  };
}

/** Both sets checked against the model: a mismatch is an error before the first step. */
export function checked(data: TaskData, model: ModelExpectation): TaskData {
  checkDataset(data.train, model);
  checkDataset(data.test, model);
  return data;
}

const is = (shape: readonly number[], expected: readonly number[]) =>
  formatShape(shape) === formatShape(expected);

/** Fashion-MNIST as loaded by the caller, with the line that says where from. */
export interface FashionMnistSets {
  train: Dataset;
  test: Dataset;
  description: string;
}

/**
 * What a model gets without data of its own: Fashion-MNIST, which the caller loads and passes
 * to `fashionMnistData`, a generated set, or nothing (then `noBuiltinData` says what there is).
 */
export type Builtin =
  | { kind: "fashion-mnist"; task: Task & { kind: "classification" | "reconstruction" } }
  | { kind: "generated"; data: TaskData };

/** The set for `layout`'s model; `limit` keeps the first training samples only (`--limit`). */
export function builtinData(layout: Layout, limit = Infinity): Builtin | undefined {
  const task = taskOf(layout);
  const input = layout.inputs.length === 1 ? layout.inputs[0]!.shape : undefined;
  if (!task || !input) return undefined;
  if (
    (task.kind === "classification" || task.kind === "reconstruction") &&
    is(input, [1, 28, 28])
  ) {
    return { kind: "fashion-mnist", task };
  }
  const generated = generatedSet(task, input, Math.min(GENERATED_TRAIN, limit));
  return generated && { kind: "generated", data: checked(generated, expectationOf(layout)) };
}

/** The generated set for the task and input, `trainCount` samples to train on, if one fits. */
function generatedSet(
  task: Task,
  input: readonly number[],
  trainCount: number,
): TaskData | undefined {
  const rng = new Rng(GENERATED_SEED);
  const sizes = `${formatSamples(trainCount)} train, ${formatSamples(GENERATED_TEST)} test`;
  if (task.kind === "segmentation" && is(input, [1, 32, 32])) {
    // A criterion with an ignore index gets void pixels to ignore: the shapes' edges.
    const train = segmentationSet(trainCount, rng.fork("segmentation-train"), task.ignore).dataset;
    const test = segmentationSet(
      GENERATED_TEST,
      rng.fork("segmentation-test"),
      task.ignore,
    ).dataset;
    const edges = task.ignore === undefined ? "" : `, edges void (${task.ignore})`;
    const classNames = train.targets[0]!.classNames;
    return {
      task,
      train,
      test,
      description: `generated segmentation set (${sizes}): bright shapes on noise, a class per pixel${edges}`,
      notes: [],
      ...(classNames ? { classNames } : {}),
    };
  }
  if (
    task.kind === "classification" &&
    task.classes === ecgClassNames.length &&
    input.length === 2 &&
    input[0] === 1 &&
    input[1]! >= ecgMinLength
  ) {
    const length = input[1]!;
    return {
      task,
      train: ecgSet(trainCount, rng.fork("ecg-train"), length).dataset,
      test: ecgSet(GENERATED_TEST, rng.fork("ecg-test"), length).dataset,
      description: `generated ECG set (${sizes}): single-lead ${length / ecgRate} s windows at ${ecgRate} Hz, ${ecgClassNames.join(", ")}`,
      notes: [],
      classNames: ecgClassNames,
    };
  }
  if (task.kind === "detection" && is(input, [3, 64, 64])) {
    return {
      task,
      train: detectionSet(trainCount, rng.fork("detection-train")).dataset,
      test: detectionSet(GENERATED_TEST, rng.fork("detection-test")).dataset,
      description: `generated detection set (${sizes}): colored boxes on noise, one per cell of an 8x8 grid at most`,
      notes: [],
    };
  }
  return undefined;
}

/** Fashion-MNIST for the model `builtinData` chose it for: its classes, or its images to rebuild. */
export function fashionMnistData(
  layout: Layout,
  task: Task & { kind: "classification" | "reconstruction" },
  sets: FashionMnistSets,
  limit = Infinity,
): TaskData {
  const train = firstSamples(sets.train, limit);
  const limited =
    train.count < sets.train.count ? `; training on the first ${formatSamples(train.count)}` : "";
  const model = expectationOf(layout);
  if (task.kind === "reconstruction") {
    return checked(
      {
        task,
        train: toReconstruction(train),
        test: toReconstruction(sets.test),
        description: `${sets.description}, reconstructing the images${limited}`,
        notes: [],
      },
      model,
    );
  }
  const classNames = sets.train.targets[0]!.classNames;
  return checked(
    {
      task,
      train,
      test: sets.test,
      description: sets.description + limited,
      notes: [],
      ...(classNames ? { classNames } : {}),
    },
    model,
  );
}
