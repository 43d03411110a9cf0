// Helpers for the tests that hold emitted models to the reference interpreter.
// Models from source, emitted models on either backend, values to run them on, and the
// interpreter's results compared with a model's, whole tensor by tensor.
import { expect } from "vitest";
import { check } from "../../compiler/check.js";
import { interpret, type Interpretation } from "../../compiler/interpret.js";
import type { ModelIR } from "../../compiler/ir.js";
import type { Input, Target } from "../../runtime/api-types.js";
import { kernelFactory } from "../../cli/in-process-model.js";
import { instantiateSync } from "../../runtime/model.js";
import {
  dropoutDraw,
  dropoutKey,
  dropoutSalt,
  DropoutSeeds,
  drawUniform,
} from "../../runtime/dropout.js";
import { Rng } from "../../runtime/rng.js";
import { compileModel, pseudoRandom } from "./gradcheck.js";

export type Backend = "ts" | "wasm";

/** Float32 against Float64, relative to each tensor's largest value: the worst seen is ~1e-6. */
export const F32 = 1e-5;

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** Criteria whose targets are probabilities. */
const probabilityTargets = new Set(["BCE", "BCEWithLogits", "KLDiv"]);

export function irOf(source: string): ModelIR {
  const { diagnostics, models } = check(source);
  const error = diagnostics.find((d) => d.severity === "error");
  if (error || !models[0]) throw new Error(`${error?.message ?? "no model"}\n${source}`);
  return models[0];
}

/**
 * The emitted float32 model on `backend`, and a training pass whose forward outputs are read from
 * the arena. The public API runs training mode only together with backward, so the outputs are
 * read after it (the plan keeps outputs live throughout). Calling the captured JS steps instead
 * would run the JS kernels over the WASM memory and test nothing of the WASM code.
 */
export function emittedModel(
  source: string,
  batch: number,
  { seed = 0, backend = "ts" }: { seed?: number; backend?: Backend } = {},
) {
  const compiled = compileModel(source);
  const factory = kernelFactory(compiled);
  // The factory is handed the arena the kernels run on: the WASM memory in the WASM backend.
  let arena: Float32Array | Float64Array = new Float32Array(0);
  const net = instantiateSync(
    compiled.layout,
    (f, iv, N, random) => {
      arena = f;
      return factory(f, iv, N, random);
    },
    { batch, seed, precision: "f32", backend },
    compiled.wasm,
  );
  const layout = compiled.layout;
  /** lossAndGrad on the first `count` samples; its loss and the outputs of its forward pass. */
  function trainingPass(
    input: Input | Record<string, Input>,
    target: Target | Record<string, Target>,
    count = batch,
  ): { loss: number; outputs: Map<string, Float64Array> } {
    const loss = net.lossAndGrad(input, target);
    const outputs = new Map(
      layout.outputs.map((o) => {
        const at = o.offset.fixed + batch * o.offset.perSample;
        const length = count * size(o.shape);
        return [o.name, Float64Array.from(arena.subarray(at, at + length))];
      }),
    );
    return { loss, outputs };
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
  return { compiled, net, layout, trainingPass, setParams, paramsOf };
}

export type EmittedModel = ReturnType<typeof emittedModel>;

/** Values as the float32 model takes them; class indices stay Int32Array. */
export function float32(values: Record<string, Float64Array>): Record<string, Float32Array>;
export function float32(
  values: Record<string, Float64Array | Int32Array>,
): Record<string, Float32Array | Int32Array>;
export function float32(
  values: Record<string, Float64Array | Int32Array>,
): Record<string, Float32Array | Int32Array> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, v instanceof Int32Array ? v : Float32Array.from(v)]),
  );
}

/** Dropout's draws of the first training pass of an emitted model seeded with `seed`. */
export const masks = (seed: number) => {
  const pass = new DropoutSeeds(new Rng(seed).fork("dropout")).next();
  return (layer: string, index: number) =>
    drawUniform(dropoutDraw(dropoutKey(pass, dropoutSalt(layer)), index));
};

/**
 * A case's own values, seeded by its name: a case draws the same data whatever runs before it,
 * so adding a case elsewhere cannot move another onto an unlucky draw.
 */
export function drawFor(name: string) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return sampler(pseudoRandom(h >>> 0));
}

/**
 * Sizes and values drawn from one stream in [-1, 1), so a test's cases and data follow from its
 * seed alone.
 */
