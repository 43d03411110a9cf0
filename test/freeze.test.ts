// Frozen layers (`freeze = [...]` in the train block): what the checker says about the names,
// the gradient work the lowering leaves out, and training on both backends that leaves them be.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { check } from "../compiler/check.js";
import { parameterBackward } from "../compiler/lower/program.js";
import { completion } from "../editor/server/completion.js";
import { definition } from "../editor/server/definition.js";
import { hover } from "../editor/server/hover.js";
import type { Analysis } from "../editor/server/analysis.js";
import { LineMap } from "../grammar/positions.js";
import type { Model } from "../runtime/api-types.js";
import { netc } from "./helpers/cli.js";
import { compileModel, gradCheck, pseudoRandom } from "./helpers/gradcheck.js";

const sample = (name: string) =>
  readFileSync(new URL(`../samples/${name}`, import.meta.url), "utf8");

/** `source` with its train block's settings and `freeze = [labels]` instead. */
const withFreeze = (source: string, labels: string[]) =>
  source.replace(/train \{[^}]*\}/, "") + `\ntrain {\n  freeze = [${labels.join(", ")}]\n}\n`;

const cnn = sample("cnn.net");
const frozenCnn = withFreeze(cnn, ["conv1", "conv2"]);

const values = (length: number, seed: number) => {
  const next = pseudoRandom(seed);
  return Float32Array.from({ length }, () => next());
};
const images = (n: number) => values(n * 784, 5).map((v) => (v + 1) / 2);
const labels = (n: number) => Int32Array.from({ length: n }, (_, i) => (i * 7) % 10);

const copies = (views: readonly { name: string; data: ArrayLike<number> }[]) =>
  new Map(views.map((v) => [v.name, Float32Array.from(v.data)]));
const tensor = (model: Model, name: string) =>
  [...model.params, ...model.buffers].find((t) => t.name === name)!.data;

/**
 * lossAndGrad on a model with frozen layers and on the same model without: the same loss, the
 * same gradients of the `trained` parameters (its only ones), and the same input gradient,
 * which flows through frozen layers as through PyTorch's.
 */
function expectSameGradients(
  frozen: Model,
  plain: Model,
  x: Float32Array,
  y: Int32Array | Float32Array,
  trained: string[],
): void {
  expect(frozen.lossAndGrad(x, y)).toBe(plain.lossAndGrad(x, y));
  expect(frozen.grads.map((g) => g.name)).toEqual(trained);
  for (const g of frozen.grads)
    expect(g.data, g.name).toEqual(plain.grads.find((h) => h.name === g.name)!.data);
  expect(frozen.inputGrad).toEqual(plain.inputGrad);
}

/** A block used twice, once labelled, and labelled layers with and without parameters. */
const model = (train: string) => `block Features {
  conv: SpatialConvolution(4, kernel=3, pad=1) -> ReLU
  SpatialMaxPooling(2)
}
model M {
  input x: [1, 8, 8]
  features: Features
  Features
  Flatten
  act: ReLU
  head: Linear(3)
}
criterion CrossEntropy
train {
  ${train}
}
`;

describe("the checker", () => {
  const diagnostics = (train: string) =>
    check(model(train)).diagnostics.map((d) => `${d.severity} ${d.code}: ${d.message}`);

  test("a block use's label freezes its whole expansion, and nothing else", () => {
    const { diagnostics: found, models } = check(model("freeze = [features, head]"));
    expect(found).toEqual([]);
    const m = models[0]!;
    expect(m.train.freeze).toEqual(["features", "head"]);
    const params = m.nodes.flatMap((n) => n.params);
    expect(params.filter((p) => p.frozen).map((p) => p.name)).toEqual([
      "features.conv.weight",
      "features.conv.bias",
      "head.weight",
      "head.bias",
    ]);
    expect(params.filter((p) => p.trainable).map((p) => p.name)).toEqual([
      "1.conv.weight",
      "1.conv.bias",
    ]);
    // A single name needs no brackets.
    expect(diagnostics("freeze = head")).toEqual([]);
  });

  test("unknown names are errors with a suggestion; a layer without parameters a warning", () => {
    expect(diagnostics("freeze = [feature, act, 2, Linear(3)]")).toEqual([
      "error unknown-label: no layer of model M is labelled 'feature'; did you mean 'features'?",
      "warning nothing-to-freeze: 'act' has no parameters: freezing it changes nothing",
      "error argument-type: argument 'freeze' must be the labels of layers or block uses, such as [conv1, features], got 2",
      "error argument-type: argument 'freeze' must be the labels of layers or block uses, such as [conv1, features], got Linear(...)",
    ]);
    // The input is no layer; an unlabelled layer has no name to give.
    expect(diagnostics("freeze = [x]")).toEqual([
      "error unknown-label: no layer of model M is labelled 'x'; freeze names labelled layers and block uses (`conv1: SpatialConvolution(...)`)",
    ]);
    expect(diagnostics("freez = [head]")).toEqual([
      "error unknown-setting: unknown train setting 'freez'; did you mean 'freeze'?",
    ]);
  });
});

