// The reference interpreter and the emitted code of both backends, checked against each other.
// The interpreter's gradients against central finite differences in Float64, the emitted float32
// code against the interpreter (samples and random cases), and all of them against PyTorch.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { interpret } from "../compiler/interpret.js";
import { pseudoRandom } from "./helpers/gradcheck.js";
import {
  drawFor,
  emittedModel,
  expectClose,
  expectInterpreted,
  F32,
  float32,
  irOf,
  masks,
  referenceRun,
  sampler,
  type Backend,
  type Reference,
} from "./helpers/reference.js";

const draw = sampler(pseudoRandom(2027));
const { random, int, choose } = draw;
const pairText = ([a, b]: number[]) => (a === b ? `${a}` : `[${a}, ${b}]`);

/** A model and how to run it: batch size and mode (for the finite differences). */
interface Case {
  name: string;
  source: string;
  N: number;
  training: boolean;
}

// ---------------------------------------------------------------------------------------------
// Random cases, Torch7-Jacobian style: sizes drawn per case from a seeded generator.

const channels = [1, 3, 7, 17];
/** Input and output channels, their product bounded so every weight can be checked. */
function channelPair(): [number, number] {
  for (;;) {
    const [c, k] = [choose(channels), choose(channels)];
    if (c * k <= 51) return [c, k];
  }
}

/** An input extent giving `out` windows of `kernel` at `stride` over it padded by `pad`. */
const extent = (out: number, kernel: number, stride: number, pad: number) =>
  Math.max(1, (out - 1) * stride + kernel - 2 * pad + int(0, stride - 1));

function windowCase(maxPad: (kernel: number) => number) {
  const kernel = [int(1, 7), int(1, 7)];
  const stride = [int(1, 3), int(1, 3)];
  const pad = kernel.map((k) => int(0, maxPad(k)));
  const hw = [0, 1].map((d) => extent(int(1, 3), kernel[d]!, stride[d]!, pad[d]!));
  const args = `kernel=${pairText(kernel)}, stride=${pairText(stride)}, pad=${pairText(pad)}`;
  return { hw, args };
}

const single = (input: number[], layer: string, criterion = "MSE") =>
  `model M {\n  input x: [${input.join(", ")}]\n  l: ${layer}\n}\ncriterion ${criterion}\n`;
const shape = () => (random() < 0 ? [choose(channels)] : [choose(channels), int(1, 3), int(1, 3)]);

