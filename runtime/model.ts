// A compiled model at run time: its arena, parameter views, and the compiled-module contract.
import type {
  BackendName,
  DropoutDraws,
  Input,
  KernelFactory,
  Layout,
  LayoutTensor,
  Model,
  ModelOptions,
  OptimizerConfig,
  Target,
  TensorView,
  Values,
  WasmKernels,
} from "./api-types.js";
import { NetcError } from "./errors.js";
import { initialize } from "./init.js";
import { createOptimizer, defaultOptimizer, type Optimizer } from "./optimizers.js";
import { DropoutSeeds, dropoutDraws } from "./dropout.js";
import { Rng } from "./rng.js";
import { decodeSafetensors, encodeSafetensors, loadInto, type NamedTensor } from "./safetensors.js";
import { simdAvailable, wasmArena } from "./wasm.js";

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

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

export function instantiate(
  layout: Layout,
  kernels: KernelFactory,
  options: ModelOptions = {},
  wasm?: WasmKernels,
): Model {
  const N = options.batch ?? 64;
  if (!Number.isInteger(N) || N < 1)
    throw new NetcError(`batch must be a positive integer, got ${N}`);
  const seed = options.seed ?? 0;
  const length = layout.fixedSize + N * layout.perSampleSize;
  // Each training pass draws its dropout masks from the next seed of this stream.
  const seeds = new DropoutSeeds(new Rng(seed).fork("dropout"));
  const draws = dropoutDraws(seeds);
  const backend = chooseBackend(options, wasm);
  const { f, iv, steps, createOptimizer, train, dispose } =
    backend === "wasm"
      ? wasmArena(wasm!, kernels, length, N, seeds, threadsFor(options, N), layout.loss)
      : jsArena(layout, kernels, options, length, N, draws);

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

  const config = options.optimizer ?? layout.train?.optimizer ?? defaultOptimizer;
  let optimizer: Optimizer | undefined;

  /** Copies each named value in; returns how many samples it holds (the rest of the batch is zero). */
  function write(kind: string, tensors: LayoutTensor[], given: Values<Input | Int32Array>): number {
    if (!isRecord(given) && tensors.length > 1) {
      const names = tensors.map((t) => t.name).join(", ");
      throw new NetcError(`the model has several ${kind}s (${names}): pass a record keyed by name`);
    }
    let count: number | undefined;
    for (const t of tensors) {
      // No record is built for a single array: a training step allocates nothing.
      const values = isRecord(given) ? given[t.name] : given;
      if (!values) throw new NetcError(`missing ${kind} '${t.name}'`);
      const per = sizeOf(t.shape);
      if (values.length % per !== 0 || values.length > per * N || values.length === 0) {
        throw new NetcError(
          `${kind} '${t.name}' needs a multiple of [${t.shape.join(", ")}] = ${per} values, at most ${N} samples (${per * N}); got ${values.length}`,
        );
      }
      if (t.dtype === "i32") checkClasses(kind, t, values);
      const n = values.length / per;
      if (count !== undefined && n !== count)
        throw new NetcError(`${kind} '${t.name}' has ${n} samples, the others ${count}`);
      count = n;
      const start = at(t);
      const target = t.dtype === "i32" ? iv : f;
      target.set(values, start);
      target.fill(0, start + values.length, start + per * N);
    }
    return count!;
  }

  /** A pass over `input` (and the loss, given `target`); returns the sample count and loss. */
  function run(
    input: Values<Input>,
    target: Values<Target> | undefined,
    training: boolean,
  ): { count: number; loss: number } {
    const count = write("input", layout.inputs, input);
    if (training) seeds.next();
    steps.forward(training, count);
    if (!target) return { count, loss: NaN };
    const targets = write("target", layout.targets, target);
    if (targets !== count)
      throw new NetcError(`${count} input samples but ${targets} target samples`);
    steps.loss(count);
    return { count, loss: f[layout.loss]! };
  }

  const single = <T>(list: T[]) => (list.length === 1 ? list[0]! : undefined);
  const inputGrads = layout.inputGrads.map((g) => ({
    name: g.name,
    data: view(g, N * sizeOf(g.shape)),
  }));

  /** Copies of the outputs' first `count` samples (the loss step leaves them intact). */
  function outputsOf(count: number): Values<Float32Array> {
    const outputs = layout.outputs.map((o) => ({
      name: o.name,
      data: Float32Array.from(view(o, count * sizeOf(o.shape))),
    }));
    return single(outputs)?.data ?? Object.fromEntries(outputs.map((o) => [o.name, o.data]));
  }

  return {
    batch: N,
    backend,
    dispose,
    params,
    grads,
    buffers,
    inputGrad:
      single(inputGrads)?.data ?? Object.fromEntries(inputGrads.map((g) => [g.name, g.data])),
    forward(input) {
      return outputsOf(run(input, undefined, false).count);
    },
    loss(input, target) {
      return run(input, target, false).loss;
    },
    evaluate(input, target) {
      const { count, loss } = run(input, target, false);
      return { loss, outputs: outputsOf(count) };
    },
    lossAndGrad(input, target) {
      const { loss } = run(input, target, true);
      steps.backward();
      return loss;
    },
    trainStep(input, target) {
      const count = write("input", layout.inputs, input);
      const targets = write("target", layout.targets, target);
      if (targets !== count)
        throw new NetcError(`${count} input samples but ${targets} target samples`);
      optimizer ??= createOptimizer(config);
      seeds.next();
      // A loss that is not finite skips the update: the caller stops, the weights stay.
      return train(count, optimizer);
    },
    setLearningRate(lr) {
      optimizer ??= createOptimizer(config);
      optimizer.setLearningRate(lr);
    },
    save() {
      const tensors = [...params, ...buffers].map((t) => ({
        name: t.name,
        shape: t.shape,
        data: Float32Array.from(t.data),
      }));
      return encodeSafetensors(tensors, { model: layout.model, format: "pt", producer: "netc" });
    },
    load(bytes, source = "weights") {
      const targets: NamedTensor[] = [...params, ...buffers].map((t) => ({
        name: t.name,
        shape: t.shape,
        data: new Float32Array(t.data.length),
      }));
      loadInto(targets, decodeSafetensors(bytes, source), source);
      [...params, ...buffers].forEach((t, i) => t.data.set(targets[i]!.data));
    },
  };
}

