// The run-time failures issue 11 found, one test each: sizes no memory can hold, options and
// arguments of the wrong kind, NaN and Infinity in inputs, weights and steps, calls after
// dispose, and weights files that are devices, huge or not finite.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Model, ModelOptions } from "../runtime/api-types.js";
import { readWeightsFile } from "../runtime/node/weights-file.js";
import { encodeSafetensors } from "../runtime/safetensors.js";
import { compileModel } from "./helpers/gradcheck.js";
import { netcError } from "./helpers/netc-error.js";

const dir = mkdtempSync(join(tmpdir(), "netc-robust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends = ["ts", "wasm"] as const;

const mlpSource =
  "model M {\n  input x: [8]\n  fc1: Linear(16) -> ReLU\n  fc2: Linear(3)\n  LogSoftMax\n}\ncriterion NLL\n";
const mlp = compileModel(mlpSource);
const x = (n: number) => Float32Array.from({ length: n * 8 }, (_, i) => ((i * 37) % 11) / 11 - 0.4);
const y = (n: number) => Int32Array.from({ length: n }, (_, i) => i % 3);

// Batch normalisation's running statistics and dropout's stream: the state a step moves besides
// the weights and the optimizer's.
const bn = compileModel(
  "model B {\n  input x: [2, 3, 3]\n  SpatialConvolution(4, kernel=3, pad=1)\n  SpatialBatchNormalization -> ReLU\n  Flatten\n  Dropout(0.25)\n  fc: Linear(3)\n  LogSoftMax\n}\ncriterion NLL\n",
);
const images = (n: number) => Float32Array.from({ length: n * 18 }, (_, i) => Math.sin(i));

const stateOf = (model: Model) =>
  [...model.params, ...model.buffers].map((t) => Float64Array.from(t.data));

describe("sizes no memory can hold are refused at createModel, before allocating", () => {
  // The checker refuses a tensor past 2^30 values and parameters past 4 GB; what it passes can
  // still outgrow memory with its gradients and optimizer state, or at a large batch.
  test("Linear(4000 -> 100000): 1.6 GB of weights, with gradients and Adam's state past 4 GB", () => {
    const huge = compileModel(
      "model H {\n  input x: [4000]\n  Linear(100000)\n  Linear(2)\n}\ncriterion MSE\n",
    );
    const adam = { name: "Adam" as const, args: {} };
    expect(netcError(() => huge.create({ batch: 1, backend: "wasm", optimizer: adam }))).toMatch(
      /^the model needs [\d.]+ GB of memory at batch 1 \(.*\), more than the 4\.0 GB a WebAssembly memory can hold: the model does not fit even at batch 1$/,
    );
  });

  test("the JS kernels' arena: a batch no typed array can hold", () => {
    expect(netcError(() => mlp.create({ batch: 2_000_000_000, backend: "ts" }))).toMatch(
      /^cannot allocate [\d.]+ GB for the model's memory at batch 2000000000: /,
    );
  });

  test("a batch too large names the largest that fits", () => {
    const message = netcError(() => mlp.create({ batch: 1_000_000_000, backend: "wasm" }));
    expect(message).toMatch(
      /^the model needs [\d.]+ GB of memory at batch 1000000000 \([\d.]+ KB whatever the batch, [\d.]+ B per sample\), more than the 4\.0 GB a WebAssembly memory can hold: a batch of at most \d+ fits$/,
    );
    const fits = Number(/(\d+) fits$/.exec(message)![1]);
    expect(netcError(() => mlp.create({ batch: fits + 1, backend: "wasm" }))).toMatch(
      new RegExp(`at batch ${fits + 1} .*: a batch of at most ${fits} fits$`),
    );
  });
});

describe("every option and argument is checked", () => {
  test.each<[string, unknown, RegExp]>([
    ["not an object", 64, /^createModel takes an object of options, got 64$/],
    ["null", null, /^createModel takes an object of options, got null$/],
    [
      "an unknown option",
      { batchSize: 8 },
      /^createModel's options: unknown "batchSize"; expected "batch", /,
    ],
    ["a batch of 0", { batch: 0 }, /^batch must be a positive integer, got 0$/],
    ["a batch as text", { batch: "8" }, /^batch must be a positive integer, got "8"$/],
    ["backend gpu", { backend: "gpu" }, /^backend must be "wasm" or "ts", got "gpu"$/],
    ["precision f16", { precision: "f16" }, /^precision must be "f32" or "f64", got "f16"$/],
    [
      "a symbol for threads",
      { threads: Symbol("t") },
      /^threads must be a positive integer, got Symbol\(t\)$/,
    ],
    ["a negative seed", { seed: -1 }, /^the seed must be an integer from 0 to 4294967295, got -1$/],
    [
      "an unknown optimizer",
      { optimizer: { name: "Adadelta", args: {} } },
      /^unknown optimizer "Adadelta": netc has SGD, Adam, AdamW, RMSprop and Adagrad$/,
    ],
    [
      "an argument SGD does not take",
      { optimizer: { name: "SGD", args: { lr: 0.1, betas: [0.9, 0.99] } } },
      /^SGD's arguments: unknown "betas"; expected "lr", "momentum", /,
    ],
    [
      "lr outside args",
      { optimizer: { name: "Adam", lr: 0.1 } },
      /^the optimizer: unknown "lr"; expected "name", "args"$/,
    ],
    [
      "betas that are not numbers",
      { optimizer: { name: "Adam", args: { betas: ["a", 0.9] } } },
      /^Adam: betas must be two numbers in \[0, 1\), got "a", 0\.9$/,
    ],
  ])("%s", (_, options, message) => {
    expect(netcError(() => mlp.create(options as ModelOptions))).toMatch(message);
  });

  test.each(backends)(
    "%s: arguments of the wrong kind are NetcErrors naming what was expected",
    (backend) => {
      const model = mlp.create({ batch: 4, backend });
      const call = model as unknown as Record<string, (...args: unknown[]) => unknown>;
      expect(netcError(() => call["forward"]!(null))).toBe(
        "the input must be a Float32Array, got null",
      );
      expect(netcError(() => call["forward"]!([1, 2, 3, 4, 5, 6, 7, 8]))).toBe(
        "the input must be a Float32Array, got an array of 8 values",
      );
      expect(netcError(() => call["forward"]!({ x: x(1), y: x(1) }))).toBe(
        'the inputs: unknown "y"; expected "x"',
      );
      expect(netcError(() => call["loss"]!(x(2), new Float32Array(2)))).toBe(
        "target 'output' holds class indices: pass an Int32Array, got a Float32Array of 2 values",
      );
      expect(netcError(() => call["load"]!(new ArrayBuffer(8)))).toBe(
        "load takes the file's bytes as a Uint8Array, got an ArrayBuffer of 8 bytes: wrap it, new Uint8Array(buffer)",
      );
      expect(netcError(() => call["load"]!(model.save(), 7))).toBe(
        "load: the source must be a string, got 7",
      );
      expect(netcError(() => call["setLearningRate"]!("0.1"))).toBe(
        'SGD: the learning rate must be a number ≥ 0, got "0.1"',
      );
      model.dispose();
    },
  );
});

describe("NaN and Infinity", () => {
  test.each(backends)(
    "%s: an input holding Infinity is refused, naming the sample, and changes nothing",
    (backend) => {
      // It used to train: ReLU turned the NaNs it made into 0, the loss stayed finite, and the
      // WASM backend wrote NaN into fc1.weight through 0 · ∞ (the TS kernels skipped the zero).
      const model = mlp.create({ batch: 4, backend });
      const input = x(4);
      input[8 + 5] = Infinity;
      const before = stateOf(model);
      expect(netcError(() => model.trainStep(input, y(4)))).toBe(
        "input 'x': sample 1 holds Infinity at [5]; a training pass takes finite numbers only",
      );
      expect(stateOf(model)).toEqual(before);
      model.dispose();
    },
  );

  test.each(backends)("%s: one NaN pixel leaves the running statistics as they were", (backend) => {
    // It used to turn every running mean and variance into NaN, silently and for good.
    const model = bn.create({ batch: 4, backend });
    const input = images(4);
    input[2 * 18 + 10] = NaN;
    const before = stateOf(model);
    expect(netcError(() => model.trainStep(input, y(4)))).toBe(
      "input 'x': sample 2 holds NaN at [1, 0, 1]; a training pass takes finite numbers only",
    );
    expect(stateOf(model)).toEqual(before);
    model.dispose();
  });

  test.each(backends)(
    "%s: a step whose loss is not finite leaves parameters, statistics, optimizer and dropout as they were",
    (backend) => {
      const options = {
        batch: 4,
        seed: 5,
        backend,
        optimizer: { name: "Adam" as const, args: {} },
      };
      const [model, fresh] = [bn.create(options), bn.create(options)] as [Model, Model];
      const bias = model.params.find((p) => p.name === "fc.bias")!.data;
      bias[0] = NaN;
      const before = stateOf(model);
      expect(model.trainStep(images(4), y(4))).toBeNaN();
      expect(model.lossAndGrad(images(4), y(4))).toBeNaN();
      // Bit for bit: the running statistics moved in the forward pass and were put back.
      stateOf(model).forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(before[i]!)));
      bias[0] = fresh.params.find((p) => p.name === "fc.bias")!.data[0]!;
      // The next steps are those of a model that never failed: Adam's count, the dropout masks.
      for (let step = 0; step < 2; step++) {
        expect(model.trainStep(images(4), y(4))).toBe(fresh.trainStep(images(4), y(4)));
      }
      expect(stateOf(model)).toEqual(stateOf(fresh));
      model.dispose();
      fresh.dispose();
    },
  );

  test("both backends compute 0 · ∞ as NaN in a Linear layer's gradients, as PyTorch", () => {
    // A saturated sigmoid gives a zero gradient; the Linear before it has an infinite input.
    const saturated = compileModel(
      "model S {\n  input x: [2]\n  fc0: Linear(2) -> ReLU\n  fc1: Linear(2) -> Sigmoid\n  fc2: Linear(1)\n}\ncriterion MSE\n",
    );
    const grads = backends.map((backend) => {
      const model = saturated.create({ batch: 2, seed: 1, backend });
      model.params[0]!.data.set([Infinity, 0.5, 0.5, 0.5]);
      expect(
        model.lossAndGrad(Float32Array.of(1, 1, 0.5, 0.25), Float32Array.of(0.3, 0.2)),
      ).toSatisfy(Number.isFinite);
      return [
        ...model.grads.map((g) => Array.from(g.data)),
        Array.from(model.inputGrad as Float32Array),
      ];
    });
    expect(grads[0]![2]!.map(Number.isNaN)).toEqual([true, false, true, false]);
    expect(grads[0]).toEqual(grads[1]);
  });

  test.each(backends)(
    "%s: weights holding NaN or Infinity are refused, naming the tensor",
    (backend) => {
      const model = mlp.create({ batch: 4, backend });
      const tensors = [...model.params, ...model.buffers].map((t) => ({
        name: t.name,
        shape: t.shape,
        data: Float32Array.from(t.data),
      }));
      tensors[0]!.data.fill(NaN);
      tensors[3]!.data[2] = -Infinity;
      const before = stateOf(model);
      expect(netcError(() => model.load(encodeSafetensors(tensors), "nan.safetensors"))).toBe(
        "nan.safetensors: the weights hold values that are not finite numbers\n" +
          "  fc1.weight: 128 of 128 values are not finite, the first NaN at [0, 0]\n" +
          "  fc2.bias: 1 of 3 values are not finite, the first -Infinity at [2]",
      );
      expect(stateOf(model)).toEqual(before);
      model.dispose();
    },
  );
});

