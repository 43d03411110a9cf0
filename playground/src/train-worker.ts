// The training worker: compiles the editor's model with netc's compiler, instantiates it with the
// runtime (WASM threads where the page is cross-origin isolated), trains it on the data its task
// calls for in short slices so that pause and stop get through, and computes what the "Look
// inside" pane draws.
import { gunzipSync, unzipSync } from "fflate";
import { NetcError } from "@netc/runtime/errors.js";
import { compile, type Compiled } from "@netc/compiler/compile.js";
import { interpret } from "@netc/compiler/interpret.js";
import { exportOnnx } from "@netc/compiler/export/onnx.js";
import type { KernelFactory, Model, Target } from "@netc/runtime/api-types.js";
import { bindData, expectationOf } from "@netc/runtime/bind-data.js";
import { builtinData, fashionMnistData, noBuiltinData } from "@netc/runtime/data/builtin.js";
import { Augmentation } from "@netc/runtime/data/augment.js";
import { batchCount, epochOrder } from "@netc/runtime/data/batches.js";
import { fromIdx, type Dataset } from "@netc/runtime/data/dataset.js";
import { fashionMnistClasses } from "@netc/runtime/data/fashion-mnist-classes.js";
import { parseIdx } from "@netc/runtime/data/idx.js";
import {
  loadTreeData,
  memoryTree,
  sourceKindIn,
  tableColumns,
  type FileTree,
} from "@netc/runtime/data/file-tree.js";
import { holdOut } from "@netc/runtime/data/split.js";
import { evaluate, RunningEvaluation } from "@netc/runtime/evaluate.js";
import { Feeder } from "@netc/runtime/feeder.js";
import { instantiate } from "@netc/runtime/model.js";
import { defaultOptimizer } from "@netc/runtime/optimizers.js";
import { Rng } from "@netc/runtime/rng.js";
import { scheduledLearningRate } from "@netc/runtime/schedules.js";
import { decodeSafetensors } from "@netc/runtime/safetensors.js";
import { taskOf, type Task } from "@netc/runtime/task.js";
import { standaloneText } from "./standalone.js";
import type { FromTrainer, ModelInfo, Picture, ToTrainer } from "./protocol.js";

const post = (message: FromTrainer) => (self as unknown as Worker).postMessage(message);

interface Data {
  train: Dataset;
  test: Dataset;
  description: string;
  classNames?: readonly string[];
}

/** What one compiled source trains: the model, its data and the loop's position. */
interface Session {
  compiled: Compiled;
  model: Model;
  task: Task | undefined;
  data: Data;
  epochs: number;
  epoch: number;
  step: number;
  steps: number;
  order: Uint32Array<ArrayBuffer>;
  feeder: Feeder;
  testFeeder: Feeder;
  shuffle: Rng;
  augment: Rng;
  running: RunningEvaluation;
  lastInside: number;
}

let session: Session | undefined;
let userFiles: { name: string; bytes: Uint8Array }[] = [];
/** The CSV columns that are targets, from the page's label field. */
let userLabels: readonly string[] = [];
let running = false;
let paused = false;
let inspect: { image: number; node: number | undefined } = { image: 0, node: undefined };
/** The last compile request, kept so that dropped files rebuild the session. */
let lastCompile: { source: string; threads: number } | undefined;

let fashion: Promise<{ train: Dataset; test: Dataset }> | undefined;

