// Runs a compiled model's WebAssembly module: its memory holds the arena the runtime views as a
// Float32Array; steps without WASM code call their JS kernels over the same memory; with
// threads, workers instantiate the same module on the shared memory and take their part of
// every step when the main thread posts a command.
import type { KernelFactory, Steps, WasmKernels } from "./api-types.js";
import { dropoutDraws, type DropoutSeeds } from "./dropout.js";
import { allocating, NetcError } from "./errors.js";
import {
  checkLearningRate,
  initialState,
  stateNames,
  stepScalars,
  type Optimizer,
  type OptimizerSettings,
  type OptimizerSlot,
} from "./optimizers.js";
import {
  COMMANDS,
  CONTROL,
  OPTIMIZER_SLOTS as SLOT,
  UPDATE_RULES,
  type UpdateRule,
} from "./wasm-layout.js";
import type {} from "./webassembly.js";

const PAGE = 65536;
const SLACK = 64; // bytes past the scratch that the last vector reads may touch
/** A 32-bit WebAssembly memory has at most 65536 pages: 4 GB. */
export const WASM_MEMORY_LIMIT = 65536 * PAGE;
const SHARED = 0x03; // the memory import's limits flag for a shared memory
type Command = (typeof COMMANDS)[number];
type Entry = (N: number, count: number, thread: number, threads: number) => void;

// (module (func v128.const 0 drop)): the smallest module with a SIMD instruction, to ask the
// engine whether it has SIMD.
// prettier-ignore
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 23, 1, 21, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 26, 11,
]);

export function simdAvailable(): boolean {
  return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
}

const compiled = new WeakMap<Uint8Array, Map<boolean, WebAssembly.Module>>();

/** The module, with its memory import shared for threads (one flag byte differs). */
function moduleOf(wasm: WasmKernels, shared: boolean): WebAssembly.Module {
  let variants = compiled.get(wasm.bytes);
  if (!variants) compiled.set(wasm.bytes, (variants = new Map()));
  let module = variants.get(shared);
  if (!module) {
    const bytes = shared ? Uint8Array.from(wasm.bytes) : wasm.bytes;
    if (shared) bytes[wasm.sharedFlag] = SHARED;
    variants.set(shared, (module = new WebAssembly.Module(bytes)));
  }
  return module;
}

// A worker: instantiate the module on the shared memory (its JS kernels are thread 0's job),
// then run each posted command with its thread index until told to exit.
const WORKER = `
const start = ({ module, memory, fallback, N, thread, threads, control }) => {
  const env = { mem: memory };
  for (const i of fallback) env["js" + i] = () => {};
  const run = new WebAssembly.Instance(module, { env }).exports;
  // A Web Worker tells its parent it runs: the parent's first step waits for every worker.
  if (typeof postMessage === "function") postMessage("started");
  const words = new Int32Array(memory.buffer, control, 3);
  const commands = ${JSON.stringify(COMMANDS)};
  for (let seen = 0; ; ) {
    // Commands of a training step come back to back: spin a while before sleeping.
    for (let spin = 0; spin < 200000 && Atomics.load(words, 0) === seen; spin++);
    Atomics.wait(words, 0, seen);
    const seq = Atomics.load(words, 0);
    if (seq === seen) continue;
    seen = seq;
    const command = commands[words[1]];
    if (command === "exit") break;
    run[command](N, words[2], thread, threads);
  }
};
const threads = globalThis.process?.getBuiltinModule?.("node:worker_threads");
if (threads) start(threads.workerData);
else onmessage = (e) => start(e.data);
`;

interface WorkerHandle {
  unref?(): void;
  terminate(): unknown;
}

