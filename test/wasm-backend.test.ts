// The WASM backend checked against the reference interpreter and against the TS backend.
// Kernel family by kernel family at the odd sizes its tiles and tails must get right, the steps
// that must not fall back to JS, partial batches over stale memory, the samples trained on both.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { Step } from "../compiler/lower/program.js";
import { compileModel, pseudoRandom } from "./helpers/gradcheck.js";
import {
  emittedModel,
  expectClose,
  expectInterpreted,
  F32,
  float32,
  referenceRun,
  sampler,
  type EmittedModel,
} from "./helpers/reference.js";

const draw = sampler(pseudoRandom(4099));
const seed = 0;

// ---------------------------------------------------------------------------------------------
// Which steps must run as WASM. Coverage only grows: a step outside this list may run either way,
// but one inside it falling back to its JS kernel fails, so these tests exercise the WASM code.
// A kernel that gains WASM code belongs here, or its tests may pass on the JS kernel alone.

const wasmActivations = new Set<string | undefined>([undefined, "relu", "leaky_relu"]);

function mustRunInWasm(step: Step): boolean {
  const act = wasmActivations.has("act" in step.attrs ? step.attrs.act?.fn : undefined);
  switch (step.kernel) {
    case "conv2d":
      return act;
    case "conv2d_grad_input":
    case "conv2d_grad_weight":
      return true;
    case "linear":
      return act;
    case "linear_grad_input":
    case "linear_grad_weight":
      return true;
    case "max_pool":
    case "max_pool_grad":
      return step.attrs.PH === 0 && step.attrs.PW === 0;
    case "activation":
    case "activation_grad":
      return act;
    case "softmax":
    case "softmax_grad":
    case "log_softmax":
    case "log_softmax_grad":
    case "nll":
    case "cross_entropy":
    case "class_loss_grad":
    case "batch_norm":
    case "batch_norm_grad":
      return true;
    default:
      return false;
  }
}

const stepsOf = (e: EmittedModel) => {
  const { program } = e.compiled;
  return [...program.forward, ...program.loss, ...program.backward];
};

/** The steps `mustRunInWasm` picks that run their JS kernel instead, described. */
const fellBack = (e: EmittedModel) =>
  stepsOf(e).flatMap((s, i) =>
    mustRunInWasm(s) && e.compiled.wasm.fallback.includes(i)
      ? [`step ${i}: ${s.kernel} ${JSON.stringify(s.attrs)}`]
      : [],
  );

test("every kernel the WASM list names is one the lowering emits, and runs as WASM", () => {
  const source = `model M {
  input x: [3, 9, 13]
  c: SpatialConvolution(5, kernel=3, pad=1) -> ReLU
  SpatialMaxPooling(2)
  LeakyReLU(slope=0.1)
  View(-1)
  l: Linear(7)
}
criterion MSE
`;
  const e = emittedModel(source, 3, { backend: "wasm" });
  const picked = new Set(
    stepsOf(e)
      .filter(mustRunInWasm)
      .map((s) => s.kernel),
  );
  // A renamed kernel or attribute would leave the list matching nothing, silently.
  expect([...picked].sort()).toEqual([
    "activation",
    "activation_grad",
    "conv2d",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "linear",
    "linear_grad_input",
    "linear_grad_weight",
    "max_pool",
    "max_pool_grad",
  ]);
  expect(fellBack(e)).toEqual([]);
});

test("the softmax and class-criterion kernels of the WASM list run as WASM", () => {
  const model = (last: string, criterion: string) => `model M {
  input x: [5]
  Linear(7)
  ${last}
}
criterion ${criterion}
`;
  const cases = [
    model("SoftMax", "MSE"),
    model("LogSoftMax", "MSE"),
    model("LogSoftMax", "NLL"),
    model("ReLU", "NLL"),
    model("ReLU", "CrossEntropy"),
  ];
  const picked = new Set<string>();
  for (const source of cases) {
    const e = emittedModel(source, 3, { backend: "wasm" });
    for (const step of stepsOf(e).filter(mustRunInWasm)) picked.add(step.kernel);
    expect(fellBack(e)).toEqual([]);
  }
  expect([...picked].filter((k) => /softmax|nll|entropy|class/.test(k)).sort()).toEqual([
    "class_loss_grad",
    "cross_entropy",
    "log_softmax",
    "log_softmax_grad",
    "nll",
    "softmax",
    "softmax_grad",
  ]);
});

