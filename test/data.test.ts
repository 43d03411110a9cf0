// The data layer: IDX files, Fashion-MNIST loading, dataset checks, batching, generated sets, metrics.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, test } from "vitest";
import { check, type ModelIR } from "../compiler/index.js";
import {
  allocateBatch,
  batchCount,
  batches,
  epochOrder,
  fillBatch,
} from "../runtime/data/batches.js";
import { checkDataset, type ModelExpectation } from "../runtime/data/check-dataset.js";
import {
  fromIdx,
  toReconstruction,
  type Dataset,
  type SyntheticSet,
} from "../runtime/data/dataset.js";
import { encodeIdx, parseIdx } from "../runtime/data/idx.js";
import {
  argmaxClasses,
  ConfusionMatrix,
  DetectionMetrics,
  ReconstructionError,
} from "../runtime/data/metrics.js";
import { centreCell, detectionGrid, detectionSet } from "../runtime/data/synthetic-detection.js";
import { ecgClassNames, ecgRate, ecgSet } from "../runtime/data/synthetic-ecg.js";
import { covers, segmentationSet } from "../runtime/data/synthetic-segmentation.js";
import { installedLocations, loadFashionMnist } from "../runtime/node/fashion-mnist.js";
import { readIdxFile, writeIdxFile } from "../runtime/node/idx-file.js";
import { Rng } from "../runtime/rng.js";
import { netcError } from "./helpers/netc-error.js";

const dir = mkdtempSync(join(tmpdir(), "netc-data-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh empty directory under the test's temporary one. */
function subdir(name: string): string {
  const path = join(dir, name);
  mkdirSync(path);
  return path;
}

/** Rank-3 header [2, 2, 3] then 12 pixels, written out by hand. */
const rank3 = Uint8Array.from([
  0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255,
]);

describe("IDX reader", () => {
  test("rank 1: dims and data from hand-built bytes", () => {
    const bytes = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
    const idx = parseIdx(bytes, "labels");
    expect(idx.dims).toEqual([3]);
    expect(Array.from(idx.data)).toEqual([7, 8, 9]);
  });

  test("rank 3: big-endian dims, data after the 16-byte header", () => {
    const idx = parseIdx(rank3, "images");
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(Array.from(idx.data)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255]);
    expect(encodeIdx(idx)).toEqual(rank3);
  });

  test("dims above 255 use all four bytes", () => {
    const idx = parseIdx(encodeIdx({ dims: [70000], data: new Uint8Array(70000) }), "big");
    expect(idx.dims).toEqual([70000]);
  });

  test("files raw and gzip read the same, gzip recognised by content", () => {
    writeFileSync(join(dir, "raw"), rank3);
    writeFileSync(join(dir, "packed.gz"), gzipSync(rank3));
    writeFileSync(join(dir, "packed-without-suffix"), gzipSync(rank3));
    const raw = readIdxFile(join(dir, "raw"));
    expect(readIdxFile(join(dir, "packed.gz"))).toEqual(raw);
    expect(readIdxFile(join(dir, "packed-without-suffix"))).toEqual(raw);
    writeIdxFile(join(dir, "written.gz"), raw);
    expect(readFileSync(join(dir, "written.gz")).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(readIdxFile(join(dir, "written.gz"))).toEqual(raw);
  });

  test("truncated data: the file and expected vs actual bytes", () => {
    expect(netcError(() => parseIdx(rank3.subarray(0, 26), "x.idx"))).toBe(
      "x.idx is truncated: dims [2, 2, 3] need 12 data bytes after the 16-byte header, but there are 10",
    );
  });

  test("truncated header", () => {
    expect(netcError(() => parseIdx(rank3.subarray(0, 10), "x.idx"))).toBe(
      "x.idx is truncated: its header declares 3 dimensions and needs 16 bytes, but the file has 10",
    );
    expect(netcError(() => parseIdx(Uint8Array.from([0, 0, 8]), "x.idx"))).toBe(
      "x.idx is not an IDX file: it has 3 bytes, fewer than the 4-byte header",
    );
  });

  test("extra bytes after the data", () => {
    const long = Uint8Array.from([...rank3, 1, 2]);
    expect(netcError(() => parseIdx(long, "x.idx"))).toBe(
      "x.idx has 2 bytes after its data ends at offset 28 (dims [2, 2, 3])",
    );
  });

  test("bad magic", () => {
    const bytes = Uint8Array.from([0x12, 0x34, 8, 1, 0, 0, 0, 0]);
    expect(netcError(() => parseIdx(bytes, "x.idx"))).toBe(
      "x.idx is not an IDX file: it starts with 0x12 0x34, expected 0x00 0x00",
    );
  });

  test("a type other than unsigned bytes", () => {
    const floats = Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]);
    expect(netcError(() => parseIdx(floats, "x.idx"))).toBe(
      "x.idx has data type 0x0d (32-bit floats) at offset 2; only 0x08 (unsigned bytes) is supported",
    );
    const unknown = Uint8Array.from([0, 0, 0x42, 1, 0, 0, 0, 0]);
    expect(netcError(() => parseIdx(unknown, "x.idx"))).toBe(
      "x.idx has data type 0x42, which is not an IDX type at offset 2; only 0x08 (unsigned bytes) is supported",
    );
  });

  test("rank 0", () => {
    expect(netcError(() => parseIdx(Uint8Array.from([0, 0, 8, 0]), "x.idx"))).toBe(
      "x.idx declares rank 0 at offset 3; expected 1 or more",
    );
  });

  test("gzip bytes given to the byte parser, and a broken gzip file", () => {
    expect(netcError(() => parseIdx(gzipSync(rank3), "x.gz"))).toBe(
      "x.gz is gzip-compressed: decompress it before reading it as IDX",
    );
    const path = join(dir, "cut.gz");
    writeFileSync(path, gzipSync(rank3).subarray(0, 20));
    expect(netcError(() => readIdxFile(path))).toMatch(
      new RegExp(`^${path} is not valid gzip \\(truncated\\?\\): `),
    );
  });

  test("a missing file", () => {
    expect(netcError(() => readIdxFile(join(dir, "nothing")))).toBe(
      `cannot read the data file ${join(dir, "nothing")}: no such file`,
    );
  });
});

