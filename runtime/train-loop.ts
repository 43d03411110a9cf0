// The training loop: seeded shuffles, full batches, the running loss and metrics of the training
// steps, an evaluation of the test set after each epoch, early stopping and the best weights,
// checkpoints after each epoch and resuming from one.
import type { Layout, Model, TensorView } from "./api-types.js";
import { bindData } from "./bind-data.js";
import type { AugmentStep } from "./api-types.js";
import { Augmentation } from "./data/augment.js";
import { batchCount, epochOrder } from "./data/batches.js";
import type { Dataset } from "./data/dataset.js";
import { Monitor, type MonitorOptions } from "./early-stopping.js";
import { NetcError } from "./errors.js";
import { evaluate, RunningEvaluation, type Evaluation } from "./evaluate.js";
import { Feeder } from "./feeder.js";
import {
  loadLoopCheckpoint,
  saveLoopCheckpoint,
  type EpochScores,
  type LoopState,
  type RunSettings,
} from "./loop-checkpoint.js";
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
  /**
   * The training steps' own loss and metrics, accumulated as they ran (in training mode, with
   * the weights of each step's start), as Keras reports them.
   */
  train: Evaluation;
  /** With `evalTrain`: the whole training set again in evaluation mode, after the epoch. */
  trainEvaluation?: Evaluation;
  test: Evaluation;
  /** Training throughput (the evaluations excluded). */
  samplesPerSecond: number;
  /** The whole epoch: training and the evaluations. */
  seconds: number;
  /** With monitoring: this epoch is the best so far. */
  best?: boolean;
  /** With `learningRateAt` (a schedule): the epoch's learning rate. */
  learningRate?: number;
}

export interface TrainLoopOptions {
  model: Model;
  layout: Layout;
  train: Dataset;
  test: Dataset;
  /** The epoch to end at (counting those of a resumed checkpoint). */
  epochs: number;
  /** Seeds the shuffles and augmentation (the model's own seed covers initialisation and dropout). */
  seed: number;
  /** Replaces the optimizer's learning rate. */
  learningRate?: number;
  /**
   * The learning rate of each epoch, 0-based (runtime/schedules.ts `scheduledLearningRate`),
   * set at the epoch's start.
   */
  learningRateAt?: (epoch: number) => number;
  /** Also evaluates the whole training set in evaluation mode after each epoch. */
  evalTrain?: boolean;
  /** Watches a test metric: early stopping, keeping the best weights. */
  monitor?: MonitorOptions;
  /** The `train` block's augmentation, applied to each training batch. */
  augment?: readonly AugmentStep[];
  /** A checkpoint to go on from (`saveCheckpoint`'s bytes), and its name for errors. */
  resume?: { bytes: Uint8Array; source: string };
  /** After a checkpoint was restored: the epochs and steps it had done. */
  onResume?: (epoch: number, step: number) => void;
  onStep?: (progress: StepProgress) => void;
  onEpoch?: (result: EpochResult) => void;
  /** Called after each epoch with the checkpoint's bytes; none are made without it. */
  onCheckpoint?: (bytes: Uint8Array) => void;
  /** Milliseconds, for timing; `performance.now` by default. */
  now?: () => number;
}