// ---------------------------------------------------------------------------------------------
// Kernel families against the interpreter: forward outputs, loss, every parameter's gradient and
// the input's, in evaluation and training.

interface FamilyCase {
  name: string;
  source: string;
  N: number;
  /** Kernels the case is about: the lowering must emit each, or the case tests something else. */
  kernels: string[];
  /**
   * Keeps the model's initialisation: weights drawn from [-1, 1) through several layers saturate
   * the softmax, leaving gradients that are float32 noise in both backends.
   */
  initialised?: boolean;
  /** A kernel that must run as WASM adding into its output (a gradient's second part). */
  accumulating?: string;
}

const single = (input: readonly number[], layer: string, criterion = "MSE") =>
  `model M {\n  input x: [${input.join(", ")}]\n  l: ${layer}\n}\ncriterion ${criterion}\n`;
const pairText = ([a, b]: readonly number[]) => (a === b ? `${a}` : `[${a}, ${b}]`);
const windowText = (kernel: number[], stride: number[], pad: number[]) =>
  `kernel=${pairText(kernel)}, stride=${pairText(stride)}, pad=${pairText(pad)}`;

const channels = [1, 3, 7, 17];
// Tiles are four rows of the batch: one, three and five samples leave every kind of tail.
const batches = [1, 3, 5];
/** Input and output channel counts; 17 × 17 is left out to keep the interpreter quick. */
const channelPairs = channels
  .flatMap((c) => channels.map((k) => [c, k]))
  .filter(([c, k]) => c! * k! < 289);
const epilogues = ["", " -> ReLU", " -> LeakyReLU(slope=0.2)"];
const grads = (kernel: string) => [kernel, `${kernel}_grad_input`, `${kernel}_grad_weight`];

/** Every kernel size with every stride, padding 0 to 3, on 9 × 13 and 13 × 9 inputs. */
const squareConvolutions: FamilyCase[] = [1, 2, 3, 4, 5, 6, 7].flatMap((k) =>
  [1, 2, 3].map((s) => {
    const i = (k - 1) * 3 + s - 1;
    const [C, K] = channelPairs[i % channelPairs.length]!;
    const pad = (k + s) % 4;
    const hw = i % 2 === 0 ? [9, 13] : [13, 9];
    const bias = i % 4 === 3 ? ", bias=false" : "";
    // Not a function of k modulo 3, as the batch is: each stride meets each pair of the two.
    const epilogue = epilogues[(Math.floor((k - 1) / 2) + s - 1) % 3]!;
    const layer = `SpatialConvolution(${K}, ${windowText([k, k], [s, s], [pad, pad])}${bias})`;
    return {
      name: `C=${C} K=${K} kernel ${k} stride ${s} pad ${pad} on ${hw.join("×")}${epilogue}${bias}`,
      source: single([C, ...hw], layer + epilogue),
      N: batches[k % 3]!,
      kernels: grads("conv2d"),
    };
  }),
);

const convolution = (
  name: string,
  input: number[],
  K: number,
  args: string,
  N: number,
): FamilyCase => ({
  name,
  source: single(input, `SpatialConvolution(${K}, ${args})`),
  N,
  kernels: grads("conv2d"),
});

const convolutions: FamilyCase[] = [
  ...squareConvolutions,
  convolution("kernel 1×7, stride 1×2", [3, 9, 13], 7, windowText([1, 7], [1, 2], [0, 3]), 5),
  convolution("kernel 7×1, stride 3×1", [7, 13, 9], 3, windowText([7, 1], [3, 1], [3, 0]), 3),
  convolution("kernel 2×5, stride 1", [17, 9, 13], 3, windowText([2, 5], [1, 1], [1, 2]), 1),
  convolution("kernel 4×6 on 5×11", [3, 5, 11], 7, windowText([4, 6], [1, 1], [3, 0]), 5),
  convolution("kernel 5×3, stride 2×3", [1, 9, 13], 17, windowText([5, 3], [2, 3], [2, 1]), 3),
  convolution("a 1×1 input padded to 3×3", [7, 1, 1], 3, "kernel=3, pad=1", 3),
  convolution("a 33-wide row", [3, 4, 33], 7, "kernel=[3, 5], pad=[1, 2]", 3),
  convolution("two whole tiles of the batch and one sample", [7, 9, 13], 3, "kernel=3", 9),
  convolution("one whole tile", [3, 9, 13], 7, "kernel=2, pad=1, bias=false", 4),
];

