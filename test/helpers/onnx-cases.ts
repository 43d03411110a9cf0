// A small model per catalog layer, for the ONNX export and import tests.

/** One small model per catalog layer, with arguments off their defaults where they matter. */
export const layerCases: Record<string, string[]> = {
  SpatialConvolution: [
    "[3, 9, 8] -> SpatialConvolution(4, kernel=[3, 2], stride=2, pad=[1, 0])",
    "[4, 9, 8] -> SpatialConvolution(6, kernel=3, stride=[2, 1], pad=2, dilation=[2, 1], groups=2)",
    "[4, 7, 7] -> SpatialConvolution(4, kernel=3, pad=1, groups=4, bias=false)",
  ],
  SpatialFullConvolution: [
    "[3, 5, 4] -> SpatialFullConvolution(2, kernel=3, stride=2, pad=1, adj=1)",
    "[3, 5, 4] -> SpatialFullConvolution(2, kernel=[2, 3], bias=false)",
    "[4, 3, 4] -> SpatialFullConvolution(6, kernel=3, stride=2, pad=1, adj=1, dilation=2, groups=2)",
  ],
  TemporalConvolution: [
    "[3, 12] -> TemporalConvolution(4, kernel=3, stride=2, pad=1)",
    "[4, 13] -> TemporalConvolution(6, kernel=3, pad=2, dilation=2, groups=2, bias=false)",
  ],
  SpatialMaxPooling: [
    "[2, 7, 7] -> SpatialMaxPooling(3, stride=2, pad=1)",
    "[2, 6, 6] -> SpatialMaxPooling(2, ceil=true, stride=2, pad=1)",
  ],
  SpatialAveragePooling: [
    "[2, 7, 7] -> SpatialAveragePooling(3, stride=2, pad=1)",
    "[2, 7, 7] -> SpatialAveragePooling(3, stride=2, pad=1, count_include_pad=false)",
    "[2, 6, 6] -> SpatialAveragePooling(2, stride=2, ceil=true)",
    "[2, 7, 6] -> SpatialAveragePooling(2, stride=2, ceil=true)",
    "[2, 8, 7] -> SpatialAveragePooling(3, stride=2, pad=1, ceil=true)",
  ],
  TemporalMaxPooling: [
    "[2, 9] -> TemporalMaxPooling(3, stride=2, pad=1)",
    "[2, 8] -> TemporalMaxPooling(2, ceil=true, stride=2, pad=1)",
  ],
  TemporalAveragePooling: [
    "[2, 9] -> TemporalAveragePooling(3, stride=2, pad=1)",
    "[2, 9] -> TemporalAveragePooling(3, stride=2, pad=1, count_include_pad=false)",
    "[2, 7] -> TemporalAveragePooling(2, stride=2, ceil=true)",
    "[2, 8] -> TemporalAveragePooling(3, stride=2, pad=1, ceil=true)",
  ],
  SpatialAdaptiveMaxPooling: [
    "[2, 7, 5] -> SpatialAdaptiveMaxPooling(3, 2)",
    "[2, 6, 4] -> SpatialAdaptiveMaxPooling(3, 2)",
  ],
  SpatialAdaptiveAveragePooling: [
    "[2, 7, 5] -> SpatialAdaptiveAveragePooling(3, 2)",
    "[2, 5, 5] -> SpatialAdaptiveAveragePooling(1)",
  ],
  SpatialBatchNormalization: [
    "[3, 4, 4] -> SpatialBatchNormalization(eps=0.001)",
    "[3, 4, 4] -> SpatialBatchNormalization(affine=false)",
  ],
  BatchNormalization: [
    "[5] -> BatchNormalization",
    "[3, 6] -> BatchNormalization",
    "[3, 6] -> BatchNormalization(eps=0.001, affine=false)",
  ],
  SpatialUpSamplingNearest: ["[2, 3, 4] -> SpatialUpSamplingNearest(2)"],
  SpatialUpSamplingBilinear: [
    "[2, 3, 4] -> SpatialUpSamplingBilinear(2)",
    "[2, 3, 4] -> SpatialUpSamplingBilinear(3, align_corners=true)",
  ],
  SpatialZeroPadding: [
    "[2, 4, 5] -> SpatialZeroPadding(1, 2, 0, 3)",
    "[2, 4, 5] -> SpatialZeroPadding(-1, 1, 2, -1)",
  ],
  SpatialReflectionPadding: ["[2, 4, 5] -> SpatialReflectionPadding(1, 2, 3, 0)"],
  SpatialReplicationPadding: ["[2, 4, 5] -> SpatialReplicationPadding(2, 1, 0, 3)"],
  Linear: ["[7] -> Linear(4)", "[7] -> Linear(4, bias=false)"],
  View: ["[2, 3, 4] -> View(4, -1)"],
  Flatten: ["[2, 3, 4] -> Flatten"],
  ReLU: ["[2, 3, 4] -> ReLU"],
  LeakyReLU: ["[2, 3, 4] -> LeakyReLU(0.2)"],
  ELU: ["[2, 3, 4] -> ELU(alpha=0.7)"],
  Sigmoid: ["[2, 3, 4] -> Sigmoid"],
  Tanh: ["[2, 3, 4] -> Tanh"],
  SoftPlus: ["[2, 3, 4] -> SoftPlus", "[2, 3, 4] -> SoftPlus(beta=2, threshold=0.5)"],
  ReLU6: ["[6] -> Linear(8) -> ReLU6"],
  HardTanh: ["[2, 3, 4] -> HardTanh(min_val=-0.5, max_val=0.25)"],
  SiLU: ["[2, 3, 4] -> SiLU"],
  GELU: ["[2, 3, 4] -> GELU", "[2, 3, 4] -> GELU(approximate=true)"],
  HardSigmoid: ["[6] -> Linear(8) -> HardSigmoid"],
  HardSwish: ["[6] -> Linear(8) -> HardSwish"],
  LogSigmoid: ["[2, 3, 4] -> LogSigmoid"],
  SoftSign: ["[2, 3, 4] -> SoftSign"],
  SoftMax: ["[3, 2, 2] -> SoftMax", "[5] -> SoftMax"],
  SoftMin: ["[3, 2, 2] -> SoftMin"],
  LogSoftMax: ["[3, 2, 2] -> LogSoftMax"],
  PReLU: ["[3, 2, 2] -> PReLU(3, init=0.1)", "[3, 2, 2] -> PReLU", "[4] -> PReLU(4)"],
  Dropout: ["[2, 3, 4] -> Dropout(0.3)"],
  Concat: ["[2, 3, 4] -> Concat(x, x -> SpatialConvolution(3, kernel=1))"],
  Add: [
    "[2, 3, 4] -> Add(x, x -> ReLU)",
    "[2, 3, 4] -> Add(x, x -> ReLU, x -> SpatialConvolution(2, kernel=1))",
    "[2, 3, 4] -> Add(x, x -> Flatten -> Linear(4))",
  ],
  Mul: [
    "[4, 3, 3] -> Mul(x, x -> SpatialAdaptiveAveragePooling(1) -> Sigmoid)",
    "[2, 3, 4] -> Mul(x -> Flatten -> Linear(4), x)",
  ],
  GroupNormalization: [
    "[4, 3, 3] -> GroupNormalization(2)",
    "[6, 5] -> GroupNormalization(3, eps=0.001, affine=false)",
  ],
  LayerNormalization: [
    "[2, 3, 3] -> LayerNormalization",
    "[5] -> LayerNormalization(eps=0.001, affine=false)",
  ],
  InstanceNormalization: [
    "[3, 4, 4] -> InstanceNormalization",
    "[3, 6] -> InstanceNormalization(affine=true)",
  ],
};

/** A case `[shape] -> body` as a model: the body applied to input x. */
export function caseSource(c: string): string {
  const [, shape, body] = /^(\[[^\]]*\]) -> (.*)$/.exec(c)!;
  const joins = /^(Concat|Add|Mul)\(/.test(body!);
  const line = joins ? `y = ${body}` : `y = x -> ${body}`;
  return `model M {\n  input x: ${shape}\n  ${line}\n  output y\n}\n`;
}

/** Two inputs and two outputs, one of them also read by a later layer. */
export const twoInputsTwoOutputs = [
  "model Two {",
  "  input a: [2, 3, 3]",
  "  input b: [2, 3, 3]",
  "  s = Add(a, b)",
  "  t = Concat(s, b) -> conv: SpatialConvolution(2, kernel=3, pad=1) -> Tanh",
  "  output s, t",
  "}",
  "",
].join("\n");
