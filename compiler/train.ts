// The `train` block: optimizer and schedule settings, checked against their signatures.
import type { Setting, Span, TrainDecl } from "../grammar/ast.js";
import type { ScheduleConfig } from "../runtime/api-types.js";
import { augmentations, augmentSetting, checkAugment, type AugmentedInput } from "./augment.js";
import { bindValue } from "./bind-args.js";
import { bindCall, type CallSetting } from "./bind-call.js";
import { optimizers } from "./catalog/optimizers.js";
import { schedules } from "./catalog/schedules.js";
import type { ArgSpec } from "./catalog/types.js";
import { diagnostic, type Diagnostic } from "./diagnostics.js";
import { checkFreeze, freezeSetting, type FreezeScope } from "./freeze.js";
import type { TrainConfig } from "./ir.js";
import { optimizerSettings, settingAliases } from "./pytorch-names.js";
import { suggest } from "./suggest.js";
import type { EvalContext } from "./values.js";

/** What a run takes where the `train` block says nothing (netc train and eval, the exports). */
export const trainDefaults = { batch: 64, epochs: 10, seed: 0 } as const;

/** The numeric settings; `optimizer`, `schedule` and `warmup` are calls (`callSettings`). */
export const trainSettings: ArgSpec[] = [
  { name: "batch", type: "int", min: 1, doc: "samples per mini-batch" },
  { name: "epochs", type: "int", min: 1, doc: "passes over the training set" },
  {
    name: "seed",
    type: "int",
    min: 0,
    max: 4294967295,
    doc: "seed of initialisation, shuffling and dropout",
  },
  {
    name: "clip_grad_norm",
    type: "float",
    above: 0,
    doc: "the largest L2 norm of all the gradients together; larger ones are scaled down to it before each update (torch.nn.utils.clip_grad_norm_)",
  },
];

export const callSettings: CallSetting[] = [
  {
    name: "optimizer",
    doc: "the optimizer and its arguments",
    catalog: optimizers,
    unknown: (name, range, { known }, suggestion) =>
      diagnostic("unknown-optimizer", range, { name, known, suggestion }),
  },
  {
    name: "schedule",
    doc: "the learning rate of each epoch, from the optimizer's",
    catalog: schedules,
    unknown: (name, range, { known }, suggestion) =>
      diagnostic("unknown-schedule", range, { name, known, suggestion }),
  },
  {
    name: "warmup",
    doc: "a linear warm-up of the learning rate, after which `schedule` starts",
    catalog: schedules.filter((s) => s.name === "LinearLR"),
    // A warm-up must end for the schedule to start: LinearLR is the one that does.
    unknown: (name, range, { expected }) =>
      diagnostic("argument-type", range, { name: "warmup", expected, got: name }),
  },
];

/** The settings whose values are calls of a catalog's entries (`augment`'s, a list of them). */
export const catalogSettings: readonly CallSetting[] = [...callSettings, augmentSetting];

/** The optimizer, schedule or augmentation of that name, for the editor's signatures and hovers. */
export function trainCallee(
  name: string,
): { name: string; summary: string; args: ArgSpec[] } | undefined {
  return (
    optimizers.find((o) => o.name === name) ??
    schedules.find((s) => s.name === name) ??
    augmentations.find((a) => a.name === name)
  );
}

/** Every setting with its doc, in the order completion offers them. */
export const trainSettingDocs: readonly { name: string; doc: string }[] = [
  ...catalogSettings,
  ...trainSettings,
  freezeSetting,
];

/** Every setting's name, for completion and "did you mean". */
export const trainSettingNames = trainSettingDocs.map((s) => s.name);

export function checkTrain(
  decl: TrainDecl,
  report: (d: Diagnostic) => void,
  inputs: readonly AugmentedInput[],
  freeze: FreezeScope,
): TrainConfig {
  const config: TrainConfig = {};
  const ctx: EvalContext = {
    env: new Map(),
    report,
    unknownName: (name: string, range: Span) => report(diagnostic("unknown-name", range, { name })),
  };
  const seen = new Set<string>();
  for (const setting of decl.settings) {
    const key = setting.key.name;
    const spec = trainSettings.find((s) => s.name === key);
    const call = callSettings.find((s) => s.name === key);
    if (!spec && !call && key !== "augment" && key !== freezeSetting.name) {
      report(unknownSetting(setting, decl));
      continue;
    }
    if (seen.has(key)) {
      report(diagnostic("duplicate-name", setting.key.range, { name: key }));
      continue;
    }
    seen.add(key);
    if (key === freezeSetting.name) {
      config.freeze = checkFreeze(setting.value, freeze, report);
      continue;
    }
    if (key === "augment") {
      const steps = checkAugment(setting.value, inputs, ctx);
      if (steps) config.augment = steps;
      continue;
    }
    if (call) {
      const bound = bindCall(call, setting.value, ctx);
      if (!bound) continue;
      const { name, args } = bound;
      if (call.name === "optimizer") {
        config.optimizer = { name: name as NonNullable<TrainConfig["optimizer"]>["name"], args };
      } else {
        // bindArgs checked every argument against the signature the runtime's table makes.
        const schedule = { name, args } as ScheduleConfig;
        if (call.name === "schedule") config.schedule = schedule;
        else config.warmup = schedule as NonNullable<TrainConfig["warmup"]>;
      }
      continue;
    }
    const value = bindValue(spec!, setting.value, setting.value.range, ctx);
    if (typeof value === "number")
      config[key as "batch" | "epochs" | "seed" | "clip_grad_norm"] = value;
  }
  return config;
}

/**
 * `epoch = 3`, `batch_size = 64`: the setting meant, as a fix. `lr = 0.01` is PyTorch's
 * optimizer argument: rewritten as `optimizer = SGD(lr=0.01)` when no optimizer is set.
 */
function unknownSetting(setting: Setting, decl: TrainDecl): Diagnostic {
  const { key, value } = setting;
  if (!optimizerSettings.has(key.name)) {
    const suggestion = suggest(key.name, trainSettingNames, settingAliases);
    return diagnostic("unknown-setting", key.range, { name: key.name, suggestion });
  }
  const hasOptimizer = decl.settings.some((s) => s.key.name === "optimizer");
  const fix = {
    title: "Set the learning rate in the optimizer: optimizer = SGD(lr=...)",
    edits: [
      { range: key.range, newText: "optimizer" },
      { range: { pos: value.range.pos, end: value.range.pos }, newText: "SGD(lr=" },
      { range: { pos: value.range.end, end: value.range.end }, newText: ")" },
    ],
  };
  return diagnostic(
    "unknown-setting",
    key.range,
    { name: key.name, optimizer: true },
    hasOptimizer ? {} : { fixes: [fix] },
  );
}