describe("the lowering", () => {
  const plain = compileModel(cnn);
  const frozen = compileModel(frozenCnn);

  test("frozen parameters are buffers: outside the optimizer's region, with no gradient", () => {
    const trainable = frozen.layout.params.filter((p) => p.trainable).map((p) => p.name);
    expect(trainable).toEqual(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    const size = (128 * 3136 + 128 + 10 * 128 + 10) as number;
    expect(frozen.layout.paramRegion.size).toBe(size);
    expect(frozen.layout.gradRegion.size).toBe(size);
    expect(frozen.program.tensors.filter((t) => t.role === "grad").map((t) => t.name)).toEqual(
      trainable.map((n) => `grad:${n}`),
    );
  });

  test("no weight gradient for frozen layers; a training step's backward stops at fc1", () => {
    const kernels = (steps: { kernel: string; layers: readonly string[] }[]) =>
      steps.map((s) => `${s.kernel} ${s.layers[0]}`);
    const gone = ["conv2d_grad_weight conv2", "conv2d_grad_weight conv1"];
    expect(kernels(frozen.program.backward)).toEqual(
      kernels(plain.program.backward).filter((k) => !gone.includes(k)),
    );
    expect(kernels(parameterBackward(plain.program))).toHaveLength(14);
    expect(kernels(parameterBackward(frozen.program))).toEqual([
      "class_loss_grad 10",
      "activation_grad fc2",
      "linear_grad_input fc2",
      "linear_grad_weight fc2",
      "activation_grad fc1",
      "linear_grad_weight fc1",
    ]);
  });
});

describe.each(["wasm", "ts"] as const)("%s: training with frozen layers", (backend) => {
  const batch = 8;
  const plain = compileModel(cnn);
  const frozen = compileModel(frozenCnn);
  const optimizer = { name: "SGD" as const, args: { lr: 0.05, momentum: 0.9 } };
  const create = (m: typeof plain) => m.create({ batch, seed: 3, backend, optimizer });

  test("frozen weights stay bit for bit; the others train as in the unfrozen model", () => {
    const [a, b] = [create(frozen), create(plain)];
    const initial = copies([...a.params, ...a.buffers]);
    // The same initialisation: each tensor draws from its own named stream.
    for (const [name, data] of initial) expect(tensor(b, name), name).toEqual(data);
    // One step: the same gradients for the layers both train, so the same update.
    expect(a.trainStep(images(batch), labels(batch))).toBe(
      b.trainStep(images(batch), labels(batch)),
    );
    for (const p of a.params) expect(p.data, p.name).toEqual(tensor(b, p.name));
    for (let i = 0; i < 4; i++) a.trainStep(images(batch), labels(batch));
    for (const name of ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"])
      expect(tensor(a, name), name).toEqual(initial.get(name));
    expect(tensor(a, "fc1.weight")).not.toEqual(initial.get("fc1.weight"));
  });

  test("lossAndGrad: the trained layers' gradients and the input's equal the unfrozen model's", () => {
    const [a, b] = [create(frozen), create(plain)];
    const trained = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];
    expectSameGradients(a, b, images(batch), labels(batch), trained);
  });

  test("batch normalisation frozen: no scale or shift update, running statistics still move", () => {
    const bn = sample("cnn-bn.net");
    const [a, b] = [withFreeze(bn, ["conv1", "bn1"]), bn].map((s) =>
      compileModel(s).create({ batch, seed: 3, backend, optimizer }),
    ) as [Model, Model];
    const initial = copies([...a.params, ...a.buffers]);
    a.trainStep(images(batch), labels(batch));
    b.trainStep(images(batch), labels(batch));
    for (const name of ["conv1.weight", "bn1.weight", "bn1.bias"])
      expect(tensor(a, name), name).toEqual(initial.get(name));
    // PyTorch's requires_grad_(False) leaves training mode as it is: batch statistics, moved.
    expect(tensor(a, "bn1.running_mean")).not.toEqual(initial.get("bn1.running_mean"));
    expect(tensor(a, "bn1.running_mean")).toEqual(tensor(b, "bn1.running_mean"));
    expect(tensor(a, "bn1.running_var")).toEqual(tensor(b, "bn1.running_var"));
    expect(tensor(a, "bn2.weight")).toEqual(tensor(b, "bn2.weight"));
  });

  test("clip_grad_norm measures the trained layers' gradients alone, as PyTorch's", () => {
    // PyTorch's clip_grad_norm_(model.parameters()) skips parameters without a gradient.
    const source = withFreeze(cnn, ["conv1", "conv2"]).replace(
      "freeze",
      "optimizer = SGD(lr=0.1)\n  clip_grad_norm = 0.01\n  freeze",
    );
    const clipped = compileModel(source).create({ batch, seed: 3, backend });
    const x = images(batch);
    clipped.lossAndGrad(x, labels(batch));
    const grads = clipped.grads.map((g) => Float64Array.from(g.data));
    const norm = Math.sqrt(grads.reduce((sum, g) => sum + g.reduce((a, v) => a + v * v, 0), 0));
    expect(norm).toBeGreaterThan(0.01);
    const scale = 0.01 / (norm + 1e-6);
    const before = clipped.params.map((p) => Float64Array.from(p.data));
    clipped.trainStep(x, labels(batch));
    clipped.params.forEach((p, i) => {
      const expected = before[i]!.map((v, k) => v - 0.1 * scale * grads[i]![k]!);
      for (let k = 0; k < p.data.length; k += 97)
        expect(p.data[k]!, `${p.name}[${k}]`).toBeCloseTo(expected[k]!, 6);
    });
  });

  test("frozen weights are saved and loaded; every layer frozen trains nothing", () => {
    const a = create(frozen);
    a.trainStep(images(batch), labels(batch));
    const saved = a.save();
    // The file fits the unfrozen model too: the same tensors, some trained, some not.
    const b = create(plain);
    b.load(saved);
    expect(b.forward(images(2))).toEqual(a.forward(images(2)));
    const c = create(frozen);
    c.load(saved);
    expect(tensor(c, "conv1.weight")).toEqual(tensor(a, "conv1.weight"));

    const all = compileModel(withFreeze(cnn, ["conv1", "conv2", "fc1", "fc2"]));
    expect(all.layout.paramRegion.size).toBe(0);
    const d = create(all);
    const before = copies(d.buffers);
    expect(Number.isFinite(d.trainStep(images(batch), labels(batch)))).toBe(true);
    expect(copies(d.buffers)).toEqual(before);
  });
});

describe("gradients through frozen layers", () => {
  const plain = `model M {
  input x: [2, 6, 6]
  conv: SpatialConvolution(3, kernel=3, pad=1) -> Tanh
  bn: SpatialBatchNormalization -> ReLU
  up: SpatialFullConvolution(2, kernel=2, stride=2)
  Flatten
  fc: Linear(4) -> Sigmoid
  head: Linear(3)
}
criterion MSE
`;
  // Batch normalisation, a transposed convolution and a Linear with a fused activation, frozen
  // between two trained layers: the gradient passes through each.
  const source = plain + "train {\n  freeze = [bn, up, fc]\n}\n";
  const random = pseudoRandom(17);
  const input = Float64Array.from({ length: 3 * 72 }, () => random());
  const target = Float32Array.from({ length: 3 * 3 }, () => random());

  test("against finite differences (float64, TS kernels): the trained parameters' and the input's", () => {
    const { checked } = gradCheck({ source, batch: 3, input, target });
    expect(checked).toBeGreaterThan(50);
  });

  test.each(["wasm", "ts"] as const)(
    "%s: the same as the unfrozen model's, bit for bit",
    (backend) => {
      const [a, b] = [source, plain].map((s) =>
        compileModel(s).create({ batch: 3, seed: 4, backend }),
      ) as [Model, Model];
      const trained = ["conv.weight", "conv.bias", "head.weight", "head.bias"];
      expectSameGradients(a, b, Float32Array.from(input), target, trained);
    },
  );
});

describe("the editor", () => {
  const text = model("batch = 8\n  freeze = [features]");
  const analysis = (source: string): Analysis => ({
    uri: "file:///m.net",
    version: 1,
    text: source,
    lines: new LineMap(source),
    result: check(source),
  });
  const at = (needle: string, from = 0) => text.indexOf(needle, from);
  const inTrain = (needle: string) => at(needle, at("train {"));

  test("hover: the setting, the layers a label freezes, and frozen layers", () => {
    const value = (offset: number) =>
      (hover(analysis(text), offset)!.contents as { value: string }).value;
    expect(value(inTrain("freeze") + 1)).toBe(
      "`freeze`: labelled layers or block uses whose parameters are not trained: no gradient, no update",
    );
    expect(value(inTrain("features") + 2)).toBe(
      "frozen: `features.conv` (SpatialConvolution), `features.1` (ReLU), `features.2` (SpatialMaxPooling) · 40 parameters not trained",
    );
    expect(value(at("head") + 8)).toContain("`head` → `[3]` · 51 parameters ·");
    const frozenHead = text.replace("[features]", "[head]");
    const onHead = hover(analysis(frozenHead), frozenHead.indexOf("Linear(3)") + 2)!;
    expect((onHead.contents as { value: string }).value).toContain("51 parameters (frozen)");
  });

  test("completion offers the setting, then the model's labels; definition finds the label", () => {
    const labels = completion(analysis(text), inTrain("features")).map((i) => i.label);
    expect(labels).toEqual(["features", "act", "head"]);
    const settings = text.replace("  batch = 8\n", "  b\n");
    const keys = completion(analysis(settings), settings.indexOf("  b\n") + 3).map((i) => i.label);
    expect(keys).toContain("freeze");
    const target = definition(analysis(text), inTrain("features") + 1)!;
    const lines = new LineMap(text);
    expect(target.range.start).toEqual({
      line: lines.at(at("features:")).line - 1,
      character: lines.at(at("features:")).column - 1,
    });
  });
});

describe("netc", () => {
  const dir = mkdtempSync(join(tmpdir(), "netc-freeze-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, source: string) => {
    const path = join(dir, name);
    writeFileSync(path, source);
    return path;
  };

  test("shapes --kernels: the steps a training step runs, and what is frozen", () => {
    const run = netc("shapes", "--kernels", file("cnn.net", frozenCnn));
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/: 21 steps, every step runs as WASM\n/);
    expect(run.stdout).toContain(
      'a training step runs 14 of them, not the 7 "input grad" steps, which lossAndGrad runs for the input\'s gradient\n' +
        "frozen: conv1, conv2 (18,816 parameters: no weight gradients, no update)\n",
    );
    expect(run.stdout).toMatch(/^input grad +conv2d_grad_input +wasm +conv2 /m);
    const plain = netc("shapes", "--kernels", "samples/cnn.net");
    expect(plain.stdout).toMatch(
      /: 23 steps, every step runs as WASM\na training step runs 22 of them, not the 1 /,
    );
    const json = JSON.parse(
      netc("shapes", "--kernels", "--json", file("cnn.net", frozenCnn)).stdout,
    ) as {
      trainStep: boolean;
    }[];
    expect(json.filter((r) => r.trainStep)).toHaveLength(14);
  });

  test("shapes: frozen layers marked and counted apart", () => {
    const run = netc("shapes", file("cnn.net", frozenCnn));
    expect(run.stdout).toMatch(/^conv1 +SpatialConvolution \(frozen\) +\[N, 32, 28, 28\] +320 /m);
    expect(run.stdout).toMatch(
      /^parameters +421,642 \(1\.6 MB; 402,826 trainable, 18,816 frozen\)$/m,
    );
  });

  test("train: a model with every parameter frozen is refused before anything runs", () => {
    const run = netc("train", file("all.net", withFreeze(cnn, ["conv1", "conv2", "fc1", "fc2"])));
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      "netc: every parameter of CNN is frozen (freeze = [conv1, conv2, fc1, fc2]): there is nothing to train\n",
    );
  });
});
