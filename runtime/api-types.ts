// The public types of a compiled model, self-contained (no imports): `netc compile --standalone`
// inlines their declarations into the module's .d.ts. The compiler emits `Layout`, the `train`
// block's settings and parameter initialisations from these definitions.

/**
 * Which kernels run: "wasm", WebAssembly SIMD (threads possible), or "ts", the readable
 * JavaScript the compiler emits for every op.
 */
export type BackendName = "wasm" | "ts";

/** A tensor's place in the model's memory. */
export interface LayoutTensor {
  name: string;
  /** Per-sample shape for inputs, outputs and targets; the whole shape for parameters. */
  shape: number[];
  dtype: "f32" | "i32";
  offset: { fixed: number; perSample: number };
}

/** How a parameter starts: PyTorch's default initialisation for its layer. */
export type ParamInit = { kind: "uniform"; bound: number } | { kind: "constant"; value: number };

export type ArgValue = number | boolean | readonly number[];

/** The optimizers, named and with the arguments of PyTorch 1.13's `torch.optim`. */
export type OptimizerName = "SGD" | "Adam" | "AdamW" | "RMSprop" | "Adagrad";

export interface OptimizerConfig {
  name: OptimizerName;
  args: Readonly<Record<string, ArgValue | undefined>>;
}

/** Each learning-rate schedule's arguments: those of `torch.optim.lr_scheduler`'s class. */
export interface ScheduleArgs {
  StepLR: { step_size: number; gamma: number };
  MultiStepLR: { milestones: readonly number[]; gamma: number };
  ExponentialLR: { gamma: number };
  CosineAnnealingLR: { T_max: number; eta_min: number };
  LinearLR: { start_factor: number; end_factor: number; total_iters: number };
}

export type ScheduleName = keyof ScheduleArgs;

/** A learning-rate schedule, stepped once after each epoch as PyTorch's `scheduler.step()`. */
export type ScheduleConfig = {
  [K in ScheduleName]: { name: K; args: ScheduleArgs[K] };
}[ScheduleName];
/**
 * A step of the `train` block's `augment`, as torchvision names it: a random crop of `size`
 * (`[height, width]`, the input's) from the image padded with `padding` zeros on each side, or a
 * horizontal flip with probability `p`.
 */
export type AugmentStep =
  | { name: "RandomCrop"; size: [number, number]; padding: number }
  | { name: "RandomHorizontalFlip"; p: number };

/** The `train` block of the .net file. */
export interface TrainConfig {
  optimizer?: OptimizerConfig;
  batch?: number;
  epochs?: number;
  seed?: number;
  /** The learning rate of each epoch, from the optimizer's (runtime/schedules.ts). */
  schedule?: ScheduleConfig;
  /**
   * A linear warm-up before `schedule`, which then starts at its epoch 0: PyTorch's
   * `SequentialLR([warmup, schedule], milestones=[warmup.total_iters])`.
   */
  warmup?: Extract<ScheduleConfig, { name: "LinearLR" }>;
  /**
   * Before each update, the gradients are scaled down to this L2 norm over all of them when it
   * is above (`torch.nn.utils.clip_grad_norm_`).
   */
  clip_grad_norm?: number;
  /** Applied to each training batch, in order. */
  augment?: AugmentStep[];
  /** The labels of the frozen layers and block uses, whose parameters are not trained. */
  freeze?: string[];
}

/** What the runtime needs to know about a compiled program, as plain data. */
export interface Layout {
  model: string;
  fixedSize: number;
  perSampleSize: number;
  inputs: LayoutTensor[];
  outputs: LayoutTensor[];
  /**
   * `classes`: for class-index targets, how many classes the output scores; `ignore`: the label
   * that counts for nothing (`ignore=` of NLL and CrossEntropy), valid even outside the classes.
   */
  targets: (LayoutTensor & { criterion: string; classes?: number; ignore?: number })[];
  params: (LayoutTensor & { trainable: boolean; init: ParamInit })[];
  /** Where the trainable parameters and their gradients lie, each contiguous. */
  paramRegion: { offset: number; size: number };
  gradRegion: { offset: number; size: number };
  inputGrads: LayoutTensor[];
  loss: number;
  /** The file's `train` block: its optimizer is the model's unless `createModel` names another. */
  train?: TrainConfig;
}

