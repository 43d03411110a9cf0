// Broadcast Add and Mul: each input read through its strides along the output's dimensions;
// the gradient sums back over the dimensions an input is broadcast along.
import type { BroadcastInput } from "../../../ops.js";
import { clearUnlessAccumulating, type KernelEmitter } from "./kernel.js";

/**
 * Nested loops over every sample and output position, `i0`, `i1`, … along `dims`, and `body`
 * given each index expression: the output's and each of `inputs`'.
 */
function overOutputs(
  dims: readonly number[],
  inputs: readonly BroadcastInput[],
  body: (out: string, inputs: string[]) => string,
): string {
  const P = dims.reduce((p, d) => p * d, 1);
  const outStrides = dims.map((_, d) => dims.slice(d + 1).reduce((p, v) => p * v, 1));
  const index = (perSample: number, strides: readonly number[]) =>
    [`n * ${perSample}`, ...strides.flatMap((s, d) => (s === 0 ? [] : [`i${d} * ${s}`]))].join(
      " + ",
    );
  const loops = dims.map((d, k) => `for (let i${k} = 0; i${k} < ${d}; i${k}++)`).join(" ");
  const reads = inputs.map((x) => index(x.size, x.strides));
  return `for (let n = 0; n < N; n++) ${loops} ${body(index(P, outStrides), reads)}`;
}

export const broadcastAdd: KernelEmitter<"broadcast_add"> = ({ ins, outs, a }) =>
  overOutputs(
    a.dims,
    [a.a, a.b],
    (o, [i, j]) => `f[${outs[0]} + ${o}] = f[${ins[0]} + ${i}] + f[${ins[1]} + ${j}];`,
  );

export const broadcastMul: KernelEmitter<"broadcast_mul"> = ({ ins, outs, a }) =>
  overOutputs(
    a.dims,
    [a.a, a.b],
    (o, [i, j]) => `f[${outs[0]} + ${o}] = f[${ins[0]} + ${i}] * f[${ins[1]} + ${j}];`,
  );

/** dx = Σ dy (· other) over the positions that read each value of x. */
export const broadcastGrad: KernelEmitter<"broadcast_grad"> = ({ ins, outs, a, acc }) =>
  clearUnlessAccumulating(outs[0]!, `N * ${a.x.size}`, acc) +
  overOutputs(a.dims, a.other ? [a.x, a.other] : [a.x], (o, [i, j]) => {
    const factor = a.other ? ` * f[${ins[1]} + ${j}]` : "";
    return `f[${outs[0]} + ${i}] += f[${ins[0]} + ${o}]${factor};`;
  });
