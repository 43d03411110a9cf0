// Gradient checks of every layer and criterion, through the emitted code, against finite differences.
import { describe, expect, test } from "vitest";
import { gradCheck, pseudoRandom, type GradCheckCase } from "./helpers/gradcheck.js";

const random = pseudoRandom(2026);
const data = (n: number, scale = 1) => Float64Array.from({ length: n }, () => random() * scale);
const classes = (n: number, c: number) =>
  Int32Array.from({ length: n }, () => Math.floor(((random() + 1) / 2) * c));
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** Targets in (0, 1): BCE's, and KLDiv's probabilities. */
const probabilities = (n: number) => Float32Array.from(data(n), (v) => (v + 1.01) / 2.02);
/** A model of `layers` on input [5], judged by `criterion`. */
const pointwise = (layers: string, criterion: string) =>
  `model M {\n  input x: [5]\n  ${layers}\n}\ncriterion ${criterion}\n`;
/** Every third target set to the `ignore=` label (segmentation's void pixels). */
const withIgnored = (targets: Int32Array, ignore: number) =>
  targets.map((t, i) => (i % 3 === 0 ? ignore : t));

/**
 * A one-stack model on `input` (drawn from ±`scale`: past an activation's kinks), its last layer
 * judged by MSE against a random target.
 */
function mseCase(input: number[], layers: string, output: number[], batch = 3, scale = 1) {
  const source = `model M {\n  input x: [${input.join(", ")}]\n${layers}\n}\ncriterion MSE\n`;
  return {
    source,
    batch,
    input: data(batch * size(input), scale),
    target: Float32Array.from(data(batch * size(output))),
  };
}