/**
 * A compiled model's WebAssembly module (SIMD) and its memory: constant tables, then the arena at
 * `arenaBase`, then `scratchBytes` the kernels share. The steps in `fallback` run their JS
 * kernel (the module imports step i as env.js<i>).
 */
export interface WasmKernels {
  bytes: Uint8Array;
  arenaBase: number;
  /** Scratch per thread (the optimizer's state, sized by the optimizer, follows the scratch). */
  scratchBytes: number;
  fallback: number[];
  /** The byte that makes the memory import shared (for threads). */
  sharedFlag: number;
}

/** What a compiled module's kernel factory returns: the phases of a step, run on the arena. */
export interface Steps {
  /** `count`: the samples that are real (batch statistics leave the padding out). */
  forward(training: boolean, count?: number): void;
  loss(count: number): void;
  /** Without `inputGrads`, only the steps that lead to parameter gradients. */
  backward(inputGrads?: boolean): void;
  /** Each step's kernel alone, in forward, loss, backward order, reading what `mode` set. */
  steps: (() => void)[];
  mode(training: boolean, count: number): void;
}

/** Dropout's draws for the current training pass (runtime/dropout.ts). */
export interface DropoutDraws {
  /** A layer's key in this pass, from its salt. */
  key(salt: number): number;
  /** Element `index`'s draw in [0, 2^24) under a key. */
  draw(key: number, index: number): number;
}

/**
 * The compiled module's `kernels` export: closes over the arena (Float32Array, or Float64Array
 * for gradient checks), with every shape a constant.
 */
export type KernelFactory = (
  f: Float32Array | Float64Array,
  iv: Int32Array,
  N: number,
  dropout: DropoutDraws,
) => Steps;

export interface ModelOptions {
  /** Samples per step (default 64); fixed for the model's life. */
  batch?: number;
  /** Seeds initialisation and dropout (default 0). */
  seed?: number;
  /** Overrides the `train` block's optimizer. */
  optimizer?: OptimizerConfig;
  /** "f64" runs the same kernels in double precision, for gradient checks (JS kernels only). */
  precision?: "f32" | "f64";
  /**
   * Which kernels run: "wasm" (the default where the module has them and WebAssembly SIMD
   * exists) or "ts", the readable JavaScript reference.
   */
  backend?: BackendName;
  /**
   * Threads that share each step of the WASM kernels (default 1; at most one per sample and
   * 256): the batch, or a weight gradient's rows, is split between them; results do not depend
   * on the count.
   */
  threads?: number;
}

/** A checkpoint's tensors and metadata beyond the model's own (`Model.saveCheckpoint`). */
export interface CheckpointExtra {
  /** Plain strings, as safetensors metadata holds them (JSON for anything richer). */
  metadata?: Record<string, string>;
  tensors?: { name: string; shape: readonly number[]; data: Float32Array }[];
}

export interface TensorView {
  name: string;
  shape: number[];
  /** A live view: writing it sets the tensor. */
  data: Float32Array | Float64Array;
}

/** One array, or a record keyed by input / output name when there are several. */
export type Values<T> = T | Record<string, T>;
/** Class indices (NLL, CrossEntropy) or values (MSE, BCE), `[count, ...target shape]`. */
export type Target = Int32Array | Float32Array;
/** Input values; a Float64Array keeps full precision in a float64 model (gradient checks). */
export type Input = Float32Array | Float64Array;

/**
 * What `loadMatching` took from a file and what it left, as PyTorch's
 * `load_state_dict(strict=False)` reports its missing and unexpected keys.
 */
export interface LoadReport {
  /** The model's tensors set from the file, in the model's order. */
  loaded: string[];
  /**
   * The model's tensors the file holds by name but cannot give, and why: the file's is not a
   * float ("dtype"), or has another shape ("shape").
   */
  skipped: {
    name: string;
    reason: "dtype" | "shape";
    shape: number[];
    file: { shape: number[]; dtype: string };
  }[];
  /** The model's tensors the file lacks, left as they were. */
  missing: string[];
  /** The file's tensors the model does not have. */
  unexpected: string[];
}

