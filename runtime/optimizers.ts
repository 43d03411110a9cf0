// The optimizers of a `train` block (SGD, Adam, AdamW, RMSprop, Adagrad), updating the flat
// parameter buffer in place, and clipping of the gradients by their norm.
import type { OptimizerConfig, OptimizerName } from "./api-types.js";
import { checkKeys, describeValue, isRecord } from "./arguments.js";
import { NetcError } from "./errors.js";

/**
 * PyTorch's default of every optimizer argument that has one, in the order of PyTorch's
 * signature: the one table that the `train` block's signatures (compiler/catalog/optimizers.ts)
 * and the runtime's settings read.
 */
export const optimizerDefaults = {
  SGD: { momentum: 0, weight_decay: 0, nesterov: false },
  Adam: { lr: 0.001, betas: [0.9, 0.999] as readonly number[], eps: 1e-8, weight_decay: 0 },
  AdamW: { lr: 0.001, betas: [0.9, 0.999] as readonly number[], eps: 1e-8, weight_decay: 0.01 },
  RMSprop: { lr: 0.01, alpha: 0.99, eps: 1e-8, weight_decay: 0, momentum: 0, centered: false },
  Adagrad: { lr: 0.01, lr_decay: 0, weight_decay: 0, initial_accumulator_value: 0, eps: 1e-10 },
} as const satisfies Record<OptimizerName, object>;

export const optimizerNames = Object.keys(optimizerDefaults) as OptimizerName[];

/** The arguments each optimizer takes (SGD's `lr` has no default, as in PyTorch). */
const argumentNames = (name: OptimizerName): string[] => [
  ...(name === "SGD" ? ["lr"] : []),
  ...Object.keys(optimizerDefaults[name]),
];

/** What a model trains with when neither its `train` block nor its caller names an optimizer. */
export const defaultOptimizer: OptimizerConfig = {
  name: "SGD",
  args: { lr: 0.01, ...optimizerDefaults.SGD },
};

/** One buffer of an optimizer's state, named as in PyTorch's `state_dict()` (`exp_avg`). */
export interface OptimizerSlot {
  name: string;
  /** A live view, one float per trainable parameter in the parameter buffer's order. */
  data: Float32Array;
}

export interface Optimizer {
  /** Steps taken so far; setting it (with `state`) restores a saved optimizer. */
  stepCount: number;
  /** The buffers it keeps between steps (none for SGD without momentum), in `stateNames` order. */
  readonly state: readonly OptimizerSlot[];
  readonly learningRate: number;
  /** Updates the parameters from the gradients, as PyTorch 1.13's optimizer of that name. */
  step(): void;
  /** Replaces the learning rate from the next step on (like setting a param group's `lr`). */
  setLearningRate(lr: number): void;
}

/** An optimizer's checked settings, with PyTorch's defaults where the file gives none. */
export type OptimizerSettings =
  | { name: "SGD"; lr: number; momentum: number; weightDecay: number; nesterov: boolean }
  | {
      name: "Adam" | "AdamW";
      lr: number;
      beta1: number;
      beta2: number;
      eps: number;
      weightDecay: number;
    }
  | {
      name: "RMSprop";
      lr: number;
      alpha: number;
      eps: number;
      weightDecay: number;
      momentum: number;
      centered: boolean;
    }
  | {
      name: "Adagrad";
      lr: number;
      lrDecay: number;
      weightDecay: number;
      initialAccumulatorValue: number;
      eps: number;
    };

type SettingsOf<N extends OptimizerName> = Extract<OptimizerSettings, { name: N }>;

/**
 * The state buffers an optimizer keeps, in the order PyTorch's `state_dict()` lists them: both
 * backends allocate and name their buffers from this list.
 */
export function stateNames(s: OptimizerSettings): string[] {
  switch (s.name) {
    case "SGD":
      return s.momentum === 0 ? [] : ["momentum_buffer"];
    case "Adam":
    case "AdamW":
      return ["exp_avg", "exp_avg_sq"];
    case "RMSprop":
      return [
        "square_avg",
        ...(s.momentum > 0 ? ["momentum_buffer"] : []),
        ...(s.centered ? ["grad_avg"] : []),
      ];
    case "Adagrad":
      return ["sum"];
  }
}

/** The state of a new optimizer: zeros, except Adagrad's sums (`initial_accumulator_value`). */
export function initialState(s: OptimizerSettings, state: readonly OptimizerSlot[]): void {
  for (const slot of state) {
    slot.data.fill(s.name === "Adagrad" && slot.name === "sum" ? s.initialAccumulatorValue : 0);
  }
}

