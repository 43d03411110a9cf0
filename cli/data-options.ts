// The data flags of `netc train` and `netc eval` (--data, --label, --test-split, --resize): their
// definitions, the combinations that make no sense, and the data they load, reported on stdout.
import { Option } from "commander";
import type { Layout } from "../runtime/api-types.js";
import { DEFAULT_TEST_SPLIT, taskData, type TaskData } from "../runtime/node/task-data.js";
import { sourceKind, type SourceKind } from "../runtime/node/user-data.js";
import { fraction } from "./option-values.js";
import { printable } from "./printable.js";
import { UsageError } from "./usage-error.js";

export interface DataFlags {
  data?: string;
  label?: string[];
  testSplit?: number;
  resize?: boolean;
}

/** `--label a,b --label c` is `[a, b, c]`. */
const labelList = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== ""),
];

// The options train and eval both take (cli/main.ts adds them).
export const dataOption = () =>
  new Option(
    "--data <path>",
    "your data: class folders of PNG/JPEG images (or images/ and masks/), a .npz, a folder of .npy files, a .csv, or IDX files (default: Fashion-MNIST or a generated set, by the model)",
  );
export const labelOption = () =>
  new Option(
    "--label <columns>",
    "with a CSV: the target columns, in the order of the criterion's terms (repeatable, or comma-separated)",
  ).argParser(labelList);
export const testSplitOption = () =>
  new Option(
    "--test-split <fraction>",
    `with data that has no test part: the fraction held out as the test set, chosen by the seed (default ${DEFAULT_TEST_SPLIT})`,
  ).argParser(fraction);
export const resizeOption = () =>
  new Option(
    "--resize",
    "with images: resize them to the model's input size (bilinear; masks by nearest neighbour)",
  );

const kindNames: Record<SourceKind, string> = {
  idx: "IDX files",
  "class-folders": "image folders",
  images: "images",
  masks: "images and masks",
  npz: "a .npz file",
  npy: ".npy files",
  csv: "a CSV file",
};

function checkFlags(flags: DataFlags): void {
  const given = [
    flags.label !== undefined ? "--label" : "",
    flags.testSplit !== undefined ? "--test-split" : "",
    flags.resize ? "--resize" : "",
  ].filter((f) => f !== "");
  if (flags.data === undefined) {
    if (given.length > 0)
      throw new UsageError(`${given.join(", ")} go${given.length === 1 ? "es" : ""} with --data`);
    return;
  }
  const kind = sourceKind(flags.data);
  const is = `--data ${flags.data} is ${kindNames[kind]}`;
  if (flags.label !== undefined && kind !== "csv") {
    throw new UsageError(`--label names the target columns of a CSV file, but ${is}`);
  }
  if (flags.resize && !["class-folders", "images", "masks"].includes(kind)) {
    throw new UsageError(`--resize is for image files, but ${is}`);
  }
}

/**
 * The data for the model as the flags say, printed as a line and its notes, or a UsageError for
 * flags that do not fit the data. `seed` chooses a held-out test set (the run's seed: `eval`
 * must be given the same to evaluate the same samples).
 */
export function loadData(
  layout: Layout,
  flags: DataFlags,
  run: { seed: number; limit?: number },
): TaskData {
  checkFlags(flags);
  const data = taskData(layout, {
    ...(flags.data !== undefined ? { data: flags.data } : {}),
    ...(flags.label !== undefined ? { labels: flags.label } : {}),
    ...(flags.testSplit !== undefined ? { testSplit: flags.testSplit } : {}),
    resize: flags.resize ?? false,
    seed: run.seed,
    ...(run.limit !== undefined ? { limit: run.limit } : {}),
  });
  if (flags.testSplit !== undefined && !data.heldOut) {
    throw new UsageError(
      `--test-split holds out a test set from data without one, but --data ${flags.data} has its own test part`,
    );
  }
  for (const line of [data.description, ...data.notes]) {
    process.stdout.write(`${printable(line)}\n`);
  }
  return data;
}