export function sampler(random: () => number) {
  const int = (lo: number, hi: number) => lo + Math.floor(((random() + 1) / 2) * (hi - lo + 1));
  const choose = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  const data = (n: number) => Float64Array.from({ length: n }, () => random());
  return {
    random,
    int,
    choose,
    data,
    params(model: ModelIR): Map<string, Float64Array> {
      return new Map(
        model.nodes
          .flatMap((n) => n.params)
          .map((p) => {
            const v = data(size(p.shape));
            // Running variances must be positive.
            return [p.name, p.name.endsWith("running_var") ? v.map((x) => 1 + x / 2) : v];
          }),
      );
    },
    inputs(model: ModelIR, N: number): Record<string, Float64Array> {
      return Object.fromEntries(
        model.inputs.map((i) => {
          const node = model.nodes.find((n) => n.id === i.node)!;
          return [i.name, Float64Array.from(Float32Array.from(data(N * size(node.shape))))];
        }),
      );
    },
    /**
     * Class indices (every third the `ignore=` label, if any), probabilities strictly inside
     * (0, 1) for BCE, BCEWithLogits and KLDiv, or values; float32-exact.
     */
    targets(model: ModelIR, N: number): Record<string, Int32Array | Float64Array> {
      return Object.fromEntries(
        model.criterion.map((t) => {
          const n = N * size(t.target);
          const C = model.nodes.find((x) => x.id === t.node)!.shape[0]!;
          const ignore = t.args["ignore"] as number | undefined;
          const label = (i: number) =>
            ignore !== undefined && i % 3 === 0 ? ignore : int(0, C - 1);
          if (t.targetKind === "classes")
            return [t.output, Int32Array.from(data(n), (_, i) => label(i))];
          const values = probabilityTargets.has(t.criterion)
            ? data(n).map((v) => (v + 1) / 2.2 + 0.02)
            : data(n);
          return [t.output, Float64Array.from(Float32Array.from(values))];
        }),
      );
    },
  };
}

export type Sampler = ReturnType<typeof sampler>;

/** What the interpreter says a model does on some values: in evaluation, and in one training step. */
export interface Reference {
  N: number;
  params: Map<string, Float64Array>;
  inputs: Record<string, Float64Array>;
  targets: Record<string, Int32Array | Float64Array>;
  evaluation: Interpretation;
  training: Interpretation;
}

/**
 * The interpreter on the parameters as a float32 model holds them, with dropout masks from the
 * stream a model seeded with `seed` draws.
 */
export function referenceRun(
  model: ModelIR,
  values: ReadonlyMap<string, ArrayLike<number>>,
  inputs: Record<string, Float64Array>,
  targets: Record<string, Int32Array | Float64Array>,
  N: number,
  seed: number,
): Reference {
  const params = new Map(
    [...values].map(([name, v]) => [name, Float64Array.from(Float32Array.from(v))]),
  );
  const run = (training: boolean) =>
    interpret(model, params, inputs, targets, { N, training, dropoutMask: masks(seed) });
  return { N, params, inputs, targets, evaluation: run(false), training: run(true) };
}

/**
 * Sets the reference's parameters on a fresh model `e` (built with the reference's seed), then
 * expects the evaluation outputs and loss, and one training pass's outputs, loss, gradients, input
 * gradients and running statistics to be the interpreter's.
 */
export function expectInterpreted(e: EmittedModel, ref: Reference, at: string, tolerance = F32) {
  e.setParams(ref.params);
  const [input32, target32] = [float32(ref.inputs), float32(ref.targets)];
  const outputs = e.net.forward(input32);
  for (const [name, value] of ref.evaluation.outputs) {
    const got = outputs instanceof Float32Array ? outputs : outputs[name];
    expectClose(`${at} evaluation output ${name}`, got, value, tolerance);
  }
  const loss = e.net.loss(input32, target32);
  expectClose(`${at} evaluation loss`, loss, ref.evaluation.loss, tolerance);

  const step = ref.training;
  const trained = e.trainingPass(input32, target32);
  for (const [name, value] of step.outputs)
    expectClose(`${at} training output ${name}`, trained.outputs.get(name), value, tolerance);
  expectClose(`${at} training loss`, trained.loss, step.loss, tolerance);
  for (const g of e.net.grads)
    expectClose(`${at} grad ${g.name}`, g.data, step.grads.get(g.name), tolerance);
  const inputGrad = e.net.inputGrad;
  for (const [name, value] of step.inputGrads) {
    const got = ArrayBuffer.isView(inputGrad) ? inputGrad : inputGrad[name];
    expectClose(`${at} input gradient ${name}`, got, value, tolerance);
  }
  for (const b of e.net.buffers)
    expectClose(`${at} buffer ${b.name}`, b.data, step.state.get(b.name), tolerance);
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
