// Watching a test metric across epochs, as Keras's EarlyStopping does: the best value so far, the
// epochs since it improved, and (to keep the best weights) a copy of the model at its best.
import type { TensorView } from "./api-types.js";
import type { Evaluation } from "./evaluate.js";
import { NetcError } from "./errors.js";
import type { Task } from "./task.js";

/** The metrics an epoch's test evaluation may have, by their `Evaluation` names. */
export const monitorNames = ["loss", "accuracy", "meanIoU", "boxError", "mse"] as const;
export type MonitorName = (typeof monitorNames)[number];

/** Lower is better for losses and errors, higher for accuracies and IoU. */
const higherIsBetter: Record<MonitorName, boolean> = {
  loss: false,
  accuracy: true,
  meanIoU: true,
  boxError: false,
  mse: false,
};

export interface MonitorOptions {
  /** The test metric watched (Keras's `monitor="val_loss"` is "loss"). */
  monitor: MonitorName;
  /** An epoch improves on the best by more than this, or it does not count (Keras's min_delta). */
  minDelta: number;
  /** Stop after this many epochs without improvement (Keras's patience); absent: never stop. */
  patience?: number;
  /** Keep a copy of the weights of the best epoch and end with them (restore_best_weights). */
  keepBest: boolean;
}

/** The monitor's position, as JSON data for a checkpoint. */
export interface MonitorState {
  /** The best value so far, or null before the first epoch. */
  best: number | null;
  bestEpoch: number;
  /** Epochs since the best (Keras's `wait`). */
  wait: number;
}

/** The metrics `task`'s evaluations have: what may be monitored. */
export function metricsOf(task: Task | undefined): MonitorName[] {
  switch (task?.kind) {
    case "classification":
      return ["loss", "accuracy"];
    case "segmentation":
      return ["loss", "accuracy", "meanIoU"];
    case "detection":
      return ["loss", "accuracy", "boxError"];
    case "reconstruction":
      return ["loss", "mse"];
    case undefined:
      return ["loss"];
  }
}

export class Monitor {
  state: MonitorState = { best: null, bestEpoch: 0, wait: 0 };
  /** The weights and buffers at the best epoch, when kept. */
  bestWeights: Float32Array[] | undefined;

  constructor(
    readonly options: MonitorOptions,
    task: Task | undefined,
  ) {
    const known = metricsOf(task);
    if (!known.includes(options.monitor)) {
      throw new NetcError(
        `cannot monitor ${options.monitor}: the test set's metrics are ${known.join(", ")}`,
      );
    }
  }

  /**
   * Takes an epoch's test evaluation; keeps the weights if it is the best; returns whether
   * training should stop (patience ran out).
   */
  update(epoch: number, test: Evaluation, weights: readonly TensorView[]): boolean {
    const value = test[this.options.monitor]!;
    const { best } = this.state;
    const delta = this.options.minDelta;
    const improved =
      best === null ||
      (higherIsBetter[this.options.monitor] ? value - delta > best : value + delta < best);
    if (improved) {
      this.state = { best: value, bestEpoch: epoch, wait: 0 };
      if (this.options.keepBest) {
        this.bestWeights ??= weights.map((w) => new Float32Array(w.data.length));
        weights.forEach((w, i) => this.bestWeights![i]!.set(w.data));
      }
      return false;
    }
    this.state = { ...this.state, wait: this.state.wait + 1 };
    return this.options.patience !== undefined && this.state.wait >= this.options.patience;
  }
}
