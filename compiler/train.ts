// The `train` block: optimizer and schedule settings, checked against their signatures.
import type { Span, TrainDecl } from "../grammar/ast.js";
import { checkAugment, type AugmentedInput } from "./augment.js";
import { bindArgs, bindValue } from "./bind-args.js";
import { optimizers } from "./catalog/optimizers.js";
import type { ArgSpec } from "./catalog/types.js";
import { diagnostic, type Diagnostic } from "./diagnostics.js";
import type { TrainConfig } from "./ir.js";
import { suggest } from "./suggest.js";
import { quiet, type EvalContext } from "./values.js";

/** The numeric settings; `optimizer = SGD(...)` is bound against the optimizer catalog. */
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
];

export function checkTrain(
  decl: TrainDecl,
  report: (d: Diagnostic) => void,
  inputs: readonly AugmentedInput[] = [],
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
    if (!spec && key !== "optimizer" && key !== "augment") {
      const suggestion = suggest(key, [
        "optimizer",
        "augment",
        ...trainSettings.map((s) => s.name),
      ]);
      report(diagnostic("unknown-setting", setting.key.range, { name: key, suggestion }));
      continue;
    }
    if (seen.has(key)) {
      report(diagnostic("duplicate-name", setting.key.range, { name: key }));
      continue;
    }
    seen.add(key);
    if (key === "augment") {
      const steps = checkAugment(setting.value, inputs, ctx);
      if (steps) config.augment = steps;
      continue;
    }
    if (key === "optimizer") {
      const v = setting.value;
      if (v.kind === "Missing") continue; // a syntax error, already reported
      const callee =
        v.kind === "Call"
          ? v.callee
          : v.kind === "Name"
            ? { name: v.name, range: v.range }
            : undefined;
      if (!callee) {
        report(
          diagnostic("argument-type", v.range, {
            name: "optimizer",
            expected: "SGD(...) or Adam(...)",
            got: v.kind === "Number" || v.kind === "Bool" ? String(v.value) : "a value",
          }),
        );
        continue;
      }
      const def = optimizers.find((o) => o.name === callee.name);
      if (!def) {
        const suggestion = suggest(
          callee.name,
          optimizers.map((o) => o.name),
        );
        const names = optimizers.map((o) => o.name);
        const known = `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
        report(
          diagnostic("unknown-optimizer", callee.range, { name: callee.name, known, suggestion }),
        );
        continue;
      }
      const bound = bindArgs(
        def.name,
        def.args,
        v.kind === "Call" ? v.args : [],
        v.kind === "Call" ? v.argsRange : v.range,
        v.kind === "Call" && v.recovered ? quiet(ctx) : ctx,
      );
      if (bound) config.optimizer = { name: def.name, args: bound.args };
      continue;
    }
    const value = bindValue(spec!, setting.value, setting.value.range, ctx);
    if (typeof value === "number") config[key as "batch" | "epochs" | "seed"] = value;
  }
  return config;
}
