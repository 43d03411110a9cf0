// Batches of a data set as a model takes them: the input, and the targets keyed by output name,
// augmented when the training loop asks.
import type { Target } from "./api-types.js";
import type { TargetBinding } from "./bind-data.js";
import type { Augmentation } from "./data/augment.js";
import { allocateBatch, fillBatch, type BatchBuffers } from "./data/batches.js";
import { sizeOf, type Dataset } from "./data/dataset.js";
import type { Rng } from "./rng.js";

export class Feeder {
  readonly buffers: BatchBuffers;
  private readonly inputSize: number;
  private readonly targetSizes: number[];

  constructor(
    readonly dataset: Dataset,
    private readonly bindings: readonly TargetBinding[],
    size: number,
    /** Applied to each batch filled with draws to make from (training batches). */
    private readonly augmentation?: Augmentation,
  ) {
    this.buffers = allocateBatch(dataset, size);
    this.inputSize = sizeOf(dataset.inputShape);
    this.targetSizes = dataset.targets.map((t) => sizeOf(t.shape));
  }

  /**
   * Fills batch `index` (in `order`, or stored order), augmented from `draws` when given;
   * returns its sample count.
   */
  fill(order: Uint32Array | undefined, index: number, draws?: Rng): number {
    const n = fillBatch(this.dataset, order, index, this.buffers);
    if (draws) this.augmentation?.apply(this.buffers, n, draws);
    return n;
  }

  /** The first `n` samples of the filled batch: the model ignores the rest of its batch. */
  input(n: number): Float32Array {
    return this.buffers.inputs.subarray(0, n * this.inputSize);
  }

  targets(n: number): Record<string, Target> {
    const record: Record<string, Target> = {};
    for (const { name, index } of this.bindings) {
      record[name] = this.buffers.targets[index]!.subarray(0, n * this.targetSizes[index]!);
    }
    return record;
  }
}
