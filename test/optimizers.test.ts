// The optimizers, learning-rate schedules and gradient clipping against PyTorch 1.13's results
// (test/fixtures/optimizers.json, from make-optimizer-fixtures.py), on both backends.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { kernelFactory } from "../cli/in-process-model.js";
import type { OptimizerConfig, ScheduleConfig, TrainConfig } from "../runtime/api-types.js";
import { DropoutSeeds } from "../runtime/dropout.js";
import { NetcError } from "../runtime/errors.js";
import {
  clipGradNorm,
  createOptimizer,
  optimizerSettings,
  type Optimizer,
} from "../runtime/optimizers.js";
import { Rng } from "../runtime/rng.js";
import { checkScheduleSettings, scheduledLearningRate } from "../runtime/schedules.js";
import { wasmArena } from "../runtime/wasm.js";
import { compileModel, pseudoRandom } from "./helpers/gradcheck.js";

interface OptimizerCase {
  label: string;
  optimizer: OptimizerConfig;
  lrChange: { after: number; lr: number } | null;
  params: number[];
  grads: number[][];
  after: number[][];
  /** PyTorch's state_dict() buffers after the last step, in its order. */
  state: Record<string, number[]>;
}
interface ScheduleCase {
  label: string;
  lr: number;
  schedule: ScheduleConfig | null;
  warmup: TrainConfig["warmup"] | null;
  rates: number[];
}
interface ClippingCase {
  maxNorm: number;
  grads: number[];
  norm: number;
  clipped: number[];
}
const fixtures = JSON.parse(
  readFileSync(new URL("fixtures/optimizers.json", import.meta.url), "utf8"),
) as {
  shapes: number[][];
  cases: OptimizerCase[];
  schedules: ScheduleCase[];
  clipping: ClippingCase[];
};

/**
 * Within `tolerance` relative to the largest expected value, or to the value before the step
 * (`before`) where that is larger. Relative to the vector, not to each element: PyTorch rounds
 * every float32 operation, and where terms cancel (p − lr·d, m = β·m + (1 − β)·d, √(s − a²))
 * its rounding shows as a large relative error of a small result; it stays within a few units
 * in the last place of the terms, the vector's scale.
 */
