// The optimizers of a `train` block (SGD, Adam), updating the flat parameter buffer in place.
import type { OptimizerConfig } from "./api-types.js";
import { checkKeys, describeValue, isRecord } from "./arguments.js";
import { NetcError } from "./errors.js";

/**
 * PyTorch's default of every optimizer argument that has one: the one table that the `train`
 * block's signature (compiler/catalog/optimizers.ts) and the runtime's settings read.
 */
export const optimizerDefaults = {
  SGD: { momentum: 0, weight_decay: 0, nesterov: false },
  Adam: { lr: 0.001, betas: [0.9, 0.999] as readonly number[], eps: 1e-8, weight_decay: 0 },
} as const;

/** The arguments each optimizer takes (SGD's `lr` has no default, as in PyTorch). */
const argumentNames = {
  SGD: ["lr", ...Object.keys(optimizerDefaults.SGD)],
  Adam: Object.keys(optimizerDefaults.Adam),
};

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
  /** The buffers it keeps between steps (none for SGD without momentum). */
  readonly state: readonly OptimizerSlot[];
  readonly learningRate: number;
  /** Updates the parameters from the gradients, as PyTorch 1.13's optimizer of that name. */
  step(): void;
  /** Replaces the learning rate from the next step on (like setting a param group's `lr`). */
  setLearningRate(lr: number): void;
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
  return settings.name === "SGD"
    ? new Sgd(settings, params, grads)
    : new Adam(settings, params, grads);
}

/** An optimizer's checked settings, with PyTorch's defaults where the file gives none. */
export type OptimizerSettings =
  | { name: "SGD"; lr: number; momentum: number; weightDecay: number; nesterov: boolean }
  | { name: "Adam"; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };

/**
 * The settings of `config`, which may come from anyone: an unknown optimizer, an argument it
 * does not take or a value out of range is a NetcError naming it.
 */
export function optimizerSettings(config: OptimizerConfig): OptimizerSettings {
  const form = 'an optimizer is { name: "SGD" | "Adam", args: { lr, ... } }';
  if (!isRecord(config)) throw new NetcError(`${form}, got ${describeValue(config)}`);
  checkKeys(config, ["name", "args"], "the optimizer");
  const { name, args = {} } = config;
  if (name !== "SGD" && name !== "Adam") {
    throw new NetcError(`unknown optimizer ${describeValue(name)}: netc has SGD and Adam`);
  }
  if (!isRecord(args))
    throw new NetcError(`${name}: args must be an object, got ${describeValue(args)}`);
  checkKeys(args, argumentNames[name], `${name}'s arguments`);
  const settings = new Settings(name, args);
  if (name === "SGD") {
    // SGD has no default learning rate in PyTorch either.
    const d = optimizerDefaults.SGD;
    const momentum = settings.number("momentum", d.momentum);
    const nesterov = settings.bool("nesterov", d.nesterov);
    if (nesterov && momentum === 0) {
      throw new NetcError("SGD: nesterov = true needs a momentum above 0");
    }
    const weightDecay = settings.number("weight_decay", d.weight_decay);
    return { name: "SGD", lr: settings.number("lr"), momentum, weightDecay, nesterov };
  }
  const d = optimizerDefaults.Adam;
  const [beta1, beta2] = settings.betas(d.betas);
  return {
    name: "Adam",
    lr: settings.number("lr", d.lr),
    beta1,
    beta2,
    eps: settings.number("eps", d.eps),
    weightDecay: settings.number("weight_decay", d.weight_decay),
  };
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
  ) {}

  number(name: string, fallback?: number): number {
    const value = this.args[name] ?? fallback;
    if (value === undefined) throw new NetcError(`${this.optimizer} needs a value for ${name}`);
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new NetcError(
        `${this.optimizer}: ${name} must be a number ≥ 0, got ${describeValue(value)}`,
      );
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.args[name] ?? fallback;
    if (typeof value !== "boolean") {
      throw new NetcError(
        `${this.optimizer}: ${name} must be true or false, got ${describeValue(value)}`,
      );
    }
    return value;
  }

  betas(fallback: readonly number[]): [number, number] {
    const value = this.args["betas"] ?? fallback;
    const inRange = (b: unknown) => typeof b === "number" && b >= 0 && b < 1;
    if (!Array.isArray(value) || value.length !== 2 || !value.every(inRange)) {
      const got = Array.isArray(value) ? value.map(describeValue).join(", ") : describeValue(value);
      throw new NetcError(`${this.optimizer}: betas must be two numbers in [0, 1), got ${got}`);
    }
    return [value[0], value[1]];
  }
}

