// The `train` block: optimizer and schedule settings, checked against their signatures.
import type { Expr, Span, TrainDecl } from "../grammar/ast.js";
import type { ScheduleConfig } from "../runtime/api-types.js";
import { bindArgs, bindValue, type BoundArgs } from "./bind-args.js";
import { optimizers } from "./catalog/optimizers.js";
import { schedules } from "./catalog/schedules.js";
import type { ArgSpec } from "./catalog/types.js";
import { diagnostic, type Diagnostic } from "./diagnostics.js";
import type { TrainConfig } from "./ir.js";
import { suggest } from "./suggest.js";
import { quiet, type EvalContext } from "./values.js";

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

/** A setting whose value is a call of a catalog entry: `optimizer = SGD(lr=0.1)`. */
interface CallSetting {
  name: "optimizer" | "schedule" | "warmup";
  doc: string;
  catalog: readonly { name: string; args: ArgSpec[] }[];
  /** `known` lists the names (`A, B and C`), `expected` the calls (`A(...) or B(...)`). */
  unknown(
    name: string,
    range: Span,
    names: { known: string; expected: string },
    suggestion?: string,
  ): Diagnostic;
}

/** `A, B and C` (or `A, B or C`). */
const listed = (names: readonly string[], conjunction = "and") =>
  names.length === 1
    ? names[0]!
    : `${names.slice(0, -1).join(", ")} ${conjunction} ${names[names.length - 1]}`;

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

/** The optimizer or schedule of that name, for the editor's signatures and hovers. */
export function trainCallee(
  name: string,
): { name: string; summary: string; args: ArgSpec[] } | undefined {
  return optimizers.find((o) => o.name === name) ?? schedules.find((s) => s.name === name);
}

/** Every setting's name, for completion and "did you mean". */
export const trainSettingNames = [
  ...callSettings.map((s) => s.name),
  ...trainSettings.map((s) => s.name),
];

export function checkTrain(decl: TrainDecl, report: (d: Diagnostic) => void): TrainConfig {
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
    if (!spec && !call) {
      const suggestion = suggest(key, trainSettingNames);
      report(diagnostic("unknown-setting", setting.key.range, { name: key, suggestion }));
      continue;
    }
    if (seen.has(key)) {
      report(diagnostic("duplicate-name", setting.key.range, { name: key }));
      continue;
    }
    seen.add(key);
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

/** Binds `optimizer = Adam(lr=0.01)` (or a bare `Adam`) to its catalog signature. */
function bindCall(
  setting: CallSetting,
  v: Expr,
  ctx: EvalContext,
): { name: string; args: BoundArgs["args"] } | undefined {
  if (v.kind === "Missing") return undefined; // a syntax error, already reported
  const names = setting.catalog.map((c) => c.name);
  const expected = listed(
    names.map((n) => `${n}(...)`),
    "or",
  );
  const callee =
    v.kind === "Call" ? v.callee : v.kind === "Name" ? { name: v.name, range: v.range } : undefined;
  if (!callee) {
    const got = v.kind === "Number" || v.kind === "Bool" ? String(v.value) : "a value";
    ctx.report(diagnostic("argument-type", v.range, { name: setting.name, expected, got }));
    return undefined;
  }
  const def = setting.catalog.find((c) => c.name === callee.name);
  if (!def) {
    const suggestion = suggest(callee.name, names);
    ctx.report(
      setting.unknown(callee.name, callee.range, { known: listed(names), expected }, suggestion),
    );
    return undefined;
  }
  const bound = bindArgs(
    def.name,
    def.args,
    v.kind === "Call" ? v.args : [],
    v.kind === "Call" ? v.argsRange : v.range,
    v.kind === "Call" && v.recovered ? quiet(ctx) : ctx,
  );
  if (!bound) return undefined;
  // In the signature's order, whatever the call's: how the layout and `netc train` show them.
  const args = Object.fromEntries(def.args.map((a) => [a.name, bound.args[a.name]]));
  return { name: def.name, args };
}
