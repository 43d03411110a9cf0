// Finds and loads Fashion-MNIST: a --data directory, else Debian's dataset-fashion-mnist package,
// else the small sample embedded in the repository.
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { NetcError } from "../errors.js";
import { fromIdx, type Dataset } from "../data/dataset.js";
import { fashionMnistClasses } from "../data/fashion-mnist-classes.js";
import { fashionMnistFiles } from "../data/file-tree.js";
import { readIdxFile } from "./idx-file.js";

export { fashionMnistFiles } from "../data/file-tree.js";

type FileKey = keyof typeof fashionMnistFiles;

export interface FashionMnist {
  train: Dataset;
  test: Dataset;
  /** The directory the files came from. */
  directory: string;
  embedded: boolean;
  /** One line for the user: where the data came from and how much there is. */
  description: string;
}

export interface FashionMnistOptions {
  /** An explicit directory (`--data DIR`): it must hold the four files. */
  dataDir?: string;
  /** Where an installed copy may be; `installedLocations()` by default. */
  searchDirs?: readonly string[];
  /** The embedded sample; found next to the runtime by default. */
  sampleDir?: string;
}

/**
 * Where Debian's `dataset-fashion-mnist` puts the files (/usr/share/datasets/fashion-mnist),
 * under each XDG data directory so other prefixes (/usr/local/share, Nix, ...) work too.
 */
export function installedLocations(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = (env["XDG_DATA_DIRS"] || "/usr/local/share:/usr/share").split(":");
  const dirs = [...roots.filter((r) => r !== ""), "/usr/share"].map((root) =>
    join(root, "datasets", "fashion-mnist"),
  );
  return [...new Set(dirs)];
}

/** The path of each file in `dir`, raw or gzip; undefined for those missing. */
function filesIn(dir: string): Record<FileKey, string | undefined> {
  const find = (name: string) =>
    [name, `${name}.gz`].map((n) => join(dir, n)).find((path) => existsSync(path));
  return {
    trainImages: find(fashionMnistFiles.trainImages),
    trainLabels: find(fashionMnistFiles.trainLabels),
    testImages: find(fashionMnistFiles.testImages),
    testLabels: find(fashionMnistFiles.testLabels),
  };
}

function complete(files: Record<FileKey, string | undefined>): files is Record<FileKey, string> {
  return Object.values(files).every((path) => path !== undefined);
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

function load(directory: string, files: Record<FileKey, string>, embedded: boolean): FashionMnist {
  const read = (images: string, labels: string) =>
    fromIdx(readIdxFile(images), readIdxFile(labels), { images, labels }, 10, fashionMnistClasses);
  const train = read(files.trainImages, files.trainLabels);
  const test = read(files.testImages, files.testLabels);
  if (train.inputShape.join() !== test.inputShape.join()) {
    throw new NetcError(
      `${files.testImages} has images [${test.inputShape.join(", ")}] but ${files.trainImages} has [${train.inputShape.join(", ")}]`,
    );
  }
  const sizes = `${count(train.count)} train, ${count(test.count)} test`;
  const description = embedded
    ? `Fashion-MNIST embedded sample (${sizes}) — apt-get install dataset-fashion-mnist for the full set`
    : `Fashion-MNIST from ${directory} (${sizes})`;
  return { train, test, directory, embedded, description };
}

/** The embedded sample: data/fashion-mnist-sample at the package's top, from source or dist/. */
function embeddedSampleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    const candidate = join(dir, "data", "fashion-mnist-sample");
    if (isDirectory(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new NetcError(
    "the embedded Fashion-MNIST sample (data/fashion-mnist-sample) is missing from this installation; pass --data DIR or apt-get install dataset-fashion-mnist",
  );
}

export function loadFashionMnist(options: FashionMnistOptions = {}): FashionMnist {
  const { dataDir } = options;
  if (dataDir !== undefined) {
    if (!existsSync(dataDir)) throw new NetcError(`data directory ${dataDir} does not exist`);
    if (!isDirectory(dataDir)) throw new NetcError(`data directory ${dataDir} is not a directory`);
    const files = filesIn(dataDir);
    if (!complete(files)) {
      const missing = (Object.keys(files) as FileKey[])
        .filter((key) => files[key] === undefined)
        .map((key) => `${fashionMnistFiles[key]}[.gz]`);
      throw new NetcError(
        `data directory ${dataDir} has no ${missing.join(", ")}; it needs the four Fashion-MNIST files ${Object.values(fashionMnistFiles).join(", ")}, each raw or gzip (.gz)`,
      );
    }
    return load(dataDir, files, false);
  }
  for (const dir of options.searchDirs ?? installedLocations()) {
    const files = filesIn(dir);
    if (complete(files)) return load(dir, files, false);
  }
  const sampleDir = options.sampleDir ?? embeddedSampleDir();
  const files = filesIn(sampleDir);
  if (!complete(files)) {
    throw new NetcError(`the embedded Fashion-MNIST sample in ${sampleDir} is incomplete`);
  }
  return load(sampleDir, files, true);
}
