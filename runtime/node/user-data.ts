// The user's own data (`--data PATH`): which kind of source PATH is, its files found and read,
// and the runtime's readers (runtime/data/) turning them into training and test sets.
import { readdirSync, realpathSync, statSync, type Stats } from "node:fs";
import { extname, join, relative } from "node:path";
import { arraySets, type ArrayStore } from "../data/array-set.js";
import type { ModelExpectation } from "../data/check-dataset.js";
import { parseTable, tableSet } from "../data/csv.js";
import { toReconstruction, type Dataset } from "../data/dataset.js";
import {
  classFolderSet,
  maskedImageSet,
  plainImageSet,
  type ImageFile,
  type ImageOptions,
} from "../data/image-folder.js";
import { listClasses, sortNames } from "../data/labels.js";
import { parseNpy, parseNpz, type NdArray } from "../data/npy.js";
import { NetcError } from "../errors.js";
import { fashionMnistFiles, loadFashionMnist } from "./fashion-mnist.js";
import { withRegularFile } from "./read-file.js";

/** What `--data` points at; some flags go with one kind only (`--label` with CSV). */
export type SourceKind = "idx" | "class-folders" | "images" | "masks" | "npz" | "npy" | "csv";

export interface UserDataOptions {
  /** The CSV columns that are targets (`--label`). */
  labels?: readonly string[];
  /** Resize images to the model's size (`--resize`). */
  resize?: boolean;
}

export interface UserData {
  train: Dataset;
  /** Absent when the source has no test part: the caller holds one out. */
  test?: Dataset;
  /** One line: what was read and how much. */
  description: string;
  /** Further lines: the arrays read, how labels became classes. */
  notes: string[];
  classNames?: readonly string[];
}

const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** `80 training and 20 test images`, or `100 images` when there is no test part. */
function sizesOf(train: Dataset, test: Dataset | undefined, unit: string): string {
  return test
    ? `${count(train.count)} training and ${count(test.count)} test ${unit}`
    : `${count(train.count)} ${unit}`;
}

const IMAGE = /\.(png|jpe?g)$/i;
/** Image files netc cannot decode: named in an error rather than silently left out. */
const OTHER_IMAGE = /\.(gif|bmp|webp|tiff?)$/i;

interface Entry {
  name: string;
  path: string;
  stats: Stats;
}

/** The entries of a directory, symbolic links followed, hidden names (`.DS_Store`) left out. */
function entries(dir: string): Entry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new NetcError(`cannot read the data directory ${dir}: ${(error as Error).message}`);
  }
  return names
    .filter((name) => !name.startsWith("."))
    .flatMap((name) => {
      const path = join(dir, name);
      try {
        return [{ name, path, stats: statSync(path) }];
      } catch {
        return []; // a dangling link: nothing to read
      }
    });
}

const files = (list: Entry[]) => list.filter((e) => e.stats.isFile());
const dirs = (list: Entry[]) => list.filter((e) => e.stats.isDirectory());

function imageFile(path: string): ImageFile {
  return { path, read: () => withRegularFile(path, "the image", (f) => f.read(0, f.size)) };
}

/** The PNG and JPEG files under `dir`, its subfolders too, in sorted order (as torchvision walks). */
function imagesUnder(dir: string, seen = new Set<string>()): ImageFile[] {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    throw new NetcError(`the data directory ${dir} does not exist`);
  }
  if (seen.has(real)) return []; // a link back up the tree
  seen.add(real);
  const list = entries(dir);
  const byName = new Map(list.map((e) => [e.name, e]));
  return sortNames(byName.keys()).flatMap((name) => {
    const entry = byName.get(name)!;
    if (entry.stats.isDirectory()) return imagesUnder(entry.path, seen);
    if (OTHER_IMAGE.test(name)) {
      throw new NetcError(
        `${entry.path} is a ${extname(name).slice(1).toUpperCase()} image; netc reads PNG and JPEG images: convert it`,
      );
    }
    return entry.stats.isFile() && IMAGE.test(name) ? [imageFile(entry.path)] : [];
  });
}

const isIdx = (name: string) =>
  Object.values(fashionMnistFiles).some((f) => name === f || name === `${f}.gz`);

