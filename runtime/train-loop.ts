// The training loop: seeded shuffles, full batches, and after each epoch an evaluation-mode pass
// over the training and test sets with the task's metrics.
import type { Layout, Model } from "./api-types.js";
import { bindData } from "./bind-data.js";
import { batchCount, epochOrder } from "./data/batches.js";
import type { Dataset } from "./data/dataset.js";
import { NetcError } from "./errors.js";
import { evaluate, type Evaluation } from "./evaluate.js";
import { Feeder } from "./feeder.js";
import { Rng } from "./rng.js";
import { taskOf } from "./task.js";

export interface StepProgress {
  epoch: number;
  epochs: number;
  /** Steps done in this epoch, 1-based. */
  step: number;
  steps: number;
  /** The mean training-mode loss of the epoch's steps so far. */
  loss: number;
  samplesPerSecond: number;
  /** Since the epoch began. */
  seconds: number;
}

export interface EpochResult {
  epoch: number;
  epochs: number;
  train: Evaluation;
  test: Evaluation;
  /** Training throughput (the evaluations excluded). */
  samplesPerSecond: number;
  /** The whole epoch: training and both evaluations. */
  seconds: number;
}

export interface TrainLoopOptions {
  model: Model;
  layout: Layout;
  train: Dataset;
  test: Dataset;
  epochs: number;
  /** Seeds the shuffles (the model's own seed covers initialisation and dropout). */
  seed: number;
  /** Replaces the optimizer's learning rate. */
  learningRate?: number;
  /**
   * The learning rate of each epoch, 0-based (runtime/schedules.ts `scheduledLearningRate`),
   * set at the epoch's start.
   */
  learningRateAt?: (epoch: number) => number;
  onStep?: (progress: StepProgress) => void;
  onEpoch?: (result: EpochResult) => void;
  /** Milliseconds, for timing; `performance.now` by default. */
  now?: () => number;
}

/** The loss stopped being a number: the weights are those before the step that failed. */
export class DivergenceError extends NetcError {
  constructor(
    readonly loss: number,
    readonly epoch: number,
    /** The failing step, or undefined when the evaluation after the epoch found it. */
    readonly step: number | undefined,
  ) {
    const where = step === undefined ? `after epoch ${epoch}` : `at epoch ${epoch}, step ${step}`;
    super(`the loss is ${loss} ${where}: training diverged; try a lower learning rate`);
  }
}

/** Trains for `epochs` epochs; returns each epoch's evaluation. Throws DivergenceError. */
export function trainLoop(options: TrainLoopOptions): EpochResult[] {
  const { model, layout, train, test, epochs } = options;
  const now = options.now ?? (() => performance.now());
  const task = taskOf(layout);
  const batch = model.batch;
  const steps = batchCount(train.count, batch, true);
  if (steps === 0) {
    throw new NetcError(
      `the training set has ${train.count} samples, fewer than one batch of ${batch}`,
    );
  }
  const trainFeeder = new Feeder(train, bindData(layout, train), batch);
  const testFeeder = new Feeder(test, bindData(layout, test), batch);
  if (options.learningRate !== undefined) model.setLearningRate(options.learningRate);
  const shuffle = new Rng(options.seed).fork("shuffle");
  const order = new Uint32Array(train.count);
  const results: EpochResult[] = [];

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const start = now();
    if (options.learningRateAt) model.setLearningRate(options.learningRateAt(epoch - 1));
    epochOrder(train.count, shuffle, epoch, order);
    let lossSum = 0;
    for (let step = 1; step <= steps; step++) {
      // Full batches only: a small last batch would weigh its few samples as much as a full one.
      trainFeeder.fill(order, step - 1);
      const loss = model.trainStep(trainFeeder.input(batch), trainFeeder.targets(batch));
      if (!Number.isFinite(loss)) throw new DivergenceError(loss, epoch, step);
      lossSum += loss;
      const seconds = (now() - start) / 1000;
      options.onStep?.({
        epoch,
        epochs,
        step,
        steps,
        loss: lossSum / step,
        samplesPerSecond: (step * batch) / seconds,
        seconds,
      });
    }
    const samplesPerSecond = (steps * batch) / ((now() - start) / 1000);
    const trainEvaluation = evaluate(model, task, trainFeeder);
    const testEvaluation = evaluate(model, task, testFeeder);
    for (const { loss } of [trainEvaluation, testEvaluation]) {
      if (!Number.isFinite(loss)) throw new DivergenceError(loss, epoch, undefined);
    }
    const result: EpochResult = {
      epoch,
      epochs,
      train: trainEvaluation,
      test: testEvaluation,
      samplesPerSecond,
      seconds: (now() - start) / 1000,
    };
    results.push(result);
    options.onEpoch?.(result);
  }
  return results;
}
