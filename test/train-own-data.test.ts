// `netc train` and `netc eval` on a user's own files, end to end through `node bin/netc.js`: every
// sample and the five kinds of model users write (a VGG-ish classifier, a U-Net, a Sigmoid+BCE
// classifier and an MSE regressor on CSV, a two-head model) from image folders, masks, .npz,
// .npy, CSV and IDX files made here; then every kind of bad data, each with its message.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { loadData, type DataFlags } from "../cli/data-options.js";
import { UsageError } from "../cli/usage-error.js";
import type { Layout } from "../runtime/api-types.js";
import { encodeIdx } from "../runtime/data/idx.js";
import { NetcError } from "../runtime/errors.js";
import { netc, root, type Run } from "./helpers/cli.js";
import { jpg, npy, npz, png, writeTree } from "./helpers/data-files.js";
import { compileModel, pseudoRandom } from "./helpers/gradcheck.js";

const dir = mkdtempSync(join(tmpdir(), "netc-own-data-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ok(result: Run): Run {
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result;
}

const file = (name: string, content: string | Uint8Array) => {
  writeTree(dir, { [name]: content });
  return join(dir, name);
};

/**
 * A square picture whose colour says its class: class c lights channel c % 3 at a level rising
 * with c, plus noise, so that a small network can tell the classes apart in a few steps.
 */
function picture(size: number, c: number, seed: number): number[] {
  const noise = pseudoRandom(seed);
  const rgba: number[] = [];
  for (let p = 0; p < size * size; p++) {
    const level = 90 + 16 * c;
    const lit = [0, 1, 2].map((k) => (k === c % 3 ? level : 30) + Math.round(20 * noise()));
    rgba.push(...lit, 255);
  }
  return rgba;
}

const greyOf = (rgba: number[]) => rgba.filter((_, i) => i % 4 === 0);

/** Class folders `<class>/<i>.png|jpg` of `perClass` images each (alternating PNG and JPEG). */
function classFolders(
  classes: string[],
  perClass: number,
  size: number,
  seed: number,
  grey = false,
) {
  const files: Record<string, Uint8Array> = {};
  classes.forEach((name, c) => {
    for (let i = 0; i < perClass; i++) {
      const rgba = picture(size, c, seed + 100 * c + i);
      files[`${name}/${i}.${i % 2 ? "jpg" : "png"}`] =
        i % 2
          ? jpg(size, size, rgba)
          : grey
            ? png(size, size, 1, greyOf(rgba))
            : png(size, size, 4, rgba);
    }
  });
  return files;
}

const prefixed = (prefix: string, files: Record<string, Uint8Array>) =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}/${k}`, v]));

const digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/** Numbers for `count` samples of `size` values: the sample's class as a level, plus noise. */
function samples(count: number, size: number, classes: number, seed: number) {
  const noise = pseudoRandom(seed);
  const labels = Array.from({ length: count }, (_, i) => i % classes);
  const values = labels.flatMap((c) =>
    Array.from({ length: size }, () => Math.round(20 * c + 10 + 8 * noise())),
  );
  return { labels, values };
}

function metrics(path: string): Record<string, number | null>[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, number | null>);
}

/** Trains, saves, evaluates the saved weights on the same data; returns both runs' output. */
function trainAndEval(model: string, data: string[], train: string[] = []) {
  const name = `${model.replace(/\W/g, "_")}-${Math.random().toString(36).slice(2)}`;
  const weights = join(dir, `${name}.safetensors`);
  const metricsFile = join(dir, `${name}.jsonl`);
  const trained = ok(
    netc("train", model, ...data, ...train, "--save", weights, "--metrics", metricsFile),
  );
  const evaluated = ok(netc("eval", model, ...data, "--weights", weights));
  const epochs = metrics(metricsFile);
  const last = epochs[epochs.length - 1]!;
  // eval reads the same test set: the same samples, the same loss.
  const line = evaluated.stdout.split("\n").find((l) => l.includes(" on the test set ("))!;
  expect(line).toContain(`loss ${(last["testLoss"] as number).toFixed(4)}`);
  return { trained, evaluated, epochs, last };
}

/** A model file: the model and criterion, and a `train` block with these settings. */
const net = (name: string, source: string, optimizer: string, batch: number, epochs: number) =>
  file(
    `${name}.net`,
    `${source}train {\n  optimizer = ${optimizer}\n  batch = ${batch}\n  epochs = ${epochs}\n}\n`,
  );

const vggish = net(
  "vggish",
  `model VGGish {
  input image: [3, 16, 16]
  conv1: SpatialConvolution(8, kernel=3, pad=1) -> ReLU
  conv2: SpatialConvolution(8, kernel=3, pad=1) -> ReLU
  SpatialMaxPooling(2)
  conv3: SpatialConvolution(16, kernel=3, pad=1) -> ReLU
  SpatialMaxPooling(2)
  Flatten
  fc: Linear(3)
  LogSoftMax
}
criterion NLL
`,
  "Adam(lr=0.01)",
  8,
  4,
);

const bceClassifier = net(
  "churn",
  `model Churn {
  input features: [4]
  hidden: Linear(8) -> ReLU
  out: Linear(1) -> Sigmoid
}
criterion BCE
`,
  "Adam(lr=0.05)",
  8,
  6,
);

const regressor = net(
  "price",
  `model Price {
  input features: [3]
  fc: Linear(1)
}
criterion MSE
`,
  "SGD(lr=0.05)",
  8,
  20,
);

const twoHead = net(
  "two-head",
  `model TwoHead {
  input features: [4]
  h = features -> Linear(16) -> ReLU
  species = h -> Linear(3) -> LogSoftMax
  size = h -> Linear(1)
  output species, size
}
criterion NLL(species) + MSE(size)
`,
  "Adam(lr=0.02)",
  8,
  3,
);

const unet3 = net(
  "unet3",
  `model UNet3 {
  input x: [1, 16, 16]
  e1 = x -> SpatialConvolution(8, kernel=3, pad=1) -> ReLU
  e2 = e1 -> SpatialMaxPooling(2) -> SpatialConvolution(8, kernel=3, pad=1) -> ReLU
  d1 = Concat(e1, e2 -> SpatialUpSamplingNearest(2)) -> SpatialConvolution(8, kernel=3, pad=1) -> ReLU
  out = d1 -> SpatialConvolution(3, kernel=1) -> LogSoftMax
  output out
}
criterion NLL
`,
  "Adam(lr=0.01)",
  4,
  1,
);

/** A CSV of `rows` rows, each from four random features in [-1, 1) and the row's number. */
function table(
  rows: number,
  seed: number,
  row: (f: [number, number, number, number], i: number) => Record<string, string | number>,
): string {
  const noise = pseudoRandom(seed);
  const records = Array.from({ length: rows }, (_, i) => {
    const f = [noise(), noise(), noise(), noise()].map((x) => Number(x.toFixed(3)));
    return row(f as [number, number, number, number], i);
  });
  const lines = [
    Object.keys(records[0]!).join(","),
    ...records.map((r) => Object.values(r).join(",")),
  ];
  return lines.join("\n") + "\n";
}

const species = (i: number) => ["setosa", "versicolor", "virginica"][i % 3]!;

describe("the five kinds of model on a user's files", () => {
  test("a VGG-ish classifier learns colour classes from PNG and JPEG folders (train/, test/)", () => {
    const data = writeTree(join(dir, "colours"), {
      ...prefixed("train", classFolders(["blue", "green", "red"].reverse(), 16, 16, 1)),
      ...prefixed("test", classFolders(["blue", "green", "red"].reverse(), 4, 16, 2)),
    });
    const { trained, evaluated, last } = trainAndEval(vggish, ["--data", data]);
    expect(trained.stdout).toContain(
      `image folders in ${data}: 3 classes, 48 training and 12 test images\nclasses in sorted order: 0 blue, 1 green, 2 red\n`,
    );
    // Sorted folder names are the classes: "red" (class 0 of the pictures) is index 2.
    expect(last["testAccuracy"]).toBeGreaterThanOrEqual(0.9);
    expect(evaluated.stdout).toMatch(/VGGish on the test set \(12 samples\): loss [\d.]+ accuracy/);
    expect(evaluated.stdout).toContain("2 red");
  });

  test("a U-Net learns from images/ and palette masks/, held out by --test-split", () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 20; i++) {
      const noise = pseudoRandom(i);
      const image: number[] = [];
      const mask: number[] = [];
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          const cls = x < 4 + (i % 5) ? 0 : y < 8 ? 1 : 2;
          image.push(40 + 90 * cls + Math.round(10 * noise()));
          mask.push(cls);
        }
      }
      files[`images/${i}.png`] = png(16, 16, 1, image);
      files[`masks/${i}.png`] = png(16, 16, 1, mask);
    }
    const data = writeTree(join(dir, "masks"), files);
    const { trained, last } = trainAndEval(
      unet3,
      ["--data", data, "--test-split", "0.2", "--seed", "3"],
      [],
    );
    expect(trained.stdout).toContain(
      `images and segmentation masks in ${data}: 20 images\nheld out 4 of 20 samples (20%, seed 3) as the test set: ${data} has no test part\n`,
    );
    expect(last["testMeanIoU"]).not.toBeNull();
  });

  test("a Sigmoid+BCE classifier and an MSE regressor on CSV columns", () => {
    const csv = file(
      "churn.csv",
      table(200, 5, ([a, b, c, d]) => ({ a, b, c, d, churned: a + b > 0 ? "yes" : "no" })),
    );
    const bce = trainAndEval(
      bceClassifier,
      ["--data", csv, "--label", "churned", "--test-split", "0.25"],
      ["--batch", "16"],
    );
    expect(bce.trained.stdout).toContain(
      `${csv}: 200 rows, 4 feature columns\ncolumn churned: 2 classes in sorted order: 0 no, 1 yes\nheld out 50 of 200 samples (25%, seed 0) as the test set`,
    );
    const prices = file(
      "price.csv",
      table(80, 6, ([x, y, z]) => ({ x, y, z, price: Number((2 * x - y + 0.5).toFixed(4)) })),
    );
    const mse = trainAndEval(regressor, ["--data", prices, "--label", "price"]);
    const losses = mse.epochs.map((e) => e["trainLoss"] as number);
    // price = 2a − b + 0.5 is linear in the features: the loss falls by far.
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 4);
    expect(bce.epochs[0]!["testAccuracy"]).toBeNull();
  });

  test("a two-head model: two label columns of a CSV, or y_train_<output> arrays in a .npz", () => {
    const csv = file(
      "heads.csv",
      table(64, 7, ([a, b, c, d], i) => ({ a, b, c, d, species: species(i), size: a - c })),
    );
    const fromCsv = trainAndEval(twoHead, ["--data", csv, "--label", "species,size"]);
    expect(fromCsv.trained.stdout).toContain(
      "species from column species: 3 classes in sorted order: 0 setosa, 1 versicolor, 2 virginica\nsize from column size: values\n",
    );
    const { values } = samples(40, 4, 3, 8);
    const arrays = file(
      "heads.npz",
      npz({
        x_train: npy(
          "<f4",
          [32, 4],
          values.slice(0, 128).map((v) => v / 100),
        ),
        y_train_species: npy(
          "<i8",
          [32],
          Array.from({ length: 32 }, (_, i) => i % 3),
        ),
        y_train_size: npy(
          "<f4",
          [32, 1],
          Array.from({ length: 32 }, (_, i) => i / 32),
        ),
        x_test: npy(
          "<f4",
          [8, 4],
          values.slice(128).map((v) => v / 100),
        ),
        y_test_species: npy(
          "<i8",
          [8],
          Array.from({ length: 8 }, (_, i) => i % 3),
        ),
        y_test_size: npy(
          "<f4",
          [8],
          Array.from({ length: 8 }, (_, i) => i / 8),
        ),
      }),
    );
    const fromNpz = trainAndEval(twoHead, ["--data", arrays]);
    expect(fromNpz.trained.stdout).toContain(
      `arrays in ${arrays}: 32 training and 8 test samples\nread x_train [32, 4] float32, y_train_species [32] int64, y_train_size [32, 1] float32\n`,
    );
  });
});

/** `count` uint8 images of `size`×`size` whose brightness follows their class, as MNIST has them. */
function mnistLike(count: number, size: number, seed: number) {
  const noise = pseudoRandom(seed);
  const labels = Array.from({ length: count }, (_, i) => i % 10);
  const pixels = labels.flatMap((c) =>
    Array.from({ length: size * size }, () =>
      Math.max(0, Math.min(255, 20 * c + Math.round(30 * noise()))),
    ),
  );
  return { labels, pixels };
}

const small = ["--batch", "8", "--epochs", "1"];

describe("every sample trains on a user's files, and eval reads the same", () => {
  test("lenet5: Keras's mnist.npz layout (uint8 [N, 28, 28], uint8 labels)", () => {
    const train = mnistLike(24, 28, 1);
    const test = mnistLike(10, 28, 2);
    const data = file(
      "mnist.npz",
      npz({
        x_train: npy("|u1", [24, 28, 28], train.pixels),
        y_train: npy("|u1", [24], train.labels),
        x_test: npy("|u1", [10, 28, 28], test.pixels),
        y_test: npy("|u1", [10], test.labels),
      }),
    );
    const { trained } = trainAndEval("samples/lenet5.net", ["--data", data], small);
    expect(trained.stdout).toContain(
      `arrays in ${data}: 24 training and 10 test samples\nread x_train [24, 28, 28] uint8, y_train [24] uint8 (uint8 inputs divided by 255)\nread x_test [10, 28, 28] uint8, y_test [10] uint8 (uint8 inputs divided by 255)\n`,
    );
  });

  test("mlp: a CSV of a label and 784 pixel columns (Kaggle's digit recognizer)", () => {
    const { labels, pixels } = mnistLike(30, 28, 3);
    const header = ["label", ...Array.from({ length: 784 }, (_, i) => `pixel${i}`)].join(",");
    const rows = labels.map((l, i) =>
      [l, ...pixels.slice(i * 784, (i + 1) * 784).map((p) => p / 255)].join(","),
    );
    const data = file("digits.csv", [header, ...rows].join("\n") + "\n");
    const { trained } = trainAndEval(
      "samples/mlp.net",
      ["--data", data, "--label", "label"],
      small,
    );
    expect(trained.stdout).toContain(
      `${data}: 30 rows, 784 feature columns\ncolumn label: class indices\nheld out 3 of 30 samples (10%, seed 0) as the test set`,
    );
  });

  test("cnn: a folder per class of grey PNGs and colour JPEGs, 32x32 resized to 28x28", () => {
    const data = writeTree(join(dir, "digits"), classFolders(digits, 2, 32, 4, true));
    const { trained } = trainAndEval("samples/cnn.net", ["--data", data, "--resize"], small);
    expect(trained.stdout).toContain(`image folders in ${data}: 10 classes, 20 images\n`);
    expect(trained.stdout).toContain("classes in sorted order: 0 eight, 1 five, 2 four, 3 nine,");
  });

  test("cnn-bn: a directory of x.npy and y.npy (float32 images, int64 labels)", () => {
    const { labels, pixels } = mnistLike(20, 28, 5);
    const data = writeTree(join(dir, "arrays"), {
      "x.npy": npy(
        "<f4",
        [20, 1, 28, 28],
        pixels.map((p) => p / 255),
      ),
      "y.npy": npy("<i8", [20], labels),
    });
    const { trained } = trainAndEval(
      "samples/cnn-bn.net",
      ["--data", data, "--test-split", "0.2"],
      small,
    );
    expect(trained.stdout).toContain(
      `arrays in ${data}: 20 samples\nread x [20, 1, 28, 28] float32, y [20] int64\nheld out 4 of 20 samples (20%, seed 0) as the test set`,
    );
  });

  test("lecun-lenet5: the four IDX files of (Fashion-)MNIST", () => {
    const train = mnistLike(16, 28, 6);
    const test = mnistLike(8, 28, 7);
    const idx = (dims: number[], data: number[]) =>
      encodeIdx({ dims, data: Uint8Array.from(data) });
    const data = writeTree(join(dir, "idx"), {
      "train-images-idx3-ubyte": idx([16, 28, 28], train.pixels),
      "train-labels-idx1-ubyte": idx([16], train.labels),
      "t10k-images-idx3-ubyte": idx([8, 28, 28], test.pixels),
      "t10k-labels-idx1-ubyte": idx([8], test.labels),
    });
    const { trained } = trainAndEval("samples/lecun-lenet5.net", ["--data", data], small);
    expect(trained.stdout).toContain(`Fashion-MNIST from ${data} (16 train, 8 test)\n`);
  });

  test("autoencoder: a folder of images and nothing else, reconstructed", () => {
    const { pixels } = mnistLike(12, 28, 8);
    const files = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [
        `${i}.png`,
        png(28, 28, 1, pixels.slice(i * 784, (i + 1) * 784)),
      ]),
    );
    const data = writeTree(join(dir, "faces"), files);
    const { trained, last } = trainAndEval("samples/autoencoder.net", ["--data", data], small);
    expect(trained.stdout).toContain(`images in ${data}: 12, reconstructing them\n`);
    expect(last["testMse"]).not.toBeNull();
  });

  test("resnet-tiny: RGB class folders with train/ and test/", () => {
    const data = writeTree(join(dir, "cifar"), {
      ...prefixed("train", classFolders(digits, 1, 32, 9)),
      ...prefixed("test", classFolders(digits, 1, 32, 10)),
    });
    const { trained } = trainAndEval(
      "samples/resnet-tiny.net",
      ["--data", data],
      ["--batch", "5", "--epochs", "1"],
    );
    expect(trained.stdout).toContain(
      `image folders in ${data}: 10 classes, 10 training and 10 test images\n`,
    );
  });

  test("tiny-detector: channels-last uint8 images and y_<split>_boxes, y_<split>_objectness", () => {
    const noise = pseudoRandom(11);
    const arrays = (n: number) => ({
      x: npy(
        "|u1",
        [n, 64, 64, 3],
        Array.from({ length: n * 64 * 64 * 3 }, () => Math.floor(128 + 127 * noise())),
      ),
      boxes: npy(
        "<f4",
        [n, 4, 8, 8],
        Array.from({ length: n * 256 }, () => noise()),
      ),
      objectness: npy(
        "|u1",
        [n, 8, 8],
        Array.from({ length: n * 64 }, () => (noise() > 0.5 ? 1 : 0)),
      ),
    });
    const [train, test] = [arrays(8), arrays(4)];
    const data = file(
      "boxes.npz",
      npz({
        x_train: train.x,
        y_train_boxes: train.boxes,
        y_train_objectness: train.objectness,
        x_test: test.x,
        y_test_boxes: test.boxes,
        y_test_objectness: test.objectness,
      }),
    );
    const { last } = trainAndEval(
      "samples/tiny-detector.net",
      ["--data", data],
      ["--batch", "4", "--epochs", "1"],
    );
    expect(last["testBoxError"]).not.toBeNull();
  });

  test("tiny-unet: masks as a uint8 array beside float images in a .npz", () => {
    const noise = pseudoRandom(12);
    const n = 12;
    const masks = Array.from({ length: n * 1024 }, (_, i) =>
      ((i % 32) + Math.floor(i / 32)) % 32 < 12 ? 1 : 0,
    );
    const images = masks.map((m) => 0.3 + 0.5 * m + 0.1 * noise());
    const data = file(
      "shapes.npz",
      npz({ x: npy("<f4", [n, 32, 32], images), y: npy("|u1", [n, 32, 32], masks) }),
    );
    const { trained } = trainAndEval(
      "samples/tiny-unet.net",
      ["--data", data],
      ["--batch", "4", "--epochs", "1"],
    );
    expect(trained.stdout).toContain(
      `read x [12, 32, 32] float32, y [12, 32, 32] uint8\nheld out 1 of 12 samples`,
    );
  });
});

/** The model's layout, compiled in-process as `netc train` compiles it. */
function layoutOf(path: string): Layout {
  return compileModel(readFileSync(resolve(root, path), "utf8")).layout;
}

describe("bad data: one message naming both sides, and its exit status", () => {
  /**
   * What `netc train MODEL` with these data flags stops with before any step: loadData runs as
   * the command runs it (in-process, to keep the suite fast); the status is cli/main.ts's for the
   * error (2 for a UsageError, 1 for any other NetcError), which the CLI runs below confirm.
   */
  function fails(model: string, flags: DataFlags, status: number, message: string | RegExp): void {
    let error: unknown;
    try {
      loadData(layoutOf(model), flags, { seed: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NetcError);
    const text = (error as Error).message;
    if (typeof message === "string") expect(text).toBe(message);
    else expect(text).toMatch(message);
    expect(error instanceof UsageError ? 2 : 1).toBe(status);
  }

  const colours = ["blue", "green", "red"];
  const rgb = (size: number, seed: number) => png(size, size, 4, picture(size, 0, seed));

  test("images of another size than the model's input, or of mixed sizes", () => {
    const big = writeTree(join(dir, "big"), classFolders(colours, 2, 20, 1));
    fails(
      vggish,
      { data: big },
      1,
      `${join(big, "blue", "0.png")} is 20x20 but model VGGish takes 16x16 images (input [3, 16, 16]); pass --resize to resize every image (bilinear)`,
    );
    const mixed = writeTree(join(dir, "mixed"), {
      ...classFolders(colours, 2, 16, 2),
      "green/odd.png": rgb(18, 3),
    });
    fails(
      vggish,
      { data: mixed },
      1,
      `${join(mixed, "green", "odd.png")} is 18x18 but model VGGish takes 16x16 images (input [3, 16, 16]); pass --resize to resize every image (bilinear)`,
    );
  });

  test("array samples of another shape than the model's input", () => {
    const data = file(
      "wide.npz",
      npz({
        x: npy("<f4", [8, 32, 32], new Array(8 * 1024).fill(0)),
        y: npy("|u1", [8], new Array(8).fill(1)),
      }),
    );
    fails(
      "samples/lenet5.net",
      { data },
      1,
      `x in ${data} holds 8 samples of shape [32, 32] but model LeNet5 takes input [1, 28, 28]`,
    );
  });

  test("class counts: 3 class folders for a 10-class output; a 3-class U-Net on the 2-class generated set", () => {
    const three = writeTree(join(dir, "three"), classFolders(colours, 2, 28, 4, true));
    fails(
      "samples/cnn.net",
      { data: three },
      1,
      "the data has 3 classes (0 blue, 1 green, 2 red) but model CNN scores 10",
    );
    const unet = file(
      "tiny-unet3.net",
      readFileSync(join(root, "samples/tiny-unet.net"), "utf8").replace(
        "SpatialConvolution(2, kernel=1)",
        "SpatialConvolution(3, kernel=1)",
      ),
    );
    fails(
      unet,
      {},
      1,
      "the data has 2 classes (0 background, 1 shape) but model TinyUNet scores 3",
    );
  });

  test("labels: floats for class indices, out of range, and NaN in the inputs", () => {
    const x = mnistLike(8, 28, 5).pixels;
    const floats = file(
      "floats.npz",
      npz({ x: npy("|u1", [8, 28, 28], x), y: npy("<f4", [8], [0, 1, 2, 3, 4, 5, 6, 7]) }),
    );
    fails(
      "samples/lenet5.net",
      { data: floats },
      1,
      `y in ${floats} holds float32 numbers but model LeNet5's criterion NLL(output) takes class indices: save integer labels (y.astype("int64"))`,
    );
    const range = file(
      "range.npz",
      npz({ x: npy("|u1", [8, 28, 28], x), y: npy("<i8", [8], [0, 1, 2, 12, 4, 5, 6, 7]) }),
    );
    fails(
      "samples/lenet5.net",
      { data: range },
      1,
      `label 12 at record 3 of y in ${range} is out of range for the 10 classes of model LeNet5`,
    );
    const pixels = x.map((p) => p / 255);
    pixels[5 * 784 + 3 * 28 + 4] = NaN;
    const nan = file(
      "nan.npz",
      npz({ x: npy("<f4", [8, 28, 28], pixels), y: npy("|u1", [8], [0, 1, 2, 3, 4, 5, 6, 7]) }),
    );
    // Record 5 is held out or trained on depending on the seed; either way it is named.
    fails(
      "samples/lenet5.net",
      { data: nan },
      1,
      `the data's input at record 5 of x in ${nan} (element [0, 3, 4]) is NaN: training needs finite numbers`,
    );
  });

  test("empty class folders, corrupt and unsupported image files, by name", () => {
    const empty = writeTree(join(dir, "empty-class"), {
      ...classFolders(["blue", "red"], 2, 16, 6),
      "green/notes.txt": "none",
    });
    fails(
      vggish,
      { data: empty },
      1,
      `class folder ${join(empty, "green")} has no PNG or JPEG images: every class needs some`,
    );
    const corrupt = writeTree(join(dir, "corrupt"), {
      ...classFolders(colours, 2, 16, 7),
      "red/broken.png": rgb(16, 8).subarray(0, 70),
    });
    fails(
      vggish,
      { data: corrupt },
      1,
      `cannot decode ${join(corrupt, "red", "broken.png")} as a PNG image (corrupt or truncated?): Error while decompressing the data`,
    );
    const gif = writeTree(join(dir, "gif"), {
      ...classFolders(colours, 2, 16, 9),
      "red/anim.gif": "GIF89a",
    });
    fails(
      vggish,
      { data: gif },
      1,
      `${join(gif, "red", "anim.gif")} is a GIF image; netc reads PNG and JPEG images: convert it`,
    );
  });

  test("masks: a missing mask, a colour mask", () => {
    const image = png(16, 16, 1, new Array(256).fill(9));
    const missing = writeTree(join(dir, "no-mask"), {
      "images/a.png": image,
      "images/b.png": image,
      "masks/a.png": image,
    });
    fails(
      unet3,
      { data: missing },
      1,
      `${join(missing, "images", "b.png")} has no mask: expected ${join(missing, "masks", "b")}.png`,
    );
    const colour = writeTree(join(dir, "colour-mask"), {
      "images/a.png": image,
      "masks/a.png": rgb(16, 10),
    });
    fails(
      unet3,
      { data: colour },
      1,
      `${join(colour, "masks", "a.png")} is a colour image; a mask must be a greyscale or palette PNG whose pixel value is the class index`,
    );
    const extra = writeTree(join(dir, "extra-mask"), {
      "images/a.png": image,
      "masks/a.png": image,
      "masks/sub/c.png": image,
    });
    fails(
      unet3,
      { data: extra },
      1,
      `${join(extra, "masks", "sub", "c.png")} is a mask without an image in ${join(extra, "images")}`,
    );
    const noTestImages = writeTree(join(dir, "no-test-images"), {
      "train/images/a.png": image,
      "train/masks/a.png": image,
      "test/masks/a.png": image,
    });
    fails(
      unet3,
      { data: noTestImages },
      1,
      `the data directory ${join(noTestImages, "test", "images")} does not exist`,
    );
  });

  test("folders: train/ and test/ classes differ, images without classes, nothing to read", () => {
    const differ = writeTree(join(dir, "differ"), {
      ...prefixed("train", classFolders(colours, 1, 16, 16)),
      ...prefixed("test", classFolders(["blue", "red", "yellow"], 1, 16, 17)),
    });
    fails(
      vggish,
      { data: differ },
      1,
      `the class folders of ${join(differ, "train")} and ${join(differ, "test")} differ: only ${join(differ, "train")} has green; only ${join(differ, "test")} has yellow`,
    );
    const flat = writeTree(join(dir, "flat"), { "a.png": rgb(16, 18) });
    fails(
      vggish,
      { data: flat },
      1,
      `${flat} holds images but no class folders: put each class's images in a folder named after it (or give segmentation masks in ${flat}/masks beside ${flat}/images)`,
    );
    const empty = writeTree(join(dir, "nothing"), { ".hidden": "x" });
    fails(
      vggish,
      { data: empty },
      1,
      `--data ${empty} holds nothing netc reads (it is empty): it reads a folder per class of PNG or JPEG images (optionally in train/ and test/), images/ and masks/, .npy files, or the IDX files of (Fashion-)MNIST`,
    );
  });

  test("CSV: a ragged row, a missing or no --label column, a cell that is not a number", () => {
    const ragged = file("ragged.csv", "x,y,z,price\n1,2,3,4\n5,6,7\n");
    fails(
      regressor,
      { data: ragged, label: ["price"] },
      1,
      `line 3 of ${ragged} has 3 fields but the header has 4 (x, y, z, price)`,
    );
    const good = file("good.csv", "x,y,z,price\n1,2,3,4\n5,6,7,8\nnan,1,2,3\n");
    fails(
      regressor,
      { data: good, label: ["cost"] },
      1,
      `${good} has no column cost; its columns are: x, y, z, price`,
    );
    fails(
      regressor,
      { data: good },
      1,
      `--label is needed to say which columns of ${good} are targets; its columns are: x, y, z, price`,
    );
    fails(
      regressor,
      { data: good, label: ["price"] },
      1,
      `line 4 of ${good}, column x: 'nan' is not a number`,
    );
  });

  test(".npz without the keys netc reads lists the keys it has; .npy of a dtype netc does not read", () => {
    const data = file(
      "keys.npz",
      npz({ images: npy("<f4", [1, 4], [0, 0, 0, 0]), labels: npy("|u1", [1], [0]) }),
    );
    fails(
      "samples/lenet5.net",
      { data },
      1,
      `${data} has no x_train or x; it holds images, labels. netc reads x_train, y_train and optionally x_test, y_test (Keras's mnist.npz), or x and y (then --test-split holds out a part); a model with several outputs takes y_train_<output> for each`,
    );
    const fixtures = new URL("fixtures/data-files/", import.meta.url);
    const complex = writeTree(join(dir, "complex"), {
      "x.npy": new Uint8Array(readFileSync(new URL("complex.npy", fixtures))),
      "y.npy": npy("|u1", [1], [0]),
    });
    fails(
      "samples/lenet5.net",
      { data: complex },
      1,
      `${join(complex, "x.npy")} holds dtype '<c8'; netc reads bool, (u)int8/16/32/64, float16/32/64 and strings (<U, |S)`,
    );
  });

  test("flags that do not fit the data are usage errors (exit 2)", () => {
    const folders = writeTree(join(dir, "flags"), {
      ...prefixed("train", classFolders(colours, 1, 16, 11)),
      ...prefixed("test", classFolders(colours, 1, 16, 12)),
    });
    const csv = file("flags.csv", "x,y,z,price\n1,2,3,4\n");
    fails(
      vggish,
      { data: folders, label: ["kind"] },
      2,
      `--label names the target columns of a CSV file, but --data ${folders} is image folders`,
    );
    fails(
      regressor,
      { data: csv, label: ["price"], resize: true },
      2,
      `--resize is for image files, but --data ${csv} is a CSV file`,
    );
    fails(
      vggish,
      { data: folders, testSplit: 0.2 },
      2,
      `--test-split holds out a test set from data without one, but --data ${folders} has its own test part`,
    );
    fails("samples/lenet5.net", { label: ["y"] }, 2, "--label goes with --data");
  });

  test("paths netc cannot read as data", () => {
    const missing = join(dir, "nothing-here");
    fails(vggish, { data: missing }, 1, `--data ${missing}: no such file or directory`);
    const text = file("notes.txt", "hello");
    fails(
      vggish,
      { data: text },
      1,
      `--data ${text}: netc reads .npz, .csv and .tsv files, and directories (image folders, .npy files, IDX files)`,
    );
    const extra = writeTree(join(dir, "with-val"), {
      ...prefixed("train", classFolders(colours, 1, 16, 13)),
      ...prefixed("val", classFolders(colours, 1, 16, 14)),
    });
    fails(
      vggish,
      { data: extra },
      1,
      `${extra} has train/ and also val/: beside train/, netc reads only test/ (without it, --test-split holds out a part of train/)`,
    );
  });
});