interface WebWorker extends WorkerHandle {
  postMessage(data: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
}

type WorkerThreads = { Worker: new (src: string, o: object) => WorkerHandle };

/** Node's worker_threads; undefined in browsers, where threads are Web Workers. */
export function nodeWorkerThreads(): WorkerThreads | undefined {
  const node = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return node?.getBuiltinModule?.("node:worker_threads") as WorkerThreads | undefined;
}

/** Where the documentation says how to serve a page whose models have threads. */
const ISOLATION_HELP =
  "serve the page with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (see docs/compiled-module.md, Threads in browsers), or create the model with threads: 1";

/**
 * Refuses, with what to do, a thread count above 1 where threads cannot run: a browser page that
 * is not cross-origin isolated has no SharedArrayBuffer, and a browser's main thread may not
 * block in Atomics.wait, which the threads' barrier does.
 */
export function checkThreadsAllowed(threads: number): void {
  if (threads <= 1 || nodeWorkerThreads()) return;
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof SharedArrayBuffer === "undefined" || g.crossOriginIsolated === false)
    throw new NetcError(
      `threads: ${threads} needs SharedArrayBuffer, which browsers give only to cross-origin-isolated pages: ${ISOLATION_HELP}`,
    );
  try {
    // Returns "not-equal" at once where a thread may block; throws where it may not.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    throw new NetcError(
      `threads: ${threads} cannot run on a browser's main thread, which may not block in Atomics.wait: create the model in a Web Worker, or with threads: 1`,
    );
  }
  if (!g.Worker) throw new NetcError("threads need worker_threads (Node) or Web Workers");
}

/**
 * Starts threads − 1 workers; in Node with worker_threads, elsewhere as Web Workers. `started`
 * resolves once every worker runs: Chromium does not start a worker while its parent blocks,
 * so the first step, whose barrier blocks thread 0, must wait for it (Node's workers start on
 * their own, and `started` is undefined there).
 */
function startWorkers(
  data: (thread: number) => unknown,
  threads: number,
): { workers: WorkerHandle[]; started?: Promise<void> } {
  const node = nodeWorkerThreads();
  const workers: WorkerHandle[] = [];
  if (node) {
    for (let thread = 1; thread < threads; thread++) {
      const worker = new node.Worker(WORKER, { eval: true, workerData: data(thread) });
      worker.unref?.(); // an idle model does not keep the process alive
      workers.push(worker);
    }
    return { workers };
  }
  const g = globalThis as unknown as {
    Worker: new (url: string) => WebWorker;
    Blob: new (parts: string[], options: { type: string }) => unknown;
    URL: { createObjectURL(b: unknown): string; revokeObjectURL(url: string): void };
  };
  const url = g.URL.createObjectURL(new g.Blob([WORKER], { type: "text/javascript" }));
  const started: Promise<void>[] = [];
  for (let thread = 1; thread < threads; thread++) {
    const worker = new g.Worker(url);
    started.push(
      new Promise((resolve, reject) => {
        worker.onmessage = () => resolve();
        worker.onerror = (event) =>
          reject(new NetcError(`a model's worker thread failed to start: ${event.message ?? ""}`));
      }),
    );
    worker.postMessage(data(thread));
    workers.push(worker);
  }
  const all = Promise.all(started).then(() => g.URL.revokeObjectURL(url));
  all.catch(() => workers.forEach((w) => w.terminate()));
  return { workers, started: all };
}

export interface WasmArena {
  f: Float32Array;
  iv: Int32Array;
  steps: Steps;
  createOptimizer(settings: OptimizerSettings): Optimizer;
  /** A whole training step in one call; returns the loss (no update when it is not finite). */
  train(count: number, optimizer: Optimizer): number;
  dispose(): void;
  /** Web Workers: resolves once they run (and the warm-up pass ran); no step may run before. */
  started?: Promise<void>;
}

/** The module's optimizer: settings written before a step, counted once the step updated. */
interface WasmOptimizer extends Optimizer {
  prepare(): void;
  advance(): void;
}

/** Where the optimizer's state lies: after the arena of `length` floats and every scratch. */
function stateBase(wasm: WasmKernels, length: number, threads: number): number {
  const arenaEnd = Math.ceil((wasm.arenaBase + length * 4) / 16) * 16;
  // The kernels place each thread's scratch from the arena's end, 16-byte aligned.
  return arenaEnd + threads * wasm.scratchBytes;
}

/**
 * The bytes of memory a model needs: `length` arena floats after the tables, the scratch, and
 * `stateFloats` of the optimizer's state.
 */