const sizes = [1, 3, 7, 17, 33, 100];
const linears: FamilyCase[] = sizes.flatMap((I, a) =>
  sizes.map((O, b) => {
    const i = a * sizes.length + b;
    const bias = i % 4 === 3 ? ", bias=false" : "";
    const epilogue = epilogues[(a + 2 * b) % 3]!;
    return {
      name: `${I} → ${O}${epilogue}${bias}`,
      source: single([I], `Linear(${O}${bias})${epilogue}`),
      N: batches[(a + b) % 3]!,
      kernels: grads("linear"),
    };
  }),
);
linears.push(
  { name: "33 → 17", source: single([33], "Linear(17)"), N: 8, kernels: grads("linear") },
  {
    name: "100 → 7 -> ReLU",
    source: single([100], "Linear(7) -> ReLU"),
    N: 9,
    kernels: grads("linear"),
  },
);

/** Max and average pooling, every window and stride, padded up to half the window. */
const poolings: FamilyCase[] = ["Max", "Average"].flatMap((op) =>
  [1, 2, 3, 4, 5, 6, 7].flatMap((k) =>
    [1, 2, 3].map((s) => {
      const i = (k - 1) * 3 + s - 1;
      const pad = (k + s) % (Math.floor(k / 2) + 1);
      const hw = i % 2 === 0 ? [9, 13] : [13, 9];
      const C = channels[i % channels.length]!;
      const kernel = op === "Max" ? "max_pool" : "avg_pool";
      return {
        name: `${op} C=${C} kernel ${k} stride ${s} pad ${pad} on ${hw.join("×")}`,
        source: single(
          [C, ...hw],
          `Spatial${op}Pooling(${windowText([k, k], [s, s], [pad, pad])})`,
        ),
        N: batches[k % 3]!,
        kernels: [kernel, `${kernel}_grad`],
      };
    }),
  ),
);
poolings.push(
  {
    name: "Max, window 3×2, stride 1×2",
    source: single([7, 9, 13], "SpatialMaxPooling(kernel=[3, 2], stride=[1, 2])"),
    N: 5,
    kernels: ["max_pool", "max_pool_grad"],
  },
  {
    name: "Max, window 2×5, padded 1×2",
    source: single([3, 9, 13], "SpatialMaxPooling(kernel=[2, 5], stride=[2, 3], pad=[1, 2])"),
    N: 3,
    kernels: ["max_pool", "max_pool_grad"],
  },
  {
    name: "Average, window 5×3, padded 2×0",
    source: single([17, 13, 9], "SpatialAveragePooling(kernel=[5, 3], stride=[1, 3], pad=[2, 0])"),
    N: 1,
    kernels: ["avg_pool", "avg_pool_grad"],
  },
);

/** Standalone activations: their input is not a convolution's or a linear layer's. */
const activations: FamilyCase[] = [
  [1],
  [3],
  [17],
  [100],
  [3, 9, 13],
  [7, 1, 5],
  [17, 2, 3],
].flatMap((shape, i) =>
  ["ReLU", "LeakyReLU(slope=0.3)"].map((layer) => ({
    name: `${layer} on [${shape.join(", ")}]`,
    source: single(shape, layer),
    N: batches[i % 3]!,
    kernels: ["activation", "activation_grad"],
  })),
);
activations.push({
  name: "ReLU after max pooling, LeakyReLU after it",
  source: `model M {
  input x: [7, 9, 13]
  y = x -> SpatialMaxPooling(2) -> ReLU -> LeakyReLU(slope=0.05)
  output y
}
criterion MSE
`,
  N: 5,
  kernels: ["max_pool", "max_pool_grad", "activation", "activation_grad"],
});