/** The Fashion-MNIST sample: the page's data/ (`netc playground` serves it, `--build` copies it). */
function fashionMnist(): Promise<{ train: Dataset; test: Dataset }> {
  const read = async (name: string) => {
    const response = await fetch(new URL(`data/${name}.gz`, location.href));
    if (!response.ok) throw new Error(`cannot load data/${name}.gz: ${response.status}`);
    return parseIdx(gunzipSync(new Uint8Array(await response.arrayBuffer())), name);
  };
  const set = async (images: string, labels: string) =>
    fromIdx(await read(images), await read(labels), { images, labels }, 10, fashionMnistClasses);
  return (fashion ??= Promise.all([
    set("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    set("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
  ]).then(([train, test]) => ({ train, test })));
}

/**
 * The user's dropped items as one tree, read as `netc train --data` reads its path: one item (a
 * file, a folder, a zip unpacked to a folder named as it) is the path; several (.npy or IDX files)
 * are the files of one folder.
 */
function droppedTree(): { tree: FileTree; root: string } {
  const files = new Map<string, Uint8Array>();
  const tops = new Set(userFiles.map((f) => f.name.split("/")[0]!));
  const several = tops.size > 1;
  const base = several ? "dropped files" : "";
  const under = (path: string) => (several ? `${base}/${path}` : path);
  for (const { name, bytes } of userFiles) {
    if (!/\.zip$/i.test(name) || name.includes("/")) {
      files.set(under(name), bytes);
      continue;
    }
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes);
    } catch (error) {
      throw new NetcError(`${name} is not a valid zip file: ${(error as Error).message}`);
    }
    // macOS's zip adds __MACOSX/ (resource forks); directories are implied by the paths.
    for (const [path, content] of Object.entries(entries)) {
      if (!path.endsWith("/") && !path.startsWith("__MACOSX/"))
        files.set(under(`${name}/${path}`), content);
    }
  }
  const tree = memoryTree(files);
  let root = several ? base : [...tops][0]!;
  // A zip of a folder (`zip -r set.zip set`) holds the folder: read what is inside it.
  for (;;) {
    const list = tree.kind(root) === "directory" ? tree.list(root) : [];
    if (list.length !== 1 || list[0]!.kind !== "directory") break;
    root = list[0]!.path;
  }
  return { tree, root };
}

/** The user's dropped files, read as `netc train --data` reads them. */
function droppedData(compiled: Compiled, task: Task | undefined): Data {
  const model = expectationOf(compiled.layout);
  const { tree, root } = droppedTree();
  const reconstruct = task?.kind === "reconstruction";
  // The page's label field mirrors --label; left empty, the last column is the target.
  const labels =
    userLabels.length > 0 || reconstruct || sourceKindIn(tree, root) !== "csv"
      ? userLabels
      : tableColumns(tree, root).slice(-1);
  const read = loadTreeData(tree, root, model, reconstruct, { labels, resize: true });
  const { train, test } = read.test
    ? { train: read.train, test: read.test }
    : holdOut(read.train, 0.1, 0);
  const heldOut = read.test ? "" : `, ${test.count} held out as the test set`;
  return {
    train,
    test,
    description: `${read.description}${heldOut}`,
    ...(read.classNames ? { classNames: read.classNames } : {}),
  };
}

/** The data for the model, as `netc train` chooses it, or the user's dropped files. */
async function dataFor(compiled: Compiled, task: Task | undefined): Promise<Data> {
  if (userFiles.length > 0) return droppedData(compiled, task);
  const { layout } = compiled;
  const builtin = builtinData(layout);
  if (!builtin) {
    throw noBuiltinData(
      layout,
      "drop your data on the page (a folder, a .zip, an .npz, a .csv: see docs/data.md)",
      "the playground",
    );
  }
  if (builtin.kind === "generated") return builtin.data;
  const { train, test } = await fashionMnist();
  const description = `Fashion-MNIST sample (${train.count} train, ${test.count} test)`;
  return fashionMnistData(layout, builtin.task, { train, test, description });
}

async function compileSession(source: string, threads: number): Promise<void> {
  stopRun();
  const result = compile(source);
  if (!result.ok) {
    // The editor shows why; nothing to train until the source compiles.
    post({ type: "status", text: `${result.error}: see the editor's diagnostics` });
    return;
  }
  const { compiled } = result;
  const { layout } = compiled;
  const task = taskOf(layout);
  const data = await dataFor(compiled, task);
  const kernels = new Function("f", "iv", "N", "dropout", compiled.kernelsSource) as KernelFactory;
  // Without a `train` block, `netc train`'s defaults (cli/train-command.ts).
  const batch = layout.train.batch ?? 64;
  const model = await instantiate(layout, kernels, { batch, threads }, compiled.wasm);
  const seed = layout.train.seed ?? 0;
  const augmentation = layout.train.augment?.length
    ? new Augmentation(layout.train.augment, data.train)
    : undefined;
  const shuffle = new Rng(seed).fork("shuffle");
  const order = new Uint32Array(data.train.count);
  epochOrder(data.train.count, shuffle, 1, order);
  const steps = batchCount(data.train.count, batch, true);
  if (steps === 0) throw new Error(`fewer training samples than one batch of ${batch}`);
  const epochs = layout.train.epochs ?? 10;
  session = {
    compiled,
    model,
    task,
    data,
    epochs,
    epoch: 1,
    step: 0,
    steps,
    order,
    feeder: new Feeder(data.train, bindData(layout, data.train), batch, augmentation),
    testFeeder: new Feeder(data.test, bindData(layout, data.test), batch),
    shuffle,
    augment: new Rng(seed).fork("augment"),
    running: new RunningEvaluation(task, batch),
    lastInside: 0,
  };
  const optimizer = layout.train.optimizer ?? defaultOptimizer;
  const info: ModelInfo = {
    name: layout.model,
    task: task?.kind ?? "loss only",
    data: data.description,
    batch,
    epochs,
    threads: Math.min(threads, batch),
    optimizer: `${optimizer.name}(${Object.entries(optimizer.args)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(", ")})`,
    convolutions: compiled.model.nodes
      .filter((n) => n.op === "SpatialConvolution")
      .map((n) => ({ node: n.id, name: n.name })),
    testCount: data.test.count,
    classNames: data.classNames,
  };
  post({ type: "compiled", info });
  sendInside();
}