/**
 * The scalars of step `t` (1-based) at learning rate `lr`, in double precision as PyTorch
 * computes them in Python floats: `stepSize` multiplies the update (Adam's bias-corrected rate,
 * Adagrad's decayed rate, else lr), `correction2` is Adam's √(1 − β2^t), `decay` multiplies the
 * parameters first (AdamW's 1 − lr·weight_decay, else 1).
 */
export function stepScalars(
  s: OptimizerSettings,
  lr: number,
  t: number,
): { stepSize: number; correction2: number; decay: number } {
  switch (s.name) {
    case "Adam":
    case "AdamW":
      return {
        stepSize: lr / (1 - s.beta1 ** t),
        correction2: Math.sqrt(1 - s.beta2 ** t),
        decay: s.name === "AdamW" ? 1 - lr * s.weightDecay : 1,
      };
    case "Adagrad":
      return { stepSize: lr / (1 + (t - 1) * s.lrDecay), correction2: 1, decay: 1 };
    default:
      return { stepSize: lr, correction2: 1, decay: 1 };
  }
}

/**
 * An optimizer over `params`, the model's trainable parameters in one contiguous buffer, and
 * `grads`, their gradients in the same order. Its state (momentum, moment estimates) is
 * allocated here, once; `step` allocates nothing.
 */
export function createOptimizer(
  config: OptimizerConfig,
  params: Float32Array,
  grads: Float32Array,
): Optimizer {
  return optimizerOf(optimizerSettings(config), params, grads);
}

/** `createOptimizer` from settings already checked. */
export function optimizerOf(
  settings: OptimizerSettings,
  params: Float32Array,
  grads: Float32Array,
): Optimizer {
  if (params.length !== grads.length) {
    throw new RangeError(`optimizerOf: ${params.length} parameters but ${grads.length} gradients`);
  }
  const state = stateNames(settings).map((name) => ({
    name,
    data: new Float32Array(params.length),
  }));
  initialState(settings, state);
  const buffers = { params, grads, state };
  switch (settings.name) {
    case "SGD":
      return new Sgd(settings, buffers);
    case "Adam":
    case "AdamW":
      return new Adam(settings, buffers);
    case "RMSprop":
      return new RmsProp(settings, buffers);
    case "Adagrad":
      return new Adagrad(settings, buffers);
  }
}

/**
 * The settings of `config`, which may come from anyone: an unknown optimizer, an argument it
 * does not take or a value out of range is a NetcError naming it.
 */
export function optimizerSettings(config: OptimizerConfig): OptimizerSettings {
  const names = optimizerNames.map((n) => JSON.stringify(n)).join(" | ");
  const form = `an optimizer is { name: ${names}, args: { lr, ... } }`;
  if (!isRecord(config)) throw new NetcError(`${form}, got ${describeValue(config)}`);
  checkKeys(config, ["name", "args"], "the optimizer");
  const { name, args = {} } = config;
  if (!optimizerNames.includes(name)) {
    const known = `${optimizerNames.slice(0, -1).join(", ")} and ${optimizerNames.at(-1)}`;
    throw new NetcError(`unknown optimizer ${describeValue(name)}: netc has ${known}`);
  }
  if (!isRecord(args))
    throw new NetcError(`${name}: args must be an object, got ${describeValue(args)}`);
  checkKeys(args, argumentNames(name), `${name}'s arguments`);
  const settings = new Settings(name, args, optimizerDefaults[name]);
  switch (name) {
    case "SGD": {
      // SGD has no default learning rate in PyTorch either.
      const momentum = settings.number("momentum");
      const nesterov = settings.bool("nesterov");
      if (nesterov && momentum === 0) {
        throw new NetcError("SGD: nesterov = true needs a momentum above 0");
      }
      const weightDecay = settings.number("weight_decay");
      return { name, lr: settings.number("lr"), momentum, weightDecay, nesterov };
    }
    case "Adam":
    case "AdamW": {
      const [beta1, beta2] = settings.betas();
      const [lr, eps, weightDecay] = settings.numbers("lr", "eps", "weight_decay");
      return { name, lr, beta1, beta2, eps, weightDecay };
    }
    case "RMSprop": {
      const [lr, alpha, eps, weightDecay, momentum] = settings.numbers(
        "lr",
        "alpha",
        "eps",
        "weight_decay",
        "momentum",
      );
      return { name, lr, alpha, eps, weightDecay, momentum, centered: settings.bool("centered") };
    }
    case "Adagrad": {
      const [lr, lrDecay, weightDecay, initialAccumulatorValue, eps] = settings.numbers(
        "lr",
        "lr_decay",
        "weight_decay",
        "initial_accumulator_value",
        "eps",
      );
      return { name, lr, lrDecay, weightDecay, initialAccumulatorValue, eps };
    }
  }
}

