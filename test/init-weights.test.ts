// Fine-tuning's start: `model.loadMatching` and `netc train --init` on a checkpoint PyTorch wrote
// (test/fixtures/make-init-fixture.py), which fits the model in part.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Model } from "../runtime/api-types.js";
import { NetcError } from "../runtime/errors.js";
import { encodeSafetensors } from "../runtime/safetensors.js";
import { netc } from "./helpers/cli.js";
import { compileModel } from "./helpers/gradcheck.js";

const dir = mkdtempSync(join(tmpdir(), "netc-init-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const checkpoint = new Uint8Array(readFileSync(fixture("init-pretrained.safetensors")));
/** Each float tensor of the checkpoint as PyTorch converts it to float32. */
const expected = JSON.parse(readFileSync(fixture("init-pretrained.json"), "utf8")) as Record<
  string,
  number[]
>;

/** The fixture's model up to fc1, then a head for 10 classes where the checkpoint has 3. */
const source = `model Small {
  input image: [1, 12, 12]
  conv1: SpatialConvolution(4, kernel=3, pad=1, bias=false)
  bn1: SpatialBatchNormalization -> ReLU
  SpatialMaxPooling(2)
  conv2: SpatialConvolution(8, kernel=3) -> ReLU
  SpatialMaxPooling(2)
  Flatten
  fc1: Linear(16) -> ReLU
  head: Linear(10)
  LogSoftMax
}
criterion NLL
`;
const small = compileModel(source);
const tensors = (model: Model) => [...model.params, ...model.buffers];
const valuesOf = (model: Model) =>
  new Map(tensors(model).map((t) => [t.name, Float32Array.from(t.data)]));

describe.each(["wasm", "ts"] as const)("%s: loadMatching", (backend) => {
  test("a PyTorch checkpoint: matching tensors set (float64, float16, bfloat16 converted), the rest reported", () => {
    const model = small.create({ batch: 2, seed: 1, backend });
    const before = valuesOf(model);
    const report = model.loadMatching(checkpoint, "pretrained.safetensors");
    expect(report).toEqual({
      loaded: [
        "conv1.weight",
        "bn1.weight",
        "bn1.bias",
        "conv2.weight",
        "conv2.bias",
        "fc1.weight",
        "bn1.running_mean",
        "bn1.running_var",
      ],
      skipped: [
        {
          name: "head.weight",
          reason: "shape",
          shape: [10, 16],
          file: { shape: [3, 16], dtype: "F32" },
        },
        { name: "head.bias", reason: "shape", shape: [10], file: { shape: [3], dtype: "F32" } },
      ],
      missing: ["fc1.bias"],
      // PyTorch's batch count, and a layer the model does not have.
      unexpected: ["bn1.num_batches_tracked", "old.bias", "old.weight"],
    });
    for (const name of report.loaded)
      expect(Float32Array.from(tensor(model, name)), name).toEqual(
        Float32Array.from(expected[name]!),
      );
    for (const name of ["fc1.bias", "head.weight", "head.bias"])
      expect(Float32Array.from(tensor(model, name)), name).toEqual(before.get(name));
  });

  test("a file of which nothing matches, or with a matching NaN, changes nothing", () => {
    const model = small.create({ batch: 2, seed: 1, backend });
    const before = valuesOf(model);
    const other = encodeSafetensors([
      { name: "conv1.weight", shape: [4, 1, 5, 5], data: new Float32Array(100) },
      { name: "classifier.weight", shape: [2], data: new Float32Array(2) },
    ]);
    expect(() => model.loadMatching(other, "other.safetensors")).toThrow(
      new NetcError(
        "other.safetensors: no tensor of the file matches one of the model's by name and shape: the file holds conv1.weight, classifier.weight; the model has conv1.weight, bn1.weight, bn1.bias, conv2.weight, conv2.bias, fc1.weight and 5 more",
      ),
    );
    const nan = new Float32Array(16).fill(1);
    nan[3] = NaN;
    const poisoned = encodeSafetensors([
      { name: "fc1.bias", shape: [16], data: nan },
      { name: "conv2.bias", shape: [8], data: new Float32Array(8) },
    ]);
    expect(() => model.loadMatching(poisoned, "nan.safetensors")).toThrow(
      new NetcError(
        "nan.safetensors: the weights hold values that are not finite numbers\n  fc1.bias: 1 of 16 values are not finite, the first NaN at [3]",
      ),
    );
    expect(() => model.loadMatching(new Uint8Array(3), "short.safetensors")).toThrow(
      /^short\.safetensors: not a safetensors file/,
    );
    const loose = model.loadMatching as (bytes: unknown, source?: unknown) => unknown;
    expect(() => loose(checkpoint.buffer)).toThrow(
      /^loadMatching takes the file's bytes as a Uint8Array, got an ArrayBuffer of \d+ bytes: wrap it/,
    );
    expect(valuesOf(model)).toEqual(before);
  });
});

const tensor = (model: Model, name: string) => tensors(model).find((t) => t.name === name)!.data;

describe("netc train --init", () => {
  // LeNet-5 from a checkpoint of the CNN sample's layers: conv1's shapes differ, fc2's fit.
  const lenet = readFileSync(new URL("../samples/lenet5.net", import.meta.url), "utf8");
  const quick = ["--data", "data/fashion-mnist-sample", "--limit", "128", "--epochs", "1"];

  test("reports what it loaded, skipped and found on either side; the frozen rest trains", () => {
    const model = write(
      "lenet-frozen.net",
      lenet.replace(/train \{/, "train {\n  freeze = [conv1, conv2]"),
    );
    const start = write(
      "start.safetensors",
      encodeSafetensors([
        { name: "conv1.weight", shape: [6, 1, 5, 5], data: new Float32Array(150).fill(0.01) },
        { name: "conv1.bias", shape: [6], data: new Float32Array(6) },
        { name: "conv2.weight", shape: [16, 6, 3, 3], data: new Float32Array(864) },
        { name: "optimizer.step", shape: [], data: new Float32Array(1) },
      ]),
    );
    const saved = join(dir, "tuned.safetensors");
    const run = netc("train", model, "--init", start, "--save", saved, ...quick);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /^LeNet5: 61,706 parameters, 2,572 of them frozen \(conv1, conv2\); /m,
    );
    expect(run.stdout).toContain(
      [
        `initial weights from ${start}: 2 of the model's 10 tensors`,
        "  loaded: conv1.weight, conv1.bias",
        "  skipped: conv2.weight (the model's [16, 6, 5, 5], the file's [16, 6, 3, 3])",
        // The model's order: its trained parameters, then its buffers (here the frozen ones).
        "  not in the file, left as initialised: fc1.weight, fc1.bias, fc2.weight, fc2.bias, fc3.weight, fc3.bias, conv2.bias",
        "  not in the model, ignored: optimizer.step",
      ].join("\n"),
    );
    // Frozen and loaded: conv1 is the file's after training.
    const trained = compileModel(lenet).create({ batch: 1 });
    trained.load(new Uint8Array(readFileSync(saved)));
    expect(tensor(trained, "conv1.weight")).toEqual(new Float32Array(150).fill(0.01));
  });

  test("a file that cannot be read or of which nothing fits: exit 1, nothing written", () => {
    const saved = join(dir, "never.safetensors");
    const missing = netc(
      "train",
      "samples/lenet5.net",
      "--init",
      join(dir, "nope"),
      "--save",
      saved,
    );
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(
      `netc: cannot read the initial weights ${join(dir, "nope")}: no such file\n`,
    );
    const unrelated = write(
      "unrelated.safetensors",
      encodeSafetensors([{ name: "encoder.weight", shape: [2], data: new Float32Array(2) }]),
    );
    const none = netc(
      "train",
      "samples/lenet5.net",
      "--init",
      unrelated,
      "--save",
      saved,
      ...quick,
    );
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(
      /^netc: .*unrelated\.safetensors: no tensor of the file matches one of the model's by name and shape: the file holds encoder\.weight; the model has conv1\.weight/,
    );
    expect(() => readFileSync(saved)).toThrow();
    const both = netc("train", "samples/lenet5.net", "--init", unrelated, "--resume", unrelated);
    expect(both).toMatchObject({
      status: 2,
      stderr: "netc: --init and --resume both set the weights: give one of them\n",
    });
  });
});

function write(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