/** Decides what kind of source `path` is, from its name or its directory listing alone. */
export function sourceKind(path: string): SourceKind {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    throw new NetcError(`--data ${path}: no such file or directory`);
  }
  if (stats.isFile()) {
    const ext = extname(path).toLowerCase();
    if (ext === ".npz") return "npz";
    if (ext === ".csv" || ext === ".tsv") return "csv";
    if (ext === ".npy") {
      throw new NetcError(
        `--data ${path}: one .npy file holds no labels; put x.npy and y.npy (or x_train.npy, y_train.npy, x_test.npy, y_test.npy) in a directory and pass the directory`,
      );
    }
    throw new NetcError(
      `--data ${path}: netc reads .npz, .csv and .tsv files, and directories (image folders, .npy files, IDX files)`,
    );
  }
  if (!stats.isDirectory()) throw new NetcError(`--data ${path} is not a file or a directory`);
  const list = entries(path);
  const names = new Set(list.map((e) => e.name));
  const subdirs = new Set(dirs(list).map((e) => e.name));
  if (files(list).some((e) => isIdx(e.name))) return "idx";
  if (files(list).some((e) => e.name.endsWith(".npy"))) return "npy";
  if (subdirs.has("train")) {
    const inner = new Set(dirs(entries(join(path, "train"))).map((e) => e.name));
    return inner.has("images") && inner.has("masks") ? "masks" : "class-folders";
  }
  if (subdirs.has("images") && subdirs.has("masks")) return "masks";
  if (subdirs.size > 0) return "class-folders";
  if (files(list).some((e) => IMAGE.test(e.name))) return "images";
  const shown = [...names].slice(0, 10).join(", ");
  throw new NetcError(
    `--data ${path} holds nothing netc reads (${names.size === 0 ? "it is empty" : shown}): it reads a folder per class of PNG or JPEG images (optionally in train/ and test/), images/ and masks/, .npy files, or the IDX files of (Fashion-)MNIST`,
  );
}

/** A directory's `train/` and `test/`, or the directory itself as the one part. */
function parts(path: string): { train: string; test?: string } {
  const subdirs = dirs(entries(path)).map((e) => e.name);
  if (!subdirs.includes("train")) return { train: path };
  const others = subdirs.filter((name) => name !== "train" && name !== "test");
  if (others.length > 0) {
    throw new NetcError(
      `${path} has train/ and also ${others.map((o) => `${o}/`).join(", ")}: beside train/, netc reads only test/ (without it, --test-split holds out a part of train/)`,
    );
  }
  return subdirs.includes("test")
    ? { train: join(path, "train"), test: join(path, "test") }
    : { train: join(path, "train") };
}

/** A folder per class in `dir`: the classes in sorted order, each with its images. */
function classFolders(dir: string) {
  const folders = dirs(entries(dir));
  const byName = new Map(folders.map((f) => [f.name, f]));
  return sortNames(byName.keys()).map((name) => {
    const images = imagesUnder(byName.get(name)!.path);
    if (images.length === 0) {
      throw new NetcError(
        `class folder ${join(dir, name)} has no PNG or JPEG images: every class needs some`,
      );
    }
    return { name, files: images };
  });
}

function loadClassFolders(
  path: string,
  model: ModelExpectation,
  reconstruct: boolean,
  images: ImageOptions,
): UserData {
  const { train: trainDir, test: testDir } = parts(path);
  const trainClasses = classFolders(trainDir);
  if (trainClasses.length === 0) {
    throw new NetcError(
      `${trainDir} has no class folders: put each class's images in a folder named after it`,
    );
  }
  const names = trainClasses.map((c) => c.name);
  const testClasses = testDir === undefined ? undefined : classFolders(testDir);
  if (testClasses && testClasses.map((c) => c.name).join("\n") !== names.join("\n")) {
    const testNames = testClasses.map((c) => c.name);
    const onlyTrain = names.filter((n) => !testNames.includes(n));
    const onlyTest = testNames.filter((n) => !names.includes(n));
    const differ = [
      onlyTrain.length > 0 ? `only ${trainDir} has ${onlyTrain.join(", ")}` : "",
      onlyTest.length > 0 ? `only ${testDir} has ${onlyTest.join(", ")}` : "",
    ].filter((s) => s !== "");
    throw new NetcError(
      `the class folders of ${trainDir} and ${testDir} differ: ${differ.join("; ")}`,
    );
  }
  const read = (classes: typeof trainClasses, dir: string) =>
    reconstruct
      ? plainImageSet(
          classes.flatMap((c) => c.files),
          model,
          images,
        )
      : classFolderSet(classes, dir, model, images);
  const train = read(trainClasses, trainDir);
  const test = testClasses && testDir !== undefined ? read(testClasses, testDir) : undefined;
  const sizes = sizesOf(train, test, "images");
  return {
    train,
    ...(test ? { test } : {}),
    description: `image folders in ${path}: ${names.length} class${names.length === 1 ? "" : "es"}, ${sizes}${reconstruct ? ", reconstructing the images" : ""}`,
    notes: reconstruct ? [] : [`classes in sorted order: ${listClasses(names)}`],
    ...(reconstruct ? {} : { classNames: names }),
  };
}

/** `images/` and `masks/` in `dir`, paired by path (below each) without the extension. */
function maskPairs(dir: string) {
  const imagesDir = join(dir, "images");
  const masksDir = join(dir, "masks");
  const key = (under: string, path: string) => {
    const name = relative(under, path);
    return name.slice(0, name.length - extname(name).length);
  };
  const images = imagesUnder(imagesDir);
  const masks = new Map(imagesUnder(masksDir).map((m) => [key(masksDir, m.path), m]));
  if (images.length === 0) throw new NetcError(`${imagesDir} has no PNG or JPEG images`);
  const pairs = images.map((image) => {
    const name = key(imagesDir, image.path);
    const mask = masks.get(name);
    if (!mask) {
      throw new NetcError(`${image.path} has no mask: expected ${join(masksDir, name)}.png`);
    }
    masks.delete(name);
    return { image, mask };
  });
  const [extra] = masks.values();
  if (extra) throw new NetcError(`${extra.path} is a mask without an image in ${imagesDir}`);
  return pairs;
}

