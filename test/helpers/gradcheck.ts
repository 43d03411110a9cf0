// Gradient checks: analytic gradients of compiled code against central finite differences.
import { expect } from "vitest";
import type { BackendName } from "../../runtime/api-types.js";
import { compile } from "../../compiler/compile.js";
import type { Input, Model, Target } from "../../runtime/api-types.js";
import { kernelFactory } from "../../cli/in-process-model.js";
import { instantiateSync } from "../../runtime/model.js";

export function compileModel(source: string) {
  const result = compile(source);
  if (!result.ok) {
    const first = result.diagnostics.find((d) => d.severity === "error");
    throw new Error(`${result.error}: ${first?.message ?? ""}\n${source}`);
  }
  const factory = kernelFactory(result.compiled);
  const create = (options: Parameters<typeof instantiateSync>[2]) =>
    instantiateSync(result.compiled.layout, factory, options, result.compiled.wasm);
  return { ...result.compiled, create };
}

/** Deterministic pseudo-random numbers in [-1, 1) for test data. */
export function pseudoRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s >>> 12;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  };
}

export interface GradCheckCase {
  source: string;
  batch: number;
  input: Input;
  target: Target | Record<string, Target>;
  /** Float64 tolerances by default; float32 needs looser ones. */
  precision?: "f32" | "f64";
  /** Float64 runs the TS kernels; float32 WASM unless "ts" is asked for. */
  backend?: BackendName;
}

/**
 * Compares every parameter's and the input's gradient (at up to `samples` positions each)
 * with (L(θ+h) − L(θ−h)) / 2h. The loss is the training-mode loss (batch statistics).
 */
export function gradCheck(c: GradCheckCase, samples = 24): { checked: number; worst: number } {
  const precision = c.precision ?? "f64";
  const backend = c.backend ?? (precision === "f64" ? "ts" : "wasm");
  const net = compileModel(c.source).create({ batch: c.batch, seed: 7, precision, backend });
  const h = precision === "f64" ? 1e-6 : 1e-2;
  const [rtol, atol] = precision === "f64" ? [1e-5, 1e-8] : [3e-2, 2e-3];
  net.lossAndGrad(c.input, c.target);
  const analytic = net.grads.map((g) => Float64Array.from(g.data));
  const inputGrad = Float64Array.from(net.inputGrad as Float64Array);
  const lossAt = () => net.lossAndGrad(c.input, c.target);
  const pick = pseudoRandom(11);
  let checked = 0;
  let worst = 0;
  const compare = (
    name: string,
    read: () => number,
    write: (v: number) => void,
    expected: number,
  ) => {
    const old = read();
    write(old + h);
    const plus = lossAt();
    write(old - h);
    const minus = lossAt();
    write(old);
    const numeric = (plus - minus) / (2 * h);
    const error = Math.abs(numeric - expected);
    worst = Math.max(
      worst,
      error / (atol + rtol * Math.max(Math.abs(numeric), Math.abs(expected))),
    );
    checked++;
    expect(error, `${name}: analytic ${expected}, numeric ${numeric}`).toBeLessThanOrEqual(
      atol + rtol * Math.max(Math.abs(numeric), Math.abs(expected)),
    );
  };
  const positions = (n: number) =>
    n <= samples
      ? [...Array(n).keys()]
      : [...Array(samples)].map(() => Math.floor(((pick() + 1) / 2) * n));
  net.params.forEach((p, t) => {
    for (const k of positions(p.data.length)) {
      compare(
        `${p.name}[${k}]`,
        () => p.data[k]!,
        (v) => (p.data[k] = v),
        analytic[t]![k]!,
      );
    }
  });
  for (const k of positions(c.input.length)) {
    compare(
      `input[${k}]`,
      () => c.input[k]!,
      (v) => (c.input[k] = v),
      inputGrad[k]!,
    );
  }
  return { checked, worst };
}

export type { Model };