/** A learning rate set during training (a schedule), checked as the file's would be. */
export function checkLearningRate(optimizer: string, lr: number): number {
  if (typeof lr !== "number" || !Number.isFinite(lr) || lr < 0) {
    throw new NetcError(
      `${optimizer}: the learning rate must be a number ≥ 0, got ${describeValue(lr)}`,
    );
  }
  return lr;
}

/** Reads and checks the bound arguments; a missing one takes PyTorch's default. */
class Settings {
  constructor(
    private readonly optimizer: string,
    private readonly args: Record<string, unknown>,
    private readonly defaults: Readonly<Record<string, unknown>>,
  ) {}

  private value(name: string): unknown {
    return this.args[name] ?? this.defaults[name];
  }

  number(name: string): number {
    const value = this.value(name);
    if (value === undefined) throw new NetcError(`${this.optimizer} needs a value for ${name}`);
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new NetcError(
        `${this.optimizer}: ${name} must be a number ≥ 0, got ${describeValue(value)}`,
      );
    }
    return value;
  }

  numbers(...names: string[]): number[] {
    return names.map((name) => this.number(name));
  }

  bool(name: string): boolean {
    const value = this.value(name);
    if (typeof value !== "boolean") {
      throw new NetcError(
        `${this.optimizer}: ${name} must be true or false, got ${describeValue(value)}`,
      );
    }
    return value;
  }

  betas(): [number, number] {
    const value = this.value("betas");
    const inRange = (b: unknown) => typeof b === "number" && b >= 0 && b < 1;
    if (!Array.isArray(value) || value.length !== 2 || !value.every(inRange)) {
      const got = Array.isArray(value) ? value.map(describeValue).join(", ") : describeValue(value);
      throw new NetcError(`${this.optimizer}: betas must be two numbers in [0, 1), got ${got}`);
    }
    return [value[0], value[1]];
  }
}

interface Buffers {
  params: Float32Array;
  grads: Float32Array;
  state: OptimizerSlot[];
}

/** What every optimizer shares: the learning rate, the step count and the named state. */
abstract class BaseOptimizer<N extends OptimizerName> implements Optimizer {
  stepCount = 0;
  learningRate: number;
  readonly state: OptimizerSlot[];
  protected readonly params: Float32Array;
  protected readonly grads: Float32Array;

  constructor(
    protected readonly s: SettingsOf<N>,
    buffers: Buffers,
  ) {
    this.learningRate = s.lr;
    this.params = buffers.params;
    this.grads = buffers.grads;
    this.state = buffers.state;
  }

  /** The state buffer of that name, if this optimizer keeps it. */
  protected buffer(name: string): Float32Array | undefined {
    return this.state.find((slot) => slot.name === name)?.data;
  }

  abstract step(): void;

  setLearningRate(lr: number): void {
    this.learningRate = checkLearningRate(this.s.name, lr);
  }
}

/**
 * torch.optim.SGD with dampening 0: d = g + weight_decay·p; with momentum, buf = d at the first
 * step and momentum·buf + d after, then d = buf, or d + momentum·buf with Nesterov; p −= lr·d.
 */
class Sgd extends BaseOptimizer<"SGD"> {
  /** Absent without momentum, as in PyTorch (no buffer, no extra memory). */
  private readonly momentumBuffer = this.buffer("momentum_buffer");

  step(): void {
    const { params: p, grads: g, momentumBuffer: buffer } = this;
    const { momentum, weightDecay, nesterov } = this.s;
    const lr = this.learningRate;
    const first = this.stepCount === 0;
    for (let i = 0; i < p.length; i++) {
      let d = g[i];
      if (weightDecay !== 0) d += weightDecay * p[i];
      if (buffer) {
        const b = first ? d : momentum * buffer[i] + d;
        buffer[i] = b;
        d = nesterov ? d + momentum * b : b;
      }
      p[i] = p[i] - lr * d;
    }
    this.stepCount++;
  }
}

/**
 * torch.optim.Adam and AdamW (no amsgrad). Adam: d = g + weight_decay·p; AdamW: p ·= 1 −
 * lr·weight_decay and d = g. Then m = β1·m + (1 − β1)·d; v = β2·v + (1 − β2)·d²;
 * p −= lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps).
 */
