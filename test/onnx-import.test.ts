// ONNX import: models exported by torch.onnx.export (fixtures from make-onnx-fixtures.py) and
// every sample exported by netc come back as .net files whose forward pass is the original's.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { exportOnnx } from "../compiler/export/onnx.js";
import { format } from "../grammar/format.js";
import { importOnnx, type ImportResult } from "../compiler/import/onnx.js";
import { NetcError } from "../runtime/errors.js";
import { encodeSafetensors } from "../runtime/safetensors.js";
import { difference, netcForward, ortForward, TOLERANCE } from "./helpers/onnx.js";
import { pseudoRandom } from "./helpers/gradcheck.js";
import {
  decodeModel,
  encodeModel,
  type OnnxAttribute,
  type OnnxNode,
} from "../compiler/export/onnx-proto.js";
import { caseSource, layerCases, twoInputsTwoOutputs } from "./helpers/onnx-cases.js";

const samplesDir = new URL("../samples/", import.meta.url);
const fixturesDir = new URL("fixtures/", import.meta.url);
const fixtures = JSON.parse(readFileSync(new URL("onnx-fixtures.json", fixturesDir), "utf8")) as {
  name: string;
  shape: number[];
  input: number[];
  outputs: Record<string, number[]>;
}[];
const samples = readdirSync(samplesDir).filter((f) => f.endsWith(".net"));

function imported(result: ImportResult) {
  if (!result.ok)
    throw new Error(result.problems.map((p) => `${p.node} (${p.opType}): ${p.message}`).join("\n"));
  return result;
}

/** Export, import, and the imported model's forward pass from the imported weights. */
function roundTrip(source: string, label: string) {
  const original = netcForward(source);
  const back = imported(importOnnx(exportOnnx(original.model, original.weights), label));
  const again = netcForward(back.source, 3, encodeSafetensors(back.tensors));
  const expected = [...original.outputs.values()];
  const actual = [...again.outputs.values()];
  expect(actual.length).toBe(expected.length);
  return { back, diffs: expected.map((e, i) => difference(actual[i]!, e)) };
}

