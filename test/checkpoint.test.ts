// Checkpoints: one epoch, then a resume to two, gives the same weights, byte for byte, as two
// epochs straight, on both backends and with threads, for SGD with momentum and Adam, dropout and
// batch normalisation; a checkpoint that does not fit is refused and changes nothing.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Model, ModelOptions, OptimizerConfig } from "../runtime/api-types.js";
import { sizeOf, type Dataset } from "../runtime/data/dataset.js";
import { loadFashionMnist } from "../runtime/node/fashion-mnist.js";
import { decodeSafetensorsFile, encodeSafetensors } from "../runtime/safetensors.js";
import { trainLoop, type TrainLoopOptions } from "../runtime/train-loop.js";
import { netc, root } from "./helpers/cli.js";
import { compileModel } from "./helpers/gradcheck.js";

const dir = mkdtempSync(join(tmpdir(), "netc-checkpoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sample = (name: string) => readFileSync(join(root, "samples", name), "utf8");

/** Byte equality (vitest's deep equality would take seconds over megabytes). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** The first `n` samples of a data set (copies). */
function first(dataset: Dataset, n: number): Dataset {
  return {
    ...dataset,
    count: n,
    inputs: dataset.inputs.slice(0, n * sizeOf(dataset.inputShape)),
    targets: dataset.targets.map((t) => ({ ...t, data: t.data.slice(0, n * sizeOf(t.shape)) })),
  };
}

const fashion = loadFashionMnist({ dataDir: join(root, "data/fashion-mnist-sample") });
const train = first(fashion.train, 160);
const testSet = first(fashion.test, 48);

const adam: OptimizerConfig = { name: "Adam", args: { lr: 0.002 } };

const models = {
  /** The sample's SGD with momentum 0.9. */
  "mlp, SGD with momentum": { model: compileModel(sample("mlp.net")) },
  "mlp, Adam": { model: compileModel(sample("mlp.net")), optimizer: adam },
  "dropout, SGD with momentum": {
    model: compileModel(`model Dropped {
  input image: [1, 28, 28]
  Flatten
  fc1: Linear(32) -> ReLU
  drop: Dropout(0.4)
  fc2: Linear(10)
  LogSoftMax
}
criterion NLL
train {
  optimizer = SGD(lr=0.05, momentum=0.9, nesterov=true)
}
`),
  },
  "batch norm, Adam": {
    model: compileModel(`model Normalized {
  input image: [1, 28, 28]
  Flatten
  fc1: Linear(32, bias=false)
  bn1: BatchNormalization -> ReLU
  fc2: Linear(10)
  LogSoftMax
}
criterion NLL
train {
  optimizer = Adam(lr=0.003, weight_decay=0.0001)
}
`),
  },
};

const kernels: [string, ModelOptions][] = [
  ["ts", { backend: "ts" }],
  ["wasm", { backend: "wasm", threads: 1 }],
  ["wasm, 2 threads", { backend: "wasm", threads: 2 }],
];

type Case = (typeof models)[keyof typeof models] & { optimizer?: OptimizerConfig };

function create(c: Case, options: ModelOptions): Model {
  return c.model.create({
    batch: 16,
    ...options,
    ...(c.optimizer ? { optimizer: c.optimizer } : {}),
  });
}

function run(model: Model, c: Case, epochs: number, more: Partial<TrainLoopOptions> = {}) {
  return trainLoop({
    model,
    layout: c.model.layout,
    train,
    test: testSet,
    epochs,
    seed: 3,
    ...more,
  });
}

describe("resuming from a checkpoint gives the same bytes as training straight", () => {
  const cases = Object.entries(models).flatMap(([name, c]) =>
    kernels.map(([backend, options]) => [`${name}, ${backend}`, c as Case, options] as const),
  );
  test.each(cases)("%s", (_, c, options) => {
    const straight = create(c, { ...options, seed: 1 });
    run(straight, c, 2);
    const expected = straight.save();

    const interrupted = create(c, { ...options, seed: 1 });
    let checkpoint: Uint8Array | undefined;
    run(interrupted, c, 1, { onCheckpoint: (bytes) => (checkpoint = bytes) });
    const afterOne = interrupted.save();
    // Another seed: its own initial weights and dropout stream, all replaced by the checkpoint.
    const resumed = create(c, { ...options, seed: 99 });
    expect(same(resumed.save(), afterOne)).toBe(false);
    const resumedAt: number[] = [];
    const result = run(resumed, c, 2, {
      resume: { bytes: checkpoint!, source: "ck" },
      onResume: (epoch, step) => resumedAt.push(epoch, step),
    });
    expect(resumedAt).toEqual([1, 10]);
    expect(result.results.map((r) => r.epoch)).toEqual([2]);
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2]);
    const got = resumed.save();
    expect(same(got, afterOne)).toBe(false);
    expect(same(got, expected)).toBe(true);
    for (const m of [straight, interrupted, resumed]) m.dispose();
  });
});