function stopRun(): void {
  running = false;
  paused = false;
  session?.model.dispose();
  session = undefined;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Trains in slices of ~100 ms, reporting each slice's step losses, until paused or done. */
async function trainRun(): Promise<void> {
  post({ type: "state", running, paused });
  while (running && !paused && session) {
    const s = session;
    const start = performance.now();
    const first = (s.epoch - 1) * s.steps + s.step + 1;
    const losses: number[] = [];
    const input = s.feeder.input(s.model.batch);
    const targets = s.feeder.targets(s.model.batch);
    while (performance.now() - start < 100 && s.epoch <= s.epochs) {
      const settings = s.compiled.layout.train;
      if (s.step === 0 && (settings.schedule || settings.warmup)) {
        const lr = Number((settings.optimizer ?? defaultOptimizer).args["lr"]);
        s.model.setLearningRate(scheduledLearningRate(settings, lr, s.epoch - 1));
      }
      s.feeder.fill(s.order, s.step, s.augment.fork(`${s.epoch}.${s.step + 1}`));
      const loss = s.model.trainStep(input, targets);
      if (!Number.isFinite(loss)) {
        post({
          type: "error",
          message: `the loss is ${loss}: training diverged; try a lower learning rate`,
        });
        running = false;
        break;
      }
      s.running.add(loss, s.model.outputs, targets as Record<string, Target>, s.model.batch);
      losses.push(loss);
      if (++s.step === s.steps) endEpoch(s);
    }
    const seconds = (performance.now() - start) / 1000;
    post({
      type: "steps",
      first,
      losses,
      accuracy: s.running.result().accuracy,
      samplesPerSecond: (losses.length * s.model.batch) / seconds,
    });
    if (s.epoch > s.epochs) running = false;
    if (performance.now() - s.lastInside > 500) sendInside();
    await tick();
  }
  post({ type: "state", running, paused });
}

/** The test set's evaluation after an epoch; the next epoch's shuffle. */
function endEpoch(s: Session): void {
  const test = evaluate(s.model, s.task, s.testFeeder);
  const confusion = test.confusion;
  const classes = confusion?.classes ?? 0;
  post({
    type: "epoch",
    report: {
      epoch: s.epoch,
      testLoss: test.loss,
      testAccuracy: test.accuracy,
      confusion:
        confusion &&
        Array.from({ length: classes }, (_, t) =>
          Array.from(confusion.counts.subarray(t * classes, (t + 1) * classes)),
        ),
    },
  });
  s.epoch++;
  s.step = 0;
  s.running = new RunningEvaluation(s.task, s.model.batch);
  epochOrder(s.data.train.count, s.shuffle, s.epoch, s.order);
}

const picture = (shape: readonly number[], data: ArrayLike<number>): Picture => ({
  shape: [...shape],
  data: Float32Array.from(data),
});

/** The first convolution's filters, a test image, a convolution's feature maps, the prediction. */
function sendInside(): void {
  const s = session;
  if (!s) return;
  s.lastInside = performance.now();
  const { model: ir } = s.compiled;
  const { test } = s.data;
  const index = Math.min(inspect.image, test.count - 1);
  const size = test.inputShape.reduce((a, b) => a * b, 1);
  const image = test.inputs.subarray(index * size, (index + 1) * size);
  const tensors = [...s.model.params, ...s.model.buffers];
  const weight = (name: string) => tensors.find((t) => t.name === name);
  const firstConv = ir.nodes.find((n) => n.op === "SpatialConvolution");
  const filterWeight = firstConv && weight(firstConv.params[0]!.name);
  let maps: Picture | undefined;
  const node = ir.nodes.find((n) => n.id === inspect.node) ?? firstConv;
  if (node) {
    const params = new Map(tensors.map((t) => [t.name, Float64Array.from(t.data)]));
    const values = interpret(ir, params, Float64Array.from(image), undefined, {
      N: 1,
      training: false,
    }).values;
    maps = picture(node.shape, values.get(node.id)!);
  }
  const outputs = s.model.forward(image);
  post({
    type: "inside",
    filters: filterWeight && picture(filterWeight.shape, filterWeight.data),
    image: picture(test.inputShape, image),
    maps,
    mask: maskOf(s, outputs),
    boxes: boxesOf(s, outputs),
  });
}

/** Segmentation: the most likely class of each pixel. */
function maskOf(s: Session, outputs: Model["outputs"]): Picture | undefined {
  if (s.task?.kind !== "segmentation") return undefined;
  const scores = ArrayBuffer.isView(outputs) ? outputs : outputs[s.task.output]!;
  const { classes, pixels } = s.task;
  const mask = new Float32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if (scores[c * pixels + p]! > scores[best * pixels + p]!) best = c;
    mask[p] = best;
  }
  const shape = s.compiled.layout.targets[0]!.shape;
  return { shape, data: mask };
}

