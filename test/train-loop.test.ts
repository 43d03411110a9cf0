// The training loop in process: tasks read from layouts, evaluation outputs, epochs, divergence.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { taskOf } from "../runtime/task.js";
import { DivergenceError, trainLoop, type StepProgress } from "../runtime/train-loop.js";
import { compileModel, pseudoRandom } from "./helpers/gradcheck.js";
import { rows, rowsModel } from "./helpers/rows.js";

const sample = (name: string) =>
  readFileSync(new URL(`../samples/${name}`, import.meta.url), "utf8");

const tiny = compileModel(rowsModel);

describe("taskOf", () => {
  test("each sample's task", () => {
    const tasks = Object.fromEntries(
      readdirSync(new URL("../samples/", import.meta.url))
        .filter((f) => f.endsWith(".net"))
        .map((f) => [f, taskOf(compileModel(sample(f)).layout)]),
    );
    expect(tasks).toEqual({
      "autoencoder.net": { kind: "reconstruction", output: "output" },
      "cnn.net": { kind: "classification", output: "output", classes: 10 },
      "cnn-bn.net": { kind: "classification", output: "output", classes: 10 },
      "dilated-segmentation.net": {
        kind: "segmentation",
        output: "output",
        classes: 2,
        pixels: 1024,
        ignore: 255,
      },
      "ecg-cnn.net": { kind: "classification", output: "output", classes: 6 },
      "lecun-lenet5.net": { kind: "classification", output: "output", classes: 10 },
      "lenet5.net": { kind: "classification", output: "output", classes: 10 },
      "mlp.net": { kind: "classification", output: "output", classes: 10 },
      "mobilenet.net": { kind: "classification", output: "output", classes: 10 },
      "resnet-tiny.net": { kind: "classification", output: "output", classes: 10 },
      "se-resnet.net": { kind: "classification", output: "output", classes: 10 },
      "ssd-detector.net": { kind: "detection", cells: 64, threshold: 0 },
      "tiny-detector.net": { kind: "detection", cells: 64, threshold: 0.5 },
      "tiny-unet.net": { kind: "segmentation", output: "out", classes: 2, pixels: 1024 },
    });
  });

  test("the criteria's options and kinds: void pixels, objectness logits, an L1 autoencoder", () => {
    const task = (source: string) => taskOf(compileModel(source).layout);
    expect(
      task(
        "model M {\n  input x: [3, 4, 4]\n  SpatialConvolution(5, kernel=1)\n}\ncriterion CrossEntropy(ignore=255)\n",
      ),
    ).toEqual({ kind: "segmentation", output: "output", classes: 5, pixels: 16, ignore: 255 });
    expect(
      task(
        "model M {\n  input x: [3, 8, 8]\n  boxes = x -> SpatialConvolution(4, kernel=1)\n  objectness = x -> SpatialConvolution(1, kernel=1)\n  output boxes, objectness\n}\ncriterion SmoothL1(boxes) + BCEWithLogits(objectness)\n",
      ),
    ).toEqual({ kind: "detection", cells: 64, threshold: 0 });
    expect(task("model M {\n  input x: [6]\n  Linear(6)\n}\ncriterion L1\n")).toEqual({
      kind: "reconstruction",
      output: "output",
    });
  });
});

describe("Model.evaluate", () => {
  test.each(["lenet5.net", "tiny-unet.net", "tiny-detector.net", "autoencoder.net"])(
    "%s: the outputs and loss of one pass are forward's and loss's",
    (file) => {
      const compiled = compileModel(sample(file));
      const net = compiled.create({ batch: 3, seed: 2 });
      const next = pseudoRandom(5);
      const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
      const input = Float32Array.from(
        { length: 2 * size(compiled.layout.inputs[0]!.shape) },
        () => (next() + 1) / 2,
      );
      const targets = Object.fromEntries(
        compiled.layout.targets.map((t) => {
          const n = 2 * size(t.shape);
          const values =
            t.dtype === "i32"
              ? Int32Array.from({ length: n }, (_, i) => i % (t.classes ?? 2))
              : Float32Array.from({ length: n }, () => (next() > 0 ? 1 : 0));
          return [t.name, values];
        }),
      );
      const { loss, outputs } = net.evaluate(input, targets);
      expect(outputs).toEqual(net.forward(input));
      expect(loss).toBe(net.loss(input, targets));
    },
  );
});