export function wasmMemoryBytes(
  wasm: WasmKernels,
  length: number,
  threads: number,
  stateFloats: number,
): number {
  const end = stateBase(wasm, length, threads) + stateFloats * 4;
  return Math.ceil((end + SLACK) / PAGE) * PAGE;
}

/**
 * The model's memory for batch N (`length` arena floats) and the steps that run on it; the
 * caller has checked that it fits in WASM_MEMORY_LIMIT.
 */
export function wasmArena(
  wasm: WasmKernels,
  kernels: KernelFactory,
  length: number,
  N: number,
  seeds: DropoutSeeds,
  threads: number,
  /**
   * The loss's arena index, how many trainable parameters the optimizer updates, how many state
   * buffers of that size its optimizer keeps, and the gradients' largest norm (no clipping
   * when undefined).
   */
  sizes: { loss: number; params: number; stateBuffers: number; clipNorm: number | undefined },
): WasmArena {
  const { loss, params, stateBuffers } = sizes;
  const shared = threads > 1;
  const bytes = wasmMemoryBytes(wasm, length, threads, stateBuffers * params);
  const pages = bytes / PAGE;
  const memory = allocating(
    `the model's memory at batch ${N}`,
    bytes,
    () => new WebAssembly.Memory({ initial: pages, maximum: pages, shared }),
  );
  const f = new Float32Array(memory.buffer, wasm.arenaBase, length);
  const iv = new Int32Array(memory.buffer, wasm.arenaBase, length);
  const js = kernels(f, iv, N, dropoutDraws(seeds));
  const module = moduleOf(wasm, shared);
  const env: Record<string, WebAssembly.Memory | Function> = { mem: memory };
  for (const i of wasm.fallback) env[`js${i}`] = js.steps[i]!;
  const run = new WebAssembly.Instance(module, { env }).exports as unknown as Record<
    Command,
    Entry
  >;
  const { fallback } = wasm;
  const control = CONTROL.command;
  const { workers, started } = shared
    ? startWorkers((thread) => ({ module, memory, fallback, N, thread, threads, control }), threads)
    : { workers: [] as WorkerHandle[], started: undefined };
  const words = new Int32Array(memory.buffer, control, 3);
  const slots = new DataView(memory.buffer, CONTROL.optimizer, CONTROL.end - CONTROL.optimizer);
  const state = stateBase(wasm, length, threads);
  slots.setInt32(4 * SLOT.state, state, true);
  slots.setFloat32(4 * SLOT.clipNorm, sizes.clipNorm ?? 0, true);
  const mode = new Int32Array(memory.buffer, CONTROL.training, 1);
  const seed = new Uint32Array(memory.buffer, CONTROL.dropoutSeed, 1);
  /** The mode (and the pass's dropout seed) the WASM kernels read and the JS ones close over. */
  const setMode = (isTraining: boolean, count: number) => {
    mode[0] = isTraining ? 1 : 0;
    seed[0] = seeds.seed;
    js.mode(isTraining, count);
  };
  /** Runs a phase on every thread: workers are woken, thread 0 is this one. */
  const call = (command: Command, count: number): void => {
    if (workers.length > 0) {
      words[1] = COMMANDS.indexOf(command);
      words[2] = count;
      Atomics.add(words, 0, 1);
      Atomics.notify(words, 0);
    }
    if (command !== "exit") run[command](N, count, 0, threads);
  };
  // V8 runs new code in its baseline tier until a function is hot: one evaluation-mode pass
  // over the zeroed memory at creation takes that first-call cost, and changes no state
  // (batch statistics and dropout act only in training; the gradients are overwritten later).
  const warmUp = () => {
    setMode(false, N);
    for (const phase of ["forward", "loss", "backward"] as const) call(phase, N);
  };
  if (!started) warmUp();
  let training = false;
  let valid = N;
  return {
    f,
    iv,
    started: started?.then(warmUp),
    steps: {
      steps: js.steps,
      mode: js.mode,
      forward(isTraining, count = N) {
        training = isTraining;
        valid = count;
        setMode(training, valid);
        call("forward", valid);
      },
      loss(count) {
        valid = count;
        setMode(training, valid);
        call("loss", valid);
      },
      backward(inputGrads = true) {
        call(inputGrads ? "backward" : "backward_params", valid);
      },
    },
    createOptimizer(settings) {
      const buffers = stateNames(settings).length;
      if (buffers > stateBuffers) {
        throw new RangeError(
          `the memory has room for ${stateBuffers} state buffers, not ${buffers}`,
        );
      }
      const region = new Float32Array(memory.buffer, state, buffers * params);
      return wasmOptimizer(settings, slots, region, () => call("update", N));
    },
    train(count, optimizer) {
      const o = optimizer as WasmOptimizer;
      training = true;
      valid = count;
      setMode(true, count);
      o.prepare();
      call("train_step", count);
      const value = f[loss]!;
      if (Number.isFinite(value)) o.advance();
      return value;
    },
    dispose() {
      if (workers.length > 0) call("exit", 0);
      // A Web Worker outlives its loop (it waits for messages): it is ended here.
      if (started) workers.forEach((w) => w.terminate());
      workers.length = 0;
    },
  };
}

