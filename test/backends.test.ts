// The backend contract: the op list, both backends' coverage, nothing left to JS, NaN as PyTorch.
import { readdirSync, readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { missingOps } from "../compiler/backends/backend.js";
import { tsBackend } from "../compiler/backends/ts/emit.js";
import { jsFormula, jsHelpers } from "../compiler/backends/ts/kernels/activations.js";
import { wasmBackend } from "../compiler/backends/wasm/emit.js";
import { criterionList, layerList } from "../compiler/catalog/index.js";
import { compile } from "../compiler/compile.js";
import { compileModel } from "./helpers/gradcheck.js";
import { activationRows, evaluate, opNames, type ActivationName } from "../compiler/ops.js";

test("the TS backend has JavaScript for every op", () => {
  expect(missingOps(tsBackend)).toEqual([]);
});

test("the WASM backend has code for every op", () => {
  expect(missingOps(wasmBackend)).toEqual([]);
  expect(opNames.length).toBeGreaterThan(30);
});

// Each activation row's JavaScript, run, gives what the row's formula evaluates to.
const parameters: Record<ActivationName, object> = {
  relu: {},
  leaky_relu: { slope: 0.1 },
  elu: { alpha: 1.5 },
  sigmoid: {},
  tanh: {},
  softplus: { beta: 2, threshold: 3 },
  hardtanh: { min: -0.5, max: 1.5 },
  silu: {},
  gelu: { tanh: false },
  hardsigmoid: {},
  hardswish: {},
  logsigmoid: {},
  softsign: {},
};
// erf, which JavaScript lacks, as the kernels define it.
const helpers = Object.values(jsHelpers).join("\n");

test.each(Object.keys(activationRows) as ActivationName[])(
  "the %s row renders to JavaScript that computes its formulas",
  (fn) => {
    const act = { fn, ...parameters[fn] } as never;
    const row = activationRows[fn];
    for (const formula of [row.f(act), row.df(act)]) {
      const js = new Function("v", `${helpers}\nreturn ${jsFormula(formula, "v")};`) as (
        v: number,
      ) => number;
      for (const x of [-4, -3, -1.5, -0.5, -0.25, 0, 0.25, 1.5, 3, 4, NaN])
        expect(js(x), `${fn} at ${x}`).toBe(evaluate(formula, x));
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Nothing falls back to JS on the WASM backend: one model per catalog layer and criterion, in
// training and evaluation (both use the same steps), and every sample.

const one = (input: string, body: string, criterion = "MSE") =>
  `model M {\n  input x: ${input}\n${body}\n}\ncriterion ${criterion}\n`;

/** Keyed by every layer of the catalog, so that a new layer without a case fails here. */
const perLayer: Record<string, string> = {
  SpatialConvolution: one("[3, 9, 9]", "  SpatialConvolution(4, kernel=3, stride=2, pad=1) -> ELU"),
  SpatialFullConvolution: one(
    "[3, 5, 5]",
    "  SpatialFullConvolution(2, kernel=3, stride=2, adj=1)",
  ),
  SpatialMaxPooling: one("[3, 9, 9]", "  SpatialMaxPooling(3, stride=2, pad=1)"),
  SpatialAveragePooling: one("[3, 9, 9]", "  SpatialAveragePooling(2)"),
  // Output sizes that do not divide the input: the adaptive kernels, not the window ones.
  SpatialAdaptiveMaxPooling: one("[3, 9, 7]", "  SpatialAdaptiveMaxPooling(4, 3)"),
  SpatialAdaptiveAveragePooling: one("[3, 9, 7]", "  SpatialAdaptiveAveragePooling(2, 5)"),
  SpatialUpSamplingBilinear: one("[3, 5, 5]", "  SpatialUpSamplingBilinear(2, align_corners=true)"),
  SpatialZeroPadding: one("[3, 5, 5]", "  SpatialZeroPadding(1, -1, 2, 0)"),
  SpatialReflectionPadding: one("[3, 5, 5]", "  SpatialReflectionPadding(2, 1, 4, 3)"),
  SpatialReplicationPadding: one("[3, 5, 5]", "  SpatialReplicationPadding(3)"),
  SpatialBatchNormalization: one("[3, 5, 5]", "  SpatialBatchNormalization"),
  SpatialUpSamplingNearest: one("[3, 5, 5]", "  SpatialUpSamplingNearest(2)"),
  Linear: one("[7]", "  Linear(5) -> Tanh"),
  BatchNormalization: one("[7, 3]", "  BatchNormalization(affine=false)"),
  View: one("[3, 4]", "  View(12) -> Linear(2)"),
  Flatten: one("[3, 4]", "  Flatten -> Linear(2)"),
  ReLU: one("[7]", "  ReLU"),
  LeakyReLU: one("[7]", "  LeakyReLU(slope=0.2)"),
  ELU: one("[7]", "  ELU"),
  Sigmoid: one("[7]", "  Sigmoid", "BCE"),
  Tanh: one("[7]", "  Tanh"),
  SoftPlus: one("[7]", "  Linear(5) -> SoftPlus"),
  SoftMax: one("[7]", "  SoftMax"),
  LogSoftMax: one("[7]", "  LogSoftMax", "NLL"),
  ReLU6: one("[7]", "  Linear(5) -> ReLU6"),
  HardTanh: one("[7]", "  HardTanh(min_val=-2, max_val=0.5)"),
  SiLU: one("[7]", "  Linear(5) -> SiLU"),
  GELU: one("[2, 3, 3]", "  SpatialConvolution(2, kernel=1) -> GELU(approximate=true) -> GELU"),
  HardSigmoid: one("[2, 3, 3]", "  SpatialConvolution(2, kernel=1) -> HardSigmoid"),
  HardSwish: one("[7]", "  HardSwish"),
  LogSigmoid: one("[7]", "  LogSigmoid"),
  SoftSign: one("[7]", "  Linear(5) -> SoftSign"),
  SoftMin: one("[3, 2, 2]", "  SoftMin"),
  PReLU: one("[3, 2, 2]", "  PReLU(3) -> Flatten -> PReLU -> Linear(3) -> PReLU(3)"),
  Dropout: one("[7]", "  Dropout(0.3)"),
  Concat: one("[3, 2, 2]", "  y = Concat(x, x)\n  output y"),
  Add: one("[3, 2, 2]", "  y = Add(x, x)\n  output y"),
  // Each path of the kernels: groups of planes, runs of values with an elementwise affine
  // (LayerNorm, S = 1), and broadcasts along runs and of repeated values, both ways.
  GroupNormalization: one("[6, 3, 3]", "  GroupNormalization(3)"),
  LayerNormalization: one("[7]", "  Linear(6) -> LayerNormalization"),
  InstanceNormalization: one("[3, 5]", "  InstanceNormalization"),
  Mul: one(
    "[3, 4, 5]",
    "  g = x -> SpatialAdaptiveAveragePooling(1) -> Sigmoid\n  h = x -> SpatialAdaptiveMaxPooling(4, 1)\n  y = Mul(x, g)\n  z = Add(Mul(h, y), x -> SpatialConvolution(1, kernel=1))\n  output z",
  ),
};

const perCriterion: Record<string, string> = {
  // The class criteria with every option: the samples use them without.
  NLL: one("[3, 4, 4]", "  LogSoftMax", "NLL(weights=[1, 2, 0.5], ignore=255)"),
  CrossEntropy: one(
    "[3, 4, 4]",
    "  SpatialConvolution(3, kernel=1)",
    "CrossEntropy(weights=[1, 2, 0.5], ignore=1, label_smoothing=0.1)",
  ),
  BCE: one("[5]", "  Linear(5) -> Sigmoid", "BCE"),
  MSE: one("[5]", "  Linear(5)", "0.5 * MSE"),
  L1: one("[5]", "  Linear(5)", "L1"),
  SmoothL1: one("[2, 3, 3]", "  SpatialConvolution(4, kernel=1)", "SmoothL1(beta=0.5)"),
  // pos_weight per channel: its table and the runs channel by channel.
  BCEWithLogits: one(
    "[2, 3, 3]",
    "  SpatialConvolution(3, kernel=1)",
    "BCEWithLogits(pos_weight=[1, 2, 0.5])",
  ),
  KLDiv: one("[5]", "  Linear(5) -> LogSoftMax", "KLDiv"),
};

const samplesDir = new URL("../samples/", import.meta.url);
const sampleSources = Object.fromEntries(
  readdirSync(samplesDir)
    .filter((f) => f.endsWith(".net"))
    .map((f) => [`samples/${f}`, readFileSync(new URL(f, samplesDir), "utf8")]),
);

test("every catalog layer and criterion has a case below", () => {
  expect(Object.keys(perLayer).sort()).toEqual(layerList.map((l) => l.name).sort());
  expect(Object.keys(perCriterion).sort()).toEqual(criterionList.map((c) => c.name).sort());
});

test.each(Object.entries({ ...perLayer, ...perCriterion, ...sampleSources }))(
  "%s compiles with no step left to JS",
  (_, source) => {
    const result = compile(source);
    if (!result.ok) throw new Error(`${result.error}: ${result.diagnostics[0]?.message}`);
    const { program, wasm } = result.compiled;
    const steps = [...program.forward, ...program.loss, ...program.backward];
    expect(
      wasm.fallback.map((i) => `${steps[i]!.kernel} (${steps[i]!.layers.join(", ")})`),
    ).toEqual([]);
  },
);

// ---------------------------------------------------------------------------------------------
// NaN propagates as in PyTorch: through every activation, fused or standalone, on both backends.

test.each([
  ...["ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "SoftPlus", "ReLU6", "HardTanh", "SiLU"],
  ...["GELU", "GELU(approximate=true)", "HardSigmoid", "HardSwish", "LogSigmoid", "SoftSign"],
  ...["PReLU", "PReLU(4)"],
])("%s passes a NaN input on as NaN, standalone and fused into Linear, on both backends", (act) => {
  const standalone = one("[4]", `  ${act}`);
  const fused = one("[4]", `  Linear(4) -> ${act}`);
  for (const source of [standalone, fused]) {
    const compiled = compileModel(source);
    for (const backend of ["ts", "wasm"] as const) {
      const net = compiled.create({ batch: 1, backend });
      const y = net.forward(Float32Array.from([NaN, -1, 0, 2])) as Float32Array;
      // The standalone activation keeps the other elements; Linear spreads the NaN to all.
      expect(Number.isNaN(y[0]), `${backend}: ${source}`).toBe(true);
      if (source === fused) expect([...y].every(Number.isNaN), backend).toBe(true);
      else expect([...y.subarray(1)].some(Number.isNaN), backend).toBe(false);
    }
  }
});
