// The PyTorch export against PyTorch itself (Debian's /usr/bin/python3 with torch 1.13): the
// exported module's state_dict, forward, training steps, DistributedDataParallel on two processes
// and the trained weights' way back into `netc eval`. Python with torch starts slowly, so the
// cases go to a few invocations of one driver script.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, describe, expect, test } from "vitest";
import { encodeNpy } from "../cli/data-command.js";
import { criterionList, layerList } from "../compiler/catalog/index.js";
import { torchLayers } from "../compiler/export/torch-layers.js";
import { torchCriteria } from "../compiler/export/torch-training.js";
import { exportTorch } from "../compiler/export/torch.js";
import type { Model } from "../runtime/api-types.js";
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
    ];
    const batch = 3;
    const runs = cases.map(({ name, source }, i) => {
      const { compiled, model } = netcModel(source, batch, 100 + i);
      const inputs = inputsOf(compiled, batch, 200 + i);
      const module = join(dir, `forward${i}.py`);
      writeFileSync(module, exportTorch(compiled.model, { source: `${name}.net` }));
      writeFileSync(join(dir, `forward${i}.weights`), model.save());
      writeFileSync(join(dir, `forward${i}.inputs`), encodeSafetensors(inputs));
      const out = model.forward(feed(inputs));
      const outputs = compiled.layout.outputs.map((o) =>
        out instanceof Float32Array ? out : (out as Record<string, Float32Array>)[o.name]!,
      );
      model.dispose();
      const params = compiled.model.nodes.flatMap((n) =>
        n.params.map((p) => [p.name, [...p.shape]]),
      );
      return { name, module, params, outputs };
    });
    const answer = drive({
      forward: runs.map((r, i) => ({
        module: r.module,
        weights: join(dir, `forward${i}.weights`),
        inputs: join(dir, `forward${i}.inputs`),
      })),
    }).forward as { keys: [string, number[]][]; outputs: number[][] }[];
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
  });
});
