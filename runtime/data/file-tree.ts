// The user's own data as a tree of files (`netc train --data PATH`, or what a page gets dropped):
// which kind of source it is, and the readers here turning its files into training and test sets.
// The tree is abstract (paths to entries and bytes) so that the Node reader (runtime/node/
// user-data.ts, the file system) and the browser playground (dropped folders, zips) share it.
import { gunzipSync } from "fflate";
import { arraySets, type ArrayStore } from "./array-set.js";
import type { ModelExpectation } from "./check-dataset.js";
import { parseTable, tableSet } from "./csv.js";
import { fromIdx, toReconstruction, type Dataset } from "./dataset.js";
import { fashionMnistClasses } from "./fashion-mnist-classes.js";
import {
  classFolderSet,
  maskedImageSet,
  plainImageSet,
  type ImageFile,
  type ImageOptions,
} from "./image-folder.js";
import { isGzip, parseIdx } from "./idx.js";
import { listClasses, sortNames } from "./labels.js";
import { parseNpy, parseNpz, type NdArray } from "./npy.js";
import { NetcError } from "../errors.js";

/** What `--data` points at; some flags go with one kind only (`--label` with CSV). */
export type SourceKind = "idx" | "class-folders" | "images" | "masks" | "npz" | "npy" | "csv";

export interface TreeEntry {
  name: string;
  path: string;
  kind: "file" | "directory";
}

/** A tree of files: the file system, a dropped folder, a zip. Paths are the tree's own strings. */
export interface FileTree {
  /** What `path` is; undefined when nothing is there. */
  kind(path: string): "file" | "directory" | "other" | undefined;
  /** The entries of a directory, hidden names (`.DS_Store`) left out, unsorted. */
  list(dir: string): TreeEntry[];
  /** A file's bytes; `what` names it in errors ("the image"). */
  read(path: string, what: string): Uint8Array;
  /** A directory's identity, so that a link back up the tree is not walked twice. */
  identity(dir: string): string;
  join(dir: string, name: string): string;
}

/** The standard names of the (Fashion-)MNIST IDX files; each may also carry `.gz`. */
export const fashionMnistFiles = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

export interface UserDataOptions {
  /** The CSV columns that are targets (`--label`). */
  labels?: readonly string[];
  /** Resize images to the model's size (`--resize`). */
  resize?: boolean;
  /**
   * Reads a directory of IDX files; the Node reader gives its own (gzip by Node's zlib, the
   * messages of `--data DIR` for Fashion-MNIST). By default the tree's files are read.
   */
  idx?: (dir: string) => { train: Dataset; test: Dataset; description: string };
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

/** `.png` of `a/b.png`: lower case, empty when there is none. */
const extname = (name: string) => {
  const base = name.slice(name.search(/[^/\\]*$/));
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot).toLowerCase() : "";
};

/** `80 training and 20 test images`, or `100 images` when there is no test part. */
function sizesOf(train: Dataset, test: Dataset | undefined, unit: string): string {
  return test
    ? `${count(train.count)} training and ${count(test.count)} test ${unit}`
    : `${count(train.count)} ${unit}`;
}

const IMAGE = /\.(png|jpe?g)$/i;
/** Image files netc cannot decode: named in an error rather than silently left out. */
const OTHER_IMAGE = /\.(gif|bmp|webp|tiff?)$/i;

const isIdx = (name: string) =>
  Object.values(fashionMnistFiles).some((f) => name === f || name === `${f}.gz`);

/** Reads one tree: the walking, detection and assembly of a source, over `tree`'s files. */
class TreeReader {
  constructor(private readonly tree: FileTree) {}

  private entries(dir: string): TreeEntry[] {
    return this.tree.list(dir);
  }
  private files(dir: string) {
    return this.entries(dir).filter((e) => e.kind === "file");
  }
  private dirs(dir: string) {
    return this.entries(dir).filter((e) => e.kind === "directory");
  }

  private imageFile(path: string): ImageFile {
    return { path, read: () => this.tree.read(path, "the image") };
  }