/** Detection: the boxes of the cells whose objectness passes the task's threshold. */
function boxesOf(s: Session, outputs: Model["outputs"]) {
  if (s.task?.kind !== "detection" || ArrayBuffer.isView(outputs)) return undefined;
  const boxes = outputs["boxes"]!;
  const objectness = outputs["objectness"]!;
  const [, rows, cols] = s.compiled.layout.outputs.find((o) => o.name === "boxes")!.shape as [
    number,
    number,
    number,
  ];
  const [, height, width] = s.data.test.inputShape as [number, number, number];
  const cells = rows * cols;
  const found = [];
  for (let cell = 0; cell < cells; cell++) {
    const score = objectness[cell]!;
    if (score <= s.task.threshold) continue;
    const row = Math.floor(cell / cols);
    const col = cell % cols;
    const cx = ((col + boxes[cell]!) * width) / cols;
    const cy = ((row + boxes[cells + cell]!) * height) / rows;
    const w = boxes[2 * cells + cell]! * width;
    const h = boxes[3 * cells + cell]! * height;
    found.push({ x: cx - w / 2, y: cy - h / 2, width: w, height: h, score });
  }
  return found;
}

function download(what: "weights" | "module" | "onnx"): void {
  const s = session;
  if (!s) throw new Error("compile a model first");
  const name = s.compiled.layout.model.toLowerCase();
  if (what === "weights") {
    post({ type: "file", name: `${name}.safetensors`, bytes: s.model.save() });
    return;
  }
  if (what === "module") {
    const bytes = new TextEncoder().encode(standaloneText(s.compiled));
    post({ type: "file", name: `${name}.js`, bytes });
    return;
  }
  // ONNX: the compiled model's graph with the weights as they are now (as `netc export` reads
  // a saved file).
  const weights = decodeSafetensors(s.model.save(), "the model's weights");
  post({ type: "file", name: `${name}.onnx`, bytes: exportOnnx(s.compiled.model, weights) });
}

self.onmessage = async ({ data }: MessageEvent<ToTrainer>) => {
  try {
    switch (data.type) {
      case "compile":
        lastCompile = { source: data.source, threads: data.threads };
        await compileSession(data.source, data.threads);
        break;
      case "files":
        userFiles = data.files;
        userLabels = data.labels;
        // None: a sample was picked, and its source's compile follows (the old source would
        // find no data).
        if (lastCompile && userFiles.length > 0)
          await compileSession(lastCompile.source, lastCompile.threads);
        break;
      case "start":
        if (!session) throw new Error("the model does not compile: see the editor");
        if (running && !paused) return;
        if (session.epoch > session.epochs && lastCompile)
          await compileSession(lastCompile.source, lastCompile.threads);
        running = true;
        paused = false;
        await trainRun();
        break;
      case "pause":
        paused = true;
        break;
      case "stop":
        if (lastCompile) await compileSession(lastCompile.source, lastCompile.threads);
        post({ type: "state", running: false, paused: false });
        break;
      case "inspect":
        inspect = { image: data.image, node: data.node };
        sendInside();
        break;
      case "download":
        download(data.what);
        break;
    }
  } catch (error) {
    post({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