class Adam extends BaseOptimizer<"Adam" | "AdamW"> {
  private readonly m = this.buffer("exp_avg")!;
  private readonly v = this.buffer("exp_avg_sq")!;

  step(): void {
    const { params: p, grads: g, m, v } = this;
    const { beta1, beta2, eps } = this.s;
    const t = ++this.stepCount;
    const { stepSize, correction2, decay } = stepScalars(this.s, this.learningRate, t);
    // AdamW decays the parameters themselves; Adam adds the decay to the gradient.
    const l2 = this.s.name === "Adam" ? this.s.weightDecay : 0;
    for (let i = 0; i < p.length; i++) {
      const pi = p[i] * decay;
      let d = g[i];
      if (l2 !== 0) d += l2 * pi;
      const mi = beta1 * m[i] + (1 - beta1) * d;
      const vi = beta2 * v[i] + (1 - beta2) * d * d;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi - (stepSize * mi) / (Math.sqrt(vi) / correction2 + eps);
    }
  }
}

/**
 * torch.optim.RMSprop: d = g + weight_decay·p; s = α·s + (1 − α)·d²; centered, a = α·a +
 * (1 − α)·d and the denominator is √(s − a²) + eps, else √s + eps; with momentum,
 * buf = momentum·buf + d / denominator and p −= lr·buf, else p −= lr · d / denominator.
 */
class RmsProp extends BaseOptimizer<"RMSprop"> {
  private readonly squareAvg = this.buffer("square_avg")!;
  private readonly momentumBuffer = this.buffer("momentum_buffer");
  private readonly gradAvg = this.buffer("grad_avg");

  step(): void {
    const { params: p, grads: g, squareAvg: sq, momentumBuffer: buf, gradAvg: ga } = this;
    const { alpha, eps, weightDecay, momentum } = this.s;
    const lr = this.learningRate;
    for (let i = 0; i < p.length; i++) {
      let d = g[i];
      if (weightDecay !== 0) d += weightDecay * p[i];
      const s = alpha * sq[i] + (1 - alpha) * d * d;
      sq[i] = s;
      let denominator: number;
      if (ga) {
        const a = alpha * ga[i] + (1 - alpha) * d;
        ga[i] = a;
        denominator = Math.sqrt(s - a * a) + eps;
      } else {
        denominator = Math.sqrt(s) + eps;
      }
      if (buf) {
        const b = momentum * buf[i] + d / denominator;
        buf[i] = b;
        p[i] = p[i] - lr * b;
      } else {
        p[i] = p[i] - lr * (d / denominator);
      }
    }
    this.stepCount++;
  }
}

/**
 * torch.optim.Adagrad: d = g + weight_decay·p; sum += d²; p −= lr / (1 + (t − 1)·lr_decay) ·
 * d / (√sum + eps), the sums starting at initial_accumulator_value.
 */
class Adagrad extends BaseOptimizer<"Adagrad"> {
  private readonly sum = this.buffer("sum")!;

  step(): void {
    const { params: p, grads: g, sum } = this;
    const { eps, weightDecay } = this.s;
    const t = ++this.stepCount;
    const { stepSize } = stepScalars(this.s, this.learningRate, t);
    for (let i = 0; i < p.length; i++) {
      let d = g[i];
      if (weightDecay !== 0) d += weightDecay * p[i];
      const s = sum[i] + d * d;
      sum[i] = s;
      p[i] = p[i] - stepSize * (d / (Math.sqrt(s) + eps));
    }
  }
}

/** The tolerance PyTorch's clip_grad_norm_ adds to the norm before dividing by it. */
export const CLIP_EPSILON = 1e-6;

/**
 * torch.nn.utils.clip_grad_norm_ over all the trainable parameters' gradients (one flat
 * buffer): their L2 norm, and when `maxNorm / (norm + 1e-6)` is below 1, every gradient
 * multiplied by it. Returns the norm before clipping.
 */
export function clipGradNorm(grads: Float32Array | Float64Array, maxNorm: number): number {
  let squares = 0;
  for (let i = 0; i < grads.length; i++) squares += grads[i] * grads[i];
  const norm = Math.sqrt(squares);
  const coefficient = maxNorm / (norm + CLIP_EPSILON);
  if (coefficient < 1) for (let i = 0; i < grads.length; i++) grads[i] *= coefficient;
  return norm;
}

/** A `clip_grad_norm` from a layout, which may come from anyone: a number > 0, or absent. */
export function checkClipNorm(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new NetcError(`clip_grad_norm must be a number above 0, got ${describeValue(value)}`);
  }
  return value;
}
