// A compiled model at run time: its arena, parameter views, and the compiled-module contract.
import type {
  BackendName,
  DropoutDraws,
  KernelFactory,
  Layout,
  LayoutTensor,
  Model,
  ModelOptions,
  TensorView,
  Values,
  WasmKernels,
} from "./api-types.js";
import {
  checkKeys,
  describeValue,
  firstNonFinite,
  formatPosition,
  isRecord,
  typedArrayName,
} from "./arguments.js";
import { allocating, NetcError } from "./errors.js";
import { initialize } from "./init.js";
import {
  checkClipNorm,
  clipGradNorm,
  defaultOptimizer,
  optimizerOf,
  optimizerSettings,
  stateNames,
  type Optimizer,
  type OptimizerSettings,
} from "./optimizers.js";
import { decodeCheckpoint, encodeCheckpoint, OPTIMIZER_PREFIX } from "./checkpoint.js";
import { DropoutSeeds, dropoutDraws } from "./dropout.js";
import { Rng } from "./rng.js";
import { loadMatching } from "./load-matching.js";
import { decodeSafetensors, encodeSafetensors, loadInto, type NamedTensor } from "./safetensors.js";
import { formatBytes } from "./units.js";
import {
  checkThreadsAllowed,
  simdAvailable,
  WASM_MEMORY_LIMIT,
  wasmArena,
  wasmMemoryBytes,
  type WasmArena,
} from "./wasm.js";

/** What either backend runs on: the arena, the phases over it, its optimizer, a whole step. */
type Arena = Omit<WasmArena, "f"> & { f: Float32Array | Float64Array };

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

const optionNames = ["batch", "seed", "optimizer", "precision", "backend", "threads"];
/** Each worker is an engine of its own: more would cost more to start and wake than they save. */
const MAX_THREADS = 256;

/**
 * The options as given, once each is known to be what it should: the seed is Rng's to check
 * and the optimizer optimizerSettings'.
 */
function checkOptions(options: unknown): ModelOptions {
  if (options === undefined) return {};
  if (!isRecord(options)) {
    throw new NetcError(`createModel takes an object of options, got ${describeValue(options)}`);
  }
  checkKeys(options, optionNames, "createModel's options");
  const positive = (name: string) => {
    const value = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 1)) {
      throw new NetcError(`${name} must be a positive integer, got ${describeValue(value)}`);
    }
  };
  const oneOf = (name: string, allowed: readonly string[]) => {
    const value = options[name];
    if (value !== undefined && !allowed.includes(value as string)) {
      const names = allowed.map((a) => JSON.stringify(a)).join(" or ");
      throw new NetcError(`${name} must be ${names}, got ${describeValue(value)}`);
    }
  };
  positive("batch");
  positive("threads");
  oneOf("precision", ["f32", "f64"]);
  oneOf("backend", ["wasm", "ts"]);
  return options as ModelOptions;
}

/** The WASM kernels unless asked otherwise, or unless they cannot run here (no SIMD, float64). */
function chooseBackend(options: ModelOptions, wasm: WasmKernels | undefined): BackendName {
  const wanted = options.backend ?? (wasm && options.precision !== "f64" ? "wasm" : "ts");
  if (wanted === "ts") return "ts";
  if (!wasm) throw new NetcError("this model was compiled without WASM kernels (--backend ts)");
  if (options.precision === "f64")
    throw new NetcError('the WASM kernels are float32: precision "f64" needs backend "ts"');
  if (!simdAvailable()) {
    if (options.backend === "wasm")
      throw new NetcError("this JavaScript engine has no WebAssembly SIMD");
    return "ts";
  }
  return "wasm";
}

/**
 * A model of `layout` with its own memory, once its threads run (what a compiled module's
 * `createModel` returns). Everything given is checked first, and the memory's size before it
 * is allocated: any mistake is a NetcError.
 */
