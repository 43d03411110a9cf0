// Learning-rate schedules a `train` block may name (`schedule = StepLR(10)`), with the
// signatures of PyTorch's torch.optim.lr_scheduler classes; defaults and ranges are the
// runtime's table.
import type { ScheduleName } from "../../runtime/api-types.js";
import { scheduleArguments, type ScheduleArgument } from "../../runtime/schedules.js";
import type { ArgSpec } from "./types.js";

export interface ScheduleDef {
  name: ScheduleName;
  summary: string;
  args: ArgSpec[];
}

/** The signature of schedule `name`, its arguments documented by `docs`. */
function signature<N extends ScheduleName>(
  name: N,
  summary: string,
  docs: Record<keyof (typeof scheduleArguments)[N], string>,
): ScheduleDef {
  const table: Record<string, ScheduleArgument> = scheduleArguments[name];
  const args = Object.entries(table).map(([arg, spec]): ArgSpec => ({
    name: arg,
    type: spec.kind,
    doc: docs[arg as keyof typeof docs],
    ...(spec.default !== undefined ? { default: spec.default } : {}),
    ...(spec.min !== undefined ? { min: spec.min } : {}),
    ...(spec.above !== undefined ? { above: spec.above } : {}),
    ...(spec.max !== undefined ? { max: spec.max } : {}),
  }));
  return { name, summary, args };
}

export const schedules: ScheduleDef[] = [
  signature("StepLR", "Multiplies the learning rate by gamma every step_size epochs.", {
    step_size: "epochs between two decays",
    gamma: "factor of each decay",
  }),
  signature("MultiStepLR", "Multiplies the learning rate by gamma at each milestone epoch.", {
    milestones: "the epochs (counted from 0) at which the rate decays, e.g. [30, 80]",
    gamma: "factor of each decay",
  }),
  signature("ExponentialLR", "Multiplies the learning rate by gamma every epoch.", {
    gamma: "factor of each epoch's decay",
  }),
  signature(
    "CosineAnnealingLR",
    "Anneals the learning rate from its base to eta_min along a half cosine over T_max epochs (and back up over the next T_max, as PyTorch's).",
    {
      T_max: "epochs of the half period",
      eta_min: "the lowest learning rate",
    },
  ),
  signature(
    "LinearLR",
    "Multiplies the learning rate by a factor that goes linearly from start_factor to end_factor over total_iters epochs, then stays; as `warmup`, the schedule follows it.",
    {
      start_factor: "factor of the first epoch",
      end_factor: "factor from epoch total_iters on",
      total_iters: "epochs the factor takes to reach end_factor",
    },
  ),
];
