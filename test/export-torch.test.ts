// The PyTorch export against PyTorch itself (Debian's /usr/bin/python3 with torch 1.13): the
// exported module's state_dict, forward, training steps, DistributedDataParallel on two processes
// and the trained weights' way back into `netc eval`. Python with torch starts slowly, so the
// cases go to a few invocations of one driver script.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, describe, expect, test } from "vitest";
import { encodeNpy } from "../cli/data-command.js";
import { criterionList, layerList } from "../compiler/catalog/index.js";
import { torchLayers } from "../compiler/export/torch-layers.js";
import { torchCriteria } from "../compiler/export/torch-training.js";
import { exportTorch } from "../compiler/export/torch.js";
import { parseNpz } from "../runtime/data/npy.js";
import { defaultOptimizer } from "../runtime/optimizers.js";
import { decodeSafetensors, encodeSafetensors } from "../runtime/safetensors.js";
import { scheduledLearningRate } from "../runtime/schedules.js";
import { netc } from "./helpers/cli.js";
import { compileModel, pseudoRandom } from "./helpers/gradcheck.js";

const python = "/usr/bin/python3";
const hasTorch = spawnSync(python, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
if (!hasTorch) {
  console.warn(
    `NOTICE: ${python} has no torch: the PyTorch export's tests against PyTorch are SKIPPED (apt-get install python3-torch)`,
  );
}

const dir = mkdtempSync(join(tmpdir(), "netc-torch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sample = (name: string) =>
  readFileSync(new URL(`../samples/${name}.net`, import.meta.url), "utf8");
const samples = readdirSync(new URL("../samples", import.meta.url))
  .filter((f) => f.endsWith(".net"))
  .map((f) => f.slice(0, -4));

/** A one-layer model `input x: [shape]` → layer, judged by MSE. */
const stack = (shape: number[], layer: string) =>
  `model M {\n  input x: [${shape.join(", ")}]\n  l: ${layer}\n}\ncriterion MSE\n`;
const twoInputs = (layer: string, a: number[], b: number[]) =>
  `model M {\n  input a: [${a.join(", ")}]\n  input b: [${b.join(", ")}]\n  out = ${layer}(a, b, a)\n  output out\n}\ncriterion MSE\n`;

/** A model per catalog layer, with arguments away from their defaults where that matters. */
const layerCases: [layer: string, source: string][] = [
  [
    "SpatialConvolution",
    stack([3, 6, 5], "SpatialConvolution(4, kernel=[3, 2], stride=[2, 1], pad=1)"),
  ],
  [
    "SpatialFullConvolution",
    stack([3, 4, 4], "SpatialFullConvolution(2, kernel=3, stride=2, pad=1, adj=1, bias=false)"),
  ],
  ["SpatialMaxPooling", stack([2, 7, 6], "SpatialMaxPooling(3, stride=2, pad=1, ceil=true)")],
  [
    "SpatialAveragePooling",
    stack(
      [2, 7, 6],
      "SpatialAveragePooling(3, stride=2, pad=1, ceil=true, count_include_pad=false)",
    ),
  ],
  [
    "SpatialAveragePooling",
    stack([2, 5, 5], "SpatialAveragePooling([3, 2], stride=[1, 2], pad=1)"),
  ],
  ["SpatialAdaptiveMaxPooling", stack([2, 7, 5], "SpatialAdaptiveMaxPooling(3, 2)")],
  ["SpatialAdaptiveAveragePooling", stack([2, 7, 5], "SpatialAdaptiveAveragePooling(3, 4)")],
  [
    "SpatialBatchNormalization",
    stack([3, 4, 4], "SpatialBatchNormalization(eps=0.001, momentum=0.2)"),
  ],
  ["SpatialUpSamplingNearest", stack([2, 3, 3], "SpatialUpSamplingNearest(2)")],
  ["SpatialUpSamplingBilinear", stack([2, 3, 4], "SpatialUpSamplingBilinear(2)")],
  [
    "SpatialUpSamplingBilinear",
    stack([2, 4, 3], "SpatialUpSamplingBilinear(3, align_corners=true)"),
  ],
  ["SpatialZeroPadding", stack([2, 4, 5], "SpatialZeroPadding(-1, 2, 1, -2)")],
  ["SpatialReflectionPadding", stack([2, 4, 3], "SpatialReflectionPadding(2, 1, 1, 3)")],
  ["SpatialReplicationPadding", stack([2, 3, 2], "SpatialReplicationPadding(3, 1, 2, 0)")],
  ["Linear", stack([5], "Linear(4)")],
  ["BatchNormalization", stack([3, 4], "BatchNormalization(momentum=0.5)")],
  ["BatchNormalization", stack([5], "BatchNormalization(affine=false)")],
  ["View", stack([2, 3, 4], "View(-1, 2)")],
  ["Flatten", stack([2, 3, 2], "Flatten")],
  ["ReLU", stack([2, 3, 2], "ReLU")],
  ["LeakyReLU", stack([7], "LeakyReLU(slope=0.2)")],
  ["ELU", stack([7], "ELU(alpha=0.7)")],
  ["Sigmoid", stack([7], "Sigmoid")],
  ["Tanh", stack([7], "Tanh")],
  ["SoftPlus", stack([9], "SoftPlus(beta=2, threshold=1)")],
  ["ReLU6", stack([7], "ReLU6")],
  ["HardTanh", stack([7], "HardTanh(min_val=-0.5, max_val=2)")],
  ["SiLU", stack([7], "SiLU")],
  ["GELU", stack([7], "GELU")],
  ["GELU", stack([7], "GELU(approximate=true)")],
  ["HardSigmoid", stack([7], "HardSigmoid")],
  ["HardSwish", stack([7], "HardSwish")],
  ["LogSigmoid", stack([7], "LogSigmoid")],
  ["SoftSign", stack([7], "SoftSign")],
  ["SoftMax", stack([4, 2, 3], "SoftMax")],
  ["SoftMin", stack([4, 2, 3], "SoftMin")],
  ["LogSoftMax", stack([3, 2, 2], "LogSoftMax")],
  ["PReLU", stack([3, 2, 2], "PReLU(3)")],
  ["Dropout", stack([6], "Dropout(0.4)")],
  ["Concat", twoInputs("Concat", [2, 2, 3], [3, 2, 3])],
  ["Add", twoInputs("Add", [2, 3], [2, 3])],
  // Broadcast: [C, 1, 1] and [W] against [C, H, W], the shorter shapes aligned after the batch.
  ["Add", twoInputs("Add", [2, 3, 4], [4])],
  ["Mul", twoInputs("Mul", [2, 1, 1], [2, 3, 4]).replace("(a, b, a)", "(a, b)")],
  ["GroupNormalization", stack([6, 3, 2], "GroupNormalization(3, eps=0.001)")],
  ["GroupNormalization", stack([4, 5], "GroupNormalization(2, affine=false)")],
  ["LayerNormalization", stack([3, 2, 3], "LayerNormalization")],
  ["InstanceNormalization", stack([3, 4, 3], "InstanceNormalization(affine=true)")],
  ["InstanceNormalization", stack([2, 6], "InstanceNormalization")],
];

describe("the export's tables", () => {
  test("every catalog layer has a PyTorch mapping and a model in the tests below", () => {
    const unmapped = layerList.map((l) => l.name).filter((n) => !(n in torchLayers));
    expect(unmapped, "layers without an entry in compiler/export/torch-layers.ts").toEqual([]);
    const tested = new Set(layerCases.map(([layer]) => layer));
    const untested = layerList.map((l) => l.name).filter((n) => !tested.has(n));
    expect(untested, "layers without a case in layerCases").toEqual([]);
  });

  test("every catalog criterion has a PyTorch mapping", () => {
    expect(criterionList.map((c) => c.name).filter((n) => !torchCriteria.includes(n))).toEqual([]);
  });
});

/** Runs the driver on the jobs; returns its JSON answer. */
function drive(jobs: object): Record<string, unknown[]> {
  const file = join(dir, `jobs-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(jobs));
  const run = spawnSync(python, [join(dir, "driver.py"), file], {
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: "1" },
  });
  if (run.status !== 0) throw new Error(`python failed:\n${run.stderr}`);
  return JSON.parse(readFileSync(`${file}.out`, "utf8")) as Record<string, unknown[]>;
}

/** A job's files in the temporary directory: the module, and one per kind (`curve3.weights`). */
function jobFiles<K extends string>(name: string, kinds: readonly K[]) {
  const files = Object.fromEntries(kinds.map((k) => [k, join(dir, `${name}.${k}`)]));
  return { module: join(dir, `${name}.py`), ...(files as Record<K, string>) };
}

// Imports each exported module and answers: state_dict keys and shapes and the forward outputs
// from the given weights; the losses of training steps on given batches.
const driver = String.raw`
import importlib.util, json, sys, torch

def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

jobs = json.load(open(sys.argv[1]))
answer = {"forward": [], "curves": []}
for i, job in enumerate(jobs.get("forward", [])):
    m = load(job["module"], f"forward{i}")
    model = m.MODEL()
    keys = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    model.load_state_dict(m.load_safetensors(job["weights"]))
    model.eval()
    inputs = m.load_safetensors(job["inputs"])
    with torch.no_grad():
        out = model(*[inputs[name] for name in m.INPUTS])
    out = out if isinstance(out, tuple) else (out,)
    answer["forward"].append({"keys": keys, "outputs": [o.flatten().tolist() for o in out]})
for i, job in enumerate(jobs.get("curves", [])):
    m = load(job["module"], f"curve{i}")
    model = m.MODEL()
    model.load_state_dict(m.load_safetensors(job["weights"]))
    data = m.load_safetensors(job["batches"])
    opt, scheduler = m.optimizer(model)
    losses = []
    for epoch in range(job["epochs"]):
        model.train()
        for step in range(job["steps"]):
            k = epoch * job["steps"] + step
            x = [data[f"{name}.{k}"] for name in m.INPUTS]
            t = {o: data[f"{o}.{k}"].long() if kind == "classes" else data[f"{o}.{k}"]
                 for o, (shape, kind) in m.TARGETS.items()}
            losses.append(m.train_step(model, opt, x, m.pick(t, slice(None))))
        if scheduler is not None:
            scheduler.step()
    m.save_safetensors(job["out"], model.state_dict())
    answer["curves"].append({"losses": losses})
json.dump(answer, open(sys.argv[1] + ".out", "w"))
`;
writeFileSync(join(dir, "driver.py"), driver);

/** Netc's model of `source` with every parameter and buffer drawn at random (variances > 0). */
function netcModel(source: string, batch: number, seed: number) {
  const compiled = compileModel(source);
  const model = compiled.create({ batch, seed });
  const next = pseudoRandom(seed);
  for (const t of [...model.params, ...model.buffers]) {
    const variance = t.name.endsWith("running_var");
    for (let i = 0; i < t.data.length; i++) t.data[i] = variance ? 0.5 + Math.abs(next()) : next();
  }
  return { compiled, model };
}

/** Random inputs, `scale` times [-1, 1), one array per input, batch first. */
function inputsOf(compiled: ReturnType<typeof compileModel>, batch: number, seed: number) {
  const next = pseudoRandom(seed);
  return compiled.layout.inputs.map((input) => ({
    name: input.name,
    shape: [batch, ...input.shape],
    data: Float32Array.from(
      { length: batch * input.shape.reduce((a, b) => a * b, 1) },
      () => 3 * next(),
    ),
  }));
}

const feed = (inputs: { name: string; data: Float32Array }[]) =>
  inputs.length === 1 ? inputs[0]!.data : Object.fromEntries(inputs.map((i) => [i.name, i.data]));

/** max |a − b| / max |b|: the difference relative to the output's scale. */
function relative(a: readonly number[], b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-6);
}

describe.skipIf(!hasTorch)("the exported module in PyTorch", () => {
  test("state_dict keys and shapes are netc's, and forward is netc's, for every sample and a model per catalog layer", () => {
    const cases = [
      ...samples.map((s) => ({ name: s, source: sample(s) })),
      ...layerCases.map(([layer, source], i) => ({ name: `${layer} ${i}`, source })),
      { name: "names", source: namesSource },
    ];
    const batch = 3;
    const runs = cases.map(({ name, source }, i) => {
      const { compiled, model } = netcModel(source, batch, 100 + i);
      const inputs = inputsOf(compiled, batch, 200 + i);
      const job = jobFiles(`forward${i}`, ["weights", "inputs"]);
      writeFileSync(job.module, exportTorch(compiled.model, { source: `${name}.net` }));
      writeFileSync(job.weights, model.save());
      writeFileSync(job.inputs, encodeSafetensors(inputs));
      const out = model.forward(feed(inputs));
      const outputs = compiled.layout.outputs.map((o) =>
        out instanceof Float32Array ? out : (out as Record<string, Float32Array>)[o.name]!,
      );
      model.dispose();
      const params = compiled.model.nodes.flatMap((n) =>
        n.params.map((p) => [p.name, [...p.shape]]),
      );
      return { name, job, params, outputs };
    });
    const answer = drive({ forward: runs.map((r) => r.job) }).forward as {
      keys: [string, number[]][];
      outputs: number[][];
    }[];
    const differences: string[] = [];
    runs.forEach((run, i) => {
      const { keys, outputs } = answer[i]!;
      expect(keys, run.name).toEqual(run.params);
      expect(outputs.length, run.name).toBe(run.outputs.length);
      const worst = Math.max(...outputs.map((o, k) => relative(o, run.outputs[k]!)));
      differences.push(`${run.name}: ${worst.toExponential(1)}`);
      expect(worst, run.name).toBeLessThan(2e-4);
    });
    console.log(
      `forward, PyTorch against netc (max |diff| / max |netc|):\n  ${differences.join("\n  ")}`,
    );
  }, 120_000);
});

const train = (settings: string) => `train {\n  batch = 8\n  epochs = 4\n${settings}}\n`;

/**
 * Names Python, nn.Module or the exported file have: the model named as a class of the file, an
 * input named like its values, a keyword, labels that are nn.Module methods (a frozen one among
 * them), block uses numbered; two outputs.
 */
const namesSource = `block Pair(c) {
  keys: Linear(c) -> ReLU
  to: Linear(c)
}
model Group {
  input x3: [4]
  input lambda: [4]
  s = Add(x3, lambda)
  eval = s -> forward: Linear(5) -> ReLU
  p = eval -> Pair(5) -> Pair(5)
  out = p -> half: Linear(2)
  output out, eval
}
criterion MSE(out) + 0.5 * MSE(eval)
${train("  optimizer = SGD(lr=0.05, momentum=0.5)\n  freeze = [forward]\n")}`;

/** A classifier of 8x8 images: convolution, pooling, Linear, LogSoftMax. */
const smallCnn = (input: string, classes: number) => `model Small {
  input ${input}
  c: SpatialConvolution(4, kernel=3, pad=1) -> ReLU
  SpatialMaxPooling(2)
  Flatten
  f: Linear(${classes})
  LogSoftMax
}`;

/** Models that train in 4 epochs of 5 steps, with every optimizer and schedule. */
const curveCases: [name: string, source: string][] = [
  [
    "SGD, Nesterov momentum and weight decay; NLL with class weights and an ignored class",
    `${smallCnn("x: [2, 8, 8]", 5)}
criterion NLL(weights=[1, 2, 0.5, 1, 1.5], ignore=4)
${train("  optimizer = SGD(lr=0.1, momentum=0.9, nesterov=true, weight_decay=0.001)\n")}`,
  ],
  [
    "Adam with a linear warm-up, StepLR and clipping; batch norm; CrossEntropy with label smoothing",
    `model B {
  input x: [6]
  a: Linear(16, bias=false)
  n: BatchNormalization -> ReLU
  b: Linear(4)
}
criterion CrossEntropy(label_smoothing=0.1)
${train(`  optimizer = Adam(lr=0.02, weight_decay=0.01)
  warmup = LinearLR(start_factor=0.25, total_iters=2)
  schedule = StepLR(step_size=1, gamma=0.5)
  clip_grad_norm = 0.5
`)}`,
  ],
  [
    "AdamW and CosineAnnealingLR; two heads, 5 × SmoothL1 + BCE",
    `model C {
  input x: [3, 6, 6]
  f = x -> t: SpatialConvolution(4, kernel=3, pad=1) -> GELU
  boxes = f -> b: SpatialConvolution(2, kernel=1)
  objectness = f -> o: SpatialConvolution(1, kernel=1) -> Sigmoid
  output boxes, objectness
}
criterion 5 * SmoothL1(boxes, beta=0.5) + BCE(objectness)
${train("  optimizer = AdamW(lr=0.01)\n  schedule = CosineAnnealingLR(T_max=3)\n")}`,
  ],
  [
    "RMSprop, centered with momentum, and MultiStepLR; PReLU; BCEWithLogits with pos_weight",
    `model D {
  input x: [5]
  a: Linear(8) -> PReLU
  b: Linear(3)
}
criterion BCEWithLogits(pos_weight=[0.5, 2, 1])
${train("  optimizer = RMSprop(lr=0.01, momentum=0.5, centered=true)\n  schedule = MultiStepLR(milestones=[1, 3], gamma=0.3)\n")}`,
  ],
  [
    "Adagrad and ExponentialLR; transposed convolution; L1",
    `model E {
  input x: [2, 4, 4]
  d: SpatialFullConvolution(2, kernel=2, stride=2) -> Tanh
  SpatialAveragePooling(2)
}
criterion L1
${train("  optimizer = Adagrad(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1)\n  schedule = ExponentialLR(gamma=0.8)\n")}`,
  ],
  ["SGD with momentum, a frozen layer, two inputs and two outputs", namesSource],
  [
    "SGD without momentum; KLDiv",
    `model G {
  input x: [6]
  a: Linear(5)
  LogSoftMax
}
criterion KLDiv
${train("  optimizer = SGD(lr=0.5)\n")}`,
  ],
];

/** A batch of targets fit for each term's criterion, by output name. */
function targetsOf(compiled: ReturnType<typeof compileModel>, batch: number, next: () => number) {
  const targets: Record<string, Int32Array | Float32Array> = {};
  for (const term of compiled.model.criterion) {
    const node = compiled.model.nodes.find((n) => n.id === term.node)!;
    const count = batch * term.target.reduce((a, b) => a * b, 1);
    const unit = () => (next() + 1) / 2;
    if (term.targetKind === "classes") {
      targets[term.output] = Int32Array.from({ length: count }, () =>
        Math.floor(unit() * node.shape[0]!),
      );
    } else if (term.criterion === "KLDiv") {
      // A distribution over the channels of each sample.
      const p = Float32Array.from({ length: count }, () => 0.05 + unit());
      const C = node.shape[0]!;
      for (let n = 0; n < batch; n++) {
        const row = p.subarray(n * C, (n + 1) * C);
        const sum = row.reduce((a, b) => a + b, 0);
        row.forEach((v, i) => (row[i] = v / sum));
      }
      targets[term.output] = p;
    } else {
      const bounded = term.criterion.startsWith("BCE");
      targets[term.output] = Float32Array.from({ length: count }, () =>
        bounded ? unit() : next(),
      );
    }
  }
  return targets;
}

const steps = 5;
const epochs = 4;

describe.skipIf(!hasTorch)("training in PyTorch", () => {
  test("20 steps from the same weights and batches give netc's losses and weights, for every optimizer and schedule", () => {
    const runs = curveCases.map(([name, source], i) => {
      const compiled = compileModel(source);
      const batch = compiled.model.train.batch!;
      const model = compiled.create({ batch, seed: i });
      const files = jobFiles(`curve${i}`, ["weights", "batches", "out"]);
      writeFileSync(files.module, exportTorch(compiled.model));
      writeFileSync(files.weights, model.save());
      const next = pseudoRandom(300 + i);
      const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
      const optimizer = compiled.model.train.optimizer ?? defaultOptimizer;
      const lr = optimizer.args["lr"] as number;
      const losses: number[] = [];
      for (let epoch = 0; epoch < epochs; epoch++) {
        model.setLearningRate(scheduledLearningRate(compiled.model.train, lr, epoch));
        for (let step = 0; step < steps; step++) {
          const k = epoch * steps + step;
          const inputs = inputsOf(compiled, batch, 1000 * i + k);
          const targets = targetsOf(compiled, batch, next);
          tensors.push(...inputs.map((input) => ({ ...input, name: `${input.name}.${k}` })));
          for (const [output, data] of Object.entries(targets)) {
            const shape = [batch, ...compiled.layout.targets.find((t) => t.name === output)!.shape];
            tensors.push({ name: `${output}.${k}`, shape, data: Float32Array.from(data) });
          }
          const single = Object.keys(targets).length === 1;
          losses.push(model.trainStep(feed(inputs), single ? Object.values(targets)[0]! : targets));
        }
      }
      writeFileSync(files.batches, encodeSafetensors(tensors));
      const weights = decodeSafetensors(model.save(), "netc");
      model.dispose();
      return { name, job: { ...files, epochs, steps }, losses, weights };
    });
    const answer = drive({ curves: runs.map((r) => r.job) }).curves as { losses: number[] }[];
    const report: string[] = [];
    runs.forEach((run, i) => {
      const { losses } = answer[i]!;
      const lossDiff = Math.max(
        ...losses.map((l, k) => Math.abs(l - run.losses[k]!) / Math.abs(run.losses[k]!)),
      );
      const trained = decodeSafetensors(readFileSync(run.job.out), "torch");
      let weightDiff = 0;
      for (const [name, t] of run.weights) {
        const theirs = trained.get(name)!;
        weightDiff = Math.max(weightDiff, relative([...theirs.data], t.data));
      }
      report.push(
        `${run.name}: loss ${lossDiff.toExponential(1)}, weights ${weightDiff.toExponential(1)} (losses ${run.losses[0]!.toFixed(4)} → ${run.losses.at(-1)!.toFixed(4)})`,
      );
      expect(losses.length).toBe(steps * epochs);
      expect(lossDiff, run.name).toBeLessThan(1e-4);
      expect(weightDiff, run.name).toBeLessThan(1e-4);
    });
    console.log(
      `20 training steps, PyTorch against netc (max relative difference):\n  ${report.join("\n  ")}`,
    );
  }, 120_000);
});

/** A port nothing listens on now, for torchrun's rendezvous. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** Runs a command to its end; its status and output. */
const run = (command: string, args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { cwd: dir, env: { ...process.env, OMP_NUM_THREADS: "1" } });
    let [stdout, stderr] = ["", ""];
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });

const ddpSource = `${smallCnn("image: [1, 8, 8]", 3)}
criterion NLL
train {
  optimizer = SGD(lr=0.1, momentum=0.9)
  schedule = StepLR(step_size=1, gamma=0.5)
  clip_grad_norm = 1
  augment = [RandomCrop(8, padding=1), RandomHorizontalFlip]
  batch = 16
  epochs = 3
  seed = 5
}
`;

describe("netc data", () => {
  test("netc data writes netc's layout: a target per output, named after it", () => {
    const out = join(dir, "detector.npz");
    const result = netc("data", "samples/tiny-detector.net", "--limit", "8", "--out", out);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const arrays = parseNpz(readFileSync(out), out);
    const shapes = Object.fromEntries([...arrays].map(([k, read]) => [k, read().shape]));
    expect(shapes).toEqual({
      x_train: [8, 3, 64, 64],
      y_train_boxes: [8, 4, 8, 8],
      y_train_objectness: [8, 1, 8, 8],
      x_test: [256, 3, 64, 64],
      y_test_boxes: [256, 4, 8, 8],
      y_test_objectness: [256, 1, 8, 8],
    });
  });

  test("refuses an output it cannot write, and a model it has no data for, naming them", () => {
    const missing = netc("data", "samples/mlp.net", "--out", join(dir, "no", "such", "data.npz"));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^netc: --out .*data\.npz: the directory .* does not exist\n$/);
    writeFileSync(join(dir, "names.net"), namesSource);
    const two = netc("data", join(dir, "names.net"), "--out", join(dir, "names.npz"));
    expect(two.status).toBe(1);
    expect(two.stderr).toContain(
      "no data for model Group (input x3 [4], lambda [4], criterion MSE)",
    );
  });
});

describe.skipIf(!hasTorch)("the exported entry point", () => {
  test("torchrun with 2 processes on gloo trains as one process does, augmentation included, and netc eval loads the weights", async () => {
    // A user's data, through netc data into the file both sides read.
    const next = pseudoRandom(7);
    const count = { train: 96, test: 32 };
    const files: Record<string, Uint8Array> = {};
    for (const [part, n] of Object.entries(count)) {
      const x = Float32Array.from({ length: n * 64 }, () => (next() + 1) / 2);
      // The class is which third of the image is brightest: learnable.
      const y = Int32Array.from({ length: n }, (_, i) => {
        const sums = [0, 1, 2].map((c) =>
          x.subarray(i * 64 + c * 16, i * 64 + c * 16 + 24).reduce((a, b) => a + b, 0),
        );
        return sums.indexOf(Math.max(...sums));
      });
      files[`x_${part}.npy`] = encodeNpy(x, [n, 8, 8]);
      files[`y_${part}.npy`] = encodeNpy(y, [n]);
    }
    writeFileSync(join(dir, "user.npz"), zipSync(files));
    writeFileSync(join(dir, "small.net"), ddpSource);
    const data = netc(
      "data",
      join(dir, "small.net"),
      "--data",
      join(dir, "user.npz"),
      "--out",
      join(dir, "data.npz"),
    );
    expect(data.status, data.stderr).toBe(0);

    const compiled = compileModel(ddpSource);
    const model = compiled.create({ batch: 16, seed: 5 });
    writeFileSync(join(dir, "init.safetensors"), model.save());
    model.dispose();
    writeFileSync(join(dir, "small.py"), exportTorch(compiled.model, { source: "small.net" }));
    const args = (save: string) => [
      "small.py",
      "--data",
      "data.npz",
      "--init",
      "init.safetensors",
      "--save",
      save,
    ];
    const port = await freePort();
    const started = Date.now();
    const [single, ddp, augmented] = await Promise.all([
      run(python, args("single.safetensors")),
      // --redirects/--tee: Debian's torchrun (torch 1.13 on Python 3.11) fails on its default of
      // "0" (Std.NONE, which Python 3.11's Flag iteration skips); any other value avoids it.
      run(python, [
        "-m",
        "torch.distributed.run",
        "--redirects",
        "2",
        "--tee",
        "2",
        // The agent looks at its workers every 5 s by default: the run would end up to 5 s late.
        "--monitor_interval",
        "0.5",
        "--nnodes",
        "1",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        String(port),
        ...args("ddp.safetensors"),
      ]),
      // The crop shifts by (dy, dx) = (1, -1), then the flip (its draw 0.2 < p) mirrors.
      run(python, [
        "-c",
        "import json, torch, small\n" +
          "x = torch.arange(16.0).reshape(1, 1, 4, 4)\n" +
          "small.augment(x, torch.zeros(1), torch.tensor([[[1, -1, 0], [0, 0, 0.2]]]))\n" +
          "print(json.dumps(x.flatten().tolist()))",
      ]),
    ]);
    expect(augmented.status, augmented.stderr).toBe(0);
    // Pixel (y, x) takes (y + 1, x − 1), zero outside; then each row reversed.
    const shifted = [0, 4, 5, 6, 0, 8, 9, 10, 0, 12, 13, 14, 0, 0, 0, 0];
    const mirrored = [0, 1, 2, 3].flatMap((y) => shifted.slice(4 * y, 4 * y + 4).reverse());
    expect(JSON.parse(augmented.stdout)).toEqual(mirrored);
    const seconds = (Date.now() - started) / 1000;
    expect(single.status, single.stderr).toBe(0);
    expect(ddp.status, ddp.stderr).toBe(0);
    expect(ddp.stdout).toContain("batch 16 on 2 processes, 3 epochs");
    const a = decodeSafetensors(readFileSync(join(dir, "single.safetensors")), "single");
    const b = decodeSafetensors(readFileSync(join(dir, "ddp.safetensors")), "ddp");
    expect([...b.keys()]).toEqual([...a.keys()]);
    let diff = 0;
    for (const [name, t] of a) {
      diff = Math.max(diff, ...t.data.map((v, i) => Math.abs(v - b.get(name)!.data[i]!)));
    }
    // The initial weights moved: the runs trained.
    const init = decodeSafetensors(readFileSync(join(dir, "init.safetensors")), "init");
    expect(Math.abs(a.get("f.weight")!.data[0]! - init.get("f.weight")!.data[0]!)).toBeGreaterThan(
      1e-4,
    );
    console.log(
      `DDP on 2 processes against 1 process, 3 epochs of 6 steps: max |weight difference| ${diff.toExponential(1)} (both runs in ${seconds.toFixed(1)} s)`,
    );
    expect(diff).toBeLessThan(1e-5);

    // netc eval reads the weights torch wrote and finds the test loss torch printed.
    const evaluated = netc(
      "eval",
      join(dir, "small.net"),
      "--weights",
      join(dir, "ddp.safetensors"),
      "--data",
      join(dir, "data.npz"),
    );
    expect(evaluated.status, evaluated.stderr).toBe(0);
    const theirs = /epoch 3\/3: .*test loss ([\d.]+) accuracy ([\d.]+)%/.exec(ddp.stdout);
    const ours = /test set .*: loss ([\d.]+) accuracy ([\d.]+)%/.exec(evaluated.stdout);
    expect(theirs, ddp.stdout).not.toBeNull();
    expect(ours, evaluated.stdout).not.toBeNull();
    expect(Number(ours![1])).toBeCloseTo(Number(theirs![1]), 3);
    // Python's format rounds halves to even (40.625 → 40.62), netc's up.
    expect(Math.abs(Number(ours![2]) - Number(theirs![2]))).toBeLessThanOrEqual(0.0100001);
  }, 180_000);
});
