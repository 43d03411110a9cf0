// How train and eval print results: an epoch line, a metrics JSON object, a confusion matrix.
import type { ConfusionMatrix } from "../runtime/data/metrics.js";
import type { Evaluation } from "../runtime/evaluate.js";
import type {
  ArgValue,
  BackendName,
  OptimizerConfig,
  ScheduleConfig,
  TrainConfig,
} from "../runtime/api-types.js";
import type { EpochResult } from "../runtime/train-loop.js";
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

export function formatEpoch(r: EpochResult): string {
  const speed = `${formatCount(Math.round(r.samplesPerSecond))} samples/s`;
  return `epoch ${r.epoch}/${r.epochs}: train ${formatEvaluation(r.train)}, test ${formatEvaluation(r.test)} (${speed}, ${r.seconds.toFixed(1)} s)`;
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
export function metricsRecord(r: EpochResult): Record<string, number | null> {
  const record: Record<string, number | null> = {
    epoch: r.epoch,
    trainLoss: r.train.loss,
    trainAccuracy: r.train.accuracy ?? null,
    testLoss: r.test.loss,
    testAccuracy: r.test.accuracy ?? null,
    samplesPerSecond: r.samplesPerSecond,
    seconds: r.seconds,
  };
  for (const key of ["meanIoU", "boxError", "mse"] as const) {
    if (r.train[key] === undefined) continue;
    record[`train${capitalized(key)}`] = r.train[key];
    record[`test${capitalized(key)}`] = r.test[key] ?? null;
  }
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
