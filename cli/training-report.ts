// How train and eval print results: an epoch line, a metrics JSON object, the end of a run and its
// curves, a confusion matrix.
import type { ConfusionMatrix } from "../runtime/data/metrics.js";
import type { Evaluation } from "../runtime/evaluate.js";
import type {
  ArgValue,
  BackendName,
  OptimizerConfig,
  ScheduleConfig,
  TrainConfig,
} from "../runtime/api-types.js";
import type { MonitorName, MonitorOptions } from "../runtime/early-stopping.js";
import type { EpochScores } from "../runtime/loop-checkpoint.js";
import type { EpochResult, TrainingRun } from "../runtime/train-loop.js";
import { formatCount } from "../compiler/units.js";

const percent = (x: number) => `${(100 * x).toFixed(2)}%`;
const decimal = (x: number) => x.toFixed(4);

/** `loss 0.4123 accuracy 85.31%`, with the task's other metrics. */
export function formatEvaluation(e: Evaluation): string {
  const parts = [`loss ${decimal(e.loss)}`];
  if (e.accuracy !== undefined) {
    // What is counted right depends on the task, which its other metrics tell.
    const what =
      e.meanIoU !== undefined
        ? "pixel accuracy"
        : e.boxError !== undefined
          ? "objectness accuracy"
          : "accuracy";
    parts.push(`${what} ${percent(e.accuracy)}`);
  }
  if (e.meanIoU !== undefined) parts.push(`mean IoU ${decimal(e.meanIoU)}`);
  if (e.boxError !== undefined) parts.push(`box error ${decimal(e.boxError)}`);
  if (e.mse !== undefined) parts.push(`mse ${decimal(e.mse)}`);
  return parts.join(" ");
}

/**
 * `epoch 2/4: train loss … accuracy …, test loss … accuracy … (5,080 samples/s, 1.1 s)`: the
 * training steps' running figures, the evaluation-mode pass over the training set when asked,
 * the test set's, and whether the epoch is the best so far when a metric is watched.
 */
export function formatEpoch(r: EpochResult): string {
  const speed = `${formatCount(Math.round(r.samplesPerSecond))} samples/s`;
  const parts = [`train ${formatEvaluation(r.train)}`];
  if (r.trainEvaluation) parts.push(`train (eval) ${formatEvaluation(r.trainEvaluation)}`);
  parts.push(`test ${formatEvaluation(r.test)}`);
  const best = r.best ? ", best so far" : "";
  // A schedule's rate, at 4 significant digits: enough to follow a cosine or a warm-up.
  const lr = r.learningRate !== undefined ? `lr ${Number(r.learningRate.toPrecision(4))}, ` : "";
  return `epoch ${r.epoch}/${r.epochs}: ${parts.join(", ")} (${lr}${speed}, ${r.seconds.toFixed(1)} s)${best}`;
}

const metricNames: Record<MonitorName, string> = {
  loss: "loss",
  accuracy: "accuracy",
  meanIoU: "mean IoU",
  boxError: "box error",
  mse: "mse",
};

const formatMetric = (name: MonitorName, value: number) =>
  name === "accuracy" ? percent(value) : decimal(value);

/** What ended the run, when it was not the last epoch, and whose weights the model holds. */
export function formatRunEnd(run: TrainingRun, monitor: MonitorOptions | undefined): string {
  const lines: string[] = [];
  if (run.results.length === 0) {
    lines.push(`nothing to train: the checkpoint is at epoch ${run.history.length}`);
  }
  if (monitor && run.history.length > 0) {
    const name = monitor.monitor;
    const bestEpoch = run.history.reduce(
      (best, e) => (e.epoch === run.bestEpoch ? e : best),
      run.history[0]!,
    );
    if (run.stoppedAfter !== undefined) {
      const delta = monitor.minDelta > 0 ? ` by more than ${monitor.minDelta}` : "";
      lines.push(
        `early stopping after epoch ${run.stoppedAfter}: the test ${metricNames[name]} has not improved${delta} for ${monitor.patience} epoch${monitor.patience === 1 ? "" : "s"}`,
      );
    }
    if (run.bestEpoch !== undefined) {
      lines.push(
        `kept the weights of epoch ${run.bestEpoch} (test ${metricNames[name]} ${formatMetric(name, bestEpoch.test[name]!)})`,
      );
    }
  }
  return lines.join("\n");
}

const SPARKS = "▁▂▃▄▅▆▇█";
/** Wider runs are sampled: a curve stays on one line of a terminal. */
const CURVE_WIDTH = 60;

/** One character per epoch (sampled past CURVE_WIDTH), scaled between `lo` and `hi`. */
function sparkline(values: readonly number[], lo: number, hi: number): string {
  const width = Math.min(values.length, CURVE_WIDTH);
  let line = "";
  for (let i = 0; i < width; i++) {
    const v = values[width === 1 ? 0 : Math.round((i * (values.length - 1)) / (width - 1))]!;
    const level = hi > lo ? Math.round(((v - lo) / (hi - lo)) * (SPARKS.length - 1)) : 0;
    line += SPARKS[level];
  }
  return line;
}

/**
 * The loss and accuracy of every epoch as sparklines, train and test on one scale per metric:
 * four short lines that need no colors to tell the series apart; empty before two epochs.
 */