/** The update rule of the module's `update` for these settings (wasm-layout.ts). */
function ruleOf(s: OptimizerSettings): UpdateRule {
  switch (s.name) {
    case "SGD":
      return s.momentum === 0 ? "sgd" : "sgdMomentum";
    case "Adam":
    case "AdamW":
      return "adam";
    case "RMSprop": {
      const momentum = s.momentum > 0 ? "Momentum" : "";
      return s.centered ? `rmspropCentered${momentum}` : `rmsprop${momentum}`;
    }
    case "Adagrad":
      return "adagrad";
  }
}

/** The optimizer of the WASM module: settings in memory, then one update call per step. */
function wasmOptimizer(
  s: OptimizerSettings,
  slots: DataView,
  /** The update's state buffers, one after the other (compiler/backends/wasm/update.ts). */
  region: Float32Array,
  update: () => void,
): WasmOptimizer {
  const names = stateNames(s);
  const size = region.length / Math.max(1, names.length);
  // The same names, order and starting values as the JS optimizers (runtime/optimizers.ts).
  const state: OptimizerSlot[] = names.map((name, k) => ({
    name,
    data: region.subarray(k * size, (k + 1) * size),
  }));
  initialState(s, state);
  const f32 = (slot: keyof typeof SLOT, v: number) => slots.setFloat32(4 * SLOT[slot], v, true);
  slots.setInt32(4 * SLOT.rule, UPDATE_RULES.indexOf(ruleOf(s)), true);
  // AdamW decays the parameters through `decay`, not the gradient.
  f32("weightDecay", s.name === "AdamW" ? 0 : s.weightDecay);
  switch (s.name) {
    case "SGD":
      f32("momentum", s.momentum);
      slots.setInt32(4 * SLOT.nesterov, s.nesterov ? -1 : 0, true);
      break;
    case "Adam":
    case "AdamW":
      // 1 − β in double precision, as PyTorch computes `1 - beta1` in Python floats.
      f32("beta1", s.beta1);
      f32("oneMinusBeta1", 1 - s.beta1);
      f32("beta2", s.beta2);
      f32("oneMinusBeta2", 1 - s.beta2);
      f32("eps", s.eps);
      break;
    case "RMSprop":
      f32("alpha", s.alpha);
      f32("oneMinusAlpha", 1 - s.alpha);
      f32("momentum", s.momentum);
      f32("eps", s.eps);
      break;
    case "Adagrad":
      f32("eps", s.eps);
      break;
  }
  const optimizer = {
    stepCount: 0,
    learningRate: s.lr,
    state,
    prepare() {
      const scalars = stepScalars(s, optimizer.learningRate, optimizer.stepCount + 1);
      f32("lr", optimizer.learningRate);
      f32("stepSize", scalars.stepSize);
      f32("correction2", scalars.correction2);
      f32("decay", scalars.decay);
    },
    advance() {
      optimizer.stepCount++;
    },
    step() {
      optimizer.prepare();
      update();
      optimizer.advance();
    },
    setLearningRate(lr: number) {
      optimizer.learningRate = checkLearningRate(s.name, lr);
    },
  };
  return optimizer;
}