/**
 * The types of a model's values. A compiled module's .d.ts narrows them to its model's (one
 * array where there is one input or output, a record with its names where there are several).
 */
export interface ModelTypes {
  input: Values<Input>;
  output: Values<Float32Array>;
  target: Values<Target>;
  inputGrad: Values<Float32Array | Float64Array>;
}

/**
 * A compiled model. Every method throws a NetcError for anything wrong with what it is given
 * (and changes nothing then); a training pass takes finite inputs and value targets only.
 */
export interface Model<T extends ModelTypes = ModelTypes> {
  readonly batch: number;
  /** The kernels this model runs. */
  readonly backend: BackendName;
  readonly params: TensorView[];
  readonly grads: TensorView[];
  /** Non-trainable tensors saved with the weights (batch-norm running statistics). */
  readonly buffers: TensorView[];
  /** The gradient of the loss with respect to each input, after `lossAndGrad`. */
  readonly inputGrad: T["inputGrad"];
  /**
   * The outputs of the latest pass, training or evaluation, for the whole batch (the samples
   * given come first): what running metrics read after `trainStep`.
   */
  readonly outputs: Values<Float32Array | Float64Array>;
  /** Evaluation-mode forward pass of up to `batch` samples; returns copies of the outputs. */
  forward(input: T["input"]): T["output"];
  /**
   * Evaluation-mode outputs of any number of samples, run `batch` at a time (the last pass
   * partial): the outputs of all of them, as `forward` returns them.
   */
  predict(input: T["input"]): T["output"];
  /** Evaluation-mode loss (no gradients). */
  loss(input: T["input"], target: T["target"]): number;
  /** Evaluation-mode loss and the outputs of the same pass (copies): what metrics need. */
  evaluate(input: T["input"], target: T["target"]): { loss: number; outputs: T["output"] };
  /** Training-mode forward and backward: fills `grads` and `inputGrad`; returns the loss. */
  lossAndGrad(input: T["input"], target: T["target"]): number;
  /**
   * lossAndGrad, then the optimizer's update of every parameter, the gradients clipped first when
   * the `train` block sets `clip_grad_norm`; the input gradients, which no update needs, are not
   * computed (`inputGrad` is left as it was).
   */
  trainStep(input: T["input"], target: T["target"]): number;
  setLearningRate(lr: number): void;
  /** Weights (and buffers) as safetensors bytes, with PyTorch names and layouts. */
  save(): Uint8Array;
  /**
   * Loads weights saved by `save` (or PyTorch); a file that is malformed, of another model or
   * holds NaN or infinities changes nothing. `source` names the file in errors.
   */
  load(bytes: Uint8Array, source?: string): void;
  /**
   * Fine-tuning's start: sets the tensors (parameters and buffers) that the safetensors file
   * holds under the same name with the same shape, converting float64, float16 and bfloat16 to
   * float32, and leaves the others as they were. Refuses, changing nothing, a malformed file, a
   * file of which no tensor matches, and matching tensors that hold NaN or infinities.
   */
  loadMatching(bytes: Uint8Array, source?: string): LoadReport;
  /**
   * All that training needs to go on exactly as it would have: the weights and buffers (as
   * `save` writes them), the optimizer's buffers (`optimizer.<param>.exp_avg`), step count and
   * learning rate, and the dropout stream, as safetensors bytes; `extra` adds the caller's
   * tensors and metadata (a training loop's epoch).
   */
  saveCheckpoint(extra?: CheckpointExtra): Uint8Array;
  /**
   * Restores a `saveCheckpoint` of this model trained with the same optimizer settings, and
   * returns the extra it was saved with; a file that is malformed, of another model or
   * optimizer, or holds NaN or infinities changes nothing.
   */
  loadCheckpoint(bytes: Uint8Array, source?: string): Required<CheckpointExtra>;
  /**
   * Stops the model's worker threads, if it has any; afterwards every method throws a NetcError
   * (dispose itself may be called again).
   */
  dispose(): void;
}
