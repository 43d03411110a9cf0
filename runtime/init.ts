// Parameter initialisation: fills each tensor as its layer's PyTorch default prescribes.
import type { ParamInit } from "./api-types.js";
import { Rng } from "./rng.js";

export interface InitTarget {
  /** The PyTorch-style name (`conv1.weight`): it names the tensor's random stream. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParamInit;
  readonly data: Float32Array;
}

/**
 * Fills every tensor: uniform in [−bound, bound] (PyTorch's default for Linear and Conv), or
 * a constant (batch-norm weight 1, bias 0, running statistics). Each tensor draws from its own
 * stream, `new Rng(seed).fork("init").fork(name)`, so its values depend only on the seed, its
 * name and its size: adding, removing, resizing or reordering other layers leaves them as they
 * were. Values are the same on every platform (see `Rng`).
 */
export function initialize(params: readonly InitTarget[], seed: number): void {
  const root = new Rng(seed).fork("init");
  for (const { name, shape, init, data } of params) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new RangeError(`initialize: ${name} has ${data.length} values for shape [${shape}]`);
    }
    if (init.kind === "constant") {
      data.fill(init.value);
      continue;
    }
    const rng = root.fork(name);
    const bound = init.bound;
    for (let i = 0; i < size; i++) data[i] = rng.uniform(-bound, bound);
  }
}