describe("Model.saveCheckpoint and loadCheckpoint", () => {
  const mlp = models["mlp, SGD with momentum"] as Case;
  const x = Float32Array.from({ length: 16 * 784 }, (_, i) => ((i * 7919) % 255) / 255);
  const y = Int32Array.from({ length: 16 }, (_, i) => i % 10);

  test.each(kernels)("%s: the optimizer state, step count and learning rate come back", (_, o) => {
    for (const c of [mlp, models["mlp, Adam"] as Case]) {
      const a = create(c, { ...o, seed: 1 });
      for (let i = 0; i < 3; i++) a.trainStep(x, y);
      a.setLearningRate(0.005);
      const bytes = a.saveCheckpoint();
      const b = create(c, { ...o, seed: 2 });
      b.loadCheckpoint(bytes);
      expect(same(b.saveCheckpoint(), bytes)).toBe(true);
      // The same next step: momentum and Adam's moments and bias correction were restored.
      expect(b.trainStep(x, y)).toBe(a.trainStep(x, y));
      expect(same(b.save(), a.save())).toBe(true);
      a.dispose();
      b.dispose();
    }
  });

  test("the file: safetensors with the weights' PyTorch names, optimizer buffers and metadata", () => {
    const model = create(models["mlp, Adam"] as Case, { backend: "ts", seed: 1 });
    model.trainStep(x, y);
    const bytes = model.saveCheckpoint({
      metadata: { epoch: "1" },
      tensors: [{ name: "mine", shape: [2], data: new Float32Array([1, 2]) }],
    });
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<
      string,
      { shape: number[] }
    > & { __metadata__: Record<string, string> };
    const { __metadata__: metadata, ...tensors } = header;
    expect(Object.keys(tensors)).toEqual([
      ...["fc1", "fc2", "fc3"].flatMap((l) => [`${l}.weight`, `${l}.bias`]),
      ...["exp_avg", "exp_avg_sq"].flatMap((slot) =>
        ["fc1", "fc2", "fc3"].flatMap((l) => [
          `optimizer.${l}.weight.${slot}`,
          `optimizer.${l}.bias.${slot}`,
        ]),
      ),
      "mine",
    ]);
    expect(tensors["optimizer.fc1.weight.exp_avg"]!.shape).toEqual([256, 784]);
    expect(metadata).toMatchObject({ epoch: "1", format: "pt", producer: "netc", model: "MLP" });
    expect(JSON.parse(metadata["netc.checkpoint"]!)).toMatchObject({
      version: 1,
      optimizer: "Adam(beta1=0.9, beta2=0.999, eps=1e-8, weightDecay=0)",
      learningRate: 0.002,
      step: 1,
    });
    // The Adam moments are the optimizer's: after one step, m = (1 − β1)·g.
    const other = create(models["mlp, Adam"] as Case, { backend: "ts", seed: 1 });
    expect(other.loadCheckpoint(bytes)).toEqual({
      metadata: { epoch: "1" },
      tensors: [{ name: "mine", shape: [2], data: new Float32Array([1, 2]) }],
    });
    model.dispose();
    other.dispose();
  });

  test("the caller's extra is checked: names, shapes, kinds", () => {
    const model = create(mlp, { backend: "ts", seed: 1 });
    const bad: [unknown, string][] = [
      [[], "saveCheckpoint takes { metadata?, tensors? }, got an array"],
      [{ epoch: 1 }, 'saveCheckpoint\'s extra: unknown "epoch"; expected "metadata", "tensors"'],
      [{ metadata: { model: "x" } }, "checkpoint metadata 'model' is netc's own"],
      [{ metadata: { epoch: 1 } }, "checkpoint metadata 'epoch' must be a string, got 1"],
      [
        { tensors: [{ name: "fc1.weight", shape: [1], data: new Float32Array(1) }] },
        "checkpoint tensor 'fc1.weight' would take the name of the model's own",
      ],
      [
        { tensors: [{ name: "mine", shape: [2], data: new Float32Array(3) }] },
        "checkpoint tensor 'mine' has 3 values for shape [2]",
      ],
      [
        { tensors: [{ name: "mine", shape: [2], data: [1, 2] }] },
        "a checkpoint tensor is { name, shape, data: Float32Array }, got",
      ],
    ];
    for (const [extra, message] of bad) {
      expect(() => model.saveCheckpoint(extra as never)).toThrow(message);
    }
    model.dispose();
  });

  test("a checkpoint that does not fit is refused, naming the problem, and changes nothing", () => {
    const source = create(mlp, { backend: "ts", seed: 1 });
    source.trainStep(x, y);
    const good = source.saveCheckpoint();
    const model = create(mlp, { backend: "ts", seed: 5 });
    model.trainStep(x, y);
    const before = [model.save(), model.saveCheckpoint()];

    const adamModel = create(models["mlp, Adam"] as Case, { backend: "ts", seed: 1 });
    const lenet = compileModel(sample("lenet5.net")).create({ batch: 2, backend: "ts" });
    const corrupt = good.slice();
    corrupt[20] = 0xff; // inside the header's JSON
    const nan = create(mlp, { backend: "ts", seed: 1 });
    nan.trainStep(x, y);
    const withNaN = nan.saveCheckpoint();
    {
      // The momentum buffer of fc2.bias, the 4th optimizer tensor: set its bytes to NaN.
      const length = Number(new DataView(withNaN.buffer).getBigUint64(0, true));
      const header = JSON.parse(
        new TextDecoder().decode(withNaN.subarray(8, 8 + length)),
      ) as Record<string, { data_offsets: number[] }>;
      const at = 8 + length + header["optimizer.fc2.bias.momentum_buffer"]!.data_offsets[0]!;
      new DataView(withNaN.buffer).setFloat32(at, NaN, true);
    }
    // A dropout stream stuck at xoshiro's one fixed point, the all-zero state.
    const file = decodeSafetensorsFile(good, "ck");
    const record = JSON.parse(file.metadata["netc.checkpoint"]!) as {
      dropout: { stream: { words: number[] } };
    };
    record.dropout.stream.words = [0, 0, 0, 0];
    const zeroStream = encodeSafetensors(
      [...file.tensors].map(([name, t]) => ({ name, ...t })),
      { ...file.metadata, "netc.checkpoint": JSON.stringify(record) },
    );
    const cases: [Uint8Array, RegExp][] = [
      [
        zeroStream,
        /^ck: its dropout stream is malformed: a generator's state is four 32-bit words, not all zero; got /,
      ],
      [
        adamModel.saveCheckpoint(),
        /^ck: the checkpoint was trained with Adam\(beta1=0\.9, .*\), but the model trains with SGD\(momentum=0\.9, weightDecay=0, nesterov=false\): resume with the same optimizer$/,
      ],
      [lenet.saveCheckpoint(), /^ck: the checkpoint is of model "LeNet5", not MLP$/],
      [good.subarray(0, good.length - 100), /^ck: tensor '[\w.]+' .* the file is truncated$/],
      [good.subarray(0, 5), /^ck: not a safetensors file: 5 bytes, too short/],
      [corrupt, /^ck: not a safetensors file: the header is not (UTF-8 text|valid JSON)/],
      [source.save(), /^ck: not a netc checkpoint \(its metadata has no netc\.checkpoint\)/],
      [
        withNaN,
        /^ck: the weights hold values that are not finite numbers\n {2}optimizer\.fc2\.bias\.momentum_buffer: 1 of 128 values are not finite, the first NaN at \[0\]$/,
      ],
    ];
    for (const [bytes, message] of cases) {
      expect(() => model.loadCheckpoint(bytes, "ck")).toThrow(message);
      expect(same(model.save(), before[0]!) && same(model.saveCheckpoint(), before[1]!)).toBe(true);
    }
    for (const m of [source, model, adamModel, lenet, nan]) m.dispose();
  });
});