const generators: Record<string, () => Omit<Case, "name" | "N" | "training">> = {
  SpatialConvolution() {
    const [C, K] = channelPair();
    const { hw, args } = windowCase((k) => Math.min(3, k - 1));
    const bias = random() < 0.5 ? ", bias=false" : "";
    return { source: single([C, ...hw], `SpatialConvolution(${K}, ${args}${bias})`) };
  },
  SpatialFullConvolution() {
    const [C, K] = channelPair();
    const kernel = [int(1, 7), int(1, 7)];
    const stride = [int(1, 3), int(1, 3)];
    const pad = kernel.map((k) => int(0, Math.floor((k - 1) / 2)));
    const adj = stride.map((s) => int(0, s - 1));
    const args = `kernel=${pairText(kernel)}, stride=${pairText(stride)}, pad=${pairText(pad)}, adj=${pairText(adj)}`;
    const bias = random() < 0.5 ? ", bias=false" : "";
    const input = [C, int(1, 3), int(1, 4)];
    return { source: single(input, `SpatialFullConvolution(${K}, ${args}${bias})`) };
  },
  SpatialMaxPooling() {
    const { hw, args } = windowCase((k) => Math.floor(k / 2));
    return { source: single([choose(channels), ...hw], `SpatialMaxPooling(${args})`) };
  },
  SpatialAveragePooling() {
    const { hw, args } = windowCase((k) => Math.floor(k / 2));
    return { source: single([choose(channels), ...hw], `SpatialAveragePooling(${args})`) };
  },
  Linear() {
    const [I, O] = channelPair();
    return { source: single([I], `Linear(${O}${random() < 0 ? ", bias=false" : ""})`) };
  },
  View() {
    const [a, b, c] = [int(1, 3), int(1, 4), int(1, 3)];
    return { source: single([a, b, c], random() < 0 ? `View(${a * b}, ${c})` : `View(${c}, -1)`) };
  },
  Flatten: () => ({ source: single([int(1, 3), int(1, 3), int(1, 3)], "Flatten") }),
  ReLU: () => ({ source: single(shape(), "ReLU") }),
  LeakyReLU: () => ({ source: single(shape(), `LeakyReLU(slope=${(random() + 1) / 4})`) }),
  ELU: () => ({ source: single(shape(), `ELU(alpha=${random() + 1.2})`) }),
  Sigmoid: () => ({ source: single(shape(), "Sigmoid") }),
  Tanh: () => ({ source: single(shape(), "Tanh") }),
  SoftPlus: () => ({
    source: single(shape(), `SoftPlus(beta=${random() + 2}, threshold=${random() + 1.5})`),
  }),
  SoftMax: () => ({ source: single(shape(), "SoftMax") }),
  LogSoftMax: () => ({ source: single(shape(), "LogSoftMax") }),
  ReLU6: () => ({ source: single(shape(), "ReLU6") }),
  HardTanh: () => ({
    source: single(shape(), `HardTanh(min_val=${random() - 1}, max_val=${random() + 1.5})`),
  }),
  SiLU: () => ({ source: single(shape(), "SiLU") }),
  GELU: () => ({ source: single(shape(), `GELU(approximate=${random() < 0})`) }),
  HardSigmoid: () => ({ source: single(shape(), "HardSigmoid") }),
  HardSwish: () => ({ source: single(shape(), "HardSwish") }),
  LogSigmoid: () => ({ source: single(shape(), "LogSigmoid") }),
  SoftSign: () => ({ source: single(shape(), "SoftSign") }),
  SoftMin: () => ({ source: single(shape(), "SoftMin") }),
  PReLU() {
    const input = shape();
    const count = random() < 0 ? 1 : input[0]!;
    return { source: single(input, `PReLU(${count}, init=${(random() + 1) / 2})`) };
  },
  Dropout: () => ({ source: single(shape(), `Dropout(${choose([0, 0.25, 0.5])})`) }),
  SpatialBatchNormalization() {
    const args = `affine=${random() < 0.5}, eps=${choose([1e-5, 1e-3])}, momentum=${choose([0.1, 0.5])}`;
    const input = [choose(channels), int(1, 3), int(1, 3)];
    return { source: single(input, `SpatialBatchNormalization(${args})`) };
  },
  BatchNormalization() {
    const input = random() < 0 ? [choose(channels)] : [choose(channels), int(1, 3)];
    return { source: single(input, `BatchNormalization(affine=${random() < 0.5})`) };
  },
  SpatialUpSamplingNearest() {
    const input = [choose(channels), int(1, 3), int(1, 3)];
    return { source: single(input, `SpatialUpSamplingNearest(${int(1, 3)})`) };
  },
  Concat() {
    const rest = random() < 0 ? [] : [int(1, 3), int(1, 3)];
    const [a, b] = [
      [choose(channels), ...rest],
      [choose(channels), ...rest],
    ];
    const source = `model M {\n  input a: [${a.join(", ")}]\n  input b: [${b.join(", ")}]\n  out = Concat(a, b, a)\n  output out\n}\ncriterion MSE\n`;
    return { source };
  },
  Add() {
    const s = shape().join(", ");
    const source = `model M {\n  input a: [${s}]\n  input b: [${s}]\n  out = Add(a, b, a)\n  output out\n}\ncriterion MSE\n`;
    return { source };
  },
  NLL() {
    const input = [choose([3, 7, 17]), ...(random() < 0 ? [] : [int(1, 3), int(1, 3)])];
    return { source: single(input, "LogSoftMax", "NLL") };
  },
  "NLL on raw scores": () => ({ source: single([int(1, 7)], `Linear(${int(2, 7)})`, "NLL") }),
  CrossEntropy() {
    const [C, K] = [choose(channels), int(2, 7)];
    if (random() < 0) return { source: single([C], `Linear(${K})`, "CrossEntropy") };
    const input = [C, int(1, 3), int(1, 3)];
    return { source: single(input, `SpatialConvolution(${K}, kernel=1)`, "CrossEntropy") };
  },
  BCE: () => ({ source: single(shape(), "Sigmoid", "BCE") }),
  MSE: () => ({ source: single(shape(), "Tanh", "MSE") }),
  "weighted criteria": () => {
    const [w1, w2] = [int(1, 4) / 2, int(1, 4) / 2];
    const source = `model M {\n  input x: [${int(1, 7)}]\n  h = x -> t: Linear(${int(1, 7)}) -> ReLU\n  p = h -> a: Linear(${int(1, 7)}) -> Sigmoid\n  v = h -> b: Linear(${int(2, 7)})\n  q = v -> LogSoftMax\n  output p, v, q\n}\ncriterion ${w1} * BCE(p) + ${w2} * MSE(v) + NLL(q)\n`;
    return { source };
  },
  SpatialAdaptiveMaxPooling() {
    const input = [choose(channels), int(1, 7), int(1, 7)];
    return { source: single(input, `SpatialAdaptiveMaxPooling(${int(1, 4)}, ${int(1, 4)})`) };
  },
  SpatialAdaptiveAveragePooling() {
    const input = [choose(channels), int(1, 7), int(1, 7)];
    return { source: single(input, `SpatialAdaptiveAveragePooling(${int(1, 4)}, ${int(1, 4)})`) };
  },
  SpatialUpSamplingBilinear() {
    const input = [choose(channels), int(1, 3), int(1, 3)];
    const layer = `SpatialUpSamplingBilinear(${int(1, 3)}, align_corners=${random() < 0})`;
    return { source: single(input, layer) };
  },
  SpatialZeroPadding() {
    // Crops of one row or column a side leave at least one of three.
    const input = [choose(channels), int(3, 4), int(3, 4)];
    const sides = [int(-1, 3), int(-1, 3), int(-1, 3), int(-1, 3)];
    return { source: single(input, `SpatialZeroPadding(${sides.join(", ")})`) };
  },
  SpatialReflectionPadding() {
    const input = [choose(channels), int(1, 4), int(1, 4)];
    const [h, w] = [input[1]!, input[2]!];
    const sides = [w, w, h, h].map((d) => int(0, d - 1));
    return { source: single(input, `SpatialReflectionPadding(${sides.join(", ")})`) };
  },
  SpatialReplicationPadding() {
    const input = [choose(channels), int(1, 3), int(1, 3)];
    const sides = [int(0, 3), int(0, 3), int(0, 3), int(0, 3)];
    return { source: single(input, `SpatialReplicationPadding(${sides.join(", ")})`) };
  },
  "SpatialMaxPooling, ceil mode"() {
    const { hw, args } = windowCase((k) => Math.floor(k / 2));
    return { source: single([choose(channels), ...hw], `SpatialMaxPooling(${args}, ceil=true)`) };
  },
  "SpatialAveragePooling, ceil mode or padding not counted"() {
    const { hw, args } = windowCase((k) => Math.floor(k / 2));
    const flags = choose([
      "ceil=true",
      "count_include_pad=false",
      "ceil=true, count_include_pad=false",
    ]);
    return {
      source: single([choose(channels), ...hw], `SpatialAveragePooling(${args}, ${flags})`),
    };
  },
  // Groups of four values or more: with two, x̂ = ±1 whatever x is, and the gradient is all
  // cancellation (as batch norm's over two samples).
  GroupNormalization() {
    const groups = int(1, 3);
    const C = groups * int(2, 3);
    const input = random() < 0 ? [C, int(2, 5)] : [C, int(2, 3), int(2, 3)];
    const affine = random() < 0 ? ", affine=false" : "";
    return { source: single(input, `GroupNormalization(${groups}${affine})`) };
  },
  LayerNormalization() {
    const input = random() < 0 ? [choose([4, 7, 17])] : [choose(channels), int(2, 3), int(2, 3)];
    return { source: single(input, "LayerNormalization") };
  },
  InstanceNormalization() {
    const input = [choose(channels), int(2, 3), int(2, 3)];
    return { source: single(input, `InstanceNormalization(affine=${random() < 0})`) };
  },
  "Mul and Add, broadcast"() {
    const [C, H, W] = [choose(channels), int(1, 3), int(1, 4)];
    const join = choose(["Add(Mul(x, g), r)", "Mul(r, Add(x, g))", "Add(x, g, r)", "Mul(g, r)"]);
    return {
      source: `model M {
  input x: [${C}, ${H}, ${W}]
  g = x -> SpatialAdaptiveAveragePooling(1) -> Tanh
  r = x -> SpatialAdaptiveMaxPooling(1, ${W})
  y = ${join}
  output y
}
criterion MSE
`,
    };
  },
};