/**
 * Batch normalisation: 2-D over every channel count, odd planes and batch, with and without the
 * affine parameters; 1-D on [C] (four channels a vector, then one by one) and [C, L].
 */
const spatialNorms: FamilyCase[] = [
  [9, 13],
  [13, 9],
  [5, 7],
  [3, 3],
  [1, 5],
  [7, 1],
  [2, 11],
  [1, 1],
].map((hw, i) => {
  const C = channels[i % channels.length]!;
  const args = [
    ...(i % 2 === 1 ? ["affine=false"] : []),
    ...(i % 3 === 0 ? ["eps=0.01", "momentum=0.3"] : []),
  ].join(", ");
  const N = hw[0]! * hw[1]! === 1 ? 3 : batches[i % 3]!;
  return {
    name: `SpatialBatchNormalization(${args}) C=${C} on ${hw.join("×")}`,
    source: single([C, ...hw], `SpatialBatchNormalization(${args})`),
    N,
    kernels: ["batch_norm", "batch_norm_grad"],
  };
});

/** A single sample has no variance over [C]: batches of three and five only. */
const featureNorms: FamilyCase[] = [[1], [3], [7], [17], [33], [3, 5], [17, 2], [7, 9], [5, 1]].map(
  (shape, i) => {
    const args = i % 2 === 1 ? "affine=false, momentum=0.5" : "eps=0.001";
    return {
      name: `BatchNormalization(${args}) on [${shape.join(", ")}]`,
      source: single(shape, `BatchNormalization(${args})`),
      N: batches[1 + (i % 2)]!,
      kernels: ["batch_norm", "batch_norm_grad"],
    };
  },
);

const norms: FamilyCase[] = [
  ...spatialNorms,
  ...featureNorms,
  {
    name: "SpatialBatchNormalization -> ReLU",
    source: single([7, 9, 13], "SpatialBatchNormalization -> ReLU"),
    N: 5,
    kernels: ["batch_norm", "batch_norm_grad", "activation", "activation_grad"],
  },
  {
    name: "a batch-normalised value used twice: its gradient is two parts added",
    source: `model M {
  input x: [3, 9, 13]
  n = x -> SpatialBatchNormalization(momentum=0.2)
  y = Add(n -> ReLU, n -> SpatialConvolution(3, kernel=3, pad=1))
  output y
}
criterion MSE
`,
    N: 3,
    kernels: ["batch_norm", "batch_norm_grad", "activation_grad", "conv2d_grad_input"],
  },
  {
    // A bias before batch normalisation has a zero gradient: float32 noise against the reference.
    name: "a small network of convolutions and both batch normalisations",
    source: `model M {
  input x: [3, 9, 13]
  c1: SpatialConvolution(7, kernel=3, pad=1, bias=false)
  SpatialBatchNormalization -> ReLU
  SpatialMaxPooling(2)
  c2: SpatialConvolution(5, kernel=2, bias=false)
  SpatialBatchNormalization(affine=false) -> LeakyReLU(slope=0.1)
  View(-1)
  f1: Linear(33, bias=false)
  BatchNormalization -> ReLU
  f2: Linear(7)
}
criterion CrossEntropy
`,
    N: 5,
    kernels: [...grads("conv2d"), ...grads("linear"), "batch_norm", "batch_norm_grad"],
    initialised: true,
  },
];

/** One value feeding two layers: the second gradient part is added to the first. */
const fanOut = (name: string, input: number[], a: string, b: string, kernels: string[]) => ({
  name,
  accumulating: kernels.find((k) => k.endsWith("_grad") || k.endsWith("_grad_input"))!,
  source: `model M {
  input x: [${input.join(", ")}]
  p = x -> ${a}
  q = x -> ${b}
  y = Add(p, q)
  output y
}
criterion MSE
`,
  N: 3,
  kernels,
});

