// The WASM backend checked against the reference interpreter and against the TS backend.
// Kernel family by kernel family at the odd sizes its tiles and tails must get right, the steps
// that must not fall back to JS, partial batches over stale memory, the samples trained on both.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { Step } from "../compiler/lower/program.js";
import { compileModel, pseudoRandom } from "./helpers/gradcheck.js";
import {
  drawFor,
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

function mustRunInWasm(step: Step): boolean {
  switch (step.kernel) {
    case "conv2d":
    case "conv2d_grad_input":
    case "conv2d_grad_weight":
      return true;
    case "linear":
    case "linear_grad_input":
    case "linear_grad_weight":
      return true;
    case "max_pool":
    case "max_pool_grad":
    case "avg_pool":
    case "avg_pool_grad":
    case "adaptive_max_pool":
    case "adaptive_max_pool_grad":
    case "adaptive_avg_pool":
    case "adaptive_avg_pool_grad":
    case "pad":
    case "pad_grad":
      return true;
    case "activation":
    case "activation_grad":
    case "dropout":
    case "dropout_grad":
      return true;
    case "softmax":
    case "softmax_grad":
    case "log_softmax":
    case "log_softmax_grad":
    case "nll":
    case "cross_entropy":
    case "class_loss_grad":
    case "mse":
    case "mse_grad":
    case "bce":
    case "bce_grad":
    case "smooth_l1":
    case "smooth_l1_grad":
    case "bce_logits":
    case "bce_logits_grad":
    case "kl_div":
    case "kl_div_grad":
    case "add":
    case "add_grad":
    case "concat":
    case "concat_grad":
    case "upsample_nearest":
    case "upsample_nearest_grad":
    case "upsample_bilinear":
    case "upsample_bilinear_grad":
    case "zero":
    case "batch_norm":
    case "batch_norm_grad":
    case "prelu":
    case "prelu_grad":
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
    "mse",
    "mse_grad",
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
  /**
   * A kernel that must run as WASM adding into an output (a gradient's second part): the step's
   * flag, or a join's flag for one of its inputs.
   */
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
const epilogues = [
  "",
  " -> ReLU",
  " -> LeakyReLU(slope=0.2)",
  " -> Tanh",
  " -> Sigmoid",
  " -> ELU(alpha=0.7)",
  " -> ReLU6",
  " -> HardSigmoid",
  " -> LogSigmoid",
  " -> SoftSign",
  " -> HardTanh(min_val=-0.5, max_val=0.5)",
  " -> SiLU",
  " -> GELU",
  " -> HardSwish",
  " -> GELU(approximate=true)",
  " -> SoftPlus",
];
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
    const epilogue = epilogues[(Math.floor((k - 1) / 2) + s - 1 + 3 * (k % 2)) % epilogues.length]!;
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
    const epilogue = epilogues[(a + 2 * b) % epilogues.length]!;
    return {
      name: `${I} → ${O}${epilogue}${bias}`,
      source: single([I], `Linear(${O}${bias})${epilogue}`),
      N: batches[(a + b) % 3]!,
      kernels: grads("linear"),
      // One output's bias gradient is a sum over the batch that drawn weights can cancel to
      // 1% of its terms, past float32's reach: the model's own, smaller weights.
      initialised: O === 1,
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
/** Windows the square family misses: 1×1 inputs, strides past the window, large windows. */
const pooling = (name: string, input: number[], layer: string, N: number): FamilyCase => {
  const kernel = layer.startsWith("SpatialMax") ? "max_pool" : "avg_pool";
  return { name, source: single(input, layer), N, kernels: [kernel, `${kernel}_grad`] };
};
poolings.push(
  pooling("Max, a 1×1 input padded to 3×3", [7, 1, 1], "SpatialMaxPooling(3, stride=1, pad=1)", 3),
  pooling("Average, a 1×1 input padded to 2×2", [3, 1, 1], "SpatialAveragePooling(2, pad=1)", 5),
  pooling(
    "Max, window 2×3 every 4×5, padded",
    [3, 13, 9],
    `SpatialMaxPooling(${windowText([2, 3], [4, 5], [1, 1])})`,
    3,
  ),
  pooling(
    "Average, window 3×5 every 2×1, padded",
    [7, 9, 13],
    `SpatialAveragePooling(${windowText([3, 5], [2, 1], [1, 2])})`,
    3,
  ),
  pooling(
    "Max, window 9×6, one at a time, padded",
    [3, 12, 14],
    `SpatialMaxPooling(${windowText([9, 6], [3, 2], [4, 3])})`,
    3,
  ),
  pooling(
    "Average, window 10×7, one at a time, padded",
    [3, 12, 14],
    `SpatialAveragePooling(${windowText([10, 7], [3, 2], [5, 3])})`,
    1,
  ),
  pooling("Max, global over 9×13", [17, 9, 13], "SpatialMaxPooling(kernel=[9, 13])", 3),
  pooling("Average, global over 9×13", [17, 9, 13], "SpatialAveragePooling(kernel=[9, 13])", 5),
  pooling("Average, LeNet's first", [6, 28, 28], "SpatialAveragePooling(2)", 3),
  pooling("Average, LeNet's second", [16, 10, 10], "SpatialAveragePooling(2)", 5),
);

/** Each of `layers` alone (its input not a convolution's or a linear layer's) on each shape. */
const standalone = (shapes: number[][], layers: string[]): FamilyCase[] =>
  shapes.flatMap((shape, i) =>
    layers.map((layer) => ({
      name: `${layer} on [${shape.join(", ")}]`,
      source: single(shape, layer),
      N: batches[i % 3]!,
      kernels:
        layer === "SoftMin" ? ["softmax", "softmax_grad"] : ["activation", "activation_grad"],
    })),
  );

const activations: FamilyCase[] = [
  ...standalone(
    [[1], [3], [17], [100], [3, 9, 13], [7, 1, 5], [17, 2, 3]],
    [
      ...["ReLU", "LeakyReLU(slope=0.3)", "Tanh", "Sigmoid", "ELU", "SoftPlus"],
      "SoftPlus(beta=2, threshold=1)",
    ],
  ),
  // The activations of issue 14 on the shapes whose tails and planes differ most, and SoftMin.
  ...standalone(
    [[17], [3, 9, 13], [7, 1, 5]],
    [
      ...[
        "ReLU6",
        "HardTanh(min_val=-0.5, max_val=0.25)",
        "SiLU",
        "GELU",
        "GELU(approximate=true)",
      ],
      ...["HardSigmoid", "HardSwish", "LogSigmoid", "SoftSign", "SoftMin"],
    ],
  ),
];

/** PReLU, one slope shared or one per channel, on rows of channels and on planes. */
const prelus: FamilyCase[] = [[1], [3], [17], [100], [3, 9, 13], [7, 1, 5], [17, 2, 3]].flatMap(
  (shape, i) =>
    [...new Set([1, shape[0]!])].map((count) => ({
      name: `PReLU(${count}) on [${shape.join(", ")}]`,
      source: single(shape, `PReLU(${count})`),
      N: batches[i % 3]!,
      kernels: ["prelu", "prelu_grad"],
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

/** Dropout's masks in training are the interpreter's: the same hash of pass, layer and index. */
const dropouts: FamilyCase[] = [
  [[1], 0.5, 1],
  [[3], 0.2, 3],
  [[17], 0.5, 5],
  [[3, 9, 13], 0.3, 3],
  [[7, 1, 5], 0.9, 5],
  [[100], 0, 3],
].map(([shape, p, N]) => ({
  name: `Dropout(${p}) on [${(shape as number[]).join(", ")}]`,
  source: single(shape as number[], `Dropout(${p})`),
  N: N as number,
  kernels: ["dropout", "dropout_grad"],
}));
dropouts.push({
  name: "two Dropouts in a network, one value used twice",
  source: `model M {
  input x: [3, 9, 13]
  a = x -> SpatialConvolution(5, kernel=3, pad=1) -> ReLU -> Dropout(0.4)
  b = a -> Dropout(0.6)
  y = Add(a, b)
  output y
}
criterion MSE
`,
  N: 5,
  kernels: ["dropout", "dropout_grad"],
  accumulating: "dropout_grad",
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
  fanOut(
    "two average poolings",
    [7, 9, 13],
    "SpatialAveragePooling(3, stride=2)",
    "SpatialAveragePooling(kernel=[3, 5], stride=2, pad=[0, 1])",
    ["avg_pool", "avg_pool_grad"],
  ),
  fanOut(
    "max poolings, a large window and a small one",
    [3, 12, 14],
    `SpatialMaxPooling(${windowText([10, 7], [3, 2], [5, 3])})`,
    `SpatialMaxPooling(${windowText([4, 4], [3, 2], [2, 1])})`,
    ["max_pool", "max_pool_grad"],
  ),
  fanOut(
    "average poolings, a large window and a small one",
    [3, 12, 14],
    `SpatialAveragePooling(${windowText([9, 6], [3, 2], [4, 3])})`,
    `SpatialAveragePooling(${windowText([3, 2], [3, 2], [1, 1])})`,
    ["avg_pool", "avg_pool_grad"],
  ),
  fanOut("two activations", [3, 9, 13], "ReLU", "LeakyReLU(slope=0.3)", [
    "activation",
    "activation_grad",
  ]),
  fanOut("two PReLUs", [7, 9, 13], "PReLU(7)", "PReLU", ["prelu", "prelu_grad"]),
  fanOut("SoftMax and SoftMin", [7, 3, 5], "SoftMax", "SoftMin", ["softmax", "softmax_grad"]),
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

/** A model of one input and the values `lines` bind, its outputs and its criterion. */
const graph = (input: number[], lines: string[], outputs: string, criterion = "MSE") =>
  `model M {\n  input x: [${input.join(", ")}]\n${lines.map((l) => `  ${l}\n`).join("")}  output ${outputs}\n}\ncriterion ${criterion}\n`;

const joins: FamilyCase[] = [
  {
    name: "Add of two values",
    source: graph(
      [3, 5, 7],
      ["a = x -> ReLU", "b = x -> LeakyReLU(slope=0.3)", "y = Add(a, b)"],
      "y",
    ),
    N: 5,
    kernels: ["add", "add_grad"],
  },
  {
    name: "Add of three vectors of 17, the input twice",
    source: graph(
      [17],
      ["a = x -> Linear(17)", "b = x -> ReLU", "s = Add(a, x, b)", "y = Add(s, x)"],
      "y",
    ),
    N: 3,
    kernels: ["add", "add_grad"],
    accumulating: "add_grad",
  },
  {
    name: "Add of a value to itself",
    source: graph([7, 3, 5], ["a = x -> ReLU", "y = Add(a, a)"], "y"),
    N: 1,
    kernels: ["add", "add_grad"],
    accumulating: "add_grad",
  },
  {
    name: "Concat of [C, H, W] values along the channels",
    source: graph(
      [3, 5, 7],
      ["a = x -> SpatialConvolution(7, kernel=1)", "b = x -> ReLU", "y = Concat(a, b)"],
      "y",
    ),
    N: 3,
    kernels: ["concat", "concat_grad"],
  },
  {
    name: "Concat of vectors of 1, 3, 7 and 17, the input twice",
    source: graph(
      [17],
      [
        "a = x -> Linear(1)",
        "b = x -> Linear(3)",
        "c = Concat(a, b, x)",
        "d = x -> Linear(7)",
        "y = Concat(c, d, x)",
      ],
      "y",
    ),
    N: 5,
    kernels: ["concat", "concat_grad"],
    accumulating: "concat_grad",
  },
  {
    name: "Concat of a value twice and the input",
    source: graph([3], ["a = x -> Linear(7)", "y = Concat(a, x, a)"], "y"),
    N: 3,
    kernels: ["concat", "concat_grad"],
    accumulating: "concat_grad",
  },
  ...(
    [
      [1, [3, 5, 7]],
      [2, [3, 5, 7]],
      [3, [7, 3, 9]],
      [2, [1, 2, 13]],
      [3, [17, 4, 1]],
    ] as const
  ).map(([scale, input], i) => ({
    name: `nearest upsampling ×${scale} of [${input.join(", ")}]`,
    source: single(input, `SpatialUpSamplingNearest(${scale})`),
    N: batches[i % 3]!,
    kernels: ["upsample_nearest", "upsample_nearest_grad"],
  })),
  ...(
    [
      [1, [3, 5, 7], false],
      [2, [3, 5, 7], true],
      [3, [7, 3, 9], false],
      [2, [1, 2, 13], false],
      [3, [17, 4, 1], true],
      [4, [3, 1, 6], true],
    ] as const
  ).map(([scale, input, align], i) => ({
    name: `bilinear upsampling ×${scale} of [${input.join(", ")}]${align ? ", corners aligned" : ""}`,
    source: single(input, `SpatialUpSamplingBilinear(${scale}, align_corners=${align})`),
    N: batches[i % 3]!,
    kernels: ["upsample_bilinear", "upsample_bilinear_grad"],
  })),
  fanOut(
    "two bilinear upsamplings",
    [3, 5, 7],
    "SpatialUpSamplingBilinear(2)",
    "SpatialUpSamplingBilinear(2, align_corners=true) -> ReLU",
    ["upsample_bilinear", "upsample_bilinear_grad", "add", "add_grad"],
  ),
  fanOut(
    "two upsamplings",
    [3, 5, 7],
    "SpatialUpSamplingNearest(3)",
    "SpatialUpSamplingNearest(3) -> ReLU",
    ["upsample_nearest", "upsample_nearest_grad", "add", "add_grad"],
  ),
  {
    name: "BCE after a Sigmoid",
    source: single([3, 5, 7], "Sigmoid", "BCE"),
    N: 3,
    kernels: ["bce", "bce_grad"],
  },
  {
    name: "0.5 · MSE + BCE on two heads",
    source: graph(
      [17],
      ["a = x -> Linear(3)", "b = x -> Linear(7) -> Sigmoid"],
      "a, b",
      "0.5 * MSE(a) + BCE(b)",
    ),
    N: 5,
    kernels: ["mse", "mse_grad", "bce", "bce_grad"],
  },
  {
    name: "MSE and BCE on one value, the second through a View",
    source: graph(
      [5],
      ["a = x -> Linear(6) -> Sigmoid", "b = a -> View(2, 3)"],
      "a, b",
      "0.5 * MSE(a) + BCE(b)",
    ),
    N: 3,
    kernels: ["mse", "mse_grad", "bce", "bce_grad"],
    accumulating: "bce_grad",
  },
  {
    name: "MSE · 3 + MSE on two heads of one value",
    source: graph(
      [3, 5, 7],
      ["a = x -> ReLU", "b = x -> SpatialUpSamplingNearest(2)"],
      "a, b",
      "MSE(a) * 3 + MSE(b)",
    ),
    N: 3,
    kernels: ["mse", "mse_grad"],
  },
  {
    name: "SmoothL1 boxes and BCEWithLogits objectness with a pos_weight per channel",
    source: graph(
      [3, 5, 7],
      [
        "boxes = x -> SpatialConvolution(4, kernel=1)",
        "objectness = x -> SpatialConvolution(3, kernel=3, pad=1)",
      ],
      "boxes, objectness",
      "SmoothL1(boxes, beta=0.3) + 2 * BCEWithLogits(objectness, pos_weight=[3, 0.5, 1])",
    ),
    N: 3,
    kernels: ["smooth_l1", "smooth_l1_grad", "bce_logits", "bce_logits_grad"],
  },
  {
    name: "L1 and BCEWithLogits on one value, the second through a View",
    source: graph(
      [5],
      ["a = x -> Linear(6)", "b = a -> View(2, 3)"],
      "a, b",
      "L1(a) + BCEWithLogits(b, pos_weight=[2])",
    ),
    N: 5,
    kernels: ["smooth_l1", "smooth_l1_grad", "bce_logits", "bce_logits_grad"],
    accumulating: "bce_logits_grad",
  },
  {
    name: "KLDiv after a LogSoftMax, and with log-probability targets",
    source: graph(
      [3, 2, 5],
      ["a = x -> LogSoftMax", "b = x -> SpatialConvolution(2, kernel=1) -> LogSoftMax"],
      "a, b",
      "KLDiv(a) + 0.5 * KLDiv(b, log_target=true)",
    ),
    N: 3,
    kernels: ["kl_div", "kl_div_grad"],
  },
  {
    name: "NLL and CrossEntropy with class weights, ignored labels and label smoothing",
    source: graph(
      [4, 3, 3],
      ["a = x -> LogSoftMax", "b = x -> SpatialConvolution(5, kernel=1)"],
      "a, b",
      "NLL(a, weights=[1, 0.5, 2, 3], ignore=255) + CrossEntropy(b, weights=[1, 2, 3, 4, 0.5], ignore=2, label_smoothing=0.2)",
    ),
    N: 5,
    kernels: ["nll", "cross_entropy", "class_loss_grad"],
  },
  {
    name: "an output without a criterion: its parameters' gradients are zero",
    source: graph([7], ["a = x -> Linear(3)", "b = x -> Linear(17)"], "a, b", "MSE(a)"),
    N: 3,
    kernels: ["zero"],
  },
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

/**
 * Adaptive pooling to sizes that do not divide the input (overlapping windows, windows of
 * several sizes, more outputs than inputs), at the channel counts and batches of the others.
 */
const adaptive = (op: "Max" | "Average", input: number[], out: number[], N: number): FamilyCase => {
  const kernel = op === "Max" ? "adaptive_max_pool" : "adaptive_avg_pool";
  return {
    name: `adaptive ${op.toLowerCase()} of [${input.join(", ")}] to ${out.join("x")}`,
    source: single(input, `SpatialAdaptive${op}Pooling(${out.join(", ")})`),
    N,
    kernels: [kernel, `${kernel}_grad`],
  };
};

const adaptivePoolings: FamilyCase[] = (["Max", "Average"] as const).flatMap((op) => [
  adaptive(op, [1, 7, 5], [3, 2], 1),
  adaptive(op, [3, 9, 13], [4, 5], 3),
  adaptive(op, [7, 5, 9], [7, 2], 5),
  adaptive(op, [17, 3, 2], [5, 4], 3),
  adaptive(op, [3, 13, 17], [3, 3], 5),
]);

/**
 * Ceil mode (windows running past the padding, into a taller and wider frame) and averages whose
 * windows divide by their own counts (a table of divisors), grouped and one window at a time.
 */
const ceilPoolings: FamilyCase[] = [
  pooling("Max, 3 stride 2, ceil", [7, 6, 8], "SpatialMaxPooling(3, stride=2, ceil=true)", 3),
  pooling("Max, 2 pad 1, ceil", [3, 5, 5], "SpatialMaxPooling(2, pad=1, ceil=true)", 5),
  pooling(
    "Max, large windows, ceil",
    [3, 12, 14],
    "SpatialMaxPooling(kernel=[9, 6], stride=[4, 5], pad=[4, 3], ceil=true)",
    3,
  ),
  pooling("Average, 2, ceil", [17, 5, 9], "SpatialAveragePooling(2, ceil=true)", 3),
  pooling(
    "Average, 3 stride 2 pad 1, ceil, padding not counted",
    [7, 6, 13],
    "SpatialAveragePooling(3, stride=2, pad=1, ceil=true, count_include_pad=false)",
    5,
  ),
  pooling(
    "Average, [5, 3] pad [2, 1], padding not counted",
    [3, 9, 13],
    "SpatialAveragePooling(kernel=[5, 3], stride=[1, 3], pad=[2, 1], count_include_pad=false)",
    1,
  ),
  pooling(
    "Average, large windows, ceil, padding not counted",
    [3, 12, 14],
    "SpatialAveragePooling(kernel=[10, 7], stride=[3, 4], pad=[5, 3], ceil=true, count_include_pad=false)",
    3,
  ),
];

/** Divisible sizes run on the window kernels: global pooling is one window per plane. */
adaptivePoolings.push(
  {
    name: "adaptive average to 1x1 (global) on the window kernel",
    source: single([17, 9, 13], "SpatialAdaptiveAveragePooling(1)"),
    N: 3,
    kernels: ["avg_pool", "avg_pool_grad"],
  },
  {
    name: "adaptive max to 3x2 of 9x8 on the window kernel",
    source: single([7, 9, 8], "SpatialAdaptiveMaxPooling(3, 2)"),
    N: 5,
    kernels: ["max_pool", "max_pool_grad"],
  },
);

const padding = (layer: string, input: number[], N: number): FamilyCase => ({
  name: `${layer} of [${input.join(", ")}]`,
  source: single(input, layer),
  N,
  kernels: ["pad", "pad_grad"],
});

const paddings: FamilyCase[] = [
  padding("SpatialZeroPadding(1)", [3, 5, 7], 1),
  padding("SpatialZeroPadding(0, 3, 5, 1)", [17, 2, 13], 3),
  padding("SpatialZeroPadding(-2, 1, -1, -3)", [7, 9, 6], 5),
  padding("SpatialZeroPadding(3, -4, 0, 0)", [1, 3, 5], 3),
  padding("SpatialReflectionPadding(1)", [3, 5, 7], 3),
  padding("SpatialReflectionPadding(6, 2, 0, 4)", [7, 5, 7], 5),
  padding("SpatialReflectionPadding(0, 12, 1, 1)", [1, 2, 13], 1),
  padding("SpatialReplicationPadding(2)", [3, 1, 1], 3),
  padding("SpatialReplicationPadding(5, 0, 7, 2)", [17, 3, 9], 5),
  padding("SpatialReplicationPadding(0, 1, 0, 0)", [7, 4, 4], 1),
  fanOut(
    "a reflection padding and a zero padding",
    [3, 6, 7],
    "SpatialReflectionPadding(2, 1, 3, 0) -> SpatialAdaptiveMaxPooling(3)",
    "SpatialZeroPadding(1, 2, 0, 3) -> SpatialAdaptiveMaxPooling(3)",
    ["pad", "pad_grad", "adaptive_max_pool"],
  ),
];

/** The per-sample normalisations' two paths (planes; one value per channel) and the broadcasts. */
const sampleNorms: FamilyCase[] = [
  {
    name: "GroupNormalization over planes of 35 (vector groups and a tail)",
    source: single([6, 5, 7], "GroupNormalization(3)"),
    N: 5,
    kernels: ["group_norm", "group_norm_grad", "group_norm_grad_params"],
  },
  {
    name: "GroupNormalization without affine on [C, L]",
    source: single([4, 9], "GroupNormalization(2, affine=false)"),
    N: 3,
    kernels: ["group_norm", "group_norm_grad"],
  },
  {
    name: "GroupNormalization on features: groups along the run of channels",
    source: single([10], "GroupNormalization(2)"),
    N: 4,
    kernels: ["group_norm", "group_norm_grad", "group_norm_grad_params"],
  },
  {
    name: "LayerNormalization over [3, 5, 7], its scale and shift elementwise",
    source: single([3, 5, 7], "LayerNormalization"),
    N: 4,
    kernels: ["group_norm", "group_norm_grad", "group_norm_grad_params"],
  },
  {
    name: "InstanceNormalization with affine on [C, L]",
    source: single([5, 9], "InstanceNormalization(affine=true)"),
    N: 3,
    kernels: ["group_norm", "group_norm_grad", "group_norm_grad_params"],
  },
  {
    name: "a squeeze-and-excitation gate (Mul of [C, 1, 1] and [C, H, W]) and its shortcut",
    source: `model M {
  input x: [5, 6, 7]
  g = x -> SpatialAdaptiveAveragePooling(1) -> c: SpatialConvolution(5, kernel=1) -> Sigmoid
  y = Add(Mul(x, g), x)
  output y
}
criterion MSE
`,
    N: 3,
    kernels: ["broadcast_mul", "broadcast_grad"],
    accumulating: "broadcast_grad",
  },
  {
    name: "Add of [C, H, W], [C, 1, 1] and [W]; Mul broadcasting both ways",
    source: `model M {
  input x: [3, 4, 6]
  a = x -> SpatialAdaptiveAveragePooling(1)
  b = x -> SpatialAdaptiveMaxPooling(1, 6)
  w = x -> View(-1) -> l: Linear(6)
  y = Add(x, a, w) -> c: SpatialConvolution(1, kernel=1)
  z = Mul(y, b)
  output z
}
criterion MSE
`,
    N: 4,
    kernels: ["broadcast_add", "broadcast_mul", "broadcast_grad"],
  },
];

const families: Record<string, FamilyCase[]> = {
  convolution: convolutions,
  linear: linears,
  pooling: poolings,
  "adaptive pooling": adaptivePoolings,
  "ceil mode and divisors": ceilPoolings,
  padding: paddings,
  activation: activations,
  PReLU: prelus,
  dropout: dropouts,
  "batch normalisation": norms,
  "per-sample normalisation and broadcasts": sampleNorms,
  "fan-out (accumulating gradients)": fanOuts,
  "joins and criteria": joins,
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
        const adds = (s: Step) =>
          s.accumulate || ("accumulate" in s.attrs && s.attrs.accumulate.includes(true));
        const adding = stepsOf(e).findIndex((s) => s.kernel === c.accumulating && adds(s));
        expect(adding, `an accumulating ${c.accumulating} step`).toBeGreaterThanOrEqual(0);
        expect(e.compiled.wasm.fallback).not.toContain(adding);
      }
      const model = e.compiled.model;
      const values = drawFor(`${family}: ${c.name}`);
      const [inputs, targets] = [values.inputs(model, c.N), values.targets(model, c.N)];
      const params = c.initialised ? e.paramsOf() : values.params(model);
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
    name: "Concat, upsampling and Add under MSE",
    source: graph(
      [3, 5, 7],
      [
        "a = x -> SpatialConvolution(4, kernel=3, pad=1)",
        "u = Concat(a, x) -> SpatialUpSamplingNearest(2)",
        "y = Add(u, u -> ReLU)",
      ],
      "y",
    ),
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
  ...joins.filter((c) => c.kernels.includes("bce")),
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
// BCE where its logs need care: probabilities of 0 and 1 (log clamped at −100), denormals (the
// clamp acts below e^−100 ≈ 3.7e-44), and values outside [0, 1] (NaN, as Math.log gives).

describe("BCE at the edges equals the JS kernel", () => {
  const run = (source: string, x: number[], t: number[]) =>
    (["ts", "wasm"] as const).map((backend) => {
      const e = emittedModel(source, 1, { backend });
      expect(fellBack(e)).toEqual([]);
      const loss = e.net.lossAndGrad(Float32Array.from(x), Float32Array.from(t));
      return { loss, dx: Float64Array.from(e.net.inputGrad as Float32Array) };
    });

  test("saturated and denormal probabilities", () => {
    // Rounded to float32 these are 0, denormals from 1e-45 to 6e-39, and 1.
    // Fourteen: three f32x4 groups and a tail of two.
    const x = [-200, -103.5, -101, -100, -99, -95, -88, -60, 0, 17, 30, 200, -101.5, 40];
    const t = x.map((_, i) => [0, 0.25, 1, 0.5][i % 4]!);
    const p = x.map((v) => Math.fround(1 / (1 + Math.exp(-v))));
    // On the probabilities themselves, where the input's gradient is BCE's own. (Not through a
    // Sigmoid: in float32, as in PyTorch, sigmoid(17) is 1 and its BCE the clamp, where the JS
    // kernel's double sigmoid rounds to 1 − 2⁻²⁴.)
    const [ts, wasm] = run(single([x.length], "View(-1)", "BCE"), p, t);
    expectClose("loss", [wasm!.loss], [ts!.loss], F32);
    expectClose("input gradient", wasm!.dx, ts!.dx, F32);
  });

  // Five values: one f32x4 group and a scalar tail.
  const at = (index: number, p: number) =>
    [0.5, 0.75, 0.25, 0.5, 0.125].map((x, i) => (i === index ? p : x));
  const t = [0.5, 0.25, 0.5, 1, 0];

  test("values outside [0, 1] give NaN", () => {
    for (const p of [-0.5, 1.5, -1e-40])
      for (const index of [1, 4]) {
        const [ts, wasm] = run(single([5], "View(5)", "BCE"), at(index, p), t);
        expect(ts!.loss).toBeNaN();
        expect(wasm!.loss, `p = ${p} at ${index}`).toBeNaN();
      }
    // A NaN input reaches BCE in an evaluation pass: a training pass refuses it.
    for (const backend of ["ts", "wasm"] as const)
      for (const index of [1, 4]) {
        const e = emittedModel(single([5], "View(5)", "BCE"), 1, { backend });
        const loss = e.net.loss(Float32Array.from(at(index, NaN)), Float32Array.from(t));
        expect(loss, `${backend}: NaN at ${index}`).toBeNaN();
      }
  });

  test("-0 is 0", () => {
    for (const index of [1, 4]) {
      const [ts, wasm] = run(single([5], "View(5)", "BCE"), at(index, -0), t);
      expectClose("loss", [wasm!.loss], [ts!.loss], F32);
    }
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
    // Four: batch statistics over three samples leave batch normalisation's gradients a float32
    // cancellation beyond the tolerance.
    const N = 4;
    const values = drawFor(file);
    const [ts, wasm] = (["ts", "wasm"] as const).map((backend) => {
      const e = emittedModel(source, N, { seed: 1, backend });
      expect(e.net.backend).toBe(backend);
      return e;
    }) as [EmittedModel, EmittedModel];
    expect(fellBack(wasm)).toEqual([]);
    const model = ts.compiled.model;
    ts.net.params.forEach((p, i) => expect(wasm.net.params[i]!.data).toEqual(p.data));
    // The last step is a partial batch: three samples of four.
    for (const [step, count] of [N, N, 3].entries()) {
      const [x, t] = [float32(values.inputs(model, count)), float32(values.targets(model, count))];
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
// Every op runs as WASM in these; padded and overlapping poolings work in frames, one per thread;
// tiny-unet joins and upsamples, tiny-detector sums MSE and BCE, dropout draws its masks by
// element, batch normalisation's threads split the channels (3 and 33 features cut at vector
// groups).

describe("threads", () => {
  const sample = (name: string) =>
    readFileSync(new URL(`../samples/${name}.net`, import.meta.url), "utf8");
  const withDropout = `model M {
  input x: [3, 9, 13]
  SpatialConvolution(7, kernel=3, pad=1) -> ReLU
  Dropout(0.3)
  View(-1)
  Linear(33) -> Tanh
  Dropout
  Linear(5)
}
criterion MSE
`;
  const poolings = `model M {
  input x: [3, 12, 14]
  h = x -> c: SpatialConvolution(5, kernel=3, pad=1) -> ReLU
  a = h -> SpatialMaxPooling(3, stride=2, pad=1)
  b = h -> SpatialAveragePooling(kernel=[4, 3], stride=2, pad=[1, 1])
  y = Add(a, b) -> SpatialAveragePooling(3, stride=1, pad=1) -> View(-1) -> l: Linear(7)
  output y
}
criterion MSE
`;
  const padded = `model M {
  input x: [3, 9, 13]
  h = x -> SpatialReflectionPadding(1) -> c: SpatialConvolution(5, kernel=3) -> ReLU
  a = h -> SpatialReplicationPadding(2, 0, 1, 1) -> SpatialAdaptiveMaxPooling(4, 5)
  b = h -> SpatialZeroPadding(-1, 1, 0, 2) -> SpatialAdaptiveAveragePooling(4, 5)
  m = h -> SpatialAveragePooling(3, stride=2, pad=1, ceil=true, count_include_pad=false)
  g = Add(m, h -> SpatialMaxPooling(2, ceil=true)) -> SpatialAdaptiveAveragePooling(2, 5)
  u = g -> SpatialUpSamplingBilinear(2) -> SpatialAdaptiveMaxPooling(4, 5)
  y = Add(a, b, u) -> View(-1) -> l: Linear(7)
  output y
}
criterion MSE
`;
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
    ["samples/tiny-unet", sample("tiny-unet")],
    ["samples/tiny-detector", sample("tiny-detector")],
    ["a network with dropout", withDropout],
    ["padded, overlapping, accumulating poolings", poolings],
    ["padding layers and adaptive poolings", padded],
    ["a batch-normalised network", normalised],
    ["samples/se-resnet", sample("se-resnet")],
    ["samples/ssd-detector", sample("ssd-detector")],
    [
      "per-sample normalisations and broadcasts",
      `model M {
  input x: [6, 5, 7]
  h = x -> GroupNormalization(3) -> InstanceNormalization(affine=true)
  g = h -> SpatialAdaptiveAveragePooling(1)
  y = Add(Mul(h, g), x) -> View(-1) -> Linear(37) -> LayerNormalization -> GroupNormalization(37)
  output y
}
criterion MSE
`,
    ],
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