const layerCases: [string, GradCheckCase][] = [
  [
    "SpatialConvolution 3x3 pad 1",
    mseCase([3, 7, 6], "  SpatialConvolution(4, kernel=3, pad=1)", [4, 7, 6]),
  ],
  [
    "SpatialConvolution strided, non-square, no bias",
    mseCase(
      [2, 9, 8],
      "  SpatialConvolution(3, kernel=[3, 2], stride=[2, 3], pad=[1, 0], bias=false)",
      [3, 5, 3],
    ),
  ],
  [
    "SpatialConvolution 1x1 on 17 channels",
    mseCase([17, 3, 3], "  SpatialConvolution(1, kernel=1)", [1, 3, 3]),
  ],
  [
    "SpatialConvolution 7x7 stride 3 with fused ReLU",
    mseCase([1, 11, 10], "  SpatialConvolution(2, kernel=7, stride=3, pad=2) -> ReLU", [2, 3, 3]),
  ],
  [
    "SpatialFullConvolution stride 2 with adj",
    mseCase([3, 4, 5], "  SpatialFullConvolution(2, kernel=3, stride=2, pad=1, adj=1)", [2, 8, 10]),
  ],
  ["SpatialMaxPooling 2", mseCase([2, 6, 6], "  SpatialMaxPooling(2)", [2, 3, 3])],
  [
    "SpatialMaxPooling 3 stride 2 pad 1",
    mseCase([3, 7, 5], "  SpatialMaxPooling(3, stride=2, pad=1)", [3, 4, 3]),
  ],
  [
    "SpatialAveragePooling 3 stride 2 pad 1",
    mseCase([2, 7, 6], "  SpatialAveragePooling(3, stride=2, pad=1)", [2, 4, 3]),
  ],
  [
    "SpatialAdaptiveAveragePooling to 3x2 (overlapping windows)",
    mseCase([2, 7, 5], "  SpatialAdaptiveAveragePooling(3, 2)", [2, 3, 2]),
  ],
  [
    "SpatialAdaptiveAveragePooling global",
    mseCase([3, 4, 5], "  SpatialAdaptiveAveragePooling(1)", [3, 1, 1]),
  ],
  [
    "SpatialAdaptiveMaxPooling to 4x3 (overlapping windows)",
    mseCase([2, 7, 5], "  SpatialAdaptiveMaxPooling(4, 3)", [2, 4, 3]),
  ],
  [
    "SpatialAdaptiveMaxPooling dividing the input",
    mseCase([2, 6, 4], "  SpatialAdaptiveMaxPooling(2)", [2, 2, 2]),
  ],
  ["SpatialZeroPadding", mseCase([2, 3, 4], "  SpatialZeroPadding(1, 2, 0, 3)", [2, 6, 7])],
  [
    "SpatialZeroPadding cropping",
    mseCase([2, 4, 5], "  SpatialZeroPadding(-1, 1, 2, -1)", [2, 5, 5]),
  ],
  [
    "SpatialReflectionPadding",
    mseCase([2, 4, 3], "  SpatialReflectionPadding(2, 1, 1, 3)", [2, 8, 6]),
  ],
  [
    "SpatialReplicationPadding",
    mseCase([2, 3, 2], "  SpatialReplicationPadding(3, 1, 2, 0)", [2, 5, 6]),
  ],
  [
    "SpatialMaxPooling 3 stride 2 ceil",
    mseCase([2, 6, 8], "  SpatialMaxPooling(3, stride=2, ceil=true)", [2, 3, 4]),
  ],
  [
    "SpatialAveragePooling 3 stride 2 pad 1 ceil, padding not counted",
    mseCase(
      [2, 6, 8],
      "  SpatialAveragePooling(3, stride=2, pad=1, ceil=true, count_include_pad=false)",
      [2, 4, 5],
    ),
  ],
  [
    "SpatialAveragePooling 2 ceil (windows past the input)",
    mseCase([2, 5, 6], "  SpatialAveragePooling(2, ceil=true)", [2, 3, 3]),
  ],
  [
    "SpatialAveragePooling 2 pad 1, padding not counted",
    mseCase([2, 5, 5], "  SpatialAveragePooling(2, pad=1, count_include_pad=false)", [2, 3, 3]),
  ],
  ["SpatialUpSamplingBilinear 2", mseCase([2, 3, 4], "  SpatialUpSamplingBilinear(2)", [2, 6, 8])],
  [
    "SpatialUpSamplingBilinear 3 with aligned corners",
    mseCase([2, 4, 3], "  SpatialUpSamplingBilinear(3, align_corners=true)", [2, 12, 9]),
  ],
  ["Linear with fused Tanh", mseCase([5], "  Linear(4) -> Tanh", [4])],
  ["Linear without bias", mseCase([7], "  Linear(3, bias=false)", [3])],
  ["View and Flatten", mseCase([2, 3, 4], "  View(6, 4)\n  Flatten\n  Linear(2)", [2])],
  ["ReLU", mseCase([2, 5], "  ReLU", [2, 5])],
  ["LeakyReLU", mseCase([9], "  LeakyReLU(slope=0.2)", [9])],
  ["ELU", mseCase([9], "  ELU(alpha=0.7)", [9])],
  ["Sigmoid", mseCase([9], "  Sigmoid", [9])],
  ["Tanh", mseCase([9], "  Tanh", [9])],
  ["SoftPlus", mseCase([9], "  SoftPlus(beta=2, threshold=1)", [9])],
  ["SoftMax over channels", mseCase([4, 2, 3], "  SoftMax", [4, 2, 3])],
  ["LogSoftMax over channels", mseCase([4, 3], "  LogSoftMax", [4, 3])],
  ["SpatialBatchNormalization", mseCase([3, 4, 2], "  SpatialBatchNormalization", [3, 4, 2], 4)],
  ["BatchNormalization without affine", mseCase([5], "  BatchNormalization(affine=false)", [5], 4)],
  ["SpatialUpSamplingNearest", mseCase([2, 3, 2], "  SpatialUpSamplingNearest(2)", [2, 6, 4])],
  ["Linear with fused Sigmoid", mseCase([6], "  Linear(3) -> Sigmoid", [3])],
  ["ReLU6", mseCase([9], "  ReLU6", [9], 3, 8)],
  ["HardTanh", mseCase([9], "  HardTanh(min_val=-0.5, max_val=0.25)", [9])],
  ["SiLU", mseCase([9], "  SiLU", [9], 3, 4)],
  ["GELU", mseCase([9], "  GELU", [9], 3, 4)],
  ["GELU approximate", mseCase([9], "  GELU(approximate=true)", [9], 3, 4)],
  ["HardSigmoid", mseCase([9], "  HardSigmoid", [9], 3, 4)],
  ["HardSwish", mseCase([9], "  HardSwish", [9], 3, 5)],
  ["LogSigmoid", mseCase([9], "  LogSigmoid", [9], 3, 6)],
  ["SoftSign", mseCase([9], "  SoftSign", [9], 3, 3)],
  ["SoftMin over channels", mseCase([4, 2, 3], "  SoftMin", [4, 2, 3])],
  ["PReLU shared", mseCase([3, 2, 2], "  PReLU", [3, 2, 2])],
  ["PReLU per channel", mseCase([3, 4], "  PReLU(3)", [3, 4])],
  ["Linear with fused HardSigmoid", mseCase([6], "  Linear(3) -> HardSigmoid", [3], 3, 4)],
  ["Linear, PReLU per feature", mseCase([6], "  Linear(5)\n  PReLU(5)", [5])],
  ["Linear with fused GELU (keeps its input)", mseCase([6], "  Linear(4) -> GELU", [4], 3, 3)],
  [
    "SpatialConvolution with fused SiLU (keeps its input)",
    mseCase([2, 4, 3], "  SpatialConvolution(3, kernel=3, pad=1) -> SiLU", [3, 4, 3], 3, 3),
  ],
  [
    "SpatialConvolution with fused LogSigmoid, then SoftSign",
    mseCase(
      [2, 4, 3],
      "  SpatialConvolution(3, kernel=3, pad=1) -> LogSigmoid -> SoftSign",
      [3, 4, 3],
    ),
  ],
];

