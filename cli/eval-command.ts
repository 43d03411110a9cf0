// `netc eval`: loads saved weights into the compiled model and reports the test set's loss and
// the task's metrics, with a confusion matrix for class targets.
import type { Compiled } from "../compiler/compile.js";
import type { Model } from "../runtime/api-types.js";
import { bindData } from "../runtime/bind-data.js";
import { evaluate } from "../runtime/evaluate.js";
import { Feeder } from "../runtime/feeder.js";
import { readWeightsFile } from "../runtime/node/weights-file.js";
import { compileFile } from "./compiled-file.js";
import { loadData, type DataFlags } from "./data-options.js";
import { ExitCode } from "./exit-codes.js";
import { createModel, kernelChoice, type KernelChoice } from "./in-process-model.js";
import { printable } from "./printable.js";
import { defaults } from "./train-command.js";
import { formatConfusion, formatEvaluation } from "./training-report.js";
import { formatCount } from "../compiler/units.js";

export interface EvalCommandOptions extends KernelChoice, DataFlags {
  weights: string;
  seed?: number;
  batch?: number;
  model?: string;
}

export function runEval(path: string, options: EvalCommandOptions): ExitCode {
  const file = compileFile(path, { model: options.model, needsCriterion: "eval" });
  if (!file.ok) return file.exitCode;
  const { compiled } = file;
  const bytes = readWeightsFile(options.weights, compiled.layout);
  const batch = options.batch ?? compiled.model.train.batch ?? defaults.batch;
  const model = createModel(compiled, { batch, ...kernelChoice(options) });
  try {
    model.load(bytes, printable(options.weights));
    report(model, compiled, options, batch);
  } finally {
    model.dispose();
  }
  return ExitCode.ok;
}

function report(model: Model, compiled: Compiled, options: EvalCommandOptions, batch: number) {
  const seed = options.seed ?? compiled.model.train.seed ?? defaults.seed;
  const data = loadData(compiled.layout, options, { seed });
  const feeder = new Feeder(data.test, bindData(compiled.layout, data.test), batch);
  const result = evaluate(model, data.task, feeder);
  process.stdout.write(
    `${compiled.model.name} on the test set (${formatCount(result.count)} samples): ${formatEvaluation(result)}\n`,
  );
  if (result.confusion) {
    const withIoU = data.task?.kind === "segmentation";
    process.stdout.write(`\n${formatConfusion(result.confusion, data.classNames, withIoU)}\n`);
  }
}