const fanOuts: FamilyCase[] = [
  fanOut(
    "two convolutions",
    [3, 9, 13],
    "SpatialConvolution(7, kernel=3, pad=1) -> ReLU",
    "SpatialConvolution(7, kernel=[1, 5], pad=[0, 2], bias=false)",
    grads("conv2d"),
  ),
  fanOut(
    "two linear layers",
    [17],
    "Linear(33) -> ReLU",
    "Linear(33, bias=false)",
    grads("linear"),
  ),
  fanOut(
    "two max poolings",
    [7, 9, 13],
    "SpatialMaxPooling(3, stride=2)",
    "SpatialMaxPooling(kernel=[3, 5], stride=2, pad=[0, 1])",
    ["max_pool", "max_pool_grad"],
  ),
  fanOut("two activations", [3, 9, 13], "ReLU", "LeakyReLU(slope=0.3)", [
    "activation",
    "activation_grad",
  ]),
  fanOut(
    "two spatial batch normalisations",
    [7, 9, 13],
    "SpatialBatchNormalization",
    "SpatialBatchNormalization(affine=false, eps=0.1)",
    ["batch_norm", "batch_norm_grad"],
  ),
  fanOut(
    "two batch normalisations of features",
    [17],
    "BatchNormalization(affine=false)",
    "BatchNormalization",
    ["batch_norm", "batch_norm_grad"],
  ),
];

const stack = (N: number, criterion: string, head: string): FamilyCase => ({
  name: `a small network, ${criterion}`,
  source: `model M {
  input x: [3, 9, 13]
  c1: SpatialConvolution(7, kernel=3, pad=1) -> ReLU
  SpatialMaxPooling(2)
  c2: SpatialConvolution(5, kernel=2) -> LeakyReLU(slope=0.1)
  View(-1)
  f1: Linear(33) -> ReLU
  f2: Linear(7)${head}
}
criterion ${criterion}
`,
  N,
  kernels: [...grads("conv2d"), "max_pool", "max_pool_grad", ...grads("linear")],
  initialised: true,
});

const stacks: FamilyCase[] = [
  stack(1, "CrossEntropy", ""),
  stack(3, "NLL", "\n  LogSoftMax"),
  stack(5, "MSE", " -> ReLU"),
];

const families: Record<string, FamilyCase[]> = {
  convolution: convolutions,
  linear: linears,
  pooling: poolings,
  activation: activations,
  "batch normalisation": norms,
  "fan-out (accumulating gradients)": fanOuts,
  "small networks": stacks,
};

for (const [family, cases] of Object.entries(families)) {
  describe(`WASM equals the interpreter: ${family}`, () => {
    test.each(cases.map((c) => [`${c.name}, batch ${c.N}`, c] as const))("%s", (_, c) => {
      const e = emittedModel(c.source, c.N, { seed, backend: "wasm" });
      expect(e.net.backend).toBe("wasm");
      const kernels = new Set(stepsOf(e).map((s) => s.kernel));
      for (const k of c.kernels) expect(kernels, `the program has a ${k} step`).toContain(k);
      expect(fellBack(e), "steps the WASM backend covers running their JS kernel").toEqual([]);
      if (c.accumulating) {
        const adding = stepsOf(e).findIndex((s) => s.kernel === c.accumulating && s.accumulate);
        expect(adding, `an accumulating ${c.accumulating} step`).toBeGreaterThanOrEqual(0);
        expect(e.compiled.wasm.fallback).not.toContain(adding);
      }
      const model = e.compiled.model;
      const [inputs, targets] = [draw.inputs(model, c.N), draw.targets(model, c.N)];
      const params = c.initialised ? e.paramsOf() : draw.params(model);
      const ref = referenceRun(model, params, inputs, targets, c.N, seed);
      expectInterpreted(e, ref, `${c.name} [N = ${c.N}: ${c.source.replace(/\s+/g, " ")}]`);
    });
  });
}

