// The compiled-module contract at run time: inputs, targets, modes, checkpoints and bad input.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { NetcError } from "../runtime/errors.js";
import { compileModel, pseudoRandom } from "./helpers/gradcheck.js";

const sample = (name: string) =>
  readFileSync(new URL(`../samples/${name}`, import.meta.url), "utf8");
const lenet = compileModel(sample("lenet5.net"));
const images = (n: number) =>
  Float32Array.from({ length: n * 784 }, (_, i) => ((i * 7919) % 255) / 255);
const labels = (n: number) => Int32Array.from({ length: n }, (_, i) => i % 10);

describe("compiled model", () => {
  test("parameters are live views with PyTorch names; forward returns one row per sample", async () => {
    const net = lenet.create({ batch: 8, seed: 3 });
    expect(net.params.map((p) => p.name)).toEqual(
      ["conv1", "conv2", "fc1", "fc2", "fc3"].flatMap((l) => [`${l}.weight`, `${l}.bias`]),
    );
    expect(net.grads.map((g) => g.name)).toEqual(net.params.map((p) => p.name));
    const out = net.forward(images(3)) as Float32Array;
    expect(out.length).toBe(30);
    // log-probabilities: each row's exponentials sum to 1
    for (let s = 0; s < 3; s++) {
      const total = [...out.subarray(s * 10, s * 10 + 10)].reduce((a, v) => a + Math.exp(v), 0);
      expect(total).toBeCloseTo(1, 5);
    }
    net.params[8]!.data.fill(0); // fc3: every class then scores 0, equally likely
    net.params[9]!.data.fill(0);
    const uniform = net.forward(images(1)) as Float32Array;
    expect([...uniform].every((v) => Math.abs(v - Math.log(0.1)) < 1e-6)).toBe(true);
  });

  test.each(["wasm", "ts"] as const)(
    "%s: a step whose loss is not finite updates nothing, and Adam does not count it",
    (backend) => {
      const adam = { name: "Adam" as const, args: { lr: 0.01 } };
      const [net, fresh] = [1, 2].map(() =>
        lenet.create({ batch: 4, seed: 1, backend, optimizer: adam }),
      ) as [ReturnType<typeof lenet.create>, ReturnType<typeof lenet.create>];
      // A NaN bias makes every log-probability NaN (ReLU would turn a NaN input into 0).
      const bias = net.params[9]!.data;
      const kept = bias[0]!;
      bias[0] = NaN;
      const before = net.params.map((p) => Float32Array.from(p.data));
      expect(net.trainStep(images(4), labels(4))).toBeNaN();
      net.params.forEach((p, i) => expect(p.data).toEqual(before[i]));
      bias[0] = kept;
      // The next good step is the optimizer's first, exactly as on a model that never failed.
      expect(net.trainStep(images(4), labels(4))).toBe(fresh.trainStep(images(4), labels(4)));
      net.params.forEach((p, i) => expect(p.data).toEqual(fresh.params[i]!.data));
    },
  );

  test("training steps lower the loss on a fixed batch; the same seed gives the same run", () => {
    const mlp = compileModel(sample("mlp.net"));
    const next = pseudoRandom(9);
    const x = Float32Array.from({ length: 16 * 784 }, () => (next() + 1) / 2);
    const run = () => {
      const net = mlp.create({ batch: 16, seed: 5 });
      return [...Array(40)].map(() => net.trainStep(x, labels(16)));
    };
    const a = run();
    expect(a[39]!).toBeLessThan(a[0]! * 0.75);
    expect(run()).toEqual(a);
  });

  test("the loss of fewer samples than the batch is their own mean", () => {
    const net = lenet.create({ batch: 8, seed: 1 });
    const two = net.loss(images(2), labels(2));
    const first = net.loss(images(1), labels(1));
    const second = net.loss(images(2).subarray(784), labels(2).subarray(1));
    expect(two).toBeCloseTo((first + second) / 2, 5);
  });

  test("batch statistics of a partial batch leave the padding out", () => {
    const source =
      "model M {\n  input x: [2, 3, 3]\n  conv: SpatialConvolution(3, kernel=3, pad=1)\n  SpatialBatchNormalization -> ReLU\n  Flatten\n  Linear(4)\n  LogSoftMax\n}\ncriterion NLL\n";
    const compiled = compileModel(source);
    const next = pseudoRandom(4);
    const x = Float32Array.from({ length: 3 * 18 }, () => next());
    const t = new Int32Array([0, 3, 1]);
    const padded = compiled.create({ batch: 5, seed: 2 });
    const exact = compiled.create({ batch: 3, seed: 2 });
    expect(padded.lossAndGrad(x, t)).toBeCloseTo(exact.lossAndGrad(x, t), 6);
    padded.grads.forEach((g, i) => {
      const other = exact.grads[i]!.data;
      g.data.forEach((v, k) => expect(v).toBeCloseTo(other[k]!, 5));
    });
    expect(Array.from(padded.buffers[0]!.data)).toEqual(Array.from(exact.buffers[0]!.data));
  });

  test("save and load round-trip; weights of another model are refused and change nothing", () => {
    const net = lenet.create({ batch: 4, seed: 1 });
    const other = lenet.create({ batch: 4, seed: 2 });
    other.load(net.save(), "net.safetensors");
    expect(other.forward(images(2))).toEqual(net.forward(images(2)));
    const mlp = compileModel(sample("mlp.net")).create({ batch: 4, seed: 1 });
    const before = Float32Array.from(other.params[0]!.data);
    expect(() => other.load(mlp.save(), "mlp.safetensors")).toThrow(
      /mlp\.safetensors.*conv1\.weight/s,
    );
    expect(other.params[0]!.data).toEqual(before);
  });

  test("bad inputs and targets are clear errors", () => {
    const net = lenet.create({ batch: 4, seed: 1 });
    expect(() => net.forward(new Float32Array(100))).toThrow(NetcError);
    expect(() => net.forward(new Float32Array(100))).toThrow(
      /input 'image' needs a multiple of \[1, 28, 28\] = 784 values/,
    );
    expect(() => net.forward(images(5))).toThrow(/at most 4 samples/);
    expect(() => net.loss(images(2), new Float32Array([1, 2]))).toThrow(
      /class indices: pass an Int32Array/,
    );
    expect(() => net.loss(images(2), new Int32Array([1, 10]))).toThrow(
      /label 10 at index 1 is out of range for 10 classes/,
    );
    expect(() => net.loss(images(2), labels(3))).toThrow(/2 input samples but 3 target samples/);
  });

  test("a model without a criterion has no loss: loss, evaluate and trainStep say so", () => {
    const source = sample("lenet5.net").replace(/^criterion .*$/m, "");
    const net = compileModel(source).create({ batch: 4, seed: 1 });
    expect((net.forward(images(2)) as Float32Array).length).toBe(20);
    const noCriterion =
      "model LeNet5 has no criterion, so it has no loss to compute or train on: add a criterion after the model (e.g. `criterion NLL`)";
    expect(() => net.loss(images(2), labels(2))).toThrow(new NetcError(noCriterion));
    expect(() => net.evaluate(images(2), labels(2))).toThrow(new NetcError(noCriterion));
    expect(() => net.trainStep(images(2), labels(2))).toThrow(new NetcError(noCriterion));
  });

  test("a two-output model takes its targets as a record keyed by output name", () => {
    const det = compileModel(sample("tiny-detector.net")).create({ batch: 2, seed: 1 });
    const x = new Float32Array(2 * 3 * 64 * 64).fill(0.5);
    const out = det.forward(x) as Record<string, Float32Array>;
    expect(Object.keys(out)).toEqual(["boxes", "objectness"]);
    expect(out["boxes"]!.length).toBe(2 * 4 * 8 * 8);
    const boxes = new Float32Array(2 * 256);
    const objectness = new Float32Array(2 * 64).fill(0.25);
    expect(Number.isFinite(det.lossAndGrad(x, { boxes, objectness }))).toBe(true);
    expect(() => det.loss(x, boxes)).toThrow(/several targets \(boxes, objectness\)/);
  });
});