export async function instantiate(
  layout: Layout,
  kernels: KernelFactory,
  given?: ModelOptions,
  wasm?: WasmKernels,
): Promise<Model> {
  const { model, started } = create(layout, kernels, given, wasm);
  try {
    await started;
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * `instantiate` without waiting, for Node: its worker_threads start while this thread blocks.
 * Web Workers do not, and a threaded model there needs `instantiate`.
 */
export function instantiateSync(
  layout: Layout,
  kernels: KernelFactory,
  given?: ModelOptions,
  wasm?: WasmKernels,
): Model {
  const { model, started } = create(layout, kernels, given, wasm);
  if (started) {
    model.dispose();
    throw new NetcError("a model with Web Worker threads is created by createModel (async)");
  }
  return model;
}

function create(
  layout: Layout,
  kernels: KernelFactory,
  given: ModelOptions | undefined,
  wasm: WasmKernels | undefined,
): { model: Model; started: Promise<void> | undefined } {
  const options = checkOptions(given);
  const N = options.batch ?? 64;
  const seed = options.seed ?? 0;
  // Each training pass draws its dropout masks from the next seed of this stream.
  const seeds = new DropoutSeeds(new Rng(seed).fork("dropout"));
  const draws = dropoutDraws(seeds);
  const settings = optimizerSettings(
    options.optimizer ?? layout.train?.optimizer ?? defaultOptimizer,
  );
  const clipNorm = checkClipNorm(layout.train?.clip_grad_norm);
  const backend = chooseBackend(options, wasm);
  const length = (n: number) => layout.fixedSize + n * layout.perSampleSize;
  let arena: Arena;
  if (backend === "wasm") {
    // At most one thread per sample: a batch-1 model gains nothing but wake-ups from more.
    const threads = Math.min(options.threads ?? 1, N, MAX_THREADS);
    checkThreadsAllowed(threads);
    const stateBuffers = stateNames(settings).length;
    const stateFloats = stateBuffers * layout.paramRegion.size;
    checkWasmMemory(
      (n) => wasmMemoryBytes(wasm!, length(n), Math.min(threads, n), stateFloats),
      N,
      layout.perSampleSize * 4,
    );
    arena = wasmArena(wasm!, kernels, length(N), N, seeds, threads, {
      loss: layout.loss,
      params: layout.paramRegion.size,
      stateBuffers,
      clipNorm,
    });
  } else {
    arena = jsArena(layout, kernels, options, length(N), N, draws, clipNorm);
  }
  const { f, iv, steps, createOptimizer, train } = arena;
  let starting = arena.started !== undefined;
  const started = arena.started?.then(() => {
    starting = false;
  });

  const at = (t: LayoutTensor) => t.offset.fixed + N * t.offset.perSample;
  const view = (t: LayoutTensor, size: number): Float32Array | Float64Array =>
    f.subarray(at(t), at(t) + size);
  const whole = (t: LayoutTensor): TensorView => ({
    name: t.name,
    shape: t.shape,
    data: view(t, sizeOf(t.shape)),
  });
  const trainable = layout.params.filter((p) => p.trainable);
  const params = trainable.map(whole);
  const buffers = layout.params.filter((p) => !p.trainable).map(whole);
  let offsetInRegion = 0;
  const grads = trainable.map((p) => {
    const start = layout.gradRegion.offset + offsetInRegion;
    offsetInRegion += sizeOf(p.shape);
    return { name: p.name, shape: p.shape, data: f.subarray(start, start + sizeOf(p.shape)) };
  });

  // Initialisation draws in float32 (as PyTorch's default) whatever the arena's precision.
  const initial = layout.params.map((p) => ({
    name: p.name,
    shape: p.shape,
    init: p.init,
    data: new Float32Array(sizeOf(p.shape)),
  }));
  initialize(initial, seed);
  layout.params.forEach((p, i) => whole(p).data.set(initial[i]!.data));

  let optimizer: Optimizer | undefined;
  /** Created on first use: a model that only infers needs no optimizer state. */
  const theOptimizer = () => (optimizer ??= createOptimizer(settings));
  let disposed = false;
  /** Every method starts here: a disposed model's workers are gone; a step would wait forever. */
  const live = () => {
    if (disposed) throw new NetcError("the model was disposed: create another to go on");
    if (starting) throw new NetcError("the model's threads are starting: await createModel");
  };

  const names = {
    input: layout.inputs.map((t) => t.name),
    target: layout.targets.map((t) => t.name),
  };

  /** The arrays `checkValues` found, in each kind's tensors' order: reused, not allocated. */
  const checked = { input: [] as TypedValues[], target: [] as TypedValues[] };

  /**
   * Checks each named value, puts its array in `checked[kind]`, and returns how many samples
   * each holds (the same count, from 1 to `most`). A training pass takes finite values only: a
   * NaN would reach every weight through the gradients, and batch normalisation's running
   * statistics for good. An evaluation pass keeps nothing, and passes a NaN on to what it
   * returns, as PyTorch does.
   */
  function checkValues(
    kind: "input" | "target",
    tensors: LayoutTensor[],
    given: unknown,
    training: boolean,
    most: number,
  ): number {
    const record = isRecord(given) ? given : undefined;
    if (!record && (tensors.length > 1 || !ArrayBuffer.isView(given))) {
      const expected =
        tensors.length > 1
          ? `the model has several ${kind}s (${names[kind].join(", ")}): pass a record keyed by name`
          : `the ${kind} must be ${arrayKind(tensors[0]!)}`;
      throw new NetcError(`${expected}, got ${describeValue(given)}`);
    }
    if (record) checkKeys(record, names[kind], `the ${kind}s`);
    let count: number | undefined;
    // No record is built for a single array: a training step allocates nothing.
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i]!;
      const values = record ? record[t.name] : given;
      if (values === undefined) throw new NetcError(`missing ${kind} '${t.name}'`);
      const array = checkArray(kind, t, values);
      const per = sizeOf(t.shape);
      const empty = array.length === 0 && most !== Infinity;
      if (array.length % per !== 0 || array.length > per * most || empty) {
        const limit = most === Infinity ? "" : `, at most ${N} samples (${per * N})`;
        throw new NetcError(
          `${kind} '${t.name}' needs a multiple of [${t.shape.join(", ")}] = ${per} values${limit}; got ${array.length}`,
        );
      }
      if (t.dtype === "i32") checkClasses(kind, t, array);
      else if (training) checkFinite(kind, t, array);
      const n = array.length / per;
      if (count !== undefined && n !== count)
        throw new NetcError(`${kind} '${t.name}' has ${n} samples, the others ${count}`);
      count = n;
      checked[kind][i] = array;
    }
    return count!;
  }

  /** Copies samples [from, from + count) of each array in; the rest of the batch is zero. */
  function copyIn(
    tensors: LayoutTensor[],
    arrays: TypedValues[],
    from: number,
    count: number,
  ): void {
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i]!;
      const per = sizeOf(t.shape);
      const array = arrays[i]!;
      // The whole array as it is: a training step allocates nothing, not even a view.
      const whole = from === 0 && array.length === per * count;
      const part = whole ? array : array.subarray(from * per, (from + count) * per);
      const start = at(t);
      const target = t.dtype === "i32" ? iv : f;
      target.set(part, start);
      target.fill(0, start + per * count, start + per * N);
    }
  }

  /**
   * Checks each named value and copies it in; returns how many samples it holds (the rest of the
   * batch is zero). Callers write every value before running a kernel: a mistake changes nothing.
   */
  function write(
    kind: "input" | "target",
    tensors: LayoutTensor[],
    given: unknown,
    training: boolean,
  ): number {
    const count = checkValues(kind, tensors, given, training, N);
    copyIn(tensors, checked[kind], 0, count);
    return count;
  }

  /** Writes an input and its target, both checked before anything runs; returns the count. */
  function writeBoth(input: unknown, target: unknown, training: boolean): number {
    // Without a criterion there is no target to count and no loss to compute.
    if (layout.targets.length === 0) {
      throw new NetcError(
        `model ${layout.model} has no criterion, so it has no loss to compute or train on: add a criterion after the model (e.g. \`criterion NLL\`)`,
      );
    }
    const count = write("input", layout.inputs, input, training);
    const targets = write("target", layout.targets, target, training);
    if (targets !== count)
      throw new NetcError(`${count} input samples but ${targets} target samples`);
    return count;
  }

  // A training pass moves batch normalisation's running statistics and the dropout stream. One
  // whose loss is not finite must leave the model as it was on either backend, so the
  // statistics (a few numbers per channel) are kept aside before each pass.
  const keptBuffers = buffers.map((b) => b.data.slice());
  function beginTrainingPass(): void {
    for (let i = 0; i < buffers.length; i++) keptBuffers[i]!.set(buffers[i]!.data);
    seeds.next();
  }
  /** Returns the pass's loss; when it is not finite, the model is put back as it was. */
  function endTrainingPass(loss: number): number {
    if (!Number.isFinite(loss)) {
      for (let i = 0; i < buffers.length; i++) buffers[i]!.data.set(keptBuffers[i]!);
      seeds.retract();
    }
    return loss;
  }

  /** An evaluation-mode pass over the written samples, and its loss. */
  function evaluationLoss(count: number): number {
    steps.forward(false, count);
    steps.loss(count);
    return f[layout.loss]!;
  }

  const single = <T>(list: T[]) => (list.length === 1 ? list[0]! : undefined);
  const inputGrads = layout.inputGrads.map((g) => ({
    name: g.name,
    data: view(g, N * sizeOf(g.shape)),
  }));

  /** One array, or a record by output name when there are several: what `forward` returns. */
  const byOutput = (arrays: Float32Array[]): Values<Float32Array> =>
    single(arrays) ?? Object.fromEntries(layout.outputs.map((o, i) => [o.name, arrays[i]!]));

  const outputViews = layout.outputs.map((o) => ({
    name: o.name,
    data: view(o, N * sizeOf(o.shape)),
  }));

  /** Each optimizer buffer as a tensor per trainable parameter: `optimizer.fc1.weight.exp_avg`. */
  function slotTensors(o: Optimizer): TensorView[] {
    return o.state.flatMap((slot) =>
      trainable.map((p) => {
        const start = at(p) - layout.paramRegion.offset;
        return {
          name: `${OPTIMIZER_PREFIX}${p.name}.${slot.name}`,
          shape: p.shape,
          data: slot.data.subarray(start, start + sizeOf(p.shape)),
        };
      }),
    );
  }

  /** Copies of the outputs' first `count` samples (the loss step leaves them intact). */
  function outputsOf(count: number): Values<Float32Array> {
    return byOutput(layout.outputs.map((o) => Float32Array.from(view(o, count * sizeOf(o.shape)))));
  }

  /** Evaluation-mode outputs of every sample given, `N` at a time. */
  function predict(input: unknown): Values<Float32Array> {
    const count = checkValues("input", layout.inputs, input, false, Infinity);
    const arrays = checked.input;
    const outputs = layout.outputs.map((o) => {
      const length = count * sizeOf(o.shape);
      return allocating(`the output '${o.name}' of ${count} samples`, length * 4, () => {
        return new Float32Array(length);
      });
    });
    for (let from = 0; from < count; from += N) {
      const n = Math.min(N, count - from);
      copyIn(layout.inputs, arrays, from, n);
      steps.forward(false, n);
      layout.outputs.forEach((o, i) => {
        const per = sizeOf(o.shape);
        outputs[i]!.set(view(o, n * per), from * per);
      });
    }
    // Not kept past the call: the caller's samples may be many.
    arrays.length = 0;
    return byOutput(outputs);
  }

  /** Float32 copies of every saved tensor, which a load fills before the model's are set. */
  const copyTargets = (): NamedTensor[] =>
    [...params, ...buffers].map((t) => ({
      name: t.name,
      shape: t.shape,
      data: new Float32Array(t.data.length),
    }));

  const model: Model = {
    batch: N,
    backend,
    params,
    grads,
    buffers,
    inputGrad:
      single(inputGrads)?.data ?? Object.fromEntries(inputGrads.map((g) => [g.name, g.data])),
    outputs:
      single(outputViews)?.data ?? Object.fromEntries(outputViews.map((o) => [o.name, o.data])),
    forward(input) {
      live();
      const count = write("input", layout.inputs, input, false);
      steps.forward(false, count);
      return outputsOf(count);
    },
    predict(input) {
      live();
      return predict(input);
    },
    loss(input, target) {
      live();
      return evaluationLoss(writeBoth(input, target, false));
    },
    evaluate(input, target) {
      live();
      const count = writeBoth(input, target, false);
      return { loss: evaluationLoss(count), outputs: outputsOf(count) };
    },
    lossAndGrad(input, target) {
      live();
      const count = writeBoth(input, target, true);
      beginTrainingPass();
      steps.forward(true, count);
      steps.loss(count);
      steps.backward();
      return endTrainingPass(f[layout.loss]!);
    },
    trainStep(input, target) {
      live();
      const count = writeBoth(input, target, true);
      beginTrainingPass();
      // A loss that is not finite skips the update: the caller stops, the model stays as it was.
      return endTrainingPass(train(count, theOptimizer()));
    },
    setLearningRate(lr) {
      live();
      theOptimizer().setLearningRate(lr);
    },
    save() {
      live();
      const tensors = [...params, ...buffers].map((t) => ({
        name: t.name,
        shape: t.shape,
        data: Float32Array.from(t.data),
      }));
      return encodeSafetensors(tensors, { model: layout.model, format: "pt", producer: "netc" });
    },
    load(bytes, source = "weights") {
      live();
      checkFileArguments("load", bytes, source);
      const targets = copyTargets();
      loadInto(targets, decodeSafetensors(bytes, source), source);
      [...params, ...buffers].forEach((t, i) => t.data.set(targets[i]!.data));
    },
    loadMatching(bytes, source = "weights") {
      live();
      checkFileArguments("loadMatching", bytes, source);
      const targets = copyTargets();
      const report = loadMatching(targets, bytes, source);
      const loaded = new Set(report.loaded);
      [...params, ...buffers].forEach((t, i) => {
        if (loaded.has(t.name)) t.data.set(targets[i]!.data);
      });
      return report;
    },
    saveCheckpoint(extra) {
      live();
      const o = theOptimizer();
      const copy = (t: TensorView) => ({ ...t, data: Float32Array.from(t.data) });
      return encodeCheckpoint(
        {
          model: layout.model,
          weights: [...params, ...buffers].map(copy),
          slots: slotTensors(o).map(copy),
          settings,
          learningRate: o.learningRate,
          step: o.stepCount,
          dropout: seeds.save(),
        },
        extra,
      );
    },
    loadCheckpoint(bytes, source = "checkpoint") {
      live();
      checkFileArguments("loadCheckpoint", bytes, source);
      const o = theOptimizer();
      const weights = [...params, ...buffers];
      const slots = slotTensors(o);
      const saved = decodeCheckpoint(bytes, source, {
        model: layout.model,
        weights,
        slots,
        settings,
      });
      seeds.restore(saved.dropout);
      weights.forEach((t, i) => t.data.set(saved.weights[i]!));
      slots.forEach((t, i) => t.data.set(saved.slots[i]!));
      o.stepCount = saved.step;
      o.setLearningRate(saved.learningRate);
      return saved.extra;
    },
    dispose() {
      if (!disposed) arena.dispose();
      disposed = true;
    },
  };
  return { model, started };
}