/** Graphs and criteria: fan-out, joins, dropout, the class criteria, weighted sums of terms. */
const graphCases: [string, GradCheckCase][] = [
  [
    "a value used twice (fan-out) and Add",
    mseCase(
      [3],
      "  a = x -> Linear(4)\n  b = a -> Tanh\n  c = a -> Sigmoid\n  out = Add(b, c, a)\n  output out",
      [4],
    ),
  ],
  [
    "Concat along channels",
    mseCase(
      [2, 3, 3],
      "  a = x -> SpatialConvolution(2, kernel=1)\n  b = x -> SpatialConvolution(3, kernel=3, pad=1)\n  out = Concat(a, b, x)\n  output out",
      [7, 3, 3],
    ),
  ],
  // The mask is drawn anew each step, so only p = 0 has a finite difference to compare with.
  ["Dropout applies its mask to the gradient", mseCase([6], "  Linear(5)\n  Dropout(0)", [5])],
  [
    "NLL after LogSoftMax (fused gradient), spatial targets",
    {
      source:
        "model M {\n  input x: [2, 3, 2]\n  SpatialConvolution(3, kernel=1)\n  LogSoftMax\n}\ncriterion NLL\n",
      batch: 3,
      input: data(3 * 12),
      target: classes(3 * 6, 3),
    },
  ],
  [
    "NLL on a value that is used again",
    {
      source:
        "model M {\n  input x: [4]\n  p = x -> Linear(3) -> LogSoftMax\n  q = p -> Linear(3)\n  output p, q\n}\ncriterion NLL(p) + 0.5 * MSE(q)\n",
      batch: 3,
      input: data(12),
      target: { p: classes(3, 3), q: Float32Array.from(data(9)) },
    },
  ],
  [
    "CrossEntropy on raw scores",
    {
      source: "model M {\n  input x: [5]\n  Linear(4)\n}\ncriterion CrossEntropy\n",
      batch: 4,
      input: data(20),
      target: classes(4, 4),
    },
  ],
  [
    "NLL with class weights and an ignored void label, fused with its LogSoftMax",
    {
      source:
        "model M {\n  input x: [2, 3, 2]\n  SpatialConvolution(3, kernel=1)\n  LogSoftMax\n}\ncriterion NLL(weights=[0.5, 2, 1], ignore=255)\n",
      batch: 3,
      input: data(3 * 12),
      target: withIgnored(classes(3 * 6, 3), 255),
    },
  ],
  [
    "NLL with class weights ignoring a class in range, on a value used again",
    {
      source:
        "model M {\n  input x: [4]\n  p = x -> Linear(3) -> LogSoftMax\n  q = p -> Linear(3)\n  output p, q\n}\ncriterion NLL(p, weights=[3, 1, 0.5], ignore=1) + 0.5 * MSE(q)\n",
      batch: 4,
      input: data(16),
      target: { p: Int32Array.from([0, 1, 2, 2]), q: Float32Array.from(data(12)) },
    },
  ],
  [
    "CrossEntropy with class weights, an ignored label and label smoothing, per pixel",
    {
      source:
        "model M {\n  input x: [2, 2, 3]\n  SpatialConvolution(4, kernel=1)\n}\ncriterion CrossEntropy(weights=[1, 2, 0.5, 3], ignore=255, label_smoothing=0.2)\n",
      batch: 3,
      input: data(3 * 12),
      target: withIgnored(classes(3 * 6, 4), 255),
    },
  ],
  [
    "CrossEntropy with label smoothing",
    {
      source:
        "model M {\n  input x: [5]\n  Linear(4)\n}\ncriterion CrossEntropy(label_smoothing=0.3)\n",
      batch: 4,
      input: data(20),
      target: classes(4, 4),
    },
  ],
  [
    "L1",
    {
      ...mseCase([5], "  Linear(4)", [4], 4),
      source: pointwise("Linear(4)", "L1"),
      // Targets well away from the outputs: a finite difference across L1's kink (|y − t| = 0)
      // measures neither side's slope.
      target: Float32Array.from(data(16), (v) => v + 4),
    },
  ],
  [
    "SmoothL1 with β = 0.5, across both sides of β",
    {
      ...mseCase([5], "  Linear(6)", [6], 4),
      source: pointwise("Linear(6)", "SmoothL1(beta=0.5)"),
    },
  ],
  [
    "BCEWithLogits",
    {
      source: pointwise("Linear(4)", "BCEWithLogits"),
      batch: 3,
      input: data(15, 3),
      target: probabilities(12),
    },
  ],
  [
    "BCEWithLogits with a pos_weight per channel, per pixel",
    {
      source:
        "model M {\n  input x: [2, 2, 3]\n  SpatialConvolution(3, kernel=1)\n}\ncriterion BCEWithLogits(pos_weight=[0.5, 2, 3])\n",
      batch: 3,
      input: data(36, 3),
      target: probabilities(54),
    },
  ],
  [
    "KLDiv after LogSoftMax",
    {
      source: pointwise("Linear(4) -> LogSoftMax", "KLDiv"),
      batch: 3,
      input: data(15),
      target: probabilities(12),
    },
  ],
  [
    "KLDiv with log-probability targets",
    {
      source: pointwise("Linear(4) -> LogSoftMax", "KLDiv(log_target=true)"),
      batch: 3,
      input: data(15),
      target: Float32Array.from(data(12), (v) => v - 2),
    },
  ],
  [
    "BCE after Sigmoid, weighted with MSE on a second output",
    {
      source:
        "model M {\n  input x: [3]\n  h = x -> Linear(4) -> ReLU\n  p = h -> Linear(2) -> Sigmoid\n  v = h -> Linear(2)\n  output p, v\n}\ncriterion 2 * BCE(p) + 0.5 * MSE(v)\n",
      batch: 3,
      input: data(9),
      target: {
        p: Float32Array.from({ length: 6 }, () => (random() + 1) / 2),
        v: Float32Array.from(data(6)),
      },
    },
  ],
];

