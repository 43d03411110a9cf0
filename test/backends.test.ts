// The backend contract: the op list, the TS backend's totality, and what the WASM backend lacks.
import { expect, test } from "vitest";
import { missingOps } from "../compiler/backends/backend.js";
import { tsBackend } from "../compiler/backends/ts/emit.js";
import { jsFormula } from "../compiler/backends/ts/kernels/activations.js";
import { wasmBackend } from "../compiler/backends/wasm/emit.js";
import {
  activationRows,
  evaluate,
  opNames,
  type ActivationName,
  type OpName,
} from "../compiler/ops.js";

test("the TS backend has JavaScript for every op", () => {
  expect(missingOps(tsBackend)).toEqual([]);
});

test("what the WASM backend lacks is a list, each entry a real op", () => {
  // This list only shrinks: an op that gains WASM code leaves it.
  const lacking: OpName[] = [
    "avg_pool",
    "avg_pool_grad",
    "mse",
    "mse_grad",
    "bce",
    "bce_grad",
    "add",
    "add_grad",
    "concat",
    "concat_grad",
    "upsample_nearest",
    "upsample_nearest_grad",
    "zero",
    "dropout",
    "dropout_grad",
  ];
  expect(missingOps(wasmBackend).sort()).toEqual([...lacking].sort());
  expect(lacking.every((op) => opNames.includes(op))).toBe(true);
});

// Each activation row's JavaScript, run, gives what the row's formula evaluates to.
const parameters: Record<ActivationName, object> = {
  relu: {},
  leaky_relu: { slope: 0.1 },
  elu: { alpha: 1.5 },
  sigmoid: {},
  tanh: {},
  softplus: { beta: 2, threshold: 3 },
};

test.each(Object.keys(activationRows) as ActivationName[])(
  "the %s row renders to JavaScript that computes its formulas",
  (fn) => {
    const act = { fn, ...parameters[fn] } as never;
    const row = activationRows[fn];
    for (const formula of [row.f(act), row.df(act)]) {
      const js = new Function("v", `return ${jsFormula(formula, "v")};`) as (v: number) => number;
      for (const x of [-4, -1.5, -0.25, 0, 0.25, 1.5, 4])
        expect(js(x), `${fn} at ${x}`).toBe(evaluate(formula, x));
    }
  },
);