/**
 * Refuses, before allocating, a batch whose WASM memory (`bytes(n)` at batch n) would be above
 * what a WebAssembly memory can hold, naming the largest batch that fits.
 */
function checkWasmMemory(bytes: (n: number) => number, N: number, perSample: number): void {
  const needed = bytes(N);
  if (needed <= WASM_MEMORY_LIMIT) return;
  // bytes(fits) is within the limit (or fits is 0), bytes(over) is not.
  let [fits, over] = [0, N];
  while (over - fits > 1) {
    const mid = Math.floor((fits + over) / 2);
    if (bytes(mid) <= WASM_MEMORY_LIMIT) fits = mid;
    else over = mid;
  }
  const advice =
    fits > 0 ? `a batch of at most ${fits} fits` : "the model does not fit even at batch 1";
  throw new NetcError(
    `the model needs ${formatBytes(needed)} of memory at batch ${N} (${formatBytes(needed - N * perSample)} whatever the batch, ${formatBytes(perSample)} per sample), more than the ${formatBytes(WASM_MEMORY_LIMIT)} a WebAssembly memory can hold: ${advice}`,
  );
}

/** The JS kernels' arena, a typed array of either precision, and the JS optimizers over it. */
function jsArena(
  layout: Layout,
  kernels: KernelFactory,
  options: ModelOptions,
  length: number,
  N: number,
  dropout: DropoutDraws,
  /** The gradients' largest norm before each update; no clipping when undefined. */
  clipNorm: number | undefined,
): Arena {
  if ((options.threads ?? 1) !== 1)
    throw new NetcError('threads need the WASM kernels (backend "wasm")');
  const f64 = options.precision === "f64";
  // Class targets are int32 in the same memory; a float64 arena keeps them in a side buffer.
  const [f, iv] = allocating(`the model's memory at batch ${N}`, length * (f64 ? 16 : 4), () => {
    if (!f64) {
      const f32 = new Float32Array(length);
      return [f32, new Int32Array(f32.buffer)] as const;
    }
    return [new Float64Array(length), new Int32Array(length * 2)] as const;
  });
  const region = (r: { offset: number; size: number }) =>
    f.subarray(r.offset, r.offset + r.size) as Float32Array;
  const steps = kernels(f, iv, N, dropout);
  const grads = region(layout.gradRegion);
  return {
    f,
    iv,
    steps,
    createOptimizer: (settings: OptimizerSettings) =>
      optimizerOf(settings, region(layout.paramRegion), grads),
    train(count: number, optimizer: Optimizer) {
      steps.forward(true, count);
      steps.loss(count);
      const loss = f[layout.loss]!;
      if (!Number.isFinite(loss)) return loss;
      steps.backward(false);
      if (clipNorm !== undefined) clipGradNorm(grads, clipNorm);
      optimizer.step();
      return loss;
    },
    dispose() {},
  };
}

