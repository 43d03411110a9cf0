// Holding out a test set from data that has none: a seeded choice of samples, the same for the
// same seed and fraction, so that `netc eval` sees the samples `netc train` did not train on.
import { NetcError } from "../errors.js";
import { Rng } from "../rng.js";
import { sizeOf, type Dataset } from "./dataset.js";

/** The samples `records` of `dataset`, in that order, copied; errors still name the originals. */
export function selectSamples(dataset: Dataset, records: Uint32Array): Dataset {
  const gather = (data: Float32Array | Int32Array, size: number) => {
    const out =
      data instanceof Int32Array
        ? new Int32Array(records.length * size)
        : new Float32Array(records.length * size);
    records.forEach((r, i) => out.set(data.subarray(r * size, (r + 1) * size), i * size));
    return out;
  };
  const original = (locate: ((record: number) => string) | undefined) => (record: number) =>
    locate ? locate(records[record]!) : `record ${records[record]}`;
  const inputs = gather(dataset.inputs, sizeOf(dataset.inputShape)) as Float32Array;
  return {
    ...dataset,
    inputs,
    count: records.length,
    targets: dataset.targets.map((t) => ({
      ...t,
      // A reconstruction target is the inputs themselves, and stays so.
      data: t.data === dataset.inputs ? inputs : gather(t.data, sizeOf(t.shape)),
      ...(t.locate ? { locate: original(t.locate) } : {}),
    })),
    locate: original(dataset.locate),
  };
}

export interface HeldOut {
  train: Dataset;
  test: Dataset;
}

/**
 * Splits `dataset` into training and test samples: `fraction` of them (rounded, at least one)
 * drawn by `new Rng(seed).fork("test-split")`, each part in stored order.
 */
export function holdOut(dataset: Dataset, fraction: number, seed: number): HeldOut {
  if (!(fraction > 0 && fraction < 1)) {
    throw new NetcError(`the test fraction must be above 0 and below 1, got ${fraction}`);
  }
  const n = dataset.count;
  const testCount = Math.max(1, Math.round(fraction * n));
  if (n < 2 || testCount >= n) {
    throw new NetcError(
      `${n} sample${n === 1 ? "" : "s"} cannot be split into a training and a test set by a fraction of ${fraction}: more data is needed`,
    );
  }
  const rng = new Rng(seed).fork("test-split");
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  // The first `testCount` places of a Fisher-Yates shuffle: a uniform choice of that many.
  for (let i = 0; i < testCount; i++) {
    const j = i + rng.int(n - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const test = order.subarray(0, testCount).sort();
  const chosen = new Uint8Array(n);
  test.forEach((r) => (chosen[r] = 1));
  const train = Uint32Array.from({ length: n }, (_, i) => i).filter((r) => !chosen[r]);
  return { train: selectSamples(dataset, train), test: selectSamples(dataset, test) };
}
