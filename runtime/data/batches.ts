// Mini-batches: a seeded shuffle per epoch and copying samples into buffers the training loop reuses.
import type { Rng } from "../rng.js";
import { sizeOf, type Dataset } from "./dataset.js";

/**
 * The sample order of one epoch: a uniform permutation of 0 .. count − 1 (Fisher-Yates) drawn
 * from `shuffle.fork(epoch)`, so each epoch differs and any epoch can be recreated alone (resuming
 * from a checkpoint). `shuffle` is the run's shuffling stream, `new Rng(seed).fork("shuffle")`.
 */
export function epochOrder(
  count: number,
  shuffle: Rng,
  epoch: number,
  into = new Uint32Array(count),
): Uint32Array {
  const rng = shuffle.fork(epoch);
  for (let i = 0; i < count; i++) into[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = into[i]!;
    into[i] = into[j]!;
    into[j] = t;
  }
  return into;
}

/** One batch's worth of inputs and targets (aligned with `dataset.targets`), reused every step. */
export interface BatchBuffers {
  /** Samples per full batch. */
  size: number;
  inputs: Float32Array;
  targets: (Int32Array | Float32Array)[];
}

/** Buffers for batches of `size` samples of `dataset`; allocate once per run. */
export function allocateBatch(dataset: Dataset, size: number): BatchBuffers {
  return {
    size,
    inputs: new Float32Array(size * sizeOf(dataset.inputShape)),
    targets: dataset.targets.map((t) =>
      t.data instanceof Int32Array
        ? new Int32Array(size * sizeOf(t.shape))
        : new Float32Array(size * sizeOf(t.shape)),
    ),
  };
}

/** How many batches an epoch has: a partial last batch counts unless `dropLast` (training). */
export function batchCount(count: number, size: number, dropLast: boolean): number {
  return dropLast ? Math.floor(count / size) : Math.ceil(count / size);
}

/**
 * Copies batch `index` (samples `order[index * size ...]`, or in stored order without `order`)
 * into `into`; returns how many samples it holds: `into.size`, or fewer for a partial last batch,
 * whose remaining slots keep earlier samples and must be ignored.
 */
export function fillBatch(
  dataset: Dataset,
  order: Uint32Array | undefined,
  index: number,
  into: BatchBuffers,
): number {
  const start = index * into.size;
  const n = Math.min(into.size, dataset.count - start);
  const inputSize = sizeOf(dataset.inputShape);
  for (let k = 0; k < n; k++) {
    const sample = order ? order[start + k]! : start + k;
    into.inputs.set(
      dataset.inputs.subarray(sample * inputSize, (sample + 1) * inputSize),
      k * inputSize,
    );
    dataset.targets.forEach((target, t) => {
      const size = sizeOf(target.shape);
      into.targets[t]!.set(target.data.subarray(sample * size, (sample + 1) * size), k * size);
    });
  }
  return n;
}

/**
 * Fills `into` with each batch of an epoch in turn and yields its sample count; a partial last
 * batch is skipped when `dropLast`, and yielded with its smaller count otherwise.
 */
export function* batches(
  dataset: Dataset,
  into: BatchBuffers,
  options: { order?: Uint32Array; dropLast: boolean },
): Generator<number> {
  const n = batchCount(dataset.count, into.size, options.dropLast);
  for (let b = 0; b < n; b++) yield fillBatch(dataset, options.order, b, into);
}
