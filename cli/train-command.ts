// `netc train`: compiles the model in memory, trains it on the data its task calls for, reports
// each epoch, and saves the weights only when training finished.
import { trainingStoppers } from "../compiler/catalog/criteria.js";
import type { Diagnostic, DiagnosticCode } from "../compiler/diagnostics.js";
import { defaultOptimizer } from "../runtime/optimizers.js";
import { scheduledLearningRate } from "../runtime/schedules.js";
import { NetcError } from "../runtime/errors.js";
import { writeFileAtomic } from "../runtime/node/write-atomic.js";
import { DivergenceError, trainLoop } from "../runtime/train-loop.js";
import { compileFile } from "./compiled-file.js";
import { loadData, type DataFlags } from "./data-options.js";
import { ExitCode } from "./exit-codes.js";
import { createModel, kernelChoice, type KernelChoice } from "./in-process-model.js";
import { checkOutputPath, JsonLinesFile } from "./output-file.js";
import { printable } from "./printable.js";
import { progressOn } from "./progress.js";
import { formatEpoch, formatKernels, formatOptimizer, metricsRecord } from "./training-report.js";
import { formatCount } from "../compiler/units.js";
import { UsageError } from "./usage-error.js";

export interface TrainCommandOptions extends KernelChoice, DataFlags {
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  save?: string;
  metrics?: string;
  limit?: number;
  model?: string;
  /** Lints of `trainingStoppers` to train despite (`--allow`). */
  allow?: string[];
}

/** What a file without a `train` block gets (the runtime's own default optimizer). */
export const defaults = {
  batch: 64,
  epochs: 10,
  seed: 0,
  optimizer: defaultOptimizer,
};

/** The lints among `diagnostics` that stop training and are not allowed; checks `allow`. */
function stoppingLints(diagnostics: readonly Diagnostic[], allow: readonly string[]): string[] {
  for (const code of allow) {
    if (!trainingStoppers.includes(code as DiagnosticCode)) {
      throw new UsageError(
        `--allow takes a lint that stops training (${trainingStoppers.join(", ")}), got ${printable(code)}`,
      );
    }
  }
  const codes = diagnostics.map((d) => d.code).filter((c) => trainingStoppers.includes(c));
  return [...new Set(codes)].filter((code) => !allow.includes(code));
}

export function runTrain(path: string, options: TrainCommandOptions): ExitCode {
  const file = compileFile(path, { model: options.model });
  if (!file.ok) return file.exitCode;
  const stopped = stoppingLints(file.diagnostics, options.allow ?? []);
  if (stopped.length > 0) {
    const codes = stopped.join(", ");
    const flags = stopped.map((code) => `--allow ${code}`).join(" ");
    process.stderr.write(
      `netc: not training: with ${codes} the loss means nothing; fix the model as the warning above says, or pass ${flags} to train anyway\n`,
    );
    return ExitCode.errors;
  }
  const { compiled } = file;
  const { layout } = compiled;
  const settings = compiled.model.train;
  const batch = options.batch ?? settings.batch ?? defaults.batch;
  const epochs = options.epochs ?? settings.epochs ?? defaults.epochs;
  const seed = options.seed ?? settings.seed ?? defaults.seed;
  const optimizer = settings.optimizer ?? defaults.optimizer;
  const lr = options.lr ?? Number(optimizer.args["lr"]);
  if (options.save !== undefined) checkOutputPath(options.save, "--save");
  if (options.metrics !== undefined) checkOutputPath(options.metrics, "--metrics");

  const data = loadData(layout, options, { seed, limit: options.limit });
  if (data.train.count < batch) {
    // Raising --limit helps only if it is what cut the data short.
    const fix =
      options.limit === data.train.count ? "raise --limit or lower --batch" : "lower --batch";
    throw new UsageError(
      data.train.count === 0
        ? "the training set is empty: there is nothing to train on"
        : `${formatCount(data.train.count)} training samples make no full batch of ${batch}: ${fix}`,
    );
  }
  const kernels = kernelChoice(options);
  const model = createModel(compiled, { batch, seed, optimizer, ...kernels });
  const params = model.params.reduce((sum, p) => sum + p.data.length, 0);
  process.stdout.write(
    `${compiled.model.name}: ${formatCount(params)} parameters; ${formatOptimizer(optimizer, lr, settings)}, batch ${batch}, ${epochs} epoch${epochs === 1 ? "" : "s"}, seed ${seed}; ${formatKernels(kernels)}\n`,
  );

  const progress = progressOn(process.stderr);
  const metrics = options.metrics !== undefined ? new JsonLinesFile(options.metrics) : undefined;
  let weights: Uint8Array | undefined;
  try {
    trainLoop({
      model,
      layout,
      train: data.train,
      test: data.test,
      epochs,
      seed,
      learningRate: lr,
      ...(settings.schedule || settings.warmup
        ? { learningRateAt: (epoch: number) => scheduledLearningRate(settings, lr, epoch) }
        : {}),
      onStep: (p) => progress.step(p),
      onEpoch: (result) => {
        progress.stop();
        process.stdout.write(formatEpoch(result) + "\n");
        metrics?.append(metricsRecord(result));
      },
    });
    if (options.save !== undefined) weights = model.save();
  } catch (error) {
    if (!(error instanceof DivergenceError)) throw error;
    const where =
      error.step === undefined
        ? `after epoch ${error.epoch}`
        : `at epoch ${error.epoch}, step ${error.step}`;
    const kept = options.save !== undefined ? `${printable(options.save)} was not written` : "";
    throw new NetcError(
      `training diverged: the loss is ${error.loss} ${where}${kept ? `; ${kept}` : ""}. Try a lower learning rate than ${lr}, e.g. --lr ${Number((lr / 10).toPrecision(3))}`,
    );
  } finally {
    progress.stop();
    model.dispose();
  }

  if (options.save !== undefined && weights) {
    writeFileAtomic(options.save, weights);
    process.stdout.write(`saved the weights to ${printable(options.save)}\n`);
  }
  return ExitCode.ok;
}
