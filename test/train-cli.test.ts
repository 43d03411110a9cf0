// netc compile, train and eval end to end: `node bin/netc.js` on the samples, the compiled
// modules imported by a user's script, and every kind of bad input.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { encodeIdx } from "../runtime/data/idx.js";
import { compileModel } from "./helpers/gradcheck.js";
import { typeCheck } from "./helpers/type-check.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "netc-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The embedded sample: the same data whether or not Fashion-MNIST is installed. */
const sample = ["--data", "data/fashion-mnist-sample"];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd = root): Run {
  const env = { ...process.env };
  delete env["FORCE_COLOR"];
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...env, NO_COLOR: "1" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const netc = (...args: string[]) => run(process.execPath, ["bin/netc.js", ...args]);

function write(path: string, content: string | Uint8Array): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** Succeeds, or fails the test showing what netc said. */
function ok(result: Run): Run {
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return result;
}

/** A user's script: imports a compiled module, trains on a fixed batch, saves and reloads. */
const userScript = `
import { pathToFileURL } from "node:url";
const m = await import(pathToFileURL(process.argv[2]).href);
const batch = 8;
const size = (shape) => shape.reduce((a, b) => a * b, 1);
const model = await m.createModel({ batch, seed: 1, threads: 2 });
const x = Float32Array.from({ length: batch * size(m.layout.inputs[0].shape) }, (_, i) => ((i * 7919) % 255) / 255);
const classes = m.layout.outputs[0].shape[0];
const y = Int32Array.from({ length: batch }, (_, i) => i % classes);
const before = model.loss(x, y);
for (let i = 0; i < 10; i++) model.trainStep(x, y);
const after = model.loss(x, y);
const output = model.forward(x);
const saved = model.save();
const other = await m.createModel({ batch, seed: 2 });
const differed = other.loss(x, y) !== after;
other.load(saved);
console.log(JSON.stringify({
  model: m.layout.model,
  params: model.params.map((p) => [p.name, p.shape]),
  outputLength: output.length,
  before,
  after,
  differed,
  reloaded: other.loss(x, y) === after,
  pwned: "pwned" in globalThis,
  backend: model.backend,
}));
model.dispose();
`;
const script = write(join(dir, "use.mjs"), userScript);

interface UserRun {
  model: string;
  params: [string, number[]][];
  outputLength: number;
  before: number;
  after: number;
  differed: boolean;
  reloaded: boolean;
  pwned: boolean;
  backend: string;
}

function useModule(modulePath: string): UserRun {
  const result = run(process.execPath, [script, modulePath]);
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as UserRun;
}

/** The emitted modules are ES modules: a package saying so, as a user's project would have. */
function esmPackage(path: string): string {
  write(join(path, "package.json"), `{ "type": "module" }\n`);
  return path;
}

const lenetParams = [
  ["conv1.weight", [6, 1, 5, 5]],
  ["conv1.bias", [6]],
  ["conv2.weight", [16, 6, 5, 5]],
  ["conv2.bias", [16]],
  ["fc1.weight", [120, 400]],
  ["fc1.bias", [120]],
  ["fc2.weight", [84, 120]],
  ["fc2.bias", [84]],
  ["fc3.weight", [10, 84]],
  ["fc3.bias", [10]],
];

function expectTrained(use: UserRun): void {
  // The module's WASM kernels, on two threads (whose workers must let the process end).
  expect(use.backend).toBe("wasm");
  expect(use.outputLength).toBe(8 * 10);
  expect(use.after).toBeLessThan(use.before);
  expect(use.differed).toBe(true);
  expect(use.reloaded).toBe(true);
}

const consumer = (module: string) => `import { createModel, layout } from "./${module}.js";
const model = await createModel({ batch: 8, seed: 1 });
const loss: number = model.trainStep(new Float32Array(8 * 784), new Int32Array(8));
const names: string[] = model.params.map((p) => p.name);
// @ts-expect-error: the batch is a number, so the types are not \`any\`
await createModel({ batch: "8" });
export const result = { loss, names, model: layout.model };
`;

describe("netc compile", () => {
  test("--standalone: the module imports nothing, trains, saves and reloads", () => {
    const out = esmPackage(join(dir, "standalone"));
    const result = ok(netc("compile", "samples/lenet5.net", "--standalone", "--out-dir", out));
    expect(result.stdout).toBe(
      `${join(out, "lenet5.js")}, ${join(out, "lenet5.d.ts")}: model LeNet5, 61,706 parameters (standalone)\n`,
    );
    const js = readFileSync(join(out, "lenet5.js"), "utf8");
    expect(js).not.toMatch(/^\s*import\b|\bimport\s*\(|\brequire\s*\(/m);
    expect(readFileSync(join(out, "lenet5.d.ts"), "utf8")).not.toMatch(/^import/m);
    const use = useModule(join(out, "lenet5.js"));
    expect(use.model).toBe("LeNet5");
    expect(use.params).toEqual(lenetParams);
    expectTrained(use);
  });

  test("the default module imports netc/runtime, found through the package's exports", () => {
    // A project that installed netc: node_modules/netc is this checkout.
    const app = esmPackage(join(dir, "app"));
    mkdirSync(join(app, "node_modules"));
    symlinkSync(root, join(app, "node_modules", "netc"), "dir");
    const out = join(app, "generated");
    ok(netc("compile", "samples/lenet5.net", "--out-dir", out));
    const js = readFileSync(join(out, "lenet5.js"), "utf8");
    expect(js.match(/^import .*$/gm)).toEqual([`import { instantiate } from "netc/runtime";`]);
    const use = useModule(join(out, "lenet5.js"));
    expect(use.params).toEqual(lenetParams);
    expectTrained(use);
  });

  test("--runtime: a module outside any project that has netc imports the runtime by URL", () => {
    const out = esmPackage(join(dir, "elsewhere"));
    const runtime = pathToFileURL(join(root, "dist/runtime/index.js")).href;
    ok(netc("compile", "samples/lenet5.net", "--out-dir", out, "--runtime", runtime));
    expectTrained(useModule(join(out, "lenet5.js")));
  });

  test("the declarations type-check, standalone and through netc/runtime", () => {
    const standalone = join(dir, "typed-standalone");
    ok(netc("compile", "samples/lenet5.net", "--standalone", "--out-dir", esmPackage(standalone)));
    expect(typeCheck(standalone, consumer("lenet5"))).toMatchObject({ status: 0, stdout: "" });
    const app = esmPackage(join(dir, "typed-app"));
    mkdirSync(join(app, "node_modules"));
    symlinkSync(root, join(app, "node_modules", "netc"), "dir");
    ok(netc("compile", "samples/lenet5.net", "--out-dir", app));
    expect(typeCheck(app, consumer("lenet5"))).toMatchObject({ status: 0, stdout: "" });
  });

  test("hostile names and file names reach the module only as comments and strings", () => {
    const names = ["__proto__", "constructor", "prototype", "toString", "globalThis", "eval"];
    const source = `# a comment */ with \`\${globalThis.pwned = 1}\` and </script> in it
model __proto__ {
  input constructor: [1, 28, 28]
  Flatten
  prototype: Linear(16) -> ReLU
  toString: Linear(10)
  LogSoftMax
}
criterion NLL
train {
  optimizer = SGD(lr=0.01, momentum=0.9)
}
`;
    // A file name cannot hold a slash, but a line break (or U+2028, which ends a line in
    // JavaScript too) would end the header's line comment and run the rest if copied verbatim.
    const fileName = "evil\nglobalThis.pwned = 1;\u2028globalThis.pwned = 2;";
    const path = write(join(dir, "hostile*/", `${fileName}.net`), source);
    const out = esmPackage(join(dir, "hostile-out"));
    ok(netc("compile", path, "--standalone", "--out-dir", out));
    const modulePath = join(out, `${fileName}.js`);
    const js = readFileSync(modulePath, "utf8");
    expect(js.split("\n")[0]).toBe(
      "// Generated by netc from evil?globalThis.pwned ? 1??globalThis.pwned ? 2?.net: model __proto__. Do not edit.",
    );
    expect(readFileSync(join(out, `${fileName}.d.ts`), "utf8").split("\n")[0]).toBe(
      "// Generated by netc from evil?globalThis.pwned ? 1??globalThis.pwned ? 2?.net. Do not edit.",
    );
    // Outside comments and string literals, none of the names appears.
    const code = js
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "")
      .replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
    const generated = code.slice(code.indexOf("export const layout"));
    for (const name of [...names, "pwned"]) {
      expect(generated, name).not.toContain(name);
    }
    const typed = `import { createModel, layout } from ${JSON.stringify(`./${fileName}.js`)};
const model = await createModel({ batch: 2 });
export const names: string[] = model.params.map((p) => p.name);
export const name: string = layout.model;
`;
    expect(typeCheck(out, typed)).toMatchObject({ status: 0, stdout: "" });
    const use = useModule(modulePath);
    expect(use.pwned).toBe(false);
    expect(use.model).toBe("__proto__");
    expect(use.params.map(([name]) => name)).toEqual([
      "prototype.weight",
      "prototype.bias",
      "toString.weight",
      "toString.bias",
    ]);
    expectTrained(use);
  });

  test("errors in the file: the diagnostics as netc check shows them, exit 1, nothing written", () => {
    const path = write(
      join(dir, "broken.net"),
      "model M {\n  input x: [1, 28, 28]\n  Linear(10)\n}\n",
    );
    const out = join(dir, "broken-out");
    const result = netc("compile", path, "--out-dir", out);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${path}:3:3 error[`);
    expect(result.stderr).not.toContain("    at ");
    expect(existsSync(out)).toBe(false);
  });

  test.each([
    [
      ["--standalone", "--runtime", "x"],
      "netc: --standalone inlines the runtime: it cannot be used with --runtime",
    ],
    [
      ["--backend", "c"],
      "netc: option '--backend <backend>' argument 'c' is invalid. Allowed choices are ts, wasm. (see 'netc --help')",
    ],
  ])("usage errors exit 2: %j", (flags, message) => {
    const out = join(dir, "never");
    const result = netc("compile", "samples/lenet5.net", "--out-dir", out, ...flags);
    expect(result).toMatchObject({ status: 2, stderr: `${message}\n`, stdout: "" });
    expect(existsSync(out)).toBe(false);
  });
});

/** The lines of a --metrics file, each parsed on its own. */
function metricsOf(path: string): Record<string, number | null>[] {
  const lines = readFileSync(path, "utf8").split("\n");
  expect(lines.pop()).toBe("");
  return lines.map((line) => JSON.parse(line) as Record<string, number | null>);
}

function expectFinite(record: Record<string, number | null>, keys: string[]): void {
  for (const key of keys) expect(Number.isFinite(record[key]), `${key}: ${record[key]}`).toBe(true);
}

const common = ["epoch", "trainLoss", "testLoss", "samplesPerSecond", "seconds"];

describe("netc train and eval", () => {
  test("mlp learns above chance in one short epoch; eval of the saved weights agrees", () => {
    const metrics = join(dir, "mlp.jsonl");
    const weights = join(dir, "mlp.safetensors");
    const train = ok(
      netc(
        "train",
        "samples/mlp.net",
        ...sample,
        "--limit",
        "512",
        "--epochs",
        "1",
        "--batch",
        "16",
        "--threads",
        "2",
        "--metrics",
        metrics,
        "--save",
        weights,
      ),
    );
    expect(train.stdout).toContain(
      "Fashion-MNIST from data/fashion-mnist-sample (4,000 train, 1,000 test); training on the first 512\n",
    );
    expect(train.stdout).toContain(
      "MLP: 235,146 parameters; SGD(lr=0.01, momentum=0.9, weight_decay=0, nesterov=false), batch 16, 1 epoch, seed 0; wasm kernels, 2 threads\n",
    );
    expect(train.stdout).toMatch(
      /^epoch 1\/1: train loss [\d.]+ accuracy [\d.]+%, test loss [\d.]+ accuracy [\d.]+% \([\d,]+ samples\/s, [\d.]+ s\)$/m,
    );
    expect(train.stdout).toContain(`saved the weights to ${weights}\n`);

    const [epoch, ...more] = metricsOf(metrics);
    expect(more).toEqual([]);
    expect(Object.keys(epoch!)).toEqual([
      "epoch",
      "trainLoss",
      "trainAccuracy",
      "testLoss",
      "testAccuracy",
      "samplesPerSecond",
      "seconds",
    ]);
    expectFinite(epoch!, [...common, "trainAccuracy", "testAccuracy"]);
    expect(epoch!["epoch"]).toBe(1);
    expect(epoch!["testAccuracy"]).toBeGreaterThan(0.3);

    const printed = /test loss ([\d.]+) accuracy ([\d.]+%)/.exec(train.stdout)!;
    const evaluation = ok(netc("eval", "samples/mlp.net", "--weights", weights, ...sample));
    expect(evaluation.stdout).toContain(
      `MLP on the test set (1,000 samples): loss ${printed[1]} accuracy ${printed[2]}\n`,
    );
    expect(evaluation.stdout).toMatch(/^true \\ predicted +0 +1 +2 .* 9 +recall$/m);
    expect(evaluation.stdout).toMatch(/^0 T-shirt\/top +[\d ]+ +[\d.]+%$/m);
    expect(evaluation.stdout).toMatch(/^9 Ankle boot +[\d ]+ +[\d.]+%$/m);
  });

  test("tiny-unet: pixel accuracy and mean IoU on the generated segmentation set", () => {
    const metrics = join(dir, "unet.jsonl");
    const result = ok(
      netc(
        "train",
        "samples/tiny-unet.net",
        "--limit",
        "32",
        "--epochs",
        "1",
        "--metrics",
        metrics,
      ),
    );
    expect(result.stdout).toContain("generated segmentation set (32 train, 256 test)");
    expect(result.stdout).toMatch(/train loss [\d.]+ pixel accuracy [\d.]+% mean IoU [\d.]+,/);
    const [epoch] = metricsOf(metrics);
    expectFinite(epoch!, [
      ...common,
      "trainAccuracy",
      "testAccuracy",
      "trainMeanIoU",
      "testMeanIoU",
    ]);
  });

  test("tiny-detector: objectness accuracy and box error on the generated detection set", () => {
    const metrics = join(dir, "detector.jsonl");
    const weights = join(dir, "detector.safetensors");
    const result = ok(
      netc(
        "train",
        "samples/tiny-detector.net",
        "--limit",
        "32",
        "--epochs",
        "1",
        "--metrics",
        metrics,
        "--save",
        weights,
      ),
    );
    expect(result.stdout).toContain("generated detection set (32 train, 256 test)");
    const [epoch] = metricsOf(metrics);
    expectFinite(epoch!, [
      ...common,
      "trainAccuracy",
      "testAccuracy",
      "trainBoxError",
      "testBoxError",
    ]);
    const evaluation = ok(netc("eval", "samples/tiny-detector.net", "--weights", weights));
    const printed = /test (loss [\d.]+ objectness accuracy [\d.]+% box error [\d.]+)/.exec(
      result.stdout,
    )!;
    expect(evaluation.stdout).toContain(
      `TinyDetector on the test set (256 samples): ${printed[1]}\n`,
    );
  });

  test("ecg-cnn: a 1-D CNN learns the generated heart rhythms, named in the confusion matrix", () => {
    const metrics = join(dir, "ecg.jsonl");
    const weights = join(dir, "ecg.safetensors");
    // The sample's own settings (10 epochs of 1,024 windows): a few seconds on two threads.
    const result = ok(
      netc("train", "samples/ecg-cnn.net", "--metrics", metrics, "--save", weights),
    );
    expect(result.stdout).toContain(
      "generated ECG set (1,024 train, 256 test): single-lead 2.56 s windows at 100 Hz, normal, PVC, AF, bundle branch block, bradycardia, tachycardia\n",
    );
    const last = metricsOf(metrics).at(-1)!;
    expect(last["epoch"]).toBe(10);
    // Six classes: chance is 17%; the sample reaches 80–90% (83% with seed 0).
    expect(last["testAccuracy"]).toBeGreaterThan(0.7);
    const evaluation = ok(netc("eval", "samples/ecg-cnn.net", "--weights", weights));
    expect(evaluation.stdout).toMatch(/^0 normal +[\d ]+ +[\d.]+%$/m);
    expect(evaluation.stdout).toMatch(/^1 PVC +[\d ]+ +[\d.]+%$/m);
    expect(evaluation.stdout).toMatch(/^5 tachycardia +[\d ]+ +[\d.]+%$/m);
  });

  test("autoencoder: reconstruction error on Fashion-MNIST, no accuracy", () => {
    const metrics = join(dir, "autoencoder.jsonl");
    const result = ok(
      netc(
        "train",
        "samples/autoencoder.net",
        ...sample,
        "--limit",
        "64",
        "--epochs",
        "1",
        "--metrics",
        metrics,
      ),
    );
    expect(result.stdout).toContain("reconstructing the images; training on the first 64");
    const [epoch] = metricsOf(metrics);
    expectFinite(epoch!, [...common, "trainMse", "testMse"]);
    expect(epoch!["testAccuracy"]).toBeNull();
  });

  // Chance is 10%: the gates, the group normalisation and the broadcasts train.
  test("se-resnet: squeeze-and-excitation residual blocks learn Fashion-MNIST in one epoch", () => {
    const metrics = join(dir, "se-resnet.jsonl");
    ok(netc("train", "samples/se-resnet.net", ...sample, "--epochs", "1", "--metrics", metrics));
    const [epoch] = metricsOf(metrics);
    expectFinite(epoch!, [...common, "trainAccuracy", "testAccuracy"]);
    expect(epoch!["testAccuracy"]).toBeGreaterThan(0.5);
  });

  // Calling every cell empty scores 96.9% on the generated test set, and its boxes (all 0) are
  // off by 0.35: the thresholds need objects found and placed.
  test("ssd-detector: SmoothL1 and BCEWithLogits on logits find and place the boxes", () => {
    const metrics = join(dir, "ssd.jsonl");
    const result = ok(
      netc(
        "train",
        "samples/ssd-detector.net",
        "--limit",
        "1024",
        "--epochs",
        "2",
        "--metrics",
        metrics,
      ),
    );
    expect(result.stdout).toContain("generated detection set (1,024 train, 256 test)");
    const [, last] = metricsOf(metrics);
    expectFinite(last!, [...common, "trainAccuracy", "testAccuracy", "testBoxError"]);
    expect(last!["testAccuracy"]).toBeGreaterThan(0.975);
    expect(last!["testBoxError"]).toBeLessThan(0.27);
  });

  test("the train block's schedule sets each epoch's rate; the header shows it and the clipping", () => {
    // Epoch 1 at half the rate (warm-up), epoch 2 at --lr, then StepLR's gamma 0 stops training.
    const path = write(
      join(dir, "scheduled.net"),
      `model Softmax {
  input x: [1, 28, 28]
  Flatten
  Linear(10)
  LogSoftMax
}
criterion NLL
train {
  optimizer = RMSprop(lr=0.001, momentum=0.5)
  warmup = LinearLR(start_factor=0.5, total_iters=1)
  schedule = StepLR(step_size=1, gamma=0)
  clip_grad_norm = 5
}
`,
    );
    const metrics = join(dir, "scheduled.jsonl");
    const args = ["--limit", "256", "--epochs", "3", "--batch", "32", "--lr", "0.002"];
    const evaluated = ["--eval-train", "--metrics", metrics];
    const result = ok(netc("train", path, ...sample, ...args, ...evaluated));
    expect(result.stdout).toContain(
      "Softmax: 7,850 parameters; RMSprop(lr=0.002, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0.5, centered=false), schedule LinearLR(start_factor=0.5, end_factor=1, total_iters=1) then StepLR(step_size=1, gamma=0), clip_grad_norm=5, batch 32, 3 epochs, seed 0;",
    );
    // Each epoch's rate: half of --lr in the warm-up, --lr, then StepLR's gamma 0.
    expect(result.stdout).toContain("(lr 0.001, ");
    expect(metricsOf(metrics).map((r) => r["learningRate"])).toEqual([0.001, 0.002, 0]);
    const [first, second, third] = metricsOf(metrics);
    expect(second!["trainLoss"]).toBeLessThan(first!["trainLoss"]!);
    // A rate of 0 leaves the weights as they were, momentum or not (the running figures of the
    // steps differ: each epoch shuffles anew).
    expect(third!["trainEvalLoss"]).toBe(second!["trainEvalLoss"]);
    expect(third!["testLoss"]).toBe(second!["testLoss"]);
  });
});

/** An IDX directory of `count` `size`×`size` images labelled `label(i)`. */
function idxDirectory(name: string, size: number, label: (i: number) => number): string {
  const path = join(dir, name);
  const images = (count: number) =>
    encodeIdx({ dims: [count, size, size], data: new Uint8Array(count * size * size).fill(7) });
  const labels = (count: number) =>
    encodeIdx({ dims: [count], data: Uint8Array.from({ length: count }, (_, i) => label(i)) });
  write(join(path, "train-images-idx3-ubyte"), images(64));
  write(join(path, "train-labels-idx1-ubyte"), labels(64));
  write(join(path, "t10k-images-idx3-ubyte"), images(16));
  write(join(path, "t10k-labels-idx1-ubyte"), labels(16));
  return path;
}

describe("bad input: one error on stderr, no stack trace, nothing overwritten", () => {
  const kept = write(join(dir, "kept.safetensors"), "the previous weights");
  const mlpWeights = join(dir, "bad-mlp.safetensors");
  const fiveClasses = write(
    join(dir, "five.net"),
    "model Five {\n  input x: [1, 28, 28]\n  Flatten\n  fc: Linear(5)\n  LogSoftMax\n}\ncriterion NLL\n",
  );

  function fails(args: string[], status: number, message: string | RegExp): Run {
    const result = netc(...args);
    expect(result.status).toBe(status);
    if (typeof message === "string") expect(result.stderr).toBe(`netc: ${message}\n`);
    else expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain("    at ");
    expect(readFileSync(kept, "utf8")).toBe("the previous weights");
    return result;
  }

  test("a data directory that does not exist", () => {
    const missing = join(dir, "no-such-data");
    fails(
      ["train", "samples/mlp.net", "--data", missing, "--save", kept],
      1,
      `--data ${missing}: no such file or directory`,
    );
  });

  test("images of another size than the model's input", () => {
    const small = idxDirectory("small-images", 16, (i) => i % 10);
    fails(
      ["train", "samples/mlp.net", "--data", small, "--save", kept],
      1,
      "the data has images of shape [1, 16, 16] but model MLP takes input [1, 28, 28]",
    );
  });

  test("labels out of range in the files; more classes than the model scores", () => {
    const bad = idxDirectory("bad-labels", 28, (i) => (i === 3 ? 12 : 1));
    fails(
      ["train", "samples/mlp.net", "--data", bad, "--save", kept],
      1,
      `label 12 at record 3 of ${join(bad, "train-labels-idx1-ubyte")} is out of range for 10 classes`,
    );
    fails(
      ["train", fiveClasses, ...sample, "--save", kept],
      1,
      "the data has 10 classes (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot) but model Five scores 5",
    );
  });

  test("a diverging loss names the epoch and step and suggests a lower learning rate", () => {
    const metrics = join(dir, "diverged.jsonl");
    const result = fails(
      [
        "train",
        "samples/mlp.net",
        ...sample,
        "--lr",
        "1e6",
        "--limit",
        "512",
        "--save",
        kept,
        "--metrics",
        metrics,
      ],
      1,
      /^netc: training diverged: the loss is (NaN|Infinity) at epoch 1, step \d+; .*kept\.safetensors was not written\. Try a lower learning rate than 1000000, e\.g\. --lr 100000\n$/,
    );
    expect(result.stdout).not.toContain("saved");
    expect(existsSync(metrics)).toBe(false);
  });

  test("weights from another model, truncated or missing", () => {
    ok(
      netc(
        "train",
        "samples/mlp.net",
        ...sample,
        "--limit",
        "64",
        "--epochs",
        "1",
        "--save",
        mlpWeights,
      ),
    );
    fails(
      ["eval", "samples/lenet5.net", "--weights", mlpWeights, ...sample],
      1,
      /^netc: .*bad-mlp\.safetensors: the weights do not fit the model \(saved from another model\?\)\n  conv1\.weight: missing from the file\n/,
    );
    const bytes = readFileSync(mlpWeights);
    const truncated = write(
      join(dir, "truncated.safetensors"),
      bytes.subarray(0, bytes.length - 100),
    );
    fails(
      ["eval", "samples/mlp.net", "--weights", truncated, ...sample],
      1,
      /^netc: .*truncated\.safetensors: tensor '[\w.]+' .* the file is truncated\n$/,
    );
    const missing = join(dir, "never-saved.safetensors");
    fails(
      ["eval", "samples/mlp.net", "--weights", missing],
      1,
      `cannot read the weights ${missing}: no such file`,
    );
  });

  test("weights that are a device, far too large or not finite; a batch no memory holds", () => {
    const model = compileModel(readFileSync(join(root, "samples/mlp.net"), "utf8")).create({
      batch: 1,
      backend: "ts",
    });
    const good = write(join(dir, "good-mlp.safetensors"), model.save());
    fails(
      ["eval", "samples/mlp.net", "--weights", "/dev/zero"],
      1,
      "cannot read the weights /dev/zero: is not a regular file (a device, a pipe or a socket)",
    );
    const huge = write(join(dir, "huge.safetensors"), model.save());
    truncateSync(huge, 3 * 1024 ** 3); // sparse: no disk used
    fails(
      ["eval", "samples/mlp.net", "--weights", huge],
      1,
      /^netc: .*huge\.safetensors: \d+ bytes after the last tensor's data belong to no tensor\n$/,
    );
    model.params[0]!.data.fill(NaN);
    const nan = write(join(dir, "nan.safetensors"), model.save());
    fails(
      ["eval", "samples/mlp.net", "--weights", nan],
      1,
      /^netc: .*nan\.safetensors: the weights hold values that are not finite numbers\n  fc1\.weight: 200704 of 200704 values are not finite, the first NaN at \[0, 0\]\n$/,
    );
    fails(
      ["eval", "samples/mlp.net", "--weights", good, "--batch", "100000000"],
      1,
      /^netc: the model needs [\d.]+ GB of memory at batch 100000000 \(.*\), more than the 4\.0 GB a WebAssembly memory can hold: a batch of at most \d+ fits\n$/,
    );
  });

  test("too few samples for one batch, and no --limit to raise", () => {
    const few = idxDirectory("few", 28, (i) => i % 10);
    fails(
      ["train", "samples/mlp.net", "--data", few, "--batch", "128", "--save", kept],
      2,
      "64 training samples make no full batch of 128: lower --batch",
    );
  });

  test("a model without a criterion: train, eval and data say where and what to add", () => {
    const path = write(
      join(dir, "no-criterion.net"),
      "# no criterion below\nmodel Plain {\n  input x: [1, 28, 28]\n  Flatten\n  Linear(10)\n  LogSoftMax\n}\n",
    );
    const metrics = join(dir, "no-criterion.jsonl");
    const npz = join(dir, "no-criterion.npz");
    for (const [command, args] of [
      ["train", ["--save", kept, "--metrics", metrics]],
      ["eval", ["--weights", kept]],
      ["data", ["--out", npz]],
    ] as const) {
      fails(
        [command, path, ...sample, ...args],
        1,
        `${path}:2: model Plain has no criterion, which netc ${command} needs: it gives the loss and the targets the data must have; add one after the model, e.g. \`criterion NLL\` for class indices after LogSoftMax, \`criterion CrossEntropy\` on class scores or \`criterion MSE\` for values (see docs/language.md, "The criterion")`,
      );
    }
    expect(existsSync(metrics)).toBe(false);
    expect(existsSync(npz)).toBe(false);
  });

  test("a model netc has no data for", () => {
    fails(
      ["train", "samples/resnet-tiny.net"],
      1,
      /^netc: no data for model ResNetTiny \(input x \[3, 32, 32\], criterion CrossEntropy\): give your own with --data PATH .*; without it, netc train has Fashion-MNIST .* ECG set for input \[1, L\], L ≥ 256 .* detection set .*\n$/,
    );
  });

  test.each([
    [
      ["train", "samples/mlp.net", "--epoch", "1"],
      2,
      "unknown option '--epoch'; did you mean --epochs? (see 'netc --help')",
    ],
    [
      ["train", "samples/mlp.net", "--lr", "fast"],
      2,
      "option '--lr <rate>' argument 'fast' is invalid. expected a positive number (see 'netc --help')",
    ],
    [
      ["train", "samples/mlp.net", "--batch", "0"],
      2,
      "option '--batch <n>' argument '0' is invalid. expected a positive integer (see 'netc --help')",
    ],
    [
      ["eval", "samples/mlp.net"],
      2,
      "required option '--weights <file>' not specified (see 'netc --help')",
    ],
    [
      ["train", "samples/mlp.net", "--threads", "0"],
      2,
      "option '--threads <n>' argument '0' is invalid. expected a positive integer (see 'netc --help')",
    ],
    [
      ["train", "samples/mlp.net", ...sample, "--backend", "ts", "--threads", "2"],
      2,
      "--threads needs the WASM kernels; the TS kernels run on one thread",
    ],
    [
      ["train", "samples/mlp.net", ...sample, "--limit", "10", "--save", kept],
      2,
      "10 training samples make no full batch of 64: raise --limit or lower --batch",
    ],
    [
      ["train", "samples/tiny-unet.net", ...sample, "--save", kept],
      1,
      "the data has images of shape [1, 28, 28] but model TinyUNet takes input [1, 32, 32]",
    ],
    [
      ["train", "samples/mlp.net", "--save", join(dir, "no-dir", "w.safetensors")],
      1,
      `--save ${join(dir, "no-dir", "w.safetensors")}: the directory ${join(dir, "no-dir")} does not exist`,
    ],
  ])("%j", (args, status, message) => {
    fails(args, status, message);
  });
});

// NLL of raw scores falls without bound and BCE of values outside [0, 1] is not a loss: netc train
// stops on those lints before reading any data, and trains only when the user allows the lint.
describe("a criterion that cannot train meaningfully", () => {
  const rawScores = write(
    join(dir, "raw-scores.net"),
    "model RawScores {\n  input x: [1, 28, 28]\n  View(-1)\n  Linear(10)\n}\n\ncriterion NLL\n",
  );
  const save = join(dir, "raw-scores.safetensors");

  test("stops with the checker's warning and writes nothing", () => {
    const result = netc("train", rawScores, ...sample, "--epochs", "1", "--save", save);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      "warning[nll-without-logsoftmax]: NLL expects log-probabilities, but the model's output comes from Linear with no LogSoftMax",
    );
    expect(result.stderr).toContain(
      "netc: not training: with nll-without-logsoftmax the loss means nothing; fix the model as the warning above says, or pass --allow nll-without-logsoftmax to train anyway",
    );
    expect(existsSync(save)).toBe(false);
  });

  test("--allow trains anyway", () => {
    const args = ["--epochs", "1", "--limit", "128", "--allow", "nll-without-logsoftmax"];
    const result = netc("train", rawScores, ...sample, ...args, "--save", save);
    expect(result.status).toBe(0);
    expect(existsSync(save)).toBe(true);
  });

  test("--allow takes only the lints that stop training", () => {
    const result = netc("train", rawScores, "--allow", "unused-block");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      "netc: --allow takes a lint that stops training (nll-without-logsoftmax, bce-without-sigmoid, kldiv-without-logsoftmax), got unused-block",
    );
  });
});