/** Normalisations and broadcast joins (issue 14): drawn after the cases above, which stay as they were. */
const normCases: [string, GradCheckCase][] = [
  ["GroupNormalization on images", mseCase([6, 3, 2], "  GroupNormalization(3)", [6, 3, 2])],
  [
    "GroupNormalization on [C, L] without affine",
    mseCase([4, 5], "  GroupNormalization(2, affine=false)", [4, 5]),
  ],
  ["GroupNormalization on features", mseCase([6], "  GroupNormalization(2)", [6])],
  ["LayerNormalization on images", mseCase([3, 2, 3], "  LayerNormalization", [3, 2, 3])],
  ["LayerNormalization on features", mseCase([7], "  Linear(7)\n  LayerNormalization", [7])],
  [
    "InstanceNormalization with affine",
    mseCase([3, 4, 3], "  InstanceNormalization(affine=true)", [3, 4, 3]),
  ],
  ["InstanceNormalization on [C, L]", mseCase([2, 6], "  InstanceNormalization", [2, 6])],
  [
    "Mul: a squeeze-and-excitation gate [C, 1, 1] on [C, H, W]",
    mseCase(
      [3, 4, 3],
      "  g = x -> SpatialAdaptiveAveragePooling(1) -> SpatialConvolution(3, kernel=1) -> Sigmoid\n  out = Mul(x, g)\n  output out",
      [3, 4, 3],
    ),
  ],
  [
    "Mul of equal shapes, and of a value by itself",
    mseCase([5], "  a = x -> Linear(5)\n  b = Mul(a, x)\n  out = Mul(b, b)\n  output out", [5]),
  ],
  [
    "Mul broadcasting both ways: [1, H, W] by [C, 1, W]",
    mseCase(
      [2, 3, 4],
      "  a = x -> SpatialConvolution(1, kernel=1)\n  b = x -> SpatialAdaptiveAveragePooling(1, 4)\n  out = Mul(a, b)\n  output out",
      [2, 3, 4],
    ),
  ],
  [
    "Add broadcasting three values: [C, H, W] + [C, 1, 1] + [W]",
    mseCase(
      [2, 3, 4],
      "  a = x -> SpatialAdaptiveAveragePooling(1)\n  b = x -> SpatialAdaptiveMaxPooling(1, 4) -> View(8) -> Linear(4)\n  out = Add(x, a, b)\n  output out",
      [2, 3, 4],
    ),
  ],
];

const cases = [...layerCases, ...graphCases, ...normCases];

describe("gradients (float64, emitted code, ts)", () => {
  test.each(cases)("%s", (_, c) => {
    const { checked } = gradCheck(c);
    expect(checked).toBeGreaterThan(0);
  });
});

// Every op on both backends: the WASM kernels run in float32 only.
describe.each(["ts", "wasm"] as const)("gradients (float32, emitted code, %s)", (backend) => {
  test.each(cases)("%s", (_, c) => {
    const input = Float32Array.from(c.input);
    const { checked } = gradCheck({ ...c, input, precision: "f32", backend }, 8);
    expect(checked).toBeGreaterThan(0);
  });
});
