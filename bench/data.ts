// The benchmark data: the first 6,400 Fashion-MNIST training images in [0, 1] and their labels,
// through the runtime's loader (Debian's dataset-fashion-mnist, else the embedded sample).
import { loadFashionMnist } from "../runtime/node/fashion-mnist.js";

export const BATCH = 64;
const WANTED = 6400;
export const PIXELS = 28 * 28;

export interface BenchData {
  /** `count` images, NCHW with one channel (the same bytes as NHWC). */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  batches: number;
  description: string;
}

export function loadData(): BenchData {
  const { train, description } = loadFashionMnist();
  // The embedded sample has only 4,000 training images: use whole batches of what there is.
  const count = Math.floor(Math.min(WANTED, train.count) / BATCH) * BATCH;
  const labels = train.targets[0]!.data;
  if (!(labels instanceof Int32Array))
    throw new Error("Fashion-MNIST labels are not class indices");
  return {
    images: train.inputs.slice(0, count * PIXELS),
    labels: labels.slice(0, count),
    count,
    batches: count / BATCH,
    description: `${description}; the first ${count.toLocaleString("en-US")} training images`,
  };
}

/** Batch `i` (cycling through the data): views, not copies. */
export function batchOf(data: BenchData, i: number): { x: Float32Array; y: Int32Array } {
  const start = (i % data.batches) * BATCH;
  return {
    x: data.images.subarray(start * PIXELS, (start + BATCH) * PIXELS),
    y: data.labels.subarray(start, start + BATCH),
  };
}

/** Sample `i` alone, for batch-1 latency. */
export function sampleOf(data: BenchData, i: number): Float32Array {
  const start = i % data.count;
  return data.images.subarray(start * PIXELS, (start + 1) * PIXELS);
}