/** At most one thread per sample: a batch-1 model gains nothing but wake-ups from more. */
function threadsFor(options: ModelOptions, N: number): number {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1)
    throw new NetcError(`threads must be a positive integer, got ${threads}`);
  return Math.min(threads, N);
}

/** The JS kernels' arena, a typed array of either precision, and the JS optimizers over it. */
function jsArena(
  layout: Layout,
  kernels: KernelFactory,
  options: ModelOptions,
  length: number,
  N: number,
  dropout: DropoutDraws,
) {
  if ((options.threads ?? 1) !== 1)
    throw new NetcError('threads need the WASM kernels (backend "wasm")');
  const f: Float32Array | Float64Array =
    options.precision === "f64" ? new Float64Array(length) : new Float32Array(length);
  // Class targets are int32 in the same memory; a float64 arena keeps them in a side buffer.
  const iv = f instanceof Float32Array ? new Int32Array(f.buffer) : new Int32Array(length * 2);
  const region = (r: { offset: number; size: number }) =>
    f.subarray(r.offset, r.offset + r.size) as Float32Array;
  const steps = kernels(f, iv, N, dropout);
  return {
    f,
    iv,
    steps,
    createOptimizer: (config: OptimizerConfig) =>
      createOptimizer(config, region(layout.paramRegion), region(layout.gradRegion)),
    train(count: number, optimizer: Optimizer) {
      steps.forward(true, count);
      steps.loss(count);
      const loss = f[layout.loss]!;
      if (!Number.isFinite(loss)) return loss;
      steps.backward(false);
      optimizer.step();
      return loss;
    },
    dispose() {},
  };
}

/** Class indices must be an Int32Array of labels in range: the kernels index with them. */
function checkClasses(
  kind: string,
  t: LayoutTensor & { classes?: number },
  values: ArrayLike<number>,
) {
  if (!(values instanceof Int32Array)) {
    throw new NetcError(`${kind} '${t.name}' holds class indices: pass an Int32Array`);
  }
  const classes = t.classes ?? Infinity;
  for (let i = 0; i < values.length; i++) {
    const label = values[i]!;
    if (label < 0 || label >= classes) {
      throw new NetcError(
        `${kind} '${t.name}': label ${label} at index ${i} is out of range for ${classes} classes`,
      );
    }
  }
}

function isRecord<T>(v: Values<T>): v is Record<string, T> {
  return !ArrayBuffer.isView(v);
}
