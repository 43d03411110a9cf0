// Evaluation-mode loss and the task's metrics over a whole data set, batch by batch.
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

/** Accumulates one task's metrics over batches. */
interface Metrics {
  add(outputs: Values<Float32Array>, targets: Record<string, Target>, n: number): void;
  result(): Omit<Evaluation, "count" | "loss">;
}

/** A model output by name: a single output comes as the array itself. */
const outputOf = (outputs: Values<Float32Array>, name: string): Float32Array =>
  ArrayBuffer.isView(outputs) ? outputs : outputs[name]!;

function metricsFor(task: Task | undefined, batch: number): Metrics {
  switch (task?.kind) {
    case "classification":
    case "segmentation": {
      const spatial = task.kind === "segmentation" ? task.pixels : 1;
      const confusion = new ConfusionMatrix(task.classes);
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
      const detection = new DetectionMetrics(task.cells);
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
          // The outputs are copies of the batch's samples alone.
          const output = outputOf(outputs, task.output);
          error.add(output, targets[task.output] as Float32Array, output.length);
        },
        result: () => ({ mse: error.mean() }),
      };
    }
    case undefined:
      return { add() {}, result: () => ({}) };
  }
}

/** Every sample of `feeder`'s data set in stored order, in evaluation mode (no dropout). */
export function evaluate(model: Model, task: Task | undefined, feeder: Feeder): Evaluation {
  const metrics = metricsFor(task, feeder.buffers.size);
  const batches = Math.ceil(feeder.dataset.count / feeder.buffers.size);
  let lossSum = 0;
  let count = 0;
  for (let b = 0; b < batches; b++) {
    const n = feeder.fill(undefined, b);
    const targets = feeder.targets(n);
    const { loss, outputs } = model.evaluate(feeder.input(n), targets);
    lossSum += loss * n;
    count += n;
    metrics.add(outputs, targets, n);
  }
  return { count, loss: lossSum / count, ...metrics.result() };
}