/** `load`, `loadMatching` and `loadCheckpoint` take a file's bytes and the name errors give it. */
function checkFileArguments(method: string, bytes: unknown, source: unknown): void {
  if (typeof source !== "string") {
    throw new NetcError(`${method}: the source must be a string, got ${describeValue(source)}`);
  }
  if (typedArrayName(bytes) !== "Uint8Array") {
    const buffer = bytes instanceof ArrayBuffer;
    const hint = buffer ? ": wrap it, new Uint8Array(buffer)" : "";
    throw new NetcError(
      `${method} takes the file's bytes as a Uint8Array, got ${describeValue(bytes)}${hint}`,
    );
  }
}

const arrayKind = (t: LayoutTensor) =>
  t.dtype === "i32" ? "an Int32Array of class indices" : "a Float32Array";

type TypedValues = Float32Array | Float64Array | Int32Array;

/** The tensor's values, if they are the typed array its kind takes. */
function checkArray(kind: string, t: LayoutTensor, values: unknown): TypedValues {
  const name = typedArrayName(values);
  if (
    t.dtype === "i32" ? name === "Int32Array" : name === "Float32Array" || name === "Float64Array"
  )
    return values as TypedValues;
  const expected =
    t.dtype === "i32" ? "holds class indices: pass an Int32Array" : "must be a Float32Array";
  throw new NetcError(`${kind} '${t.name}' ${expected}, got ${describeValue(values)}`);
}

/** Class indices must be labels in range: the kernels index with them. */
function checkClasses(
  kind: string,
  t: LayoutTensor & { classes?: number; ignore?: number },
  values: ArrayLike<number>,
) {
  const classes = t.classes ?? Infinity;
  for (let i = 0; i < values.length; i++) {
    const label = values[i]!;
    if ((label < 0 || label >= classes) && label !== t.ignore) {
      throw new NetcError(
        `${kind} '${t.name}': label ${label} at index ${i} is out of range for ${classes} classes`,
      );
    }
  }
}

/** Refuses a NaN or an infinity in a training pass's inputs or value targets (see `write`). */
function checkFinite(kind: string, t: LayoutTensor, values: ArrayLike<number>) {
  const i = firstNonFinite(values);
  if (i < 0) return;
  const per = sizeOf(t.shape);
  const position = t.shape.length > 0 ? ` at ${formatPosition(t.shape, i % per)}` : "";
  throw new NetcError(
    `${kind} '${t.name}': sample ${Math.floor(i / per)} holds ${values[i]}${position}; a training pass takes finite numbers only`,
  );
}