function loadMasks(path: string, model: ModelExpectation, images: ImageOptions): UserData {
  const { train: trainDir, test: testDir } = parts(path);
  const train = maskedImageSet(maskPairs(trainDir), model, images);
  const test =
    testDir === undefined ? undefined : maskedImageSet(maskPairs(testDir), model, images);
  const sizes = sizesOf(train, test, "images");
  return {
    train,
    ...(test ? { test } : {}),
    description: `images and segmentation masks in ${path}: ${sizes}`,
    notes: [],
  };
}

function readBytes(path: string): Uint8Array {
  return withRegularFile(path, "the data file", (f) => f.read(0, f.size));
}

function arrayStore(path: string, kind: "npz" | "npy"): ArrayStore {
  if (kind === "npz") {
    const arrays = parseNpz(readBytes(path), path);
    return { name: path, keys: [...arrays.keys()], read: (key) => arrays.get(key)!() };
  }
  const names = files(entries(path)).filter((e) => e.name.endsWith(".npy"));
  const byKey = new Map(names.map((e) => [e.name.slice(0, -4), e.path]));
  const cache = new Map<string, NdArray>();
  return {
    name: path,
    keys: [...byKey.keys()],
    read(key) {
      const file = byKey.get(key)!;
      const array = cache.get(key) ?? parseNpy(readBytes(file), file);
      cache.set(key, array);
      return array;
    },
  };
}

function loadArrays(
  path: string,
  kind: "npz" | "npy",
  model: ModelExpectation,
  reconstruct: boolean,
): UserData {
  const { train, test, notes } = arraySets(arrayStore(path, kind), model, reconstruct);
  const sizes = sizesOf(train, test, "samples");
  const classNames = train.targets.length === 1 ? train.targets[0]!.classNames : undefined;
  return {
    train,
    ...(test ? { test } : {}),
    description: `arrays in ${path}: ${sizes}`,
    notes,
    ...(classNames ? { classNames } : {}),
  };
}

function loadCsv(
  path: string,
  model: ModelExpectation,
  reconstruct: boolean,
  labels: readonly string[],
): UserData {
  const text = new TextDecoder().decode(readBytes(path));
  const table = parseTable(text, path, extname(path).toLowerCase() === ".tsv" ? "\t" : ",");
  if (labels.length === 0 && !reconstruct) {
    throw new NetcError(
      `--label is needed to say which columns of ${path} are targets; its columns are: ${table.columns.join(", ")}`,
    );
  }
  const { dataset, notes } = tableSet(table, labels, model);
  const classNames = dataset.targets.length === 1 ? dataset.targets[0]!.classNames : undefined;
  const features = table.columns.length - labels.length;
  return {
    train: dataset,
    description: `${path}: ${count(dataset.count)} rows, ${features} feature column${features === 1 ? "" : "s"}${labels.length === 0 ? ", reconstructing them" : ""}`,
    notes,
    ...(classNames ? { classNames } : {}),
  };
}

/**
 * Reads `path` for `model`. `reconstruct`: the model reproduces its input (an autoencoder), so
 * sources without fitting targets give the inputs as targets (the caller makes them so).
 */
export function loadUserData(
  path: string,
  model: ModelExpectation,
  reconstruct: boolean,
  options: UserDataOptions = {},
): UserData {
  const data = read(path, model, reconstruct, options);
  if (!reconstruct || data.train.targets.length > 0) return data;
  const test = data.test ? { test: toReconstruction(data.test) } : {};
  return { ...data, train: toReconstruction(data.train), ...test };
}

function read(
  path: string,
  model: ModelExpectation,
  reconstruct: boolean,
  options: UserDataOptions,
): UserData {
  const kind = sourceKind(path);
  const images = { resize: options.resize ?? false };
  switch (kind) {
    case "idx": {
      const { train, test, description } = loadFashionMnist({ dataDir: path });
      if (reconstruct) {
        const unlabelled = (set: Dataset) => ({ ...set, targets: [] });
        return {
          train: unlabelled(train),
          test: unlabelled(test),
          description: `${description}, reconstructing the images`,
          notes: [],
        };
      }
      const classNames = train.targets[0]!.classNames;
      return { train, test, description, notes: [], ...(classNames ? { classNames } : {}) };
    }
    case "class-folders":
      return loadClassFolders(path, model, reconstruct, images);
    case "images": {
      if (!reconstruct) {
        throw new NetcError(
          `${path} holds images but no class folders: put each class's images in a folder named after it (or give segmentation masks in ${path}/masks beside ${path}/images)`,
        );
      }
      const train = plainImageSet(imagesUnder(path), model, images);
      return {
        train,
        description: `images in ${path}: ${count(train.count)}, reconstructing them`,
        notes: [],
      };
    }
    case "masks":
      return loadMasks(path, model, images);
    case "npz":
    case "npy":
      return loadArrays(path, kind, model, reconstruct);
    case "csv":
      return loadCsv(path, model, reconstruct, options.labels ?? []);
  }
}
