// The loss and the task's metrics over batches: an evaluation-mode pass over a whole data set, or
// the running figures of the training steps themselves.
import type { Model, Target, Values } from "./api-types.js";
import {
  argmaxClasses,
  ConfusionMatrix,
  DetectionMetrics,
  ReconstructionError,
} from "./data/metrics.js";
import type { Feeder } from "./feeder.js";
import type { Task } from "./task.js";

export interface Evaluation {
  /** Samples evaluated: all of them, the partial last batch included. */
  count: number;
  /** The mean loss per sample. */
  loss: number;
  /** Classes right (classification), pixels right (segmentation), objectness cells right (detection). */
  accuracy?: number;
  /** Segmentation: the mean intersection over union of the classes present. */
  meanIoU?: number;
  /** Detection: the mean absolute error of the box numbers where there is an object. */
  boxError?: number;
  /** Reconstruction: the mean squared error per value. */
  mse?: number;
  /** Classification and segmentation: rows true classes, columns predicted ones. */
  confusion?: ConfusionMatrix;
}

type Outputs = Values<Float32Array | Float64Array>;

/** Accumulates one task's metrics over batches. */
interface Metrics {
  /** The first `n` samples of `outputs` (copies, or the model's live views of a whole batch). */
  add(outputs: Outputs, targets: Record<string, Target>, n: number): void;
  result(): Omit<Evaluation, "count" | "loss">;
}

/** A model output by name: a single output comes as the array itself. */
const outputOf = (outputs: Outputs, name: string): Float32Array | Float64Array =>
  ArrayBuffer.isView(outputs) ? outputs : outputs[name]!;

function metricsFor(task: Task | undefined, batch: number): Metrics {
  switch (task?.kind) {
    case "classification":
    case "segmentation": {
      const spatial = task.kind === "segmentation" ? task.pixels : 1;
      const confusion = new ConfusionMatrix(task.classes, task.ignore);
      const predicted = new Int32Array(batch * spatial);
      return {
        add(outputs, targets, n) {
          argmaxClasses(outputOf(outputs, task.output), n, task.classes, spatial, predicted);
          confusion.add(predicted, targets[task.output]!, n * spatial);
        },
        result: () =>
          task.kind === "segmentation"
            ? { accuracy: confusion.accuracy(), meanIoU: confusion.meanIoU(), confusion }
            : { accuracy: confusion.accuracy(), confusion },
      };
    }
    case "detection": {
      const detection = new DetectionMetrics(task.cells, task.threshold);
      return {
        add(outputs, targets, n) {
          detection.add(
            outputOf(outputs, "boxes"),
            outputOf(outputs, "objectness"),
            targets["boxes"] as Float32Array,
            targets["objectness"] as Float32Array,
            n,
          );
        },
        result: () => ({
          accuracy: detection.objectnessAccuracy(),
          boxError: detection.boxError(),
        }),
      };
    }
    case "reconstruction": {
      const error = new ReconstructionError();
      return {
        add(outputs, targets) {
          // The targets hold the batch's samples alone.
          const target = targets[task.output] as Float32Array;
          error.add(outputOf(outputs, task.output), target, target.length);
        },
        result: () => ({ mse: error.mean() }),
      };
    }
    case undefined:
      return { add() {}, result: () => ({}) };
  }
}

/** The loss and the task's metrics of batches as they come, and their means. */
export class RunningEvaluation {
  private readonly metrics: Metrics;
  private lossSum = 0;
  private count = 0;

  constructor(task: Task | undefined, batch: number) {
    this.metrics = metricsFor(task, batch);
  }

  /** A batch of `n` samples whose mean loss was `loss`. */
  add(loss: number, outputs: Outputs, targets: Record<string, Target>, n: number): void {
    this.lossSum += loss * n;
    this.count += n;
    this.metrics.add(outputs, targets, n);
  }

  /** The mean loss so far, without the metrics' cost. */
  get loss(): number {
    return this.lossSum / this.count;
  }

  result(): Evaluation {
    return { count: this.count, loss: this.loss, ...this.metrics.result() };
  }
}

/** Every sample of `feeder`'s data set in stored order, in evaluation mode (no dropout). */
export function evaluate(model: Model, task: Task | undefined, feeder: Feeder): Evaluation {
  const running = new RunningEvaluation(task, feeder.buffers.size);
  const batches = Math.ceil(feeder.dataset.count / feeder.buffers.size);
  for (let b = 0; b < batches; b++) {
    const n = feeder.fill(undefined, b);
    const targets = feeder.targets(n);
    const { loss, outputs } = model.evaluate(feeder.input(n), targets);
    running.add(loss, outputs, targets, n);
  }
  return running.result();
}
