// A tiny classification task the training loop learns in milliseconds: 4x4 images whose lit row
// is the class.
import type { Dataset } from "../../runtime/data/dataset.js";
import { pseudoRandom } from "./gradcheck.js";

/**
 * `count` samples of four classes: class c lights up row c, plus noise of amplitude `noise`.
 * With `shift`, the lit row is c + shift: a set that misleads a model trained on the plain one.
 */
export function rows(
  count: number,
  options: { seed?: number; noise?: number; shift?: number } = {},
): Dataset {
  const { seed = 3, noise = 0.1, shift = 0 } = options;
  const inputs = new Float32Array(count * 16);
  const labels = new Int32Array(count);
  const next = pseudoRandom(seed);
  for (let n = 0; n < count; n++) {
    labels[n] = n % 4;
    for (let i = 0; i < 16; i++) {
      inputs[n * 16 + i] = (Math.floor(i / 4) === (n + shift) % 4 ? 1 : 0) + noise * next();
    }
  }
  return {
    inputs,
    inputShape: [1, 4, 4],
    count,
    targets: [{ data: labels, shape: [], classes: 4 }],
  };
}

/** A model that learns `rows`. */
export const rowsModel = `model Rows {
  input x: [1, 4, 4]
  Flatten
  hidden: Linear(8) -> ReLU
  scores: Linear(4)
  LogSoftMax
}
criterion NLL
train {
  optimizer = SGD(lr=0.1, momentum=0.9)
}
`;