describe("dispose", () => {
  test.each([
    ["ts", 1],
    ["wasm", 1],
    ["wasm", 2],
  ] as const)(
    "%s, %i thread(s): every method afterwards is a NetcError, not a hang",
    (backend, threads) => {
      const model = mlp.create({ batch: 4, backend, threads });
      expect(model.forward(x(2))).toHaveLength(6);
      model.dispose();
      model.dispose();
      const calls: (() => unknown)[] = [
        () => model.forward(x(2)),
        () => model.loss(x(2), y(2)),
        () => model.evaluate(x(2), y(2)),
        () => model.lossAndGrad(x(2), y(2)),
        () => model.trainStep(x(2), y(2)),
        () => model.setLearningRate(0.1),
        () => model.save(),
        () => model.load(new Uint8Array(8)),
      ];
      for (const call of calls) {
        expect(netcError(call)).toBe("the model was disposed: create another to go on");
      }
    },
  );
});

describe("weights files", () => {
  const model = mlp.create({ batch: 1, backend: "ts" });
  const weights = model.save();

  test("a device, a directory or a missing file is refused without reading it", () => {
    // /dev/zero used to be read until memory ran out.
    expect(netcError(() => readWeightsFile("/dev/zero", mlp.layout))).toBe(
      "cannot read the weights /dev/zero: is not a regular file (a device, a pipe or a socket)",
    );
    expect(netcError(() => readWeightsFile(dir, mlp.layout))).toBe(
      `cannot read the weights ${dir}: is a directory`,
    );
    expect(netcError(() => readWeightsFile(join(dir, "none"), mlp.layout))).toBe(
      `cannot read the weights ${join(dir, "none")}: no such file`,
    );
  });

  test("a file larger than the model's weights is refused before it is read", () => {
    // 3 GB used to be a raw ERR_FS_FILE_TOO_LARGE; a sparse file costs no disk.
    const path = join(dir, "huge.safetensors");
    writeFileSync(path, weights);
    truncateSync(path, 3 * 1024 ** 3);
    expect(netcError(() => readWeightsFile(path, mlp.layout))).toBe(
      `${path}: ${3 * 1024 ** 3 - weights.length} bytes after the last tensor's data belong to no tensor`,
    );
    // Weights of another model are named as such, from the header alone.
    const other = compileModel(mlpSource.replace("Linear(3)", "Linear(4)")).create({ batch: 1 });
    writeFileSync(path, other.save());
    truncateSync(path, 3 * 1024 ** 3);
    expect(netcError(() => readWeightsFile(path, mlp.layout))).toMatch(
      /the weights do not fit the model \(saved from another model\?\)\n  fc2\.weight: the model has shape \[3, 16\], the file \[4, 16\]\n/,
    );
    const exact = join(dir, "exact.safetensors");
    writeFileSync(exact, weights);
    expect(new Uint8Array(readWeightsFile(exact, mlp.layout))).toEqual(weights);
  });
});
