// Helpers for the reference tests: models from source, emitted models with their training-mode
// outputs exposed, and comparisons of whole tensors.
import { expect } from "vitest";
import { check } from "../../compiler/check.js";
import type { ModelIR } from "../../compiler/ir.js";
import type { Input } from "../../runtime/api-types.js";
import { instantiate, type KernelFactory, type Steps } from "../../runtime/model.js";
import { compileModel } from "./gradcheck.js";

export function irOf(source: string): ModelIR {
  const { diagnostics, models } = check(source);
  const error = diagnostics.find((d) => d.severity === "error");
  if (error || !models[0]) throw new Error(`${error?.message ?? "no model"}\n${source}`);
  return models[0];
}

/**
 * The emitted float32 model, and a training-mode forward pass whose outputs are read from the
 * arena (the public API runs training mode only together with backward).
 */
export function emittedModel(source: string, batch: number, seed = 0) {
  const compiled = compileModel(source);
  const factory = new Function("f", "iv", "N", "random", compiled.kernelsSource) as KernelFactory;
  let arena: Float32Array | Float64Array = new Float32Array(0);
  let steps: Steps | undefined;
  const net = instantiate(
    compiled.layout,
    (f, iv, N, random) => {
      arena = f;
      steps = factory(f, iv, N, random);
      return steps;
    },
    { batch, seed, precision: "f32" },
  );
  const layout = compiled.layout;
  /** Writes `input` (through an evaluation pass), then runs the forward pass in training mode. */
  function trainingOutputs(input: Input | Record<string, Input>): Map<string, Float64Array> {
    net.forward(input);
    steps!.forward(true);
    return new Map(
      layout.outputs.map((o) => {
        const at = o.offset.fixed + batch * o.offset.perSample;
        const length = batch * o.shape.reduce((a, b) => a * b, 1);
        return [o.name, Float64Array.from(arena.subarray(at, at + length))];
      }),
    );
  }
  /** Sets parameters and buffers by name; returns every one's value as the model holds it. */
  function setParams(values: ReadonlyMap<string, ArrayLike<number>>): Map<string, Float64Array> {
    for (const t of [...net.params, ...net.buffers]) {
      const v = values.get(t.name);
      if (!v) throw new Error(`no value for ${t.name}`);
      t.data.set(v);
    }
    return paramsOf();
  }
  const paramsOf = () =>
    new Map([...net.params, ...net.buffers].map((t) => [t.name, Float64Array.from(t.data)]));
  return { net, layout, trainingOutputs, setParams, paramsOf };
}

const maxAbs = (a: ArrayLike<number>) =>
  Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * Expects every element within `tolerance` × the expected tensor's largest magnitude (1 for an
 * all-zero one): float32 errors grow with the tensor's values, not with each small element.
 */
export function expectClose(
  what: string,
  actual: ArrayLike<number> | number | undefined,
  expected: ArrayLike<number> | number | undefined,
  tolerance: number,
): void {
  const a = typeof actual === "number" ? [actual] : actual;
  const e = typeof expected === "number" ? [expected] : expected;
  expect(a, `${what}: missing`).toBeDefined();
  expect(e, `${what}: missing expectation`).toBeDefined();
  expect(a!.length, `${what}: length`).toBe(e!.length);
  const scale = maxAbs(e!) || 1;
  let worst = 0;
  let at = 0;
  for (let i = 0; i < e!.length; i++) {
    const error = Math.abs(a![i]! - e![i]!) / scale;
    if (error > worst || Number.isNaN(error))
      [worst, at] = [Number.isNaN(error) ? Infinity : error, i];
  }
  expect(worst, `${what}[${at}]: ${a![at]} against ${e![at]} (scale ${scale})`).toBeLessThanOrEqual(
    tolerance,
  );
}