/** Windowed ops have the most arguments to combine: they get more cases. */
const windowed = new Set([
  "SpatialConvolution",
  "SpatialFullConvolution",
  "SpatialMaxPooling",
  "SpatialAveragePooling",
  "SpatialMaxPooling, ceil mode",
  "SpatialAveragePooling, ceil mode or padding not counted",
]);

/**
 * Batch norm takes three samples or more: with two, x̂ = ±1 and the input gradient is nearly all
 * cancellation, which float32 cannot resolve. Every other op takes any batch. One batch-norm case
 * in three runs in evaluation mode.
 */
const randomCases: Case[] = Object.entries(generators).flatMap(([op, make]) =>
  [...Array(windowed.has(op) ? 8 : 3).keys()].map((k) => {
    const norm = op.includes("BatchNormalization");
    return {
      name: `${op} #${k + 1}`,
      ...make(),
      N: norm ? int(3, 4) : int(1, 3),
      training: norm ? k !== 2 : true,
    };
  }),
);

// ---------------------------------------------------------------------------------------------
// (a) The interpreter's gradients against central finite differences, in Float64.

/** Every trainable parameter's and input's element, or `limit` of them drawn at random. */
function gradCheck(c: Case, limit = 500): number {
  const model = irOf(c.source);
  const params = draw.params(model);
  const inputs = draw.inputs(model, c.N);
  const targets = draw.targets(model, c.N);
  const run = () =>
    interpret(model, params, inputs, targets, {
      N: c.N,
      training: c.training,
      dropoutMask: masks(5),
    });
  const lossAt = () => run().loss!;
  const analytic = run();
  const slots = [
    ...model.nodes
      .flatMap((n) => n.params)
      .filter((p) => p.trainable)
      .map((p) => ({
        name: p.name,
        value: params.get(p.name)!,
        grad: analytic.grads.get(p.name)!,
      })),
    ...Object.entries(inputs).map(([name, value]) => ({
      name: `input ${name}`,
      value,
      grad: analytic.inputGrads.get(name)!,
    })),
  ];
  const total = slots.reduce((s, t) => s + t.value.length, 0);
  const picks =
    total <= limit ? [...Array(total).keys()] : [...Array(limit)].map(() => int(0, total - 1));
  const h = 1e-6;
  for (let k of picks) {
    const slot = slots.find((s) => (k < s.value.length ? true : ((k -= s.value.length), false)))!;
    const old = slot.value[k]!;
    slot.value[k] = old + h;
    const plus = lossAt();
    slot.value[k] = old - h;
    const minus = lossAt();
    slot.value[k] = old;
    const numeric = (plus - minus) / (2 * h);
    const expected = slot.grad[k]!;
    expect(
      Math.abs(numeric - expected),
      `${c.name}: ${slot.name}[${k}] analytic ${expected}, numeric ${numeric}\n${c.source}`,
    ).toBeLessThanOrEqual(1e-6 * (Math.abs(numeric) + Math.abs(expected)) + 1e-8);
  }
  return picks.length;
}

