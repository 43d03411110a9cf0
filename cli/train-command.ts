// `netc train`: compiles the model in memory, trains it on the data its task calls for, reports
// each epoch (checkpointing it when asked), and saves the weights only when training finished.
import { trainingStoppers } from "../compiler/catalog/criteria.js";
import type { Diagnostic, DiagnosticCode } from "../compiler/diagnostics.js";
import { trainDefaults } from "../compiler/train.js";
import { describeAugmentation } from "../runtime/data/augment.js";
import { defaultOptimizer } from "../runtime/optimizers.js";
import { scheduledLearningRate } from "../runtime/schedules.js";
import type { MonitorName, MonitorOptions } from "../runtime/early-stopping.js";
import { NetcError } from "../runtime/errors.js";
import { withRegularFile } from "../runtime/node/read-file.js";
import { readInitialWeights } from "../runtime/node/weights-file.js";
import { writeFileAtomic } from "../runtime/node/write-atomic.js";
import { DivergenceError, trainLoop } from "../runtime/train-loop.js";
import { compileFile } from "./compiled-file.js";
import { loadData, type DataFlags } from "./data-options.js";
import { ExitCode } from "./exit-codes.js";
import { createModel, kernelChoice, type KernelChoice } from "./in-process-model.js";
import { checkOutputPath, JsonLinesFile } from "./output-file.js";
import { printable } from "./printable.js";
import { progressOn } from "./progress.js";
import { formatLoadReport } from "./init-report.js";
import {
  formatCurves,
  formatEpoch,
  formatKernels,
  formatOptimizer,
  formatRunEnd,
  metricsRecord,
} from "./training-report.js";
import { frozenCount } from "../compiler/freeze.js";
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
  evalTrain?: boolean;
  checkpoint?: string;
  resume?: string;
  monitor?: MonitorName;
  patience?: number;
  minDelta?: number;
  keepBest?: boolean;
  curve?: boolean;
  /** Lints of `trainingStoppers` to train despite (`--allow`). */
  allow?: string[];
  /** A safetensors file whose tensors that match the model's by name and shape start training. */
  init?: string;
}

/** Early stopping and keeping the best weights watch the same metric; either asks for it. */
function monitorOf(options: TrainCommandOptions): MonitorOptions | undefined {
  const watching = options.patience !== undefined || options.keepBest === true;
  if (!watching) {
    if (options.monitor !== undefined || options.minDelta !== undefined) {
      throw new UsageError("--monitor and --min-delta go with --patience or --keep-best");
    }
    return undefined;
  }
  const monitor: MonitorOptions = {
    monitor: options.monitor ?? "loss",
    minDelta: options.minDelta ?? 0,
    keepBest: options.keepBest === true,
  };
  if (options.patience !== undefined) monitor.patience = options.patience;
  return monitor;
}

/** What a file without a `train` block gets (the runtime's own default optimizer). */
export const defaults = { ...trainDefaults, optimizer: defaultOptimizer };

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
  const file = compileFile(path, { model: options.model, needsCriterion: "train" });
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
  if (layout.paramRegion.size === 0 && settings.freeze?.length) {
    throw new NetcError(
      `every parameter of ${compiled.model.name} is frozen (freeze = [${settings.freeze.join(", ")}]): there is nothing to train`,
    );
  }
  if (options.save !== undefined) checkOutputPath(options.save, "--save");
  if (options.metrics !== undefined) checkOutputPath(options.metrics, "--metrics");
  if (options.init !== undefined && options.resume !== undefined)
    throw new UsageError("--init and --resume both set the weights: give one of them");
  if (options.checkpoint !== undefined) checkOutputPath(options.checkpoint, "--checkpoint");
  const monitor = monitorOf(options);
  const resume =
    options.resume === undefined
      ? undefined
      : {
          bytes: withRegularFile(options.resume, "the checkpoint", (f) => f.read(0, f.size)),
          source: printable(options.resume),
        };
  // Read before the data and the model: a file that cannot be read costs neither.
  const initial = options.init !== undefined ? readInitialWeights(options.init) : undefined;

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
  const frozen = frozenCount(compiled.model.nodes);
  const count =
    frozen > 0
      ? `${formatCount(params + frozen)} parameters, ${formatCount(frozen)} of them frozen (${settings.freeze!.join(", ")})`
      : `${formatCount(params)} parameters`;
  const augmented = settings.augment ? `, augment ${describeAugmentation(settings.augment)}` : "";
  process.stdout.write(
    `${compiled.model.name}: ${count}; ${formatOptimizer(optimizer, lr, settings)}, batch ${batch}, ${epochs} epoch${epochs === 1 ? "" : "s"}, seed ${seed}${augmented}; ${formatKernels(kernels)}\n`,
  );

  const progress = progressOn(process.stderr);
  const metrics =
    options.metrics !== undefined
      ? new JsonLinesFile(options.metrics, resume !== undefined)
      : undefined;
  const checkpoint = options.checkpoint;
  let weights: Uint8Array | undefined;
  try {
    if (initial) {
      const report = model.loadMatching(initial, options.init);
      process.stdout.write(`${formatLoadReport(report, options.init!)}\n`);
    }
    const run = trainLoop({
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
      evalTrain: options.evalTrain === true,
      ...(monitor ? { monitor } : {}),
      ...(settings.augment ? { augment: settings.augment } : {}),
      ...(resume ? { resume } : {}),
      onResume: (epoch, step) =>
        process.stdout.write(
          `resuming from ${resume!.source} after epoch ${epoch} (${formatCount(step)} steps)\n`,
        ),
      onStep: (p) => progress.step(p),
      onEpoch: (result) => {
        progress.stop();
        process.stdout.write(formatEpoch(result) + "\n");
        metrics?.append(metricsRecord(result));
      },
      ...(checkpoint !== undefined
        ? { onCheckpoint: (bytes: Uint8Array) => writeFileAtomic(checkpoint, bytes) }
        : {}),
    });
    const end = formatRunEnd(run, monitor);
    if (end) process.stdout.write(end + "\n");
    if (options.curve || process.stdout.isTTY) {
      const curves = formatCurves(run.history);
      if (curves) process.stdout.write(curves + "\n");
    }
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