/** Writes a small Fashion-MNIST-shaped directory: `train` and `test` images of 28 x 28. */
function writeFashionDir(path: string, train: number, test: number, gzip = true): void {
  const write = (prefix: string, n: number) => {
    const images = new Uint8Array(n * 784).map((_, i) => i % 256);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const suffix = gzip ? ".gz" : "";
    writeIdxFile(join(path, `${prefix}-images-idx3-ubyte${suffix}`), {
      dims: [n, 28, 28],
      data: images,
    });
    writeIdxFile(join(path, `${prefix}-labels-idx1-ubyte${suffix}`), { dims: [n], data: labels });
  };
  write("train", train);
  write("t10k", test);
}

describe("Fashion-MNIST", () => {
  test("the embedded sample when nothing is installed: counts, shapes, every class", () => {
    const data = loadFashionMnist({ searchDirs: [subdir("empty")] });
    expect(data.embedded).toBe(true);
    expect(data.description).toBe(
      "Fashion-MNIST embedded sample (4,000 train, 1,000 test) — apt-get install dataset-fashion-mnist for the full set",
    );
    for (const [set, perClass] of [
      [data.train, 400],
      [data.test, 100],
    ] as const) {
      expect(set.count).toBe(perClass * 10);
      expect(set.inputShape).toEqual([1, 28, 28]);
      expect(set.inputs.length).toBe(set.count * 784);
      const [target] = set.targets;
      expect(target!.shape).toEqual([]);
      expect(target!.classes).toBe(10);
      expect(target!.classNames![9]).toBe("Ankle boot");
      const perLabel = new Array<number>(10).fill(0);
      for (const label of target!.data) perLabel[label]!++;
      expect(perLabel).toEqual(new Array<number>(10).fill(perClass));
      let min = Infinity;
      let max = -Infinity;
      for (const x of set.inputs) [min, max] = [Math.min(min, x), Math.max(max, x)];
      expect([min, max]).toEqual([0, 1]);
    }
  });

  test("installed locations: Debian's path under each XDG data directory", () => {
    expect(installedLocations({})).toEqual([
      "/usr/local/share/datasets/fashion-mnist",
      "/usr/share/datasets/fashion-mnist",
    ]);
    expect(installedLocations({ XDG_DATA_DIRS: "/nix/share:" })).toEqual([
      "/nix/share/datasets/fashion-mnist",
      "/usr/share/datasets/fashion-mnist",
    ]);
  });

  test("an installed copy is preferred to the embedded sample", () => {
    const installed = subdir("installed");
    writeFashionDir(installed, 30, 20);
    const data = loadFashionMnist({ searchDirs: [subdir("not-here"), installed] });
    expect(data.embedded).toBe(false);
    expect(data.directory).toBe(installed);
    expect(data.description).toBe(`Fashion-MNIST from ${installed} (30 train, 20 test)`);
  });

  test("--data DIR with raw files: pixels scaled to [0, 1], labels as class indices", () => {
    const raw = subdir("raw-files");
    writeFashionDir(raw, 3, 2, false);
    const data = loadFashionMnist({ dataDir: raw, searchDirs: [] });
    expect(data.description).toBe(`Fashion-MNIST from ${raw} (3 train, 2 test)`);
    expect(data.test.inputs[255]).toBe(1);
    expect(data.test.inputs[256]).toBe(0);
    expect(data.train.inputs[51]).toBeCloseTo(51 / 255, 7);
    expect(Array.from(data.train.targets[0]!.data)).toEqual([0, 1, 2]);
    expect(data.train.targets[0]!.data).toBeInstanceOf(Int32Array);
  });

  test("the default search: Debian's full set when installed, else the embedded sample", () => {
    const data = loadFashionMnist();
    if (data.embedded) {
      expect(data.description).toMatch(/^Fashion-MNIST embedded sample \(4,000 train/);
    } else {
      expect([data.train.count, data.test.count]).toEqual([60000, 10000]);
      expect(data.description).toBe(
        `Fashion-MNIST from ${data.directory} (60,000 train, 10,000 test)`,
      );
    }
  });

  test("a missing --data directory", () => {
    const path = join(dir, "no-such-dir");
    expect(netcError(() => loadFashionMnist({ dataDir: path }))).toBe(
      `data directory ${path} does not exist`,
    );
    writeFileSync(join(dir, "a-file"), "");
    expect(netcError(() => loadFashionMnist({ dataDir: join(dir, "a-file") }))).toBe(
      `data directory ${join(dir, "a-file")} is not a directory`,
    );
  });

  test("a --data directory without the files lists what it looked for", () => {
    const partial = subdir("partial");
    writeFashionDir(partial, 2, 2);
    rmSync(join(partial, "t10k-labels-idx1-ubyte.gz"));
    expect(netcError(() => loadFashionMnist({ dataDir: partial }))).toBe(
      `data directory ${partial} has no t10k-labels-idx1-ubyte[.gz]; it needs the four Fashion-MNIST files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or gzip (.gz)`,
    );
  });
});

/** Images `n` x [1, 2, 2] with pixel value (record * 4 + pixel) and the given labels. */
function tinySet(labels: number[]): Dataset {
  const n = labels.length;
  const images = { dims: [n, 2, 2], data: Uint8Array.from({ length: n * 4 }, (_, i) => i) };
  return fromIdx(
    images,
    { dims: [n], data: Uint8Array.from(labels) },
    { images: "i", labels: "l" },
  );
}

describe("datasets", () => {
  test("fromIdx: counts must agree, labels bounded by the class count", () => {
    const images = { dims: [3, 2, 2], data: new Uint8Array(12) };
    expect(
      netcError(() =>
        fromIdx(images, { dims: [2], data: new Uint8Array(2) }, { images: "a", labels: "b" }),
      ),
    ).toBe("a has 3 images but b has 2 labels");
    expect(
      netcError(() =>
        fromIdx(
          images,
          { dims: [3], data: Uint8Array.from([0, 1, 12]) },
          { images: "a", labels: "b" },
          10,
        ),
      ),
    ).toBe("label 12 at record 2 of b is out of range for 10 classes");
    // Bare numbers name no class count; the model's output bounds them.
    expect(tinySet([0, 4]).targets[0]!.classes).toBeUndefined();
  });

  test("a reconstruction set shares the images as its target", () => {
    const images = tinySet([0, 1]);
    const auto = toReconstruction(images);
    expect(auto.targets).toEqual([{ data: images.inputs, shape: [1, 2, 2] }]);
    expect(auto.targets[0]!.data).toBe(images.inputs);
  });
});

/** A model's expectations from the compiler's IR, as the training loop builds them. */
function expectation(model: ModelIR): ModelExpectation {
  const shape = (id: number) => model.nodes.find((n) => n.id === id)!.shape;
  return {
    model: model.name,
    inputShape: shape(model.inputs[0]!.node),
    criterion: model.criterion.map((term) => ({ ...term, classes: shape(term.node)[0] })),
  };
}

function sampleModel(name: string): ModelIR {
  const source = readFileSync(new URL(`../samples/${name}`, import.meta.url), "utf8");
  return check(source).models[0]!;
}

describe("checkDataset", () => {
  const fashion = loadFashionMnist({ searchDirs: [] }).test;
  const lenet: ModelExpectation = {
    model: "LeNet5",
    inputShape: [1, 28, 28],
    criterion: [
      { criterion: "NLL", output: "out", target: [], targetKind: "classes", classes: 10 },
    ],
  };

  test("each sample's data fits the model, with expectations from the compiler", () => {
    expect(checkDataset(fashion, expectation(sampleModel("lenet5.net")))).toEqual([0]);
    const auto = toReconstruction(fashion);
    expect(checkDataset(auto, expectation(sampleModel("autoencoder.net")))).toEqual([0]);
    const unet = segmentationSet(4, new Rng(1)).dataset;
    expect(checkDataset(unet, expectation(sampleModel("tiny-unet.net")))).toEqual([0]);
    const detector = detectionSet(4, new Rng(1)).dataset;
    expect(checkDataset(detector, expectation(sampleModel("tiny-detector.net")))).toEqual([0, 1]);
  });

  test("targets are matched to terms by output name", () => {
    const detector = detectionSet(2, new Rng(1)).dataset;
    const terms = expectation(sampleModel("tiny-detector.net"));
    const reversed = { ...terms, criterion: [...terms.criterion].reverse() };
    expect(checkDataset(detector, reversed)).toEqual([1, 0]);
    const missing = { ...detector, targets: detector.targets.slice(0, 1) };
    expect(netcError(() => checkDataset(missing, terms))).toBe(
      "model TinyDetector's criterion BCE(objectness) needs a target for output objectness, but the data has targets for: boxes",
    );
  });

  test("input shape mismatch", () => {
    const cifar = { ...lenet, inputShape: [3, 32, 32] };
    expect(netcError(() => checkDataset(fashion, cifar))).toBe(
      "the data has images of shape [1, 28, 28] but model LeNet5 takes input [3, 32, 32]",
    );
  });

  test("label out of range, per sample and per pixel", () => {
    const labels = new Array<number>(400).fill(3);
    labels[345] = 12;
    expect(
      netcError(() => checkDataset(tinySet(labels), { ...lenet, inputShape: [1, 2, 2] })),
    ).toBe("label 12 at record 345 is out of range for the 10 classes of model LeNet5");
    const unet = segmentationSet(3, new Rng(2)).dataset;
    unet.targets[0]!.data[2 * 1024 + 4 * 32 + 17] = 2;
    expect(netcError(() => checkDataset(unet, expectation(sampleModel("tiny-unet.net"))))).toBe(
      "label 2 at record 2 (element [4, 17]) is out of range for the 2 classes of model TinyUNet",
    );
  });

  test("a criterion's ignored label passes, whatever its value; other labels out of range do not", () => {
    const unet = segmentationSet(3, new Rng(2)).dataset;
    const data = unet.targets[0]!.data;
    data[5] = 255;
    data[1024 + 9] = 255;
    const base = expectation(sampleModel("tiny-unet.net"));
    const voids = { ...base, criterion: [{ ...base.criterion[0]!, ignore: 255 }] };
    expect(checkDataset(unet, voids)).toEqual([0]);
    expect(netcError(() => checkDataset(unet, base))).toBe(
      "label 255 at record 0 (element [0, 5]) is out of range for the 2 classes of model TinyUNet",
    );
    data[7] = 254;
    expect(netcError(() => checkDataset(unet, voids))).toBe(
      "label 254 at record 0 (element [0, 7]) is out of range for the 2 classes of model TinyUNet",
    );
  });

  test("target kind and shape mismatches", () => {
    expect(
      netcError(() => checkDataset(fashion, expectation(sampleModel("autoencoder.net")))),
    ).toBe(
      "the data has targets of class indices of shape [] but model AutoEncoder's criterion MSE takes values of shape [1, 28, 28]",
    );
    const unet = segmentationSet(2, new Rng(3)).dataset;
    const wide = { ...unet, targets: [{ ...unet.targets[0]!, shape: [16, 64] }] };
    expect(netcError(() => checkDataset(wide, expectation(sampleModel("tiny-unet.net"))))).toBe(
      "the data has targets of class indices of shape [16, 64] but model TinyUNet's criterion NLL takes class indices of shape [32, 32]",
    );
  });

  test("no samples", () => {
    const empty = { ...tinySet([]), inputShape: [1, 28, 28] };
    expect(netcError(() => checkDataset(empty, lenet))).toBe(
      "the data for model LeNet5 has no samples",
    );
  });
});

describe("batches", () => {
  const shuffle = new Rng(42).fork("shuffle");

  test("seeded shuffling: same seed same order, epochs differ, each sample once", () => {
    const a = epochOrder(100, shuffle, 0);
    expect(epochOrder(100, new Rng(42).fork("shuffle"), 0)).toEqual(a);
    expect(epochOrder(100, shuffle, 1)).not.toEqual(a);
    expect(epochOrder(100, new Rng(43).fork("shuffle"), 0)).not.toEqual(a);
    for (let epoch = 0; epoch < 5; epoch++) {
      const order = Array.from(epochOrder(100, shuffle, epoch));
      expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    }
    const reused = new Uint32Array(100);
    expect(epochOrder(100, shuffle, 0, reused)).toBe(reused);
    expect(reused).toEqual(a);
  });

  test("a batch holds the samples of the order, inputs and targets together", () => {
    const set = tinySet([5, 6, 7, 8, 9]);
    const buffers = allocateBatch(set, 2);
    const order = Uint32Array.from([3, 0, 4, 1, 2]);
    expect(fillBatch(set, order, 0, buffers)).toBe(2);
    expect(Array.from(buffers.inputs, (x) => Math.round(x * 255))).toEqual([
      12, 13, 14, 15, 0, 1, 2, 3,
    ]);
    expect(Array.from(buffers.targets[0]!)).toEqual([8, 5]);
    expect(buffers.targets[0]).toBeInstanceOf(Int32Array);
  });

  test("dropLast skips the partial batch; evaluation yields it with its count", () => {
    const set = tinySet([0, 1, 2, 3, 4]);
    const buffers = allocateBatch(set, 2);
    expect(batchCount(5, 2, true)).toBe(2);
    expect(batchCount(5, 2, false)).toBe(3);
    expect(batchCount(4, 2, false)).toBe(2);
    expect([...batches(set, buffers, { dropLast: true })]).toEqual([2, 2]);
    const seen: number[][] = [];
    for (const n of batches(set, buffers, { dropLast: false })) {
      seen.push(Array.from(buffers.targets[0]!.subarray(0, n)));
    }
    expect(seen).toEqual([[0, 1], [2, 3], [4]]);
  });

  test("the buffers are reused, not reallocated", () => {
    const set = detectionSet(5, new Rng(4)).dataset;
    const buffers = allocateBatch(set, 2);
    const { inputs, targets } = buffers;
    const order = epochOrder(set.count, shuffle, 0);
    for (const n of batches(set, buffers, { order, dropLast: true })) expect(n).toBe(2);
    expect(buffers.inputs).toBe(inputs);
    expect(buffers.targets[1]).toBe(targets[1]);
    expect(buffers.targets.map((t) => t.length)).toEqual([2 * 4 * 64, 2 * 64]);
    // The second batch is samples order[2] and order[3].
    const objectness = (sample: number) =>
      set.targets[1]!.data.subarray(sample * 64, sample * 64 + 64);
    expect(buffers.targets[1]).toEqual(
      Float32Array.from([...objectness(order[2]!), ...objectness(order[3]!)]),
    );
  });
});

/** Equal scenes and bit-identical arrays (compared as bytes: element-wise matching is slow). */
function expectSameSet<S>(a: SyntheticSet<S>, b: SyntheticSet<S>): void {
  const bytes = (x: Float32Array | Int32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  expect(a.scenes).toEqual(b.scenes);
  expect(bytes(a.dataset.inputs).equals(bytes(b.dataset.inputs))).toBe(true);
  a.dataset.targets.forEach((t, i) => {
    expect(bytes(t.data).equals(bytes(b.dataset.targets[i]!.data))).toBe(true);
  });
}

describe("generated sets", () => {
  test("segmentation: seeded, and every foreground pixel inside a drawn shape", () => {
    const a = segmentationSet(20, new Rng(7));
    expectSameSet(segmentationSet(20, new Rng(7)), a);
    expect(segmentationSet(20, new Rng(8)).dataset.inputs).not.toEqual(a.dataset.inputs);
    const { dataset, scenes } = a;
    expect(dataset.inputShape).toEqual([1, 32, 32]);
    expect(dataset.targets[0]!.shape).toEqual([32, 32]);
    const inside = new Int32Array(20 * 1024);
    let shapeSum = 0;
    let backSum = 0;
    for (let n = 0; n < 20; n++) {
      expect(scenes[n]!.length).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < 1024; i++) {
        const [x, y] = [i % 32, Math.floor(i / 32)];
        inside[n * 1024 + i] = scenes[n]!.some((b) => covers(b, x, y)) ? 1 : 0;
        if (inside[n * 1024 + i]) shapeSum += dataset.inputs[n * 1024 + i]!;
        else backSum += dataset.inputs[n * 1024 + i]!;
      }
    }
    expect(Array.from(dataset.targets[0]!.data)).toEqual(Array.from(inside));
    const shapePixels = inside.reduce((a, b) => a + b, 0);
    // Shapes are brighter than the noise around them.
    expect(shapeSum / shapePixels).toBeGreaterThan(backSum / (20 * 1024 - shapePixels) + 0.3);
  });

  test("detection: seeded, objectness exactly at box centres, boxes decode to the drawn ones", () => {
    const a = detectionSet(30, new Rng(9));
    expectSameSet(detectionSet(30, new Rng(9)), a);
    const { dataset, scenes } = a;
    expect(dataset.inputShape).toEqual([3, 64, 64]);
    const [boxes, objectness] = dataset.targets;
    expect(boxes!.output).toBe("boxes");
    expect(objectness!.output).toBe("objectness");
    for (let n = 0; n < 30; n++) {
      const centres = new Set(
        scenes[n]!.map((b) => {
          const { row, col } = centreCell(b);
          return row * detectionGrid + col;
        }),
      );
      expect(centres.size).toBe(scenes[n]!.length);
      const expected = Array.from({ length: 64 }, (_, cell) => (centres.has(cell) ? 1 : 0));
      expect(Array.from(objectness!.data.subarray(n * 64, n * 64 + 64))).toEqual(expected);
      for (const box of scenes[n]!) {
        const { row, col } = centreCell(box);
        const at = (c: number) => boxes!.data[(n * 4 + c) * 64 + row * 8 + col]!;
        expect((col + at(0)) * 8 - (at(2) * 64) / 2).toBeCloseTo(box.x0, 4);
        expect((row + at(1)) * 8 - (at(3) * 64) / 2).toBeCloseTo(box.y0, 4);
        expect(at(2) * 64).toBeCloseTo(box.width, 4);
        expect(at(3) * 64).toBeCloseTo(box.height, 4);
        expect(at(0)).toBeGreaterThanOrEqual(0);
        expect(at(0)).toBeLessThan(1);
      }
    }
  });
});

describe("generated ECG set", () => {
  const count = 240;
  const a = ecgSet(count, new Rng(11));
  const { dataset, scenes } = a;
  const labels = dataset.targets[0]!.data;
  const duration = 256 / ecgRate;
  /** Each window's beats inside it, and its label's name. */
  const windows = scenes.map((beats, n) => ({
    name: ecgClassNames[labels[n]!]!,
    beats: beats.filter((b) => b.time >= 0 && b.time < duration),
    all: beats,
    signal: dataset.inputs.subarray(n * 256, (n + 1) * 256),
  }));
  /** The mean RR interval (s) of the sinus rhythms: 60 / rate, give or take the jitter. */
  const meanIntervals: Record<string, [number, number]> = {
    normal: [1.05, 0.58],
    bradycardia: [1.8, 1.05],
    tachycardia: [0.57, 0.34],
  };
  const intervals = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

  test("seeded; [1, 256] windows, one of six named classes each, every class drawn", () => {
    expectSameSet(ecgSet(count, new Rng(11)), a);
    expect(ecgSet(count, new Rng(12)).dataset.inputs).not.toEqual(dataset.inputs);
    expect(dataset.inputShape).toEqual([1, 256]);
    const target = dataset.targets[0]!;
    expect(target.shape).toEqual([]);
    expect(target.classes).toBe(6);
    expect(target.classNames).toEqual([...ecgClassNames]);
    expect(new Set(labels).size).toBe(6);
    expect(ecgSet(2, new Rng(1), 1000).dataset.inputShape).toEqual([1, 1000]);
  });

  test("each class's beats: their kinds and rates", () => {
    for (const w of windows) {
      const kinds = new Set(w.beats.map((b) => b.kind));
      const sinusRR = intervals(w.all.filter((b) => b.kind !== "ventricular").map((b) => b.time));
      const meanRR = sinusRR.reduce((s, r) => s + r, 0) / sinusRR.length;
      expect(w.beats.length, w.name).toBeGreaterThanOrEqual(1);
      if (w.name === "PVC") {
        // One premature ventricular beat inside the window, then the compensatory pause.
        const i = w.all.findIndex((b) => b.kind === "ventricular");
        expect(w.all.filter((b) => b.kind === "ventricular")).toHaveLength(1);
        expect(w.all[i]!.time).toBeGreaterThan(0);
        expect(w.all[i]!.time).toBeLessThan(duration);
        const [before, beat, after] = [w.all[i - 1]!, w.all[i]!, w.all[i + 1]!];
        expect(beat.time - before.time).toBeLessThan(0.75 * (after.time - beat.time));
      } else if (w.name === "AF") {
        expect([...kinds]).toEqual(["atrial"]);
      } else if (w.name === "bundle branch block") {
        expect([...kinds]).toEqual(["notched"]);
      } else {
        expect([...kinds]).toEqual(["sinus"]);
        const [slow, fast] = meanIntervals[w.name]!;
        expect(meanRR, w.name).toBeLessThan(slow);
        expect(meanRR, w.name).toBeGreaterThan(fast);
      }
    }
  });

  test("R peaks stand out of the noise and the baseline", () => {
    let peaks = 0;
    let rise = 0;
    for (const w of windows) {
      for (const b of w.beats.filter((b) => b.kind === "sinus")) {
        const at = Math.round(b.time * ecgRate);
        // The R peak against the signal a quarter of a second before the beat (before P).
        const before = Math.max(0, at - 25);
        if (at === before) continue;
        rise += w.signal[at]! - w.signal[before]!;
        peaks++;
      }
    }
    expect(peaks).toBeGreaterThan(100);
    expect(rise / peaks).toBeGreaterThan(0.5);
  });
});

describe("metrics", () => {
  test("argmax over classes, for vectors and maps", () => {
    // Two samples of 3 classes: sample 0 picks class 2, sample 1 class 0 (a tie goes low).
    const scores = Float32Array.from([0.1, 0.2, 0.7, 0.5, 0.5, 0.1]);
    expect(Array.from(argmaxClasses(scores, 2, 3, 1, new Int32Array(2)))).toEqual([2, 0]);
    // One sample, 2 classes over 3 pixels: class planes [1, 0, 0] and [0, 2, -1].
    const map = Float32Array.from([1, 0, 0, 0, 2, -1]);
    expect(Array.from(argmaxClasses(map, 1, 2, 3, new Int32Array(3)))).toEqual([0, 1, 0]);
  });

  test("confusion matrix, accuracy and IoU", () => {
    const m = new ConfusionMatrix(3);
    // truth:     0 0 1 1 1 2
    // predicted: 0 1 1 1 2 2   (the last element is beyond n and ignored)
    m.add([0, 1, 1, 1, 2, 2, 0], [0, 0, 1, 1, 1, 2, 2], 6);
    expect(m.rows()).toEqual([
      [1, 1, 0],
      [0, 2, 1],
      [0, 0, 1],
    ]);
    expect(m.accuracy()).toBeCloseTo(4 / 6, 12);
    // IoU: class 0 1/2, class 1 2/(3+3-2) = 1/2, class 2 1/(1+2-1) = 1/2.
    expect(m.iou(0)).toBe(0.5);
    expect(m.iou(1)).toBe(0.5);
    expect(m.iou(2)).toBe(0.5);
    expect(m.meanIoU()).toBe(0.5);
    // A class absent from truth and prediction does not count towards the mean.
    const pixels = new ConfusionMatrix(3);
    pixels.add([0, 0, 1, 1], [0, 1, 1, 1], 4);
    expect(pixels.accuracy()).toBe(0.75);
    expect(pixels.meanIoU()).toBeCloseTo((1 / 2 + 2 / 3) / 2, 12);
  });

  test("an ignored label counts in neither accuracy nor IoU (torchmetrics' ignore_index)", () => {
    const voids = new ConfusionMatrix(2, 255);
    voids.add([0, 1, 1, 0], [0, 255, 1, 255], 4);
    expect(voids.total).toBe(2);
    expect(voids.accuracy()).toBe(1);
    expect(voids.meanIoU()).toBe(1);
    // An ignored class in range is left out too, as a truth; predicted, it still counts.
    const inRange = new ConfusionMatrix(3, 1);
    inRange.add([0, 0, 1], [0, 1, 2], 3);
    expect(inRange.rows()).toEqual([
      [1, 0, 0],
      [0, 0, 0],
      [0, 1, 0],
    ]);
  });

  test("detection: objectness accuracy and box error on cells with objects", () => {
    const m = new DetectionMetrics(2);
    // One sample of 2 cells: an object in cell 0 only.
    const objectness = Float32Array.from([0.9, 0.6]);
    const target = Float32Array.from([1, 0]);
    const boxes = Float32Array.from([0.5, 9, 0.5, 9, 0.25, 9, 0.25, 9]);
    const targetBoxes = Float32Array.from([0.4, 0, 0.5, 0, 0.5, 0, 0.25, 0]);
    m.add(boxes, objectness, targetBoxes, target, 1);
    expect(m.objectnessAccuracy()).toBe(0.5);
    expect(m.boxError()).toBeCloseTo((0.1 + 0 + 0.25 + 0) / 4, 6);
  });

  test("reconstruction error", () => {
    const m = new ReconstructionError();
    m.add(Float32Array.from([1, 0, 0.5]), Float32Array.from([0, 0, 0.5]), 3);
    m.add(Float32Array.from([0.5, 9]), Float32Array.from([0, 0]), 1);
    expect(m.mean()).toBeCloseTo((1 + 0.25) / 4, 12);
  });
});
