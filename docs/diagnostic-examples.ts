// One small `.net` source per diagnostic code: the reference shows each with what the checker says.
import type { DiagnosticCode } from "../compiler/index.js";

/** A source written from the line after the backtick, so examples read as they are printed. */
function net(strings: TemplateStringsArray): string {
  return strings[0]!.replace(/^\n/, "");
}

/**
 * Keyed by every code, so a new diagnostic without an example fails to compile. Each source
 * should raise its own code and, where the language allows, nothing else: the reference
 * prints everything the checker says about it, and a cascade would read as noise.
 */
export const diagnosticExamples: Record<DiagnosticCode, string> = {
  "invalid-character": net`
model M {
  input x: [10]
  Linear(5) -> ReLU;
}`,
  "syntax-error": net`
model M {
  input image: [1, 28, 28]
  SpatialConvolution(6, kernel=5
  ReLU
}`,
  "nesting-too-deep": net`
model M {
  input x: [10]
  Linear((((((((((((((((((((((((((((((((((5))))))))))))))))))))))))))))))))))
}`,
  "duplicate-declaration": net`
model M {
  input x: [10]
  Linear(5)
}
model M {
  input x: [10]
  Linear(2)
}`,
  "duplicate-name": net`
model M {
  input x: [10]
  h = x -> Linear(5)
  h = h -> ReLU
}`,
  "duplicate-label": net`
model M {
  input x: [10]
  fc: Linear(5) -> ReLU
  fc: Linear(2)
}`,
  "unknown-layer": net`
model M {
  input x: [10]
  Linear(5) -> Relu
}`,
  "unknown-name": net`
model M {
  input image: [10]
  x -> Linear(5)
}`,
  "not-a-layer": net`
model M {
  input x: [10]
  Linear(5) -> 3
}`,
  "not-a-value": net`
model M {
  input x: [10]
  y = Add(x, Linear(10))
}`,
  "label-not-allowed": net`
model M {
  input x: [10]
  Linear(5) -> n: 2
}`,
  "unused-value": net`
model M {
  input x: [10]
  h = x -> Linear(5)
  y = x -> Linear(2)
  output y
}`,
  cycle: net`
model M {
  input x: [10]
  a = Add(x, b)
  b = a -> ReLU
  output b
}`,
  "recursive-block": net`
block Loop {
  Loop
}

model M {
  input x: [10]
  Loop
}`,
  "missing-input": net`
model M {
  Linear(5)
}`,
  "input-in-block": net`
block B {
  input y: [10]
  ReLU
}

model M {
  input x: [10]
  B
}`,
  "block-outputs": net`
block Split {
  a = in -> ReLU
  b = in -> Tanh
  output a, b
}

model M {
  input x: [10]
  Split
}`,
  "empty-body": net`
block Nothing {
}

model M {
  input x: [10]
  Nothing
}`,
  "too-many-layers": net`
block B0 { ReLU }
block B1 { B0 -> B0 }
block B2 { B1 -> B1 }
block B3 { B2 -> B2 }
block B4 { B3 -> B3 }
block B5 { B4 -> B4 }
block B6 { B5 -> B5 }
block B7 { B6 -> B6 }
block B8 { B7 -> B7 }
block B9 { B8 -> B8 }
block B10 { B9 -> B9 }
block B11 { B10 -> B10 }
block B12 { B11 -> B11 }
block B13 { B12 -> B12 }
block B14 { B13 -> B13 }
block B15 { B14 -> B14 }
block B16 { B15 -> B15 }
block B17 { B16 -> B16 }

model M {
  input x: [10]
  B17
}`,
  "invalid-repeat": net`
model M {
  input x: [10]
  Linear(10) * 0
}`,
  "unused-block": net`
block Unused {
  ReLU
}

model M {
  input x: [10]
  Linear(5)
}`,
  "unknown-argument": net`
model M {
  input x: [1, 28, 28]
  SpatialConvolution(6, kernel=5, strides=2)
}`,
  "missing-argument": net`
model M {
  input image: [1, 28, 28]
  SpatialMaxPooling(stride=2)
}`,
  "pytorch-arguments": net`
model M {
  input x: [400]
  Linear(400, 120)
}`,
  "too-many-arguments": net`
model M {
  input x: [1, 28, 28]
  SpatialMaxPooling(2, 2, 0, 1)
}`,
  "duplicate-argument": net`
model M {
  input x: [10]
  Linear(5, out=6)
}`,
  "positional-after-named": net`
model M {
  input x: [1, 28, 28]
  SpatialConvolution(6, kernel=5, 2)
}`,
  "argument-type": net`
model M {
  input x: [10]
  Linear(2.5)
}`,
  "argument-range": net`
model M {
  input x: [10]
  Dropout(1)
}`,
  "inexact-division": net`
block Half(c) {
  Linear(c / 2)
}

model M {
  input x: [10]
  Half(15)
}`,
  "integer-too-large": net`
model M {
  input x: [10]
  Linear(100000000 * 100000000)
}`,
  "division-by-zero": net`
model M {
  input x: [10]
  Linear(10 / 0)
}`,
  "invalid-expression": net`
model M {
  input x: [10]
  Linear(x * 2)
}`,
  "invalid-input-shape": net`
model M {
  input x: [1, 0, 28]
  ReLU
}`,
  "tensor-too-large": net`
model M {
  input x: [1, 8, 8]
  SpatialConvolution(4294967296, kernel=1)
}`,
  "model-too-large": net`
model M {
  input x: [1]
  Linear(1000000000)
}`,
  "rank-mismatch": net`
model M {
  input x: [10]
  SpatialConvolution(8, kernel=3)
}`,
  "linear-needs-vector": net`
model M {
  input image: [1, 28, 28]
  Linear(10)
}`,
  "input-size-mismatch": net`
model M {
  input x: [16, 4, 4]
  Flatten -> Linear(400 -> 120)
}`,
  "kernel-too-large": net`
model M {
  input x: [6, 3, 3]
  SpatialConvolution(16, kernel=5)
}`,
  "non-positive-size": net`
model M {
  input x: [3, 1, 1]
  SpatialFullConvolution(8, kernel=1, pad=1)
}`,
  "view-mismatch": net`
model M {
  input x: [16, 4, 4]
  View(400)
}`,
  "concat-mismatch": net`
model M {
  input x: [1, 32, 32]
  e1 = x -> SpatialConvolution(8, kernel=3, pad=1)
  u1 = e1 -> SpatialMaxPooling(2) -> SpatialConvolution(16, kernel=3, pad=1)
  Concat(e1, u1)
}`,
  "broadcast-mismatch": net`
model M {
  input x: [8, 4, 4]
  gate = x -> SpatialAdaptiveAveragePooling(1) -> SpatialConvolution(4, kernel=1) -> Sigmoid
  Mul(x, gate)
}`,
  "norm-groups": net`
model M {
  input x: [6, 8, 8]
  GroupNormalization(4)
}`,
  "arity-mismatch": net`
model M {
  input x: [10]
  Add(x)
}`,
  "unknown-criterion": net`
model M {
  input x: [10]
  Linear(3) -> LogSoftMax
}

criterion NLLLoss`,
  "unknown-output": net`
model M {
  input x: [10]
  boxes = x -> Linear(4)
  score = x -> Linear(1) -> Sigmoid
  output boxes, score
}

criterion MSE(box) + BCE(score)`,
  "criterion-needs-output": net`
model M {
  input x: [10]
  boxes = x -> Linear(4)
  score = x -> Linear(1) -> Sigmoid
  output boxes, score
}

criterion MSE`,
  "criterion-shape": net`
model M {
  input x: [10]
  Linear(1) -> LogSoftMax
}

criterion NLL`,
  "invalid-criterion": net`
model M {
  input x: [10]
  Linear(3)
}

criterion -2 * MSE`,
  "orphan-declaration": net`
criterion MSE

model M {
  input x: [10]
  Linear(3)
}`,
  "duplicate-declaration-for-model": net`
model M {
  input x: [10]
  Linear(3)
}

criterion MSE
criterion MSE`,
  "unknown-setting": net`
model M {
  input x: [10]
  Linear(3)
}

train {
  epoch = 3
}`,
  "unknown-augmentation": net`
model M {
  input image: [1, 28, 28]
  Flatten
  Linear(10)
}

train {
  augment = RandomFlip
}`,
  "augment-mismatch": net`
model M {
  input image: [1, 28, 28]
  Flatten
  Linear(10)
}

train {
  augment = RandomCrop(32, padding=4)
}`,
  "unknown-optimizer": net`
model M {
  input x: [10]
  Linear(3)
}

train {
  optimizer = sgd(lr=0.1)
}`,
  "unknown-schedule": net`
model M {
  input x: [10]
  Linear(3)
}

train {
  schedule = CosineLR(T_max=10)
}`,
  "unknown-label": net`
model M {
  input x: [10]
  features: Linear(8) -> ReLU
  head: Linear(3)
}

train {
  freeze = [feature]
}`,
  "nothing-to-freeze": net`
model M {
  input x: [10]
  features: Linear(8)
  act: ReLU
  head: Linear(3)
}

train {
  freeze = [features, act]
}`,
  "nll-without-logsoftmax": net`
model M {
  input x: [10]
  Linear(3)
}

criterion NLL`,
  "bce-without-sigmoid": net`
model M {
  input x: [10]
  logits = x -> Linear(1)
  output logits
}

criterion BCE`,
  "softmax-before-crossentropy": net`
model M {
  input x: [10]
  Linear(3) -> LogSoftMax
}

criterion CrossEntropy`,
  "sigmoid-before-bcewithlogits": net`
model M {
  input x: [10]
  Linear(4)
  Sigmoid
}

criterion BCEWithLogits`,
  "kldiv-without-logsoftmax": net`
model M {
  input x: [10]
  Linear(3) -> SoftMax
}

criterion KLDiv`,
  "drops-input": net`
model M {
  input x: [1, 28, 28]
  SpatialConvolution(4, kernel=3, stride=2)
}`,
};
