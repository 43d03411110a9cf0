// Learning-rate schedules: the rate of each epoch, as PyTorch 1.13's torch.optim.lr_scheduler
// classes give it when `scheduler.step()` runs after every epoch.
import type { ScheduleArgs, ScheduleConfig, ScheduleName, TrainConfig } from "./api-types.js";
import { checkKeys, describeValue, isRecord } from "./arguments.js";
import { NetcError } from "./errors.js";

/** One argument of a schedule: its kind, PyTorch's default if it has one, and its range. */
export interface ScheduleArgument {
  kind: "int" | "float" | "ints";
  default?: number;
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
}

/**
 * Every schedule's arguments in the order of PyTorch's signature, with PyTorch's defaults and
 * the ranges in which PyTorch computes a rate: the one table that the `train` block's signatures
 * (compiler/catalog/schedules.ts) and the runtime's checks read.
 */
export const scheduleArguments = {
  StepLR: {
    step_size: { kind: "int", min: 1 },
    gamma: { kind: "float", default: 0.1, min: 0 },
  },
  MultiStepLR: {
    milestones: { kind: "ints", min: 0 },
    gamma: { kind: "float", default: 0.1, min: 0 },
  },
  ExponentialLR: {
    gamma: { kind: "float", min: 0 },
  },
  CosineAnnealingLR: {
    T_max: { kind: "int", min: 1 },
    eta_min: { kind: "float", default: 0, min: 0 },
  },
  LinearLR: {
    // PyTorch divides by start_factor from the second epoch on: 0 fails there.
    start_factor: { kind: "float", default: 1 / 3, above: 0, max: 1 },
    end_factor: { kind: "float", default: 1, min: 0, max: 1 },
    total_iters: { kind: "int", default: 5, min: 1 },
  },
} as const satisfies {
  [K in ScheduleName]: { [A in keyof ScheduleArgs[K]]: ScheduleArgument };
};

export const scheduleNames = Object.keys(scheduleArguments) as ScheduleName[];

/** The schedule settings of a `train` block. */
export type ScheduleSettings = Pick<TrainConfig, "schedule" | "warmup">;

/**
 * The learning rate of `epoch` (0-based: the rate the first epoch trains at is epoch 0's) for
 * a base rate `lr`, as PyTorch's scheduler sets it after `epoch` calls of `step()`, in the same
 * double-precision arithmetic (the chainable form, which each step applies to the rate before).
 * With a warm-up, the schedule restarts at its epoch 0 when the warm-up's total_iters have
 * passed, as SequentialLR does. Without either, `lr` itself.
 */
export function scheduledLearningRate(
  settings: ScheduleSettings,
  lr: number,
  epoch: number,
): number {
  const { schedule, warmup } = settings;
  const first = warmup ?? schedule;
  if (!first) return lr;
  const milestone = warmup && schedule ? warmup.args.total_iters : Infinity;
  let rate = chained(first, lr, 0, lr);
  for (let e = 1; e <= epoch; e++) {
    rate =
      e < milestone
        ? chained(first, rate, e, lr)
        : e === milestone
          ? restart(schedule!, lr)
          : chained(schedule!, rate, e - milestone, lr);
  }
  return rate;
}

/**
 * The schedule's `get_lr()` at `last_epoch` e: the rate it sets from the rate before, `rate`
 * (the base rate `base` at e = 0).
 */
function chained(config: ScheduleConfig, rate: number, e: number, base: number): number {
  switch (config.name) {
    case "StepLR": {
      const { step_size, gamma } = config.args;
      return e === 0 || e % step_size !== 0 ? rate : rate * gamma;
    }
    case "MultiStepLR": {
      // A Counter in PyTorch: a milestone listed twice applies gamma twice.
      const { milestones, gamma } = config.args;
      const hits = milestones.filter((m) => m === e).length;
      return hits === 0 ? rate : rate * gamma ** hits;
    }
    case "ExponentialLR":
      return e === 0 ? rate : rate * config.args.gamma;
    case "CosineAnnealingLR": {
      const { T_max, eta_min } = config.args;
      if (e === 0) return rate;
      // At the bottom of a period the ratio below would divide by zero: PyTorch steps up instead.
      if ((e - 1 - T_max) % (2 * T_max) === 0)
        return rate + ((base - eta_min) * (1 - Math.cos(Math.PI / T_max))) / 2;
      return (
        ((1 + Math.cos((Math.PI * e) / T_max)) / (1 + Math.cos((Math.PI * (e - 1)) / T_max))) *
          (rate - eta_min) +
        eta_min
      );
    }
    case "LinearLR": {
      const { start_factor: start, end_factor: end, total_iters: total } = config.args;
      if (e === 0) return rate * start;
      if (e > total) return rate;
      return rate * (1 + (end - start) / (total * start + (e - 1) * (end - start)));
    }
  }
}

