// The data `netc train` and `netc eval` use for a model: the user's own (`--data`), else
// Fashion-MNIST (classes or reconstruction) or one of the generated sets (segmentation,
// detection, ECG), chosen by the model's input and task in runtime/data/builtin.ts, as the
// playground chooses. Either way it is checked against the model before anything runs.
import type { Layout } from "../api-types.js";
import { expectationOf } from "../bind-data.js";
import {
  builtinData,
  checked,
  fashionMnistData,
  firstSamples,
  formatSamples,
  noBuiltinData,
  type TaskData,
} from "../data/builtin.js";
import { holdOut } from "../data/split.js";
import { taskOf } from "../task.js";
import { loadFashionMnist } from "./fashion-mnist.js";
import { loadUserData } from "./user-data.js";

export type { TaskData } from "../data/builtin.js";

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
      `held out ${formatSamples(test.count)} of ${formatSamples(train.count + test.count)} samples (${Number((fraction * 100).toPrecision(3))}%, seed ${seed}) as the test set: ${path} has no test part`,
    );
  }
  const limited = firstSamples(train, options.limit ?? Infinity);
  const first =
    limited.count < train.count ? `; training on the first ${formatSamples(limited.count)}` : "";
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
  const builtin = builtinData(layout, options.limit);
  if (!builtin) {
    throw noBuiltinData(
      layout,
      "give your own with --data PATH (image folders, .npz, .npy, .csv: see docs/data.md)",
      "netc train",
    );
  }
  if (builtin.kind === "generated") return builtin.data;
  return fashionMnistData(layout, builtin.task, loadFashionMnist(), options.limit);
}