describe("ONNX import", () => {
  test.each(samples)("sample %s: export, import, the same forward pass", (file) => {
    const { back, diffs } = roundTrip(readFileSync(new URL(file, samplesDir), "utf8"), file);
    // The same layers with the same weights run the same kernels: the same floats.
    for (const d of diffs) expect(d.abs, file).toBe(0);
    // Written in the standard layout: `netc fmt` changes nothing.
    expect(format(back.source)).toEqual({ text: back.source });
  });

  test("two inputs and two outputs, one read again, come back as bindings", () => {
    const { back, diffs } = roundTrip(twoInputsTwoOutputs, "two");
    for (const d of diffs) expect(d.rel).toBeLessThanOrEqual(TOLERANCE);
    expect(back.source).toContain(
      [
        "  input a: [2, 3, 3]",
        "  input b: [2, 3, 3]",
        "  s = Add(a, b)",
        "  t = Concat(s, b) -> conv: SpatialConvolution(2, kernel=3, pad=1) -> Tanh",
        "  output s, t",
      ].join("\n"),
    );
  });

  test.each([
    [
      "input x: [4, 16]",
      "conv: TemporalConvolution(6, kernel=3, stride=2, pad=2, dilation=2, groups=2)",
      "bn: BatchNormalization",
      "TemporalMaxPooling(2, ceil=true)",
      // Its last window runs past the padding: exported as Pad, then AveragePool.
      "TemporalAveragePooling(3, stride=2, pad=1, ceil=true)",
    ],
    [
      "input x: [4, 8, 8]",
      "dw: SpatialConvolution(4, kernel=3, pad=2, dilation=2, groups=4)",
      "up: SpatialFullConvolution(6, kernel=3, stride=2, pad=1, adj=1, dilation=2, groups=2)",
      "SpatialAveragePooling(3, stride=2, ceil=true)",
    ],
  ])("dilated, grouped and 1-D layers come back as written: %s", (...lines) => {
    const source = `model M {\n${lines.map((l) => `  ${l}\n`).join("")}}\n`;
    const { back, diffs } = roundTrip(source, "m");
    expect(back.source).toContain(lines.map((l) => `  ${l}\n`).join(""));
    for (const d of diffs) expect(d.abs).toBe(0);
  });

  test("lenet5 comes back flat, labelled, with PyTorch's names", () => {
    const { back } = roundTrip(readFileSync(new URL("lenet5.net", samplesDir), "utf8"), "lenet5");
    expect(back.source).toBe(
      [
        "# Imported by netc import from lenet5 (netc, opset 17).",
        "model LeNet5 {",
        "  input image: [1, 28, 28]",
        "  conv1: SpatialConvolution(6, kernel=5, pad=2)",
        "  ReLU",
        "  SpatialMaxPooling(2)",
        "  conv2: SpatialConvolution(16, kernel=5)",
        "  ReLU",
        "  SpatialMaxPooling(2)",
        "  View(400)",
        "  fc1: Linear(120)",
        "  ReLU",
        "  fc2: Linear(84)",
        "  ReLU",
        "  fc3: Linear(10)",
        "  LogSoftMax",
        "}",
        "",
        "# ONNX files hold no loss: this one is a guess from the last layer; write the one you train with.",
        "criterion NLL",
        "",
      ].join("\n"),
    );
    expect(back.tensors.map((t) => t.name)).toEqual(
      ["conv1", "conv2", "fc1", "fc2", "fc3"].flatMap((l) => [`${l}.weight`, `${l}.bias`]),
    );
  });

  // The layers whose export is one ONNX node, or a pattern the import knows, come back; the
  // others are exported as arithmetic netc does not read back as a layer (see moving-models.md).
  const composite = /^(SpatialAdaptive\w+Pooling\(3|SoftPlus|LogSigmoid|SoftMin|GELU\(approximate)/;
  const roundTripped = Object.values(layerCases)
    .flat()
    .filter((c) => !composite.test(c.replace(/^\[[^\]]*\] -> /, "")));
  test.each(roundTripped)("%s", (c) => {
    const { diffs } = roundTrip(caseSource(c), c);
    for (const d of diffs) expect(d.rel, c).toBeLessThanOrEqual(TOLERANCE);
  });

  test.each(fixtures.filter((f) => f.name !== "unsupported"))(
    "torch.onnx.export's $name: netc's forward pass of the import is PyTorch's, its weights PyTorch's names",
    (f) => {
      const bytes = readFileSync(new URL(`onnx/${f.name}.onnx`, fixturesDir));
      const back = imported(importOnnx(bytes, f.name));
      // The state_dict keys torch.onnx.export named the initializers after.
      const keys = decodeModel(bytes, f.name).graph.initializers.map((t) => t.name);
      expect(back.tensors.map((t) => t.name).filter((n) => !keys.includes(n))).toEqual([]);
      const run = netcForward(
        back.source,
        3,
        encodeSafetensors(back.tensors),
        new Map([["x", Float32Array.from(f.input)]]),
      );
      const expected = Object.values(f.outputs);
      expect(run.outputs.size).toBe(expected.length);
      [...run.outputs.values()].forEach((actual, i) => {
        const d = difference(actual, Float32Array.from(expected[i]!));
        console.log(
          `${f.name} output ${i}: max abs ${d.abs.toExponential(2)}, rel ${d.rel.toExponential(2)}`,
        );
        expect(d.rel, f.name).toBeLessThanOrEqual(TOLERANCE);
      });
    },
  );

  test("what netc lacks is a problem per node, naming it, its op type and what is missing", () => {
    const result = importOnnx(
      readFileSync(new URL("onnx/unsupported.onnx", fixturesDir)),
      "unsupported.onnx",
    );
    expect(result).toEqual({
      ok: false,
      problems: [
        { node: "/MaxPool", opType: "MaxPool", message: "netc has no dilated pooling" },
        { node: "/Abs", opType: "Abs", message: "netc has no layer for Abs" },
        { node: "/Transpose", opType: "Transpose", message: "netc has no layer for Transpose" },
      ],
    });
  });

  /** A one-input, one-output graph written by hand, as other converters than torch write them. */
  function handMade(
    nodes: OnnxNode[],
    initializers: Record<string, { dims: number[]; data: number[] }>,
    input: number[],
    output: number[],
  ): Uint8Array {
    return encodeModel({
      irVersion: 8,
      opsets: [{ domain: "", version: 17 }],
      producerName: "hand",
      producerVersion: "",
      graph: {
        name: "Hand",
        nodes,
        initializers: Object.entries(initializers).map(([name, { dims, data }]) => ({
          name,
          dims,
          values: { type: "float", data: Float32Array.from(data) },
        })),
        inputs: [{ name: "x", elemType: 1, dims: ["N", ...input] }],
        outputs: [{ name: "y", elemType: 1, dims: ["N", ...output] }],
      },
    });
  }
  const node = (
    opType: string,
    inputs: string[],
    output: string,
    attributes: OnnxAttribute[] = [],
  ) => ({
    name: output,
    opType,
    domain: "",
    inputs,
    outputs: [output],
    attributes,
  });
  const values = (n: number, seed: number) => Array.from({ length: n }, pseudoRandom(seed));

  /** Imports a hand-made graph and checks netc's forward pass of it against ONNX Runtime's. */
  async function againstOrt(bytes: Uint8Array, input: number[]) {
    const back = imported(importOnnx(bytes, "hand.onnx"));
    const run = netcForward(back.source, 3, encodeSafetensors(back.tensors));
    const ort = await ortForward(bytes, run.inputs, [{ name: "x", shape: input }]);
    const d = difference(run.outputs.get("output")!, ort.get("y")!);
    expect(d.rel).toBeLessThanOrEqual(TOLERANCE);
    return back.source;
  }

  test("a convolution padded unevenly gets a SpatialZeroPadding before it", async () => {
    const pads: OnnxAttribute = { name: "pads", kind: "ints", value: [1, 0, 2, 1] };
    const strides: OnnxAttribute = { name: "strides", kind: "ints", value: [2, 1] };
    const bytes = handMade(
      [node("Conv", ["x", "conv.weight"], "y", [pads, strides])],
      { "conv.weight": { dims: [3, 2, 3, 3], data: values(54, 2) } },
      [2, 6, 5],
      [3, 4, 4],
    );
    expect(await againstOrt(bytes, [2, 6, 5])).toContain(
      "  SpatialZeroPadding(0, right=1, top=1, bottom=2)\n  conv: SpatialConvolution(3, kernel=3, stride=[2, 1], bias=false)\n",
    );
  });

  test("a 1-D ConvTranspose and a window attribute of the wrong length are refused, named", () => {
    const refused = (node: OnnxNode, weight: number[]) => {
      const result = importOnnx(
        handMade([node], { w: { dims: weight, data: values(12, 2) } }, [2, 6], [2, 6]),
        "hand.onnx",
      );
      return result.ok ? [] : result.problems.map((p) => p.message);
    };
    expect(refused(node("ConvTranspose", ["x", "w"], "y"), [2, 2, 3])).toEqual([
      "netc has no 1-D transposed convolution",
    ]);
    const strides: OnnxAttribute = { name: "strides", kind: "ints", value: [1, 1] };
    expect(refused(node("Conv", ["x", "w"], "y", [strides]), [2, 2, 3])).toEqual([
      "its strides [1, 1] does not fit its 1-D input",
    ]);
  });

  test("MatMul then Add of a bias is a Linear; Gemm untransposed, scaled by alpha and beta, too", async () => {
    const bytes = handMade(
      [
        node("MatMul", ["x", "fc1.weight"], "h"),
        node("Add", ["h", "fc1.bias"], "a"),
        node("Gemm", ["a", "fc2.weight", "fc2.bias"], "y", [
          { name: "alpha", kind: "float", value: 0.5 },
          { name: "beta", kind: "float", value: 2 },
        ]),
      ],
      {
        "fc1.weight": { dims: [5, 4], data: values(20, 3) },
        "fc1.bias": { dims: [4], data: values(4, 4) },
        "fc2.weight": { dims: [4, 3], data: values(12, 5) },
        "fc2.bias": { dims: [3], data: values(3, 6) },
      },
      [5],
      [3],
    );
    expect(await againstOrt(bytes, [5])).toContain("  fc1: Linear(4)\n  fc2: Linear(3)\n");
  });

  test("a node whose layer netc's checks refuse: the problem says so as netc check would", () => {
    const bytes = encodeModel({
      irVersion: 8,
      opsets: [{ domain: "", version: 17 }],
      producerName: "hand",
      producerVersion: "",
      graph: {
        name: "Hand",
        nodes: [node("Reshape", ["x", "shape"], "y")],
        initializers: [{ name: "shape", dims: [2], values: { type: "int64", data: [-1, 5] } }],
        inputs: [{ name: "x", elemType: 1, dims: ["N", 2, 3] }],
        outputs: [{ name: "y", elemType: 1, dims: ["N", 5] }],
      },
    });
    const result = importOnnx(bytes, "hand.onnx");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ node: "y", opType: "Reshape" });
    expect(result.problems[0]!.message).toMatch(/^View: .*\[2, 3\].*6/);
  });

  test("damaged files: an import or a refusal, a NetcError at worst, never another exception", () => {
    const next = pseudoRandom(12);
    const pick = (n: number) => Math.floor(((next() + 1) / 2) * n);
    const originals = ["lenet", "conv-bn", "unetish", "mlp"].map((f) =>
      readFileSync(new URL(`onnx/${f}.onnx`, fixturesDir)),
    );
    const outcomes = { imported: 0, refused: 0, error: 0 };
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from(originals[i % originals.length]!);
      // A few bytes changed, most often in the graph's structure (before the weights' data).
      for (let k = 0; k <= pick(3); k++) bytes[pick(Math.min(bytes.length, 2000))] = pick(256);
      try {
        const result = importOnnx(
          bytes.subarray(0, i % 5 === 0 ? pick(bytes.length) : bytes.length),
          "x.onnx",
        );
        outcomes[result.ok ? "imported" : "refused"]++;
      } catch (error) {
        if (!(error instanceof NetcError)) throw error;
        outcomes.error++;
      }
    }
    console.log(`damaged files: ${JSON.stringify(outcomes)}`);
    // The damage reaches every stage: the decoder, the translation, and past both.
    expect(Object.values(outcomes).every((n) => n > 10)).toBe(true);
  });

  test("a truncated file is a NetcError naming the byte offset", () => {
    const run = netcForward(readFileSync(new URL("mlp.net", samplesDir), "utf8"));
    const bytes = exportOnnx(run.model, run.weights);
    expect(() => importOnnx(bytes.subarray(0, 1000), "mlp.onnx")).toThrow(NetcError);
    expect(() => importOnnx(bytes.subarray(0, 1000), "mlp.onnx")).toThrow(
      /^mlp\.onnx: .* at byte \d+$/,
    );
    expect(() => importOnnx(new TextEncoder().encode("not an onnx file at all"), "x.onnx")).toThrow(
      NetcError,
    );
  });
});