describe("trainLoop", () => {
  const train = rows(70);
  const testSet = rows(21);

  test("full batches in a seeded order; running train figures; every test sample evaluated; the same seed, the same run", () => {
    const run = () => {
      const steps: StepProgress[] = [];
      const { results } = trainLoop({
        model: tiny.create({ batch: 16, seed: 1 }),
        layout: tiny.layout,
        train,
        test: testSet,
        epochs: 3,
        seed: 4,
        onStep: (p) => steps.push(p),
      });
      return { steps, results };
    };
    const { steps, results } = run();
    // 70 samples make 4 full batches of 16; the last 6 wait for another epoch's shuffle.
    expect(steps.map((s) => `${s.epoch}.${s.step}/${s.steps}`)).toEqual(
      [1, 2, 3].flatMap((e) => [1, 2, 3, 4].map((s) => `${e}.${s}/4`)),
    );
    // The running figures cover the 64 samples trained on; the test set is evaluated whole.
    expect(results.map((r) => [r.train.count, r.test.count])).toEqual([
      [64, 21],
      [64, 21],
      [64, 21],
    ]);
    expect(results.every((r) => r.trainEvaluation === undefined)).toBe(true);
    expect(results[2]!.test.accuracy).toBeGreaterThan(0.9);
    expect(results[2]!.train.loss).toBeLessThan(results[0]!.train.loss);
    expect(results[2]!.test.confusion!.total).toBe(21);
    const again = run().results.map((r) => [r.train.loss, r.test.loss]);
    expect(again).toEqual(results.map((r) => [r.train.loss, r.test.loss]));
  });

  test("a loss that is no longer finite stops training, naming the epoch and step", () => {
    const model = tiny.create({ batch: 16, seed: 1 });
    const run = () =>
      trainLoop({
        model,
        layout: tiny.layout,
        train,
        test: testSet,
        epochs: 2,
        seed: 0,
        learningRate: 1e30,
      });
    expect(run).toThrow(DivergenceError);
    expect(run).toThrow(
      /^the loss is (NaN|Infinity) at epoch 1, step \d+: training diverged; try a lower learning rate$/,
    );
  });

  test("learningRateAt sets each epoch's rate at its start, counting epochs from 0", () => {
    const run = (learningRateAt?: (epoch: number) => number) =>
      trainLoop({
        model: tiny.create({ batch: 16, seed: 1 }),
        layout: tiny.layout,
        train,
        test: testSet,
        epochs: 3,
        seed: 4,
        learningRate: 0.1,
        ...(learningRateAt ? { learningRateAt } : {}),
      }).results.map((r) => r.test.loss);
    const constant = run();
    expect(run(() => 0.1)).toEqual(constant);
    // Epoch 0 at the same rate, then none: the weights stay as the first epoch left them.
    const stopped = run((epoch) => (epoch === 0 ? 0.1 : 0));
    expect(stopped[0]).toBe(constant[0]);
    expect(stopped[1]).not.toBe(constant[1]);
    expect(stopped[2]).toBe(stopped[1]);
  });

  test("a training set smaller than one batch is refused", () => {
    const model = tiny.create({ batch: 16, seed: 1 });
    expect(() =>
      trainLoop({ model, layout: tiny.layout, train: rows(15), test: testSet, epochs: 1, seed: 0 }),
    ).toThrow("the training set has 15 samples, fewer than one batch of 16");
  });
});