export interface TrainingRun {
  /** This call's epochs. */
  results: EpochResult[];
  /** Every epoch's scores from the first, those before a resume included. */
  history: EpochScores[];
  /** Early stopping ended the run after this epoch. */
  stoppedAfter?: number;
  /** With `keepBest`: the epoch whose weights the model holds now. */
  bestEpoch?: number;
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

const scores = ({ confusion: _, ...rest }: Evaluation) => rest;

/** Trains up to epoch `epochs`; throws DivergenceError. */
export function trainLoop(options: TrainLoopOptions): TrainingRun {
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
  const bindings = bindData(layout, train);
  const augmentation = options.augment?.length
    ? new Augmentation(options.augment, train)
    : undefined;
  const trainFeeder = new Feeder(train, bindings, batch, augmentation);
  const testFeeder = new Feeder(test, bindData(layout, test), batch);
  const monitor = options.monitor ? new Monitor(options.monitor, task) : undefined;
  const weights: TensorView[] = [...model.params, ...model.buffers];
  const settings: RunSettings = {
    seed: options.seed,
    batch,
    trainCount: train.count,
    monitor: options.monitor ?? null,
    augment: augmentation?.description ?? "",
  };
  let state: LoopState = {
    settings,
    epoch: 0,
    step: 0,
    stopped: false,
    monitor: monitor?.state ?? null,
    history: [],
  };
  if (options.resume) {
    const { bytes, source } = options.resume;
    const restored = loadLoopCheckpoint(model, weights, bytes, source, settings);
    if (restored.state.epoch > epochs) {
      throw new NetcError(
        `${source}: the checkpoint has trained ${restored.state.epoch} epochs, more than the ${epochs} asked for`,
      );
    }
    state = restored.state;
    if (monitor) {
      monitor.state = state.monitor!;
      monitor.bestWeights = restored.best;
    }
    options.onResume?.(state.epoch, state.step);
  }
  if (options.learningRate !== undefined) model.setLearningRate(options.learningRate);
  const shuffle = new Rng(options.seed).fork("shuffle");
  const augmentStream = new Rng(options.seed).fork("augment");
  const order = new Uint32Array(train.count);
  const results: EpochResult[] = [];

  for (let epoch = state.epoch + 1; epoch <= epochs && !state.stopped; epoch++) {
    const start = now();
    const learningRate = options.learningRateAt?.(epoch - 1);
    if (learningRate !== undefined) model.setLearningRate(learningRate);
    epochOrder(train.count, shuffle, epoch, order);
    const running = new RunningEvaluation(task, batch);
    const targets = trainFeeder.targets(batch);
    const input = trainFeeder.input(batch);
    for (let step = 1; step <= steps; step++) {
      // Full batches only: a small last batch would weigh its few samples as much as a full one.
      // Each batch's draws depend on its epoch and step alone: a resumed run draws the same.
      trainFeeder.fill(order, step - 1, augmentation && augmentStream.fork(`${epoch}.${step}`));
      const loss = model.trainStep(input, targets);
      if (!Number.isFinite(loss)) throw new DivergenceError(loss, epoch, step);
      running.add(loss, model.outputs, targets, batch);
      const seconds = (now() - start) / 1000;
      options.onStep?.({
        epoch,
        epochs,
        step,
        steps,
        loss: running.loss,
        samplesPerSecond: (step * batch) / seconds,
        seconds,
      });
    }
    const samplesPerSecond = (steps * batch) / ((now() - start) / 1000);
    const trainEvaluation = options.evalTrain ? evaluate(model, task, trainFeeder) : undefined;
    const testEvaluation = evaluate(model, task, testFeeder);
    for (const e of [trainEvaluation, testEvaluation]) {
      if (e && !Number.isFinite(e.loss)) throw new DivergenceError(e.loss, epoch, undefined);
    }
    const trained = running.result();
    const stop = monitor?.update(epoch, testEvaluation, weights) ?? false;
    const result: EpochResult = {
      epoch,
      epochs,
      train: trained,
      test: testEvaluation,
      samplesPerSecond,
      seconds: (now() - start) / 1000,
    };
    if (trainEvaluation) result.trainEvaluation = trainEvaluation;
    if (monitor) result.best = monitor.state.bestEpoch === epoch;
    if (learningRate !== undefined) result.learningRate = learningRate;
    state = {
      settings,
      epoch,
      step: state.step + steps,
      stopped: stop,
      monitor: monitor?.state ?? null,
      history: [...state.history, { epoch, train: scores(trained), test: scores(testEvaluation) }],
    };
    results.push(result);
    options.onEpoch?.(result);
    if (options.onCheckpoint) {
      const best = monitor?.bestWeights && { names: weights, values: monitor.bestWeights };
      options.onCheckpoint(saveLoopCheckpoint(model, state, best));
    }
  }

  const run: TrainingRun = { results, history: state.history };
  if (state.stopped) run.stoppedAfter = state.epoch;
  if (monitor?.options.keepBest && monitor.bestWeights) {
    weights.forEach((w, i) => w.data.set(monitor.bestWeights![i]!));
    run.bestEpoch = monitor.state.bestEpoch;
  }
  return run;
}