// One value per channel (batch 1 on [C]) has no unbiased variance: the interpreter's is NaN,
// PyTorch refuses it, the kernels keep the biased one (zero). The TS kernel is the reference here.
test("batch normalisation of a single value per channel, as the TS kernel does it", () => {
  const source = single([7], "BatchNormalization(momentum=0.3)");
  const [ts, wasm] = (["ts", "wasm"] as const).map((backend) =>
    emittedModel(source, 1, { seed, backend }),
  ) as [EmittedModel, EmittedModel];
  expect(fellBack(wasm)).toEqual([]);
  const model = ts.compiled.model;
  const params = draw.params(model);
  const [x, t] = [float32(draw.inputs(model, 1)), float32(draw.targets(model, 1))];
  const [a, b] = [ts, wasm].map((e) => (e.setParams(params), e.trainingPass(x, t)));
  expectClose("training loss", b!.loss, a!.loss, F32);
  wasm.net.buffers.forEach((buffer, i) =>
    expectClose(`buffer ${buffer.name}`, buffer.data, ts.net.buffers[i]!.data, F32),
  );
  wasm.net.grads.forEach((g, i) =>
    expectClose(`grad ${g.name}`, g.data, ts.net.grads[i]!.data, F32),
  );
});

// ---------------------------------------------------------------------------------------------
// A partial batch (count < N): the padding samples must not leak into outputs, loss or gradients,
// whatever an earlier full batch left in the memory.

const partial: Pick<FamilyCase, "name" | "source" | "initialised">[] = [
  stacks[0]!,
  {
    name: "convolution, batch norm, max pooling, linear",
    source: `model M {
  input x: [3, 9, 13]
  c: SpatialConvolution(7, kernel=3)
  SpatialBatchNormalization
  ReLU
  SpatialMaxPooling(3, stride=2)
  View(-1)
  f: Linear(17) -> LeakyReLU(slope=0.1)
}
criterion MSE
`,
  },
  {
    name: "linear, batch norm of features",
    source: `model M {
  input x: [9]
  f1: Linear(33, bias=false)
  BatchNormalization(momentum=0.2) -> ReLU
  f2: Linear(5)
}
criterion MSE
`,
  },
];

