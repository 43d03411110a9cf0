// The training loop users expect: running figures of the training steps, the evaluation-mode pass
// over the training set on demand, early stopping and the best weights (Keras's EarlyStopping),
// augmentation declared in the train block, and the end-of-run report.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { formatCurves, formatRunEnd } from "../cli/training-report.js";
import { check } from "../compiler/check.js";
import type { AugmentStep } from "../runtime/api-types.js";
import { Augmentation } from "../runtime/data/augment.js";
import { allocateBatch, fillBatch } from "../runtime/data/batches.js";
import type { Dataset } from "../runtime/data/dataset.js";
import { Monitor } from "../runtime/early-stopping.js";
import type { Evaluation } from "../runtime/evaluate.js";
import { evaluate } from "../runtime/evaluate.js";
import { Feeder } from "../runtime/feeder.js";
import { bindData } from "../runtime/bind-data.js";
import type { EpochScores } from "../runtime/loop-checkpoint.js";
import { Rng } from "../runtime/rng.js";
import { taskOf } from "../runtime/task.js";
import { trainLoop } from "../runtime/train-loop.js";
import { netc, root } from "./helpers/cli.js";
import { compileModel } from "./helpers/gradcheck.js";
import { rows, rowsModel } from "./helpers/rows.js";

const dir = mkdtempSync(join(tmpdir(), "netc-loop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tiny = compileModel(rowsModel);

const argmax = (scores: ArrayLike<number>, n: number) => {
  let best = 0;
  for (let c = 1; c < 4; c++) if (scores[n * 4 + c]! > scores[n * 4 + best]!) best = c;
  return best;
};

describe("running training figures", () => {
  test.each(["ts", "wasm"] as const)(
    "%s: the epoch's train loss and accuracy are those of its steps, before each update",
    (backend) => {
      const model = tiny.create({ batch: 16, seed: 1, backend });
      // Without dropout or batch norm, a training pass computes what an evaluation pass does:
      // the outputs of each step are the evaluation outputs of the weights it starts from.
      const losses: number[] = [];
      let right = 0;
      let seen = 0;
      const trainStep = model.trainStep.bind(model);
      model.trainStep = (input, target) => {
        const before = model.forward(input) as Float32Array;
        const labels = (target as Record<string, Int32Array>)[tiny.layout.targets[0]!.name]!;
        const loss = trainStep(input, target);
        const outputs = model.outputs as Float32Array;
        for (let n = 0; n < labels.length; n++) {
          expect(outputs[n * 4 + argmax(before, n)]).toBe(
            Math.max(...outputs.slice(n * 4, n * 4 + 4)),
          );
          if (argmax(before, n) === labels[n]) right++;
        }
        seen += labels.length;
        losses.push(loss);
        return loss;
      };
      const { results } = trainLoop({
        model,
        layout: tiny.layout,
        train: rows(70, { noise: 0.3 }),
        test: rows(21, { seed: 9, noise: 0.3 }),
        epochs: 1,
        seed: 4,
      });
      const [epoch] = results;
      expect(losses).toHaveLength(4);
      expect(epoch!.train.count).toBe(64);
      expect(epoch!.train.loss).toBeCloseTo(losses.reduce((a, b) => a + b) / 4, 6);
      expect(epoch!.train.accuracy).toBe(right / seen);
      expect(epoch!.train.confusion!.total).toBe(64);
      expect(epoch!.trainEvaluation).toBeUndefined();
      model.dispose();
    },
  );

  test("evalTrain adds the evaluation-mode pass over every training sample after the epoch", () => {
    const model = tiny.create({ batch: 16, seed: 1 });
    const train = rows(70, { noise: 0.3 });
    const { results } = trainLoop({
      model,
      layout: tiny.layout,
      train,
      test: rows(21, { seed: 9, noise: 0.3 }),
      epochs: 1,
      seed: 4,
      evalTrain: true,
    });
    const again = evaluate(
      model,
      taskOf(tiny.layout),
      new Feeder(train, bindData(tiny.layout, train), 16),
    );
    expect(results[0]!.trainEvaluation!.count).toBe(70);
    expect(results[0]!.trainEvaluation!.loss).toBe(again.loss);
    expect(results[0]!.trainEvaluation!.accuracy).toBe(again.accuracy);
    expect(results[0]!.train.count).toBe(64);
  });
});

describe("early stopping and the best weights", () => {
  const evaluation = (loss: number, accuracy = 0): Evaluation => ({ count: 1, loss, accuracy });
  const weights = [{ name: "w", shape: [1], data: new Float32Array(1) }];
  const task = taskOf(tiny.layout);

  test("Keras's rule: an improvement beats the best by more than min_delta; patience epochs without one stop", () => {
    const monitor = new Monitor(
      { monitor: "loss", minDelta: 0.02, patience: 2, keepBest: true },
      task,
    );
    const stops = [1.0, 0.8, 0.85, 0.79, 0.5, 0.49, 0.6].map((loss, i) => {
      weights[0]!.data[0] = i + 1;
      return monitor.update(i + 1, evaluation(loss), weights);
    });
    // 0.79 is not 0.02 below 0.8: epochs 3 and 4 do not improve, and patience 2 stops at 4.
    expect(stops.slice(0, 4)).toEqual([false, false, false, true]);
    expect(monitor.state).toMatchObject({ best: 0.5, bestEpoch: 5 });
    expect(monitor.bestWeights![0]).toEqual(new Float32Array([5]));
  });

  test("accuracy is better higher; without patience, never a stop; an unknown metric is refused", () => {
    const monitor = new Monitor({ monitor: "accuracy", minDelta: 0, keepBest: false }, task);
    const stops = [0.5, 0.4, 0.3, 0.2, 0.6].map((a, i) =>
      monitor.update(i + 1, evaluation(1, a), weights),
    );
    expect(stops).toEqual([false, false, false, false, false]);
    expect(monitor.state).toEqual({ best: 0.6, bestEpoch: 5, wait: 0 });
    expect(monitor.bestWeights).toBeUndefined();
    expect(() => new Monitor({ monitor: "meanIoU", minDelta: 0, keepBest: true }, task)).toThrow(
      "cannot monitor meanIoU: the test set's metrics are loss, accuracy",
    );
  });

  test("keepBest ends the run with the weights of the best epoch", () => {
    const model = tiny.create({ batch: 16, seed: 1 });
    const byEpoch: Float32Array[][] = [];
    const run = trainLoop({
      model,
      layout: tiny.layout,
      train: rows(64, { noise: 0.3 }),
      // The test set lights up the next row: the better the model learns, the worse it does there.
      test: rows(32, { seed: 9, noise: 0.3, shift: 1 }),
      epochs: 6,
      seed: 4,
      monitor: { monitor: "loss", minDelta: 0, keepBest: true },
      onEpoch: () => byEpoch.push(model.params.map((p) => Float32Array.from(p.data))),
    });
    const losses = run.history.map((h) => h.test.loss);
    const best = losses.indexOf(Math.min(...losses)) + 1;
    expect(best).toBeLessThan(3);
    expect(run.bestEpoch).toBe(best);
    expect(model.params.map((p) => Float32Array.from(p.data))).toEqual(byEpoch[best - 1]);
  });
});

describe("augmentation", () => {
  /** Two samples of [2, 3, 4] counting up, and a per-pixel mask that is the pixel's index. */
  function images(): Dataset {
    const inputs = Float32Array.from({ length: 2 * 24 }, (_, i) => i + 1);
    const masks = Int32Array.from({ length: 2 * 12 }, (_, i) => (i % 12) + 1);
    return {
      inputs,
      inputShape: [2, 3, 4],
      count: 2,
      targets: [{ data: masks, shape: [3, 4], classes: 13 }],
    };
  }

  function augmented(steps: AugmentStep[], seed: number) {
    const data = images();
    const batch = allocateBatch(data, 2);
    fillBatch(data, undefined, 0, batch);
    new Augmentation(steps, data).apply(batch, 2, new Rng(seed));
    return batch;
  }

  /** torchvision's way: pad with zeros, then cut the window at (top, left). */
  function padThenCrop(plane: number[][], padding: number, top: number, left: number) {
    const h = plane.length;
    const w = plane[0]!.length;
    const padded = Array.from({ length: h + 2 * padding }, (_, y) =>
      Array.from({ length: w + 2 * padding }, (_, x) => plane[y - padding]?.[x - padding] ?? 0),
    );
    return padded.slice(top, top + h).map((row) => row.slice(left, left + w));
  }

  const planes = (data: ArrayLike<number>, count: number) =>
    Array.from({ length: count }, (_, p) =>
      Array.from({ length: 3 }, (_, y) =>
        Array.from({ length: 4 }, (_, x) => data[p * 12 + y * 4 + x]!),
      ),
    );

  test("RandomCrop: the padded image cropped back at a random place, per sample; the mask follows", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const batch = augmented([{ name: "RandomCrop", size: [3, 4], padding: 2 }], seed);
      const rng = new Rng(seed);
      const original = planes(images().inputs, 4);
      const masks = planes(images().targets[0]!.data, 2);
      const got = planes(batch.inputs, 4);
      const gotMasks = planes(batch.targets[0]!, 2);
      for (let n = 0; n < 2; n++) {
        const top = rng.int(5);
        const left = rng.int(5);
        for (let c = 0; c < 2; c++) {
          expect(got[n * 2 + c]).toEqual(padThenCrop(original[n * 2 + c]!, 2, top, left));
        }
        expect(gotMasks[n]).toEqual(padThenCrop(masks[n]!, 2, top, left));
      }
    }
  });

  test("RandomHorizontalFlip: mirrored with probability p, image and mask alike", () => {
    const flipped = augmented([{ name: "RandomHorizontalFlip", p: 1 }], 1);
    const mirror = (plane: number[][]) => plane.map((row) => [...row].reverse());
    expect(planes(flipped.inputs, 4)).toEqual(planes(images().inputs, 4).map(mirror));
    expect(planes(flipped.targets[0]!, 2)).toEqual(
      planes(images().targets[0]!.data, 2).map(mirror),
    );
    const kept = augmented([{ name: "RandomHorizontalFlip", p: 0 }], 1);
    expect(kept.inputs).toEqual(images().inputs);

    // Over many samples, about p of them flip.
    const count = 4000;
    const data: Dataset = {
      inputs: Float32Array.from({ length: count * 2 }, (_, i) => i % 2),
      inputShape: [1, 1, 2],
      count,
      targets: [{ data: new Int32Array(count), shape: [], classes: 1 }],
    };
    const batch = allocateBatch(data, count);
    fillBatch(data, undefined, 0, batch);
    new Augmentation([{ name: "RandomHorizontalFlip", p: 0.3 }], data).apply(
      batch,
      count,
      new Rng(7),
    );
    let flips = 0;
    for (let n = 0; n < count; n++) flips += batch.inputs[2 * n]!;
    expect(flips / count).toBeGreaterThan(0.27);
    expect(flips / count).toBeLessThan(0.33);
  });

  test("targets that cannot follow the image are refused", () => {
    const data: Dataset = {
      ...images(),
      targets: [{ output: "boxes", data: new Float32Array(2 * 4 * 2 * 2), shape: [4, 2, 2] }],
    };
    expect(() => new Augmentation([{ name: "RandomHorizontalFlip", p: 0.5 }], data)).toThrow(
      "augmentation moves the image, but the target 'boxes' of shape [4, 2, 2] cannot follow it: only classes, vectors and maps of the image's size can",
    );
  });

  const model = (input: string, augment: string) => `model M {
  input ${input}
  Flatten
  Linear(10)
  LogSoftMax
}
criterion NLL
train {
  augment = ${augment}
}
`;
  const diagnosticsOf = (source: string) =>
    check(source).diagnostics.map((d) => `${d.code}: ${d.message}`);

  test("the train block's augment, checked against the model's input", () => {
    const ok = check(
      model("image: [3, 32, 32]", "[RandomCrop(32, padding=4), RandomHorizontalFlip]"),
    );
    expect(ok.diagnostics).toEqual([]);
    expect(ok.models[0]!.train.augment).toEqual([
      { name: "RandomCrop", size: [32, 32], padding: 4 },
      { name: "RandomHorizontalFlip", p: 0.5 },
    ]);
    expect(
      check(model("image: [1, 28, 28]", "RandomHorizontalFlip(p=0.2)")).models[0]!.train.augment,
    ).toEqual([{ name: "RandomHorizontalFlip", p: 0.2 }]);
    expect(diagnosticsOf(model("image: [1, 28, 28]", "[RandomCrop(32, padding=4)]"))).toEqual([
      "augment-mismatch: RandomCrop's size [32, 32] is larger than input 'image' [1, 28, 28]; the crop keeps the image's size: [28, 28]",
    ]);
    expect(diagnosticsOf(model("image: [1, 28, 28]", "[RandomCrop([28, 24])]"))).toEqual([
      "augment-mismatch: RandomCrop's size [28, 24] would make images smaller than input 'image' [1, 28, 28] takes; the crop keeps the image's size: [28, 28] (padding shifts it)",
    ]);
    expect(diagnosticsOf(model("x: [20]", "[RandomHorizontalFlip]"))).toEqual([
      "augment-mismatch: RandomHorizontalFlip needs an image input [channels, height, width], but input 'x' is [20]",
    ]);
    expect(
      diagnosticsOf(
        model(
          "image: [1, 28, 28]",
          "[RandomCrop(28, padding=-1), RandomHorizontalFlip(p=1.5), RandomVerticalFlip, 3]",
        ),
      ),
    ).toEqual([
      "argument-range: argument 'padding' is -1, but must be at least 0",
      "argument-range: argument 'p' is 1.5, but must be at most 1",
      "unknown-augmentation: unknown augmentation 'RandomVerticalFlip'; the augmentations are RandomCrop and RandomHorizontalFlip",
      "argument-type: argument 'augment' must be a list of RandomCrop(...) and RandomHorizontalFlip(...), got 3",
    ]);
    expect(diagnosticsOf(model("image: [1, 28, 28]", "[RandomCrop]"))).toEqual([
      "missing-argument: RandomCrop needs argument 'size': RandomCrop(size, padding=0)",
    ]);
  });
});