/** The rate a schedule restarts at: its closed form at epoch 0, as SequentialLR's `step(0)`. */
function restart(config: ScheduleConfig, base: number): number {
  switch (config.name) {
    case "StepLR":
    case "ExponentialLR":
      return base; // base · γ^0
    case "MultiStepLR":
      return base * config.args.gamma ** config.args.milestones.filter((m) => m <= 0).length;
    case "CosineAnnealingLR": {
      const { eta_min } = config.args;
      return eta_min + ((base - eta_min) * (1 + Math.cos(0))) / 2;
    }
    case "LinearLR":
      return base * config.args.start_factor;
  }
}

/**
 * The schedule settings of a layout, which may come from anyone: an unknown schedule, an
 * argument it does not take or a value out of range is a NetcError naming it.
 */
export function checkScheduleSettings(settings: ScheduleSettings): ScheduleSettings {
  const { schedule, warmup } = settings;
  if (schedule !== undefined) checkSchedule(schedule, "schedule");
  if (warmup !== undefined) {
    checkSchedule(warmup, "warmup");
    if (warmup.name !== "LinearLR") {
      throw new NetcError(`warmup: the warm-up is a LinearLR, got ${describeValue(warmup.name)}`);
    }
  }
  return settings;
}

function checkSchedule(config: unknown, setting: string): void {
  const names = scheduleNames.join(", ");
  if (!isRecord(config)) {
    throw new NetcError(`${setting}: a schedule is { name, args }, got ${describeValue(config)}`);
  }
  checkKeys(config, ["name", "args"], setting);
  const { name, args } = config;
  if (!scheduleNames.includes(name as ScheduleName)) {
    throw new NetcError(`${setting}: unknown schedule ${describeValue(name)}; netc has ${names}`);
  }
  const specs: Record<string, ScheduleArgument> = scheduleArguments[name as ScheduleName];
  if (!isRecord(args))
    throw new NetcError(`${setting}: ${name}'s args must be an object, got ${describeValue(args)}`);
  checkKeys(args, Object.keys(specs), `${setting}: ${name}'s arguments`);
  for (const [arg, spec] of Object.entries(specs)) {
    const value = args[arg];
    const values = spec.kind === "ints" && Array.isArray(value) ? value : [value];
    const fits = (v: unknown) =>
      typeof v === "number" &&
      Number.isFinite(v) &&
      (spec.kind === "float" || Number.isSafeInteger(v)) &&
      !(spec.min !== undefined && v < spec.min) &&
      !(spec.above !== undefined && v <= spec.above) &&
      !(spec.max !== undefined && v > spec.max);
    if ((spec.kind === "ints" && !Array.isArray(value)) || !values.every(fits)) {
      throw new NetcError(
        `${setting}: ${name}'s ${arg} must be ${describeArgument(spec)}, got ${describeValue(value)}`,
      );
    }
  }
}

/** `an integer ≥ 1`, `a number in (0, 1]`. */
function describeArgument(spec: ScheduleArgument): string {
  const what = { int: "an integer", float: "a number", ints: "a list of integers" }[spec.kind];
  const bounds = [
    spec.min !== undefined ? `≥ ${spec.min}` : "",
    spec.above !== undefined ? `> ${spec.above}` : "",
    spec.max !== undefined ? `≤ ${spec.max}` : "",
  ].filter(Boolean);
  return `${what}${bounds.length > 0 ? ` ${bounds.join(" and ")}` : ""}`;
}