describe("the training loop's part", () => {
  const c = models["dropout, SGD with momentum"] as Case;

  function checkpointAfter(epochs: number, more: Partial<TrainLoopOptions> = {}): Uint8Array {
    let bytes: Uint8Array | undefined;
    run(create(c, { backend: "ts", seed: 1 }), c, epochs, {
      ...more,
      onCheckpoint: (b) => (bytes = b),
    });
    return bytes!;
  }

  test("a run of other settings, or of fewer epochs than the checkpoint, is refused", () => {
    const bytes = checkpointAfter(2);
    const resume =
      (more: Partial<TrainLoopOptions>, epochs = 3) =>
      () =>
        run(create(c, { backend: "ts", seed: 1 }), c, epochs, {
          resume: { bytes, source: "ck" },
          ...more,
        });
    expect(resume({ seed: 4 })).toThrow(
      "ck: the checkpoint was trained with seed 3, this run has 4: resume with the same settings",
    );
    expect(resume({ train: first(train, 144) })).toThrow(
      "ck: the checkpoint was trained with training samples 160, this run has 144: resume with the same settings",
    );
    expect(
      resume({ monitor: { monitor: "loss", minDelta: 0, patience: 2, keepBest: true } }),
    ).toThrow(
      "ck: the checkpoint was trained with monitoring none, this run has loss, min delta 0, patience 2, keeping the best weights: resume with the same settings",
    );
    expect(resume({}, 1)).toThrow(
      "ck: the checkpoint has trained 2 epochs, more than the 1 asked for",
    );
    const model = create(c, { backend: "ts", seed: 1 });
    expect(() =>
      run(model, c, 3, { resume: { bytes: model.saveCheckpoint(), source: "ck" } }),
    ).toThrow("ck: not a checkpoint of netc train (its metadata has no netc.loop)");
    // The same epoch count: nothing left to train.
    expect(resume({}, 2)().results).toEqual([]);
  });

  test("early stopping, the best weights and augmentation resume exactly too", () => {
    const rows = compileModel(`model Rows {
  input x: [1, 6, 6]
  Flatten
  hidden: Linear(16) -> ReLU -> Dropout(0.2)
  scores: Linear(6)
  LogSoftMax
}
criterion NLL
train {
  optimizer = SGD(lr=0.2, momentum=0.9)
  augment = [RandomCrop(6, padding=1), RandomHorizontalFlip]
}
`);
    /** Six classes of 6x6 images: class c lights up row c. */
    const images = (count: number, offset: number): Dataset => {
      const inputs = new Float32Array(count * 36);
      const labels = new Int32Array(count);
      for (let n = 0; n < count; n++) {
        labels[n] = (n + offset) % 6;
        for (let i = 0; i < 36; i++) {
          inputs[n * 36 + i] = (Math.floor(i / 6) === labels[n] ? 1 : 0) + ((i * n) % 7) / 20;
        }
      }
      return {
        inputs,
        inputShape: [1, 6, 6],
        count,
        targets: [{ data: labels, shape: [], classes: 6 }],
      };
    };
    const options: Partial<TrainLoopOptions> = {
      layout: rows.layout,
      train: images(96, 0),
      test: images(30, 1),
      augment: rows.layout.train!.augment!,
      monitor: { monitor: "accuracy", minDelta: 0.02, patience: 2, keepBest: true },
    };
    const go = (model: Model, epochs: number, more: Partial<TrainLoopOptions> = {}) =>
      trainLoop({ model, epochs, seed: 5, ...options, ...more } as TrainLoopOptions);
    const straight = rows.create({ batch: 8, seed: 1 });
    const whole = go(straight, 30);
    // The test accuracy stops improving long before 30 epochs.
    expect(whole.stoppedAfter).toBeDefined();
    expect(whole.bestEpoch).toBeLessThan(whole.stoppedAfter!);
    const checkpoints: Uint8Array[] = [];
    go(rows.create({ batch: 8, seed: 1 }), whole.bestEpoch! + 1, {
      onCheckpoint: (b) => checkpoints.push(b),
    });
    const resumed = rows.create({ batch: 8, seed: 7 });
    const rest = go(resumed, 30, { resume: { bytes: checkpoints.at(-1)!, source: "ck" } });
    expect(rest.stoppedAfter).toBe(whole.stoppedAfter);
    expect(rest.bestEpoch).toBe(whole.bestEpoch);
    expect(rest.history).toEqual(whole.history);
    expect(same(resumed.save(), straight.save())).toBe(true);
  });
});