  /** The PNG and JPEG files under `dir`, its subfolders too, in sorted order (as torchvision walks). */
  imagesUnder(dir: string, seen = new Set<string>()): ImageFile[] {
    if (this.tree.kind(dir) === undefined) {
      throw new NetcError(`the data directory ${dir} does not exist`);
    }
    const real = this.tree.identity(dir);
    if (seen.has(real)) return []; // a link back up the tree
    seen.add(real);
    const byName = new Map(this.entries(dir).map((e) => [e.name, e]));
    return sortNames(byName.keys()).flatMap((name) => {
      const entry = byName.get(name)!;
      if (entry.kind === "directory") return this.imagesUnder(entry.path, seen);
      if (OTHER_IMAGE.test(name)) {
        throw new NetcError(
          `${entry.path} is a ${extname(name).slice(1).toUpperCase()} image; netc reads PNG and JPEG images: convert it`,
        );
      }
      return entry.kind === "file" && IMAGE.test(name) ? [this.imageFile(entry.path)] : [];
    });
  }

  /** Decides what kind of source `path` is, from its name or its directory listing alone. */
  sourceKind(path: string): SourceKind {
    const kind = this.tree.kind(path);
    if (kind === undefined) throw new NetcError(`--data ${path}: no such file or directory`);
    if (kind === "file") {
      const ext = extname(path);
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
    if (kind !== "directory") throw new NetcError(`--data ${path} is not a file or a directory`);
    const list = this.entries(path);
    const names = new Set(list.map((e) => e.name));
    const files = list.filter((e) => e.kind === "file");
    const subdirs = new Set(list.filter((e) => e.kind === "directory").map((e) => e.name));
    if (files.some((e) => isIdx(e.name))) return "idx";
    if (files.some((e) => e.name.endsWith(".npy"))) return "npy";
    if (subdirs.has("train")) {
      const inner = new Set(this.dirs(this.tree.join(path, "train")).map((e) => e.name));
      return inner.has("images") && inner.has("masks") ? "masks" : "class-folders";
    }
    if (subdirs.has("images") && subdirs.has("masks")) return "masks";
    if (subdirs.size > 0) return "class-folders";
    if (files.some((e) => IMAGE.test(e.name))) return "images";
    const shown = [...names].slice(0, 10).join(", ");
    throw new NetcError(
      `--data ${path} holds nothing netc reads (${names.size === 0 ? "it is empty" : shown}): it reads a folder per class of PNG or JPEG images (optionally in train/ and test/), images/ and masks/, .npy files, or the IDX files of (Fashion-)MNIST`,
    );
  }

  /** A directory's `train/` and `test/`, or the directory itself as the one part. */
  private parts(path: string): { train: string; test?: string } {
    const subdirs = this.dirs(path).map((e) => e.name);
    if (!subdirs.includes("train")) return { train: path };
    const others = subdirs.filter((name) => name !== "train" && name !== "test");
    if (others.length > 0) {
      throw new NetcError(
        `${path} has train/ and also ${others.map((o) => `${o}/`).join(", ")}: beside train/, netc reads only test/ (without it, --test-split holds out a part of train/)`,
      );
    }
    const join = (name: string) => this.tree.join(path, name);
    return subdirs.includes("test")
      ? { train: join("train"), test: join("test") }
      : { train: join("train") };
  }

  /** A folder per class in `dir`: the classes in sorted order, each with its images. */
  private classFolders(dir: string) {
    const byName = new Map(this.dirs(dir).map((f) => [f.name, f]));
    return sortNames(byName.keys()).map((name) => {
      const images = this.imagesUnder(byName.get(name)!.path);
      if (images.length === 0) {
        throw new NetcError(
          `class folder ${this.tree.join(dir, name)} has no PNG or JPEG images: every class needs some`,
        );
      }
      return { name, files: images };
    });
  }

  loadClassFolders(
    path: string,
    model: ModelExpectation,
    reconstruct: boolean,
    images: ImageOptions,
  ): UserData {
    const { train: trainDir, test: testDir } = this.parts(path);
    const trainClasses = this.classFolders(trainDir);
    if (trainClasses.length === 0) {
      throw new NetcError(
        `${trainDir} has no class folders: put each class's images in a folder named after it`,
      );
    }
    const names = trainClasses.map((c) => c.name);
    const testClasses = testDir === undefined ? undefined : this.classFolders(testDir);
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
  private maskPairs(dir: string) {
    const imagesDir = this.tree.join(dir, "images");
    const masksDir = this.tree.join(dir, "masks");
    // The walk builds each path by joining onto `under`: what follows it is the relative name.
    const key = (under: string, path: string) => {
      const name = path.slice(under.length + 1);
      return name.slice(0, name.length - extname(name).length);
    };
    const images = this.imagesUnder(imagesDir);
    const masks = new Map(this.imagesUnder(masksDir).map((m) => [key(masksDir, m.path), m]));
    if (images.length === 0) throw new NetcError(`${imagesDir} has no PNG or JPEG images`);
    const pairs = images.map((image) => {
      const name = key(imagesDir, image.path);
      const mask = masks.get(name);
      if (!mask) {
        throw new NetcError(
          `${image.path} has no mask: expected ${this.tree.join(masksDir, name)}.png`,
        );
      }
      masks.delete(name);
      return { image, mask };
    });
    const [extra] = masks.values();
    if (extra) throw new NetcError(`${extra.path} is a mask without an image in ${imagesDir}`);
    return pairs;
  }

  loadMasks(path: string, model: ModelExpectation, images: ImageOptions): UserData {
    const { train: trainDir, test: testDir } = this.parts(path);
    const train = maskedImageSet(this.maskPairs(trainDir), model, images);
    const test =
      testDir === undefined ? undefined : maskedImageSet(this.maskPairs(testDir), model, images);
    const sizes = sizesOf(train, test, "images");
    return {
      train,
      ...(test ? { test } : {}),
      description: `images and segmentation masks in ${path}: ${sizes}`,
      notes: [],
    };
  }

  private readBytes(path: string): Uint8Array {
    return this.tree.read(path, "the data file");
  }

  private arrayStore(path: string, kind: "npz" | "npy"): ArrayStore {
    if (kind === "npz") {
      const arrays = parseNpz(this.readBytes(path), path);
      return { name: path, keys: [...arrays.keys()], read: (key) => arrays.get(key)!() };
    }
    const names = this.files(path).filter((e) => e.name.endsWith(".npy"));
    const byKey = new Map(names.map((e) => [e.name.slice(0, -4), e.path]));
    const cache = new Map<string, NdArray>();
    return {
      name: path,
      keys: [...byKey.keys()],
      read: (key) => {
        const file = byKey.get(key)!;
        const array = cache.get(key) ?? parseNpy(this.readBytes(file), file);
        cache.set(key, array);
        return array;
      },
    };
  }

  loadArrays(
    path: string,
    kind: "npz" | "npy",
    model: ModelExpectation,
    reconstruct: boolean,
  ): UserData {
    const { train, test, notes } = arraySets(this.arrayStore(path, kind), model, reconstruct);
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

  table(path: string) {
    const text = new TextDecoder().decode(this.readBytes(path));
    return parseTable(text, path, extname(path) === ".tsv" ? "\t" : ",");
  }

  loadCsv(
    path: string,
    model: ModelExpectation,
    reconstruct: boolean,
    labels: readonly string[],
  ): UserData {
    const table = this.table(path);
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

  /** The four IDX files of `dir`, raw or gzip (recognised by content). */
  loadIdx(dir: string) {
    const names = new Set(this.files(dir).map((e) => e.name));
    const read = (name: string) => {
      const file = [name, `${name}.gz`].find((n) => names.has(n));
      if (file === undefined) {
        throw new NetcError(
          `data directory ${dir} has no ${name}[.gz]; it needs the four Fashion-MNIST files ${Object.values(fashionMnistFiles).join(", ")}, each raw or gzip (.gz)`,
        );
      }
      const path = this.tree.join(dir, file);
      let bytes = this.readBytes(path);
      if (isGzip(bytes)) {
        try {
          bytes = gunzipSync(bytes);
        } catch (e) {
          throw new NetcError(`${path} is not valid gzip (truncated?): ${(e as Error).message}`);
        }
      }
      return { array: parseIdx(bytes, path), path };
    };
    const set = (imagesName: string, labelsName: string) => {
      const images = read(imagesName);
      const labels = read(labelsName);
      return fromIdx(
        images.array,
        labels.array,
        { images: images.path, labels: labels.path },
        10,
        fashionMnistClasses,
      );
    };
    const train = set(fashionMnistFiles.trainImages, fashionMnistFiles.trainLabels);
    const test = set(fashionMnistFiles.testImages, fashionMnistFiles.testLabels);
    if (train.inputShape.join() !== test.inputShape.join()) {
      throw new NetcError(
        `the test images of ${dir} are [${test.inputShape.join(", ")}] but its training images are [${train.inputShape.join(", ")}]`,
      );
    }
    const description = `IDX files in ${dir} (${count(train.count)} train, ${count(test.count)} test)`;
    return { train, test, description };
  }
}

/** Decides what kind of source `path` of `tree` is, from its name or its directory listing alone. */
export function sourceKindIn(tree: FileTree, path: string): SourceKind {
  return new TreeReader(tree).sourceKind(path);
}

/** The columns of the CSV or TSV file `path` of `tree`, in order. */
export function tableColumns(tree: FileTree, path: string): readonly string[] {
  return new TreeReader(tree).table(path).columns;
}

/**
 * Reads `path` of `tree` for `model`. `reconstruct`: the model reproduces its input (an
 * autoencoder), so sources without fitting targets give the inputs as targets.
 */
export function loadTreeData(
  tree: FileTree,
  path: string,
  model: ModelExpectation,
  reconstruct: boolean,
  options: UserDataOptions = {},
): UserData {
  const data = read(new TreeReader(tree), path, model, reconstruct, options);
  if (!reconstruct || data.train.targets.length > 0) return data;
  const test = data.test ? { test: toReconstruction(data.test) } : {};
  return { ...data, train: toReconstruction(data.train), ...test };
}

function read(
  reader: TreeReader,
  path: string,
  model: ModelExpectation,
  reconstruct: boolean,
  options: UserDataOptions,
): UserData {
  const kind = reader.sourceKind(path);
  const images = { resize: options.resize ?? false };
  switch (kind) {
    case "idx": {
      const { train, test, description } = (options.idx ?? ((dir) => reader.loadIdx(dir)))(path);
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
      return reader.loadClassFolders(path, model, reconstruct, images);
    case "images": {
      if (!reconstruct) {
        throw new NetcError(
          `${path} holds images but no class folders: put each class's images in a folder named after it (or give segmentation masks in ${path}/masks beside ${path}/images)`,
        );
      }
      const train = plainImageSet(reader.imagesUnder(path), model, images);
      return {
        train,
        description: `images in ${path}: ${count(train.count)}, reconstructing them`,
        notes: [],
      };
    }
    case "masks":
      return reader.loadMasks(path, model, images);
    case "npz":
    case "npy":
      return reader.loadArrays(path, kind, model, reconstruct);
    case "csv":
      return reader.loadCsv(path, model, reconstruct, options.labels ?? []);
  }
}

/** A tree held in memory: paths (`a/b/c.png`, `/`-separated) to bytes; directories implied. */
export function memoryTree(files: ReadonlyMap<string, Uint8Array>): FileTree {
  const dirs = new Set<string>([""]);
  for (const path of files.keys()) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  const join = (dir: string, name: string) => (dir === "" ? name : `${dir}/${name}`);
  return {
    kind: (path) => (files.has(path) ? "file" : dirs.has(path) ? "directory" : undefined),
    list(dir) {
      const names = new Map<string, TreeEntry["kind"]>();
      const prefix = dir === "" ? "" : `${dir}/`;
      for (const path of [...files.keys(), ...dirs]) {
        if (path === dir || !path.startsWith(prefix)) continue;
        const name = path.slice(prefix.length).split("/")[0]!;
        const full = join(dir, name);
        names.set(name, files.has(full) ? "file" : "directory");
      }
      return [...names]
        .filter(([name]) => !name.startsWith("."))
        .map(([name, kind]) => ({ name, path: join(dir, name), kind }));
    },
    read(path, what) {
      const bytes = files.get(path);
      if (!bytes) throw new NetcError(`${what} ${path} is missing`);
      return bytes;
    },
    identity: (dir) => dir,
    join,
  };
}