/**
 * torch.optim.SGD with dampening 0: d = g + weight_decay·p; with momentum, buf = d at the first
 * step and momentum·buf + d after, then d = buf, or d + momentum·buf with Nesterov; p −= lr·d.
 */
class Sgd implements Optimizer {
  stepCount = 0;
  learningRate: number;
  private readonly momentum: number;
  private readonly weightDecay: number;
  private readonly nesterov: boolean;
  /** Absent without momentum, as in PyTorch (no buffer, no extra memory). */
  private readonly buffer: Float32Array | undefined;

  constructor(
    settings: OptimizerSettings & { name: "SGD" },
    private readonly params: Float32Array,
    private readonly grads: Float32Array,
  ) {
    this.learningRate = settings.lr;
    this.momentum = settings.momentum;
    this.weightDecay = settings.weightDecay;
    this.nesterov = settings.nesterov;
    this.buffer = this.momentum === 0 ? undefined : new Float32Array(params.length);
  }

  get state(): OptimizerSlot[] {
    return this.buffer ? [{ name: "momentum_buffer", data: this.buffer }] : [];
  }

  step(): void {
    const { params: p, grads: g, buffer, momentum, weightDecay, nesterov } = this;
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

  setLearningRate(lr: number): void {
    this.learningRate = checkLearningRate("SGD", lr);
  }
}

/**
 * torch.optim.Adam (not AdamW, no amsgrad): d = g + weight_decay·p; m = β1·m + (1 − β1)·d;
 * v = β2·v + (1 − β2)·d²; p −= lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps).
 */
class Adam implements Optimizer {
  stepCount = 0;
  learningRate: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly m: Float32Array;
  private readonly v: Float32Array;

  constructor(
    settings: OptimizerSettings & { name: "Adam" },
    private readonly params: Float32Array,
    private readonly grads: Float32Array,
  ) {
    this.learningRate = settings.lr;
    this.beta1 = settings.beta1;
    this.beta2 = settings.beta2;
    this.eps = settings.eps;
    this.weightDecay = settings.weightDecay;
    this.m = new Float32Array(params.length);
    this.v = new Float32Array(params.length);
  }

  get state(): OptimizerSlot[] {
    return [
      { name: "exp_avg", data: this.m },
      { name: "exp_avg_sq", data: this.v },
    ];
  }

  step(): void {
    const { params: p, grads: g, m, v, beta1, beta2, eps, weightDecay } = this;
    const t = ++this.stepCount;
    // Per-step scalars in double precision, as PyTorch computes them in Python floats.
    const stepSize = this.learningRate / (1 - beta1 ** t);
    const correction2 = Math.sqrt(1 - beta2 ** t);
    for (let i = 0; i < p.length; i++) {
      let d = g[i];
      if (weightDecay !== 0) d += weightDecay * p[i];
      const mi = beta1 * m[i] + (1 - beta1) * d;
      const vi = beta2 * v[i] + (1 - beta2) * d * d;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] - (stepSize * mi) / (Math.sqrt(vi) / correction2 + eps);
    }
  }

  setLearningRate(lr: number): void {
    this.learningRate = checkLearningRate("Adam", lr);
  }
}