function expectClose(
  what: string,
  actual: ArrayLike<number>,
  expected: readonly number[],
  tolerance: number,
  before: readonly number[] = expected,
) {
  expect(actual.length, what).toBe(expected.length);
  const largest = expected.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(largest, Math.abs(before[i]!));
    const error = Math.abs(actual[i]! - expected[i]!);
    expect(error, `${what}, element ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(
      tolerance * scale,
    );
  }
}

/** Steps `optimizer` through a fixture case, checking the parameters and the final state. */
function replay(
  c: OptimizerCase,
  optimizer: Optimizer,
  params: Float32Array,
  grads: Float32Array,
  tolerance: number,
) {
  params.set(c.params);
  c.grads.forEach((stepGrads, step) => {
    if (c.lrChange && step === c.lrChange.after) optimizer.setLearningRate(c.lrChange.lr);
    grads.set(stepGrads);
    optimizer.step();
    expectClose(
      `step ${step + 1}`,
      params,
      c.after[step]!,
      tolerance,
      c.after[step - 1] ?? c.params,
    );
  });
  expect(optimizer.stepCount).toBe(c.grads.length);
  // The live state has PyTorch's state_dict() names, order and values.
  expect(optimizer.state.map((s) => s.name)).toEqual(Object.keys(c.state));
  for (const slot of optimizer.state) {
    expectClose(slot.name, slot.data, c.state[slot.name]!, tolerance);
  }
}

describe("optimizers as torch.optim", () => {
  // The fixture's parameters are this layer's weight [3, 5] and bias [3], in that order.
  const linear = compileModel("model L {\n  input x: [5]\n  Linear(3)\n}\ncriterion MSE\n");
  const size = fixtures.shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);

  test("the fixture's parameters are the layer's", () => {
    expect(linear.layout.params.map((p) => p.shape)).toEqual(fixtures.shapes);
    expect(linear.layout.paramRegion.size).toBe(size);
  });

  test.each(fixtures.cases.map((c) => [c.label, c] as const))("JS: %s", (_, c) => {
    const [params, grads] = [new Float32Array(size), new Float32Array(size)];
    replay(c, createOptimizer(c.optimizer, params, grads), params, grads, 1e-6);
  });

  // The WASM update in float32, as PyTorch's (the JS one rounds only what it stores), on one
  // thread and on two, which split the 18 parameters at a multiple of four.
  describe.each([1, 2])("WASM, %i thread(s)", (threads) => {
    test.each(fixtures.cases.map((c) => [c.label, c] as const))("%s", (_, c) => {
      const { layout } = linear;
      const N = 2;
      const arena = wasmArena(
        linear.wasm!,
        kernelFactory(linear),
        layout.fixedSize + N * layout.perSampleSize,
        N,
        new DropoutSeeds(new Rng(0).fork("dropout")),
        threads,
        { loss: layout.loss, params: size, stateBuffers: 3, clipNorm: undefined },
      );
      try {
        const region = (r: { offset: number; size: number }) =>
          arena.f.subarray(r.offset, r.offset + r.size);
        const optimizer = arena.createOptimizer(optimizerSettings(c.optimizer));
        replay(c, optimizer, region(layout.paramRegion), region(layout.gradRegion), 1e-6);
      } finally {
        arena.dispose();
      }
    });
  });

  test("a model's training step with each optimizer is alike on both backends", () => {
    for (const c of fixtures.cases) {
      const [ts, wasm] = (["ts", "wasm"] as const).map((backend) =>
        linear.create({ batch: 2, seed: 1, backend, optimizer: c.optimizer }),
      );
      const x = Float32Array.from({ length: 10 }, (_, i) => Math.sin(i));
      const y = Float32Array.from({ length: 6 }, (_, i) => Math.cos(i));
      ts!.trainStep(x, y);
      wasm!.trainStep(x, y);
      ts!.params.forEach((p, i) =>
        expectClose(`${c.label}: ${p.name}`, wasm!.params[i]!.data, [...p.data], 1e-5),
      );
      ts!.dispose();
      wasm!.dispose();
    }
  });

  test("settings PyTorch refuses are user errors; a misspelt name lists the optimizers", () => {
    const make = (config: OptimizerConfig) => () =>
      createOptimizer(config, new Float32Array(1), new Float32Array(1));
    expect(make({ name: "RMSprop", args: { alpha: -0.5 } })).toThrow(
      "RMSprop: alpha must be a number ≥ 0, got -0.5",
    );
    expect(make({ name: "Adagrad", args: { lr_decay: Number.NaN } })).toThrow(NetcError);
    expect(make({ name: "AdamW", args: { betas: [0.9, 1] } })).toThrow(
      "AdamW: betas must be two numbers in [0, 1), got 0.9, 1",
    );
    expect(make({ name: "RMSprop", args: { centered: 1 as unknown as boolean } })).toThrow(
      "RMSprop: centered must be true or false, got 1",
    );
    expect(make({ name: "RMSProp" as "RMSprop", args: {} })).toThrow(
      'unknown optimizer "RMSProp": netc has SGD, Adam, AdamW, RMSprop and Adagrad',
    );
  });
});

describe("learning-rate schedules as torch.optim.lr_scheduler", () => {
  test.each(fixtures.schedules.map((c) => [c.label, c] as const))("%s", (_, c) => {
    const settings = checkScheduleSettings({
      ...(c.schedule ? { schedule: c.schedule } : {}),
      ...(c.warmup ? { warmup: c.warmup } : {}),
    });
    const rates = c.rates.map((_, epoch) => scheduledLearningRate(settings, c.lr, epoch));
    // The same double-precision steps as PyTorch's; cos may differ from C's in the last bit.
    expectClose("rates", rates, c.rates, 1e-12);
  });

  test("without a schedule the rate is the base rate", () => {
    expect(scheduledLearningRate({}, 0.05, 7)).toBe(0.05);
  });

  test("a schedule from a layout that is not what the checker makes is a NetcError", () => {
    const bad = (settings: unknown) => () =>
      checkScheduleSettings(settings as Parameters<typeof checkScheduleSettings>[0]);
    expect(bad({ schedule: { name: "CosineLR", args: {} } })).toThrow(
      'schedule: unknown schedule "CosineLR"; netc has StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR',
    );
    expect(bad({ schedule: { name: "StepLR", args: { step_size: 0, gamma: 0.1 } } })).toThrow(
      "schedule: StepLR's step_size must be an integer ≥ 1, got 0",
    );
    expect(bad({ schedule: { name: "StepLR", args: { step_size: 2 } } })).toThrow(
      "schedule: StepLR's gamma must be a number ≥ 0, got undefined",
    );
    expect(
      bad({ schedule: { name: "MultiStepLR", args: { milestones: [2, 1.5], gamma: 0.1 } } }),
    ).toThrow(
      "schedule: MultiStepLR's milestones must be a list of integers ≥ 0, got an array of 2 values",
    );
    const linear = { start_factor: 0, end_factor: 1, total_iters: 5 };
    expect(bad({ warmup: { name: "LinearLR", args: linear } })).toThrow(
      "warmup: LinearLR's start_factor must be a number > 0 and ≤ 1, got 0",
    );
    expect(bad({ warmup: { name: "ExponentialLR", args: { gamma: 0.9 } } })).toThrow(
      'warmup: the warm-up is a LinearLR, got "ExponentialLR"',
    );
  });
});

describe("clip_grad_norm as torch.nn.utils.clip_grad_norm_", () => {
  test.each(fixtures.clipping.map((c) => [c.maxNorm, c] as const))("max_norm %d", (_, c) => {
    const grads = Float32Array.from(c.grads);
    const norm = clipGradNorm(grads, c.maxNorm);
    expect(Math.abs(norm - c.norm)).toBeLessThanOrEqual(1e-6 * c.norm);
    expectClose("clipped", grads, c.clipped, 1e-6);
  });

  // A model with SGD(lr=1): its step moves each weight by its clipped gradient.
  const source = (clip: number) => `model M {
  input x: [6]
  h: Linear(9) -> Tanh
  out: Linear(3)
}
criterion MSE
train {
  optimizer = SGD(lr=1)
  clip_grad_norm = ${clip}
}
`;
  const next = pseudoRandom(11);
  const x = Float32Array.from({ length: 4 * 6 }, () => next());
  const y = Float32Array.from({ length: 4 * 3 }, () => 3 * next());

  test.each([
    ["ts", 1],
    ["wasm", 1],
    ["wasm", 2],
  ] as const)(
    "%s, %i thread(s): the step uses the clipped gradients, which grads shows",
    (backend, threads) => {
      for (const maxNorm of [0.05, 1e6]) {
        const compiled = compileModel(source(maxNorm));
        const reference = compiled.create({ batch: 4, seed: 3, backend });
        reference.lossAndGrad(x, y);
        const raw = reference.grads.map((g) => [...g.data]);
        const norm = Math.sqrt(raw.flat().reduce((s, g) => s + g * g, 0));
        const scale = Math.min(1, maxNorm / (norm + 1e-6));
        const net = compiled.create({ batch: 4, seed: 3, backend, threads });
        const before = net.params.map((p) => [...p.data]);
        net.trainStep(x, y);
        net.grads.forEach((g, i) => {
          const expected = raw[i]!.map((v) => v * scale);
          expectClose(`${maxNorm}: ${g.name}`, g.data, expected, 1e-5);
          const moved = before[i]!.map((p, k) => p - expected[k]!);
          expectClose(`${maxNorm}: ${g.name} step`, net.params[i]!.data, moved, 1e-5);
        });
        if (maxNorm > norm) net.grads.forEach((g, i) => expect([...g.data]).toEqual(raw[i]));
        [reference, net].forEach((m) => m.dispose());
      }
    },
  );

  test("the thread count does not change the bits", () => {
    const compiled = compileModel(source(0.05));
    const [one, two] = [1, 2].map((threads) =>
      compiled.create({ batch: 4, seed: 3, backend: "wasm", threads }),
    );
    for (let step = 0; step < 3; step++) expect(two!.trainStep(x, y)).toBe(one!.trainStep(x, y));
    one!.params.forEach((p, i) => expect(two!.params[i]!.data).toEqual(p.data));
    one!.dispose();
    two!.dispose();
  });
});