describe("a compiled module resumes training", () => {
  test("--standalone module, Adam on 2 threads: 2 steps, a checkpoint, 3 more = 5 straight", () => {
    const out = join(dir, "module");
    writeFileSync(join(dir, "package.json"), `{ "type": "module" }\n`);
    expect(netc("compile", "samples/mlp.net", "--standalone", "--out-dir", out)).toMatchObject({
      status: 0,
      stderr: "",
    });
    const script = join(dir, "resume.mjs");
    writeFileSync(
      script,
      `import { createModel } from ${JSON.stringify(join(out, "mlp.js"))};
const options = { batch: 8, threads: 2, optimizer: { name: "Adam", args: { lr: 0.01 } } };
const x = Float32Array.from({ length: 8 * 784 }, (_, i) => ((i * 7919) % 255) / 255);
const y = Int32Array.from({ length: 8 }, (_, i) => i % 10);
const straight = await createModel({ ...options, seed: 1 });
for (let i = 0; i < 5; i++) straight.trainStep(x, y);
const first = await createModel({ ...options, seed: 1 });
for (let i = 0; i < 2; i++) first.trainStep(x, y);
const bytes = first.saveCheckpoint({ metadata: { steps: "2" } });
const resumed = await createModel({ ...options, seed: 2 });
const { metadata } = resumed.loadCheckpoint(bytes, "run.ckpt");
for (let i = 0; i < 3; i++) resumed.trainStep(x, y);
const [a, b] = [straight.save(), resumed.save()];
console.log(JSON.stringify({ metadata, same: a.length === b.length && a.every((v, i) => v === b[i]) }));
for (const m of [straight, first, resumed]) m.dispose();
`,
    );
    const result = spawnSync(process.execPath, [script], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({ metadata: { steps: "2" }, same: true });
  });
});

describe("netc train --checkpoint and --resume", () => {
  const common = [
    "train",
    "samples/mlp.net",
    "--data",
    "data/fashion-mnist-sample",
    "--limit",
    "256",
    "--batch",
    "16",
    "--threads",
    "2",
  ];

  test("one epoch, then a resume to two: the same weights file as two epochs straight", () => {
    const straight = join(dir, "straight.safetensors");
    const checkpoint = join(dir, "mlp.ckpt");
    const resumed = join(dir, "resumed.safetensors");
    expect(netc(...common, "--epochs", "2", "--save", straight)).toMatchObject({
      status: 0,
      stderr: "",
    });
    const metrics = join(dir, "mlp.jsonl");
    expect(
      netc(...common, "--epochs", "1", "--checkpoint", checkpoint, "--metrics", metrics),
    ).toMatchObject({
      status: 0,
      stderr: "",
    });
    const result = netc(
      ...common,
      ...["--epochs", "2", "--resume", checkpoint, "--save", resumed, "--metrics", metrics],
    );
    expect(result).toMatchObject({ status: 0, stderr: "" });
    // The resumed run's metrics go on in the same file.
    const epochs = readFileSync(metrics, "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { epoch: number }).epoch);
    expect(epochs).toEqual([1, 2]);
    expect(result.stdout).toContain(`resuming from ${checkpoint} after epoch 1 (16 steps)\n`);
    expect(result.stdout).toMatch(/^epoch 2\/2: train loss /m);
    expect(result.stdout).not.toMatch(/^epoch 1\/2/m);
    expect(readFileSync(resumed).equals(readFileSync(straight))).toBe(true);

    // A checkpoint of other settings, or a broken one: exit 1, the weights file untouched.
    const kept = readFileSync(resumed);
    const broken = join(dir, "broken.ckpt");
    writeFileSync(broken, readFileSync(checkpoint).subarray(0, 1000));
    const refused = netc(...common, "--epochs", "2", "--resume", broken, "--save", resumed);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /^netc: .*broken\.ckpt: not a safetensors file, or truncated: the header length says \d+ bytes but only 992 follow it\n$/,
    );
    const other = netc(
      ...common,
      "--seed",
      "4",
      "--epochs",
      "2",
      "--resume",
      checkpoint,
      "--save",
      resumed,
    );
    expect(other).toMatchObject({
      status: 1,
      stderr: `netc: ${checkpoint}: the checkpoint was trained with seed 0, this run has 4: resume with the same settings\n`,
    });
    expect(readFileSync(resumed).equals(kept)).toBe(true);
  });
});