describe("the end of a run", () => {
  const scores = (loss: number, accuracy: number) => ({ count: 1, loss, accuracy });
  const history: EpochScores[] = [
    { epoch: 1, train: scores(2, 0.2), test: scores(2, 0.25) },
    { epoch: 2, train: scores(1, 0.6), test: scores(1.5, 0.5) },
    { epoch: 3, train: scores(0, 0.9), test: scores(1, 0.7) },
  ];

  test("sparklines: train and test on one scale per metric, first and last values", () => {
    expect(formatCurves(history)).toBe(
      [
        "curves (epochs 1-3; train and test on one scale per metric):",
        "loss     train █▅▁  2.0000 → 0.0000",
        "         test  █▆▅  2.0000 → 1.0000",
        "accuracy train ▁▅█  20.00% → 90.00%",
        "         test  ▁▄▆  25.00% → 70.00%",
      ].join("\n"),
    );
    expect(formatCurves(history.slice(0, 1))).toBe("");
    // A long run is sampled to 60 columns.
    const long = Array.from({ length: 200 }, (_, i) => ({ ...history[0]!, epoch: i + 1 }));
    expect(formatCurves(long).split("\n")[2]).toMatch(/^ {9}test {2}▁{60} {2}/);
  });

  test("early stopping and the kept epoch are reported", () => {
    const monitor = { monitor: "loss" as const, minDelta: 0.01, patience: 1, keepBest: true };
    expect(formatRunEnd({ results: [], history, stoppedAfter: 3, bestEpoch: 2 }, monitor)).toBe(
      [
        "nothing to train: the checkpoint is at epoch 3",
        "early stopping after epoch 3: the test loss has not improved by more than 0.01 for 1 epoch",
        "kept the weights of epoch 2 (test loss 1.5000)",
      ].join("\n"),
    );
  });
});