describe("reference gradients against finite differences (float64)", () => {
  test.each(randomCases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    expect(gradCheck(c)).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// (b) The emitted float32 code against the interpreter.

const samples = new URL("../samples/", import.meta.url);
const sampleCases: Case[] = readdirSync(samples)
  .filter((f) => f.endsWith(".net"))
  .map((file) => ({
    name: `samples/${file}`,
    source: readFileSync(new URL(file, samples), "utf8"),
    // Batch statistics over two samples leave batch normalisation's gradients a float32
    // cancellation (each feature normalised to ±1): four.
    N: 4,
    training: true,
  }));

/** Random cases draw their parameters; samples keep the model's own initialisation. */
const randomlySet = new Set(randomCases);

// Both backends run on one set of values per case, drawn once: the interpreter runs once too.
const references = new Map<Case, Reference>();
const seed = 3;

/**
 * Evaluation outputs and loss, then a training pass's outputs (dropout masks drawn from the
 * model's own stream), loss, gradients and running statistics, on the backend asked for.
 */
function compareEmitted(c: Case, backend: Backend): void {
  const e = emittedModel(c.source, c.N, { seed, backend });
  expect(e.net.backend, "the backend that runs").toBe(backend);
  let ref = references.get(c);
  if (!ref) {
    const model = irOf(c.source);
    const values = drawFor(c.name);
    const params = randomlySet.has(c) ? values.params(model) : e.paramsOf();
    const [inputs, targets] = [values.inputs(model, c.N), values.targets(model, c.N)];
    references.set(c, (ref = referenceRun(model, params, inputs, targets, c.N, seed)));
  }
  expectInterpreted(e, ref, `${c.name} [${backend}, N = ${c.N}: ${c.source.replace(/\s+/g, " ")}]`);
}

describe.each(["ts", "wasm"] as const)("emitted code equals the interpreter (float32, %s)", (b) => {
  test.each([...sampleCases, ...randomCases].map((c) => [c.name, c] as const))("%s", (_, c) => {
    compareEmitted(c, b);
  });
});

// ---------------------------------------------------------------------------------------------
// (c) PyTorch as the outside oracle: test/fixtures/make-torch-fixtures.py.

interface Fixture {
  name: string;
  source: string;
  batch: number;
  training: boolean;
  inputs: Record<string, number[]>;
  targets: Record<string, number[]>;
  params: Record<string, { shape: number[]; data: number[] }>;
  dropoutKeep?: number[];
  outputs: Record<string, number[]>;
  loss: number;
  grads: Record<string, number[]>;
  inputGrads: Record<string, number[]>;
  buffers: Record<string, number[]>;
}

const fixtures = (
  JSON.parse(readFileSync(new URL("fixtures/torch-layers.json", import.meta.url), "utf8")) as {
    cases: Fixture[];
  }
).cases;

describe("PyTorch fixtures", () => {
  test.each(fixtures.map((f) => [f.name, f] as const))("%s", (_, f) => {
    const model = irOf(f.source);
    for (const p of model.nodes.flatMap((n) => n.params))
      expect(f.params[p.name]?.shape, `${f.name}: ${p.name}`).toEqual(p.shape);
    const params = new Map(
      Object.entries(f.params).map(([k, v]) => [k, Float64Array.from(v.data)]),
    );
    const inputs = Object.fromEntries(
      Object.entries(f.inputs).map(([k, v]) => [k, Float64Array.from(v)]),
    );
    const targets = Object.fromEntries(
      model.criterion.map((t) => [
        t.output,
        t.targetKind === "classes"
          ? Int32Array.from(f.targets[t.output]!)
          : Float64Array.from(f.targets[t.output]!),
      ]),
    );
    // PyTorch's mask replayed: a draw below p drops an element, one at or above keeps it.
    const keep = f.dropoutKeep;
    const p = model.nodes.find((n) => n.op === "Dropout")?.attrs["p"] as number | undefined;
    const dropoutMask = (_: string, i: number) => (keep![i] ? (1 + p!) / 2 : p! / 2);
    const ref = interpret(model, params, inputs, targets, {
      N: f.batch,
      training: f.training,
      ...(keep ? { dropoutMask } : {}),
    });
    const at = `${f.name} (interpreter):`;
    for (const [name, value] of Object.entries(f.outputs))
      expectClose(`${at} output ${name}`, ref.outputs.get(name), value, 1e-9);
    expectClose(`${at} loss`, ref.loss, f.loss, 1e-9);
    for (const [name, value] of Object.entries(f.grads))
      expectClose(`${at} grad ${name}`, ref.grads.get(name), value, 1e-9);
    for (const [name, value] of Object.entries(f.inputGrads))
      expectClose(`${at} input gradient ${name}`, ref.inputGrads.get(name), value, 1e-9);
    for (const [name, value] of Object.entries(f.buffers))
      expectClose(`${at} buffer ${name}`, ref.state.get(name), value, 1e-9);

    // The emitted code cannot replay PyTorch's dropout mask; its masks are compared in (b).
    if (keep && f.training) return;
    const [input32, target32] = [float32(inputs), float32(targets)];
    for (const backend of ["ts", "wasm"] as const) {
      const e = emittedModel(f.source, f.batch, { backend });
      expect(e.net.backend, "the backend that runs").toBe(backend);
      const emitted = `${f.name} (emitted, ${backend}):`;
      e.setParams(params);
      if (!f.training) {
        const outputs = e.net.forward(input32);
        for (const [name, value] of Object.entries(f.outputs)) {
          const got = outputs instanceof Float32Array ? outputs : outputs[name];
          expectClose(`${emitted} output ${name}`, got, value, F32);
        }
        expectClose(`${emitted} loss`, e.net.loss(input32, target32), f.loss, F32);
        continue;
      }
      const trained = e.trainingPass(input32, target32);
      for (const [name, value] of Object.entries(f.outputs))
        expectClose(`${emitted} output ${name}`, trained.outputs.get(name), value, F32);
      expectClose(`${emitted} loss`, trained.loss, f.loss, F32);
      for (const g of e.net.grads)
        expectClose(`${emitted} grad ${g.name}`, g.data, f.grads[g.name], F32);
      const inputGrad = e.net.inputGrad;
      for (const [name, value] of Object.entries(f.inputGrads)) {
        const got = ArrayBuffer.isView(inputGrad) ? inputGrad : inputGrad[name];
        expectClose(`${emitted} input gradient ${name}`, got, value, F32);
      }
      for (const b of e.net.buffers)
        expectClose(`${emitted} buffer ${b.name}`, b.data, f.buffers[b.name], F32);
    }
  });
});