describe("a partial batch equals the same samples as a whole batch", () => {
  test.each(partial.map((c) => [c.name, c] as const))("%s: batch 5 holding 3", (_, c) => {
    const [N, count] = [5, 3];
    const whole = emittedModel(c.source, count, { seed, backend: "wasm" });
    const part = emittedModel(c.source, N, { seed, backend: "wasm" });
    expect(fellBack(part)).toEqual([]);
    const model = part.compiled.model;
    const params = c.initialised ? part.paramsOf() : draw.params(model);
    whole.setParams(params);
    part.setParams(params);
    // A full batch of inputs ten times the real ones leaves stale activations and gradients.
    const stale = Object.entries(draw.inputs(model, N)).map(([k, v]) => [k, v.map((x) => 10 * x)]);
    part.trainingPass(float32(Object.fromEntries(stale)), float32(draw.targets(model, N)));
    part.setParams(params); // the stale pass moved the running statistics

    const [inputs, targets] = [
      float32(draw.inputs(model, count)),
      float32(draw.targets(model, count)),
    ];
    const at = `${c.name} [${count} of ${N}]`;
    const [got, expected] = [part.net.forward(inputs), whole.net.forward(inputs)];
    for (const o of model.outputs) {
      const pick = (v: typeof got) => (v instanceof Float32Array ? v : v[o.name]);
      expectClose(`${at} evaluation output ${o.name}`, pick(got), pick(expected), F32);
    }
    const a = part.trainingPass(inputs, targets, count);
    const b = whole.trainingPass(inputs, targets);
    expectClose(`${at} training loss`, a.loss, b.loss, F32);
    for (const [name, value] of b.outputs)
      expectClose(`${at} training output ${name}`, a.outputs.get(name), value, F32);
    part.net.grads.forEach((g, i) =>
      expectClose(`${at} grad ${g.name}`, g.data, whole.net.grads[i]!.data, F32),
    );
    // One input, so one array each: the part's real samples come first.
    const [ga, gb] = [part.net.inputGrad, whole.net.inputGrad] as Float32Array[];
    expectClose(`${at} input gradient`, ga!.subarray(0, gb!.length), gb, F32);
    part.net.buffers.forEach((t, i) =>
      expectClose(`${at} buffer ${t.name}`, t.data, whole.net.buffers[i]!.data, F32),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The samples trained a few steps on each backend from one seed. Their weights are not compared:
// Adam moves a weight whose gradient is float32 noise by ±lr whichever the noise's sign. The first
// step's gradients are, since both start from the same weights.

describe("training the samples: WASM and TS take the same steps", () => {
  const samples = new URL("../samples/", import.meta.url);
  const files = readdirSync(samples).filter((f) => f.endsWith(".net"));
  test.each(files)("samples/%s", (file) => {
    const source = readFileSync(new URL(file, samples), "utf8");
    const N = 3;
    const [ts, wasm] = (["ts", "wasm"] as const).map((backend) => {
      const e = emittedModel(source, N, { seed: 1, backend });
      expect(e.net.backend).toBe(backend);
      return e;
    }) as [EmittedModel, EmittedModel];
    expect(fellBack(wasm)).toEqual([]);
    const model = ts.compiled.model;
    ts.net.params.forEach((p, i) => expect(wasm.net.params[i]!.data).toEqual(p.data));
    // The last step is a partial batch: two samples of three.
    for (const [step, count] of [N, N, 2].entries()) {
      const [x, t] = [float32(draw.inputs(model, count)), float32(draw.targets(model, count))];
      const at = `samples/${file}, step ${step + 1} (${count} samples)`;
      expectClose(`${at}: loss`, wasm.net.trainStep(x, t), ts.net.trainStep(x, t), F32);
      if (step > 0) continue;
      ts.net.grads.forEach((g, i) =>
        expectClose(`${at}: grad ${g.name}`, wasm.net.grads[i]!.data, g.data, F32),
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Threads split each step's outputs, never a sum, so any thread count computes the same bits.
// resnet-tiny has JS fallback steps (Add, AvgPool, CrossEntropy), which run on thread 0 alone.
// Batch normalisation's threads split the channels: 3 and 33 features cut at vector groups.

describe("threads", () => {
  const sample = (name: string) =>
    readFileSync(new URL(`../samples/${name}.net`, import.meta.url), "utf8");
  const normalised = `model M {
  input x: [3, 9, 13]
  SpatialConvolution(7, kernel=3, bias=false)
  SpatialBatchNormalization -> ReLU
  SpatialMaxPooling(2)
  View(-1)
  Linear(33, bias=false)
  BatchNormalization(affine=false)
  Linear(3)
  BatchNormalization
}
criterion MSE
`;
  test.each([
    ["samples/lenet5", sample("lenet5")],
    ["samples/resnet-tiny", sample("resnet-tiny")],
    ["a batch-normalised network", normalised],
  ])("%s trains bit for bit alike on 1, 2, 3 threads", (_, source) => {
    const compiled = compileModel(source);
    const N = 5;
    const model = compiled.model;
    const batches = [N, N, 3].map((count) => ({
      x: float32(draw.inputs(model, count)),
      t: float32(draw.targets(model, count)),
    }));
    const runs = [1, 2, 3].map((threads) => {
      const net = compiled.create({ batch: N, seed: 2, backend: "wasm", threads });
      try {
        const losses = batches.map(({ x, t }) => net.trainStep(x, t));
        const outputs = net.forward(batches[0]!.x);
        // The running statistics too: buffers, not parameters.
        const params = [...net.params, ...net.buffers].map((p) => Float32Array.from(p.data));
        return { losses, params, outputs };
      } finally {
        net.dispose();
      }
    });
    for (const run of runs.slice(1)) {
      expect(run.losses).toEqual(runs[0]!.losses);
      expect(run.params).toEqual(runs[0]!.params);
      expect(run.outputs).toEqual(runs[0]!.outputs);
    }
  });

  test("bad thread counts and backends are refused with a clear error", () => {
    const compiled = compileModel(sample("mlp"));
    expect(() => compiled.create({ threads: 0 })).toThrow(
      "threads must be a positive integer, got 0",
    );
    expect(() => compiled.create({ threads: 2, backend: "ts" })).toThrow(
      'threads need the WASM kernels (backend "wasm")',
    );
    expect(() => compiled.create({ backend: "wasm", precision: "f64" })).toThrow(
      'the WASM kernels are float32: precision "f64" needs backend "ts"',
    );
  });
});