describe("bad data through the CLI: one line on stderr, the exit status, nothing written", () => {
  const kept = file("kept.safetensors", "the previous weights");

  function cliFails(args: string[], status: number, message: string): void {
    const result = netc(...args, "--save", kept);
    expect(result.stderr).toBe(`netc: ${message}\n`);
    expect(result.status).toBe(status);
    expect(readFileSync(kept, "utf8")).toBe("the previous weights");
  }

  const big = writeTree(join(dir, "cli-big"), classFolders(["blue", "green", "red"], 1, 20, 15));

  test("a data error exits 1", () => {
    cliFails(
      ["train", vggish, "--data", big],
      1,
      `${join(big, "blue", "0.png")} is 20x20 but model VGGish takes 16x16 images (input [3, 16, 16]); pass --resize to resize every image (bilinear)`,
    );
  });

  test("a flag that does not fit the data exits 2, and so does a bad flag value", () => {
    cliFails(
      ["train", vggish, "--data", big, "--label", "kind"],
      2,
      `--label names the target columns of a CSV file, but --data ${big} is image folders`,
    );
    cliFails(
      ["train", vggish, "--data", big, "--test-split", "1.5"],
      2,
      "option '--test-split <fraction>' argument '1.5' is invalid. expected a number above 0 and below 1 (see 'netc --help')",
    );
  });
});