export function formatCurves(history: readonly EpochScores[]): string {
  if (history.length < 2) return "";
  const rows: string[] = [];
  const metrics: ["loss" | "accuracy", (x: number) => string][] = [["loss", decimal]];
  if (history.every((e) => e.test.accuracy !== undefined)) metrics.push(["accuracy", percent]);
  for (const [name, format] of metrics) {
    const series = (["train", "test"] as const).map((part) => ({
      part,
      values: history.map((e) => e[part][name]!),
    }));
    const all = series.flatMap((s) => s.values);
    const lo = all.reduce((a, b) => Math.min(a, b));
    const hi = all.reduce((a, b) => Math.max(a, b));
    for (const { part, values } of series) {
      const label = `${part === "train" ? name : ""}`.padEnd(9) + part.padEnd(6);
      rows.push(
        `${label}${sparkline(values, lo, hi)}  ${format(values[0]!)} → ${format(values.at(-1)!)}`,
      );
    }
  }
  const range = `epochs 1-${history.length}${history.length > CURVE_WIDTH ? `, sampled` : ""}`;
  return [`curves (${range}; train and test on one scale per metric):`, ...rows].join("\n");
}

/** `StepLR(step_size=10, gamma=0.1)`, every argument shown. */
function formatCall(name: string, args: Readonly<Record<string, ArgValue | undefined>>): string {
  const shown = Object.entries(args).map(
    ([arg, value]) => `${arg}=${Array.isArray(value) ? `[${value.join(", ")}]` : value}`,
  );
  return `${name}(${shown.join(", ")})`;
}

/**
 * `SGD(lr=0.01, momentum=0.9, ...)` with the learning rate actually used, then the train block's
 * schedule (`schedule LinearLR(...) then CosineAnnealingLR(...)`) and clipping, if any.
 */
export function formatOptimizer(
  config: OptimizerConfig,
  lr: number,
  train: Pick<TrainConfig, "schedule" | "warmup" | "clip_grad_norm"> = {},
): string {
  const parts = [formatCall(config.name, { ...config.args, lr })];
  const schedules = [train.warmup, train.schedule].filter((s): s is ScheduleConfig => !!s);
  if (schedules.length > 0) {
    parts.push(`schedule ${schedules.map((s) => formatCall(s.name, s.args)).join(" then ")}`);
  }
  if (train.clip_grad_norm !== undefined) parts.push(`clip_grad_norm=${train.clip_grad_norm}`);
  return parts.join(", ");
}

/** `wasm kernels, 2 threads` */
export function formatKernels(k: { backend: BackendName; threads: number }): string {
  return `${k.backend} kernels${k.backend === "wasm" ? `, ${k.threads} thread${k.threads === 1 ? "" : "s"}` : ""}`;
}

const capitalized = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** One line of `--metrics`: the epoch's numbers, null where the task has no accuracy. */
export function metricsRecord(r: EpochResult): Record<string, number | boolean | null> {
  const record: Record<string, number | boolean | null> = {
    epoch: r.epoch,
    trainLoss: r.train.loss,
    trainAccuracy: r.train.accuracy ?? null,
    testLoss: r.test.loss,
    testAccuracy: r.test.accuracy ?? null,
    samplesPerSecond: r.samplesPerSecond,
    seconds: r.seconds,
  };
  if (r.learningRate !== undefined) record["learningRate"] = r.learningRate;
  for (const key of ["meanIoU", "boxError", "mse"] as const) {
    if (r.train[key] === undefined) continue;
    record[`train${capitalized(key)}`] = r.train[key];
    record[`test${capitalized(key)}`] = r.test[key] ?? null;
  }
  const e = r.trainEvaluation;
  if (e) {
    record["trainEvalLoss"] = e.loss;
    record["trainEvalAccuracy"] = e.accuracy ?? null;
    for (const key of ["meanIoU", "boxError", "mse"] as const) {
      if (e[key] !== undefined) record[`trainEval${capitalized(key)}`] = e[key];
    }
  }
  if (r.best !== undefined) record["best"] = r.best;
  return record;
}

/**
 * The matrix with a row per true class (`0 T-shirt/top`), a column per predicted class (by
 * number, to stay narrow), each class's recall and, for segmentation, its IoU.
 */
export function formatConfusion(
  confusion: ConfusionMatrix,
  classNames: readonly string[] | undefined,
  withIoU: boolean,
): string {
  const k = confusion.classes;
  const rows = confusion.rows();
  const labels = rows.map((_, c) => `${c} ${classNames?.[c] ?? ""}`.trimEnd());
  // Folds, not Math.max(...): a few hundred classes make more cells than a call takes arguments.
  const labelWidth = labels.reduce((w, l) => Math.max(w, l.length), "true \\ predicted".length);
  const width = rows.reduce(
    (w, row) => row.reduce((v, n) => Math.max(v, formatCount(n).length + 1), w),
    5,
  );
  const header = [
    "true \\ predicted".padEnd(labelWidth),
    ...rows.map((_, c) => String(c).padStart(width)),
    "  recall",
    ...(withIoU ? ["     IoU"] : []),
  ].join("");
  const lines = rows.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    const recall = total > 0 ? percent(row[c]! / total) : "-";
    const iou = confusion.iou(c);
    return [
      labels[c]!.padEnd(labelWidth),
      ...row.map((n) => formatCount(n).padStart(width)),
      recall.padStart(8),
      ...(withIoU ? [(Number.isNaN(iou) ? "-" : decimal(iou)).padStart(8)] : []),
    ].join("");
  });
  return [`confusion matrix (${k} classes)`, header, ...lines].join("\n");
}