describe("netc train", () => {
  const mlp = ["train", "samples/mlp.net", "--data", "data/fashion-mnist-sample", "--limit", "256"];

  test("--eval-train, --patience, --keep-best and --curve", () => {
    const metrics = join(dir, "run.jsonl");
    const saved = join(dir, "best.safetensors");
    const result = netc(
      ...mlp,
      "--batch",
      "32",
      "--epochs",
      "3",
      "--eval-train",
      "--patience",
      "1",
      "--monitor",
      "accuracy",
      "--keep-best",
      "--curve",
      "--metrics",
      metrics,
      "--save",
      saved,
    );
    expect(result).toMatchObject({ status: 0, stderr: "" });
    expect(result.stdout).toMatch(
      /^epoch 1\/3: train loss [\d.]+ accuracy [\d.]+%, train \(eval\) loss [\d.]+ accuracy [\d.]+%, test loss [\d.]+ accuracy [\d.]+% \([\d,]+ samples\/s, [\d.]+ s\), best so far$/m,
    );
    expect(result.stdout).toMatch(/^kept the weights of epoch \d \(test accuracy [\d.]+%\)$/m);
    expect(result.stdout).toMatch(
      /^curves \(epochs 1-\d; train and test on one scale per metric\):$/m,
    );
    const lines = readFileSync(metrics, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(lines[0]!)).toEqual([
      "epoch",
      "trainLoss",
      "trainAccuracy",
      "testLoss",
      "testAccuracy",
      "samplesPerSecond",
      "seconds",
      "trainEvalLoss",
      "trainEvalAccuracy",
      "best",
    ]);
    expect(lines[0]!["best"]).toBe(true);
  });

  test("augmentation from the train block: tiny-unet's images and masks shifted and flipped", () => {
    const source = readFileSync(join(root, "samples/tiny-unet.net"), "utf8").replace(
      "train {",
      "train {\n  augment = [RandomCrop(32, padding=3), RandomHorizontalFlip]",
    );
    const path = join(dir, "unet-augmented.net");
    writeFileSync(path, source);
    const result = netc("train", path, "--limit", "32", "--epochs", "1");
    expect(result).toMatchObject({ status: 0, stderr: "" });
    expect(result.stdout).toContain(
      "seed 0, augment [RandomCrop(32, padding=3), RandomHorizontalFlip(p=0.5)]; wasm kernels",
    );
    expect(result.stdout).toMatch(
      /^epoch 1\/1: train loss [\d.]+ pixel accuracy [\d.]+% mean IoU/m,
    );
  });

  test.each([
    [
      ["--monitor", "accuracy"],
      2,
      "netc: --monitor and --min-delta go with --patience or --keep-best\n",
    ],
    [
      ["--min-delta", "-1", "--patience", "1"],
      2,
      "netc: option '--min-delta <d>' argument '-1' is invalid. expected a number ≥ 0 (see 'netc --help')\n",
    ],
    [
      ["--keep-best", "--monitor", "meanIoU"],
      1,
      "netc: cannot monitor meanIoU: the test set's metrics are loss, accuracy\n",
    ],
    [
      ["--resume", "/dev/null"],
      1,
      "netc: cannot read the checkpoint /dev/null: is not a regular file (a device, a pipe or a socket)\n",
    ],
  ])("%j", (flags, status, stderr) => {
    expect(netc(...mlp, "--epochs", "1", ...flags)).toMatchObject({ status, stderr });
  });
});
