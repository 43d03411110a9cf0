// ONNX export: every sample and a model per catalog layer, run by ONNX Runtime, against netc's
// forward pass from the same weights; onnx.checker where Debian's python3-onnx is installed.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { layerList } from "../compiler/catalog/index.js";
import { onnxLayers } from "../compiler/export/onnx-layers.js";
import { decodeModel } from "../compiler/export/onnx-proto.js";
import { exportOnnx, onnxModel } from "../compiler/export/onnx.js";
import { caseSource, layerCases, twoInputsTwoOutputs } from "./helpers/onnx-cases.js";
import {
  difference,
  netcForward,
  ortForward,
  shapes,
  TOLERANCE,
  type NetcRun,
} from "./helpers/onnx.js";

const samplesDir = new URL("../samples/", import.meta.url);
const samples = readdirSync(samplesDir).filter((f) => f.endsWith(".net"));

let checkDir: string | undefined;
let kept = 0;
/** Exported files kept for the onnx.checker pass at the end of the file. */
function keep(name: string, bytes: Uint8Array): void {
  checkDir ??= mkdtempSync(join(tmpdir(), "netc-onnx-"));
  writeFileSync(join(checkDir, `${kept++}-${name.replace(/[^\w.-]+/g, "_")}.onnx`), bytes);
}
afterAll(() => {
  if (checkDir) rmSync(checkDir, { recursive: true, force: true });
});

/** Exports a run's model with its weights and compares ONNX Runtime's outputs with netc's. */
async function compare(run: NetcRun, label: string) {
  const bytes = exportOnnx(run.model, run.weights);
  keep(label, bytes);
  const ort = await ortForward(bytes, run.inputs, shapes(run.model, "inputs"));
  expect([...ort.keys()]).toEqual(run.model.outputs.map((o) => o.name));
  const diffs = [...run.outputs].map(([name, expected]) => ({
    name,
    ...difference(ort.get(name)!, expected),
  }));
  for (const d of diffs) expect(d.rel, `${label}: output ${d.name}`).toBeLessThanOrEqual(TOLERANCE);
  return diffs;
}

describe("ONNX export", () => {
  test("every catalog layer has an export and a test case", () => {
    const names = layerList.map((l) => l.name);
    expect(names.filter((n) => !onnxLayers[n])).toEqual([]);
    expect(names.filter((n) => !layerCases[n])).toEqual([]);
  });

  test.each(samples)("sample %s: ONNX Runtime gives netc's outputs", async (file) => {
    const run = netcForward(readFileSync(new URL(file, samplesDir), "utf8"));
    const diffs = await compare(run, file);
    console.log(
      `${file}: ${diffs.map((d) => `${d.name} max abs ${d.abs.toExponential(2)}, rel ${d.rel.toExponential(2)}`).join("; ")}`,
    );
  });

  test.each(Object.entries(layerCases).flatMap(([layer, cases]) => cases.map((c) => [layer, c])))(
    "%s: %s",
    async (_layer, c) => {
      await compare(netcForward(caseSource(c)), c);
    },
  );

  test("the graph: opset 17, IR 8, batch dimension N, initializers named as the parameters", () => {
    const run = netcForward(readFileSync(new URL("cnn-bn.net", samplesDir), "utf8"));
    const m = decodeModel(exportOnnx(run.model, run.weights), "cnn-bn.onnx");
    expect(m.irVersion).toBe(8);
    expect(m.opsets).toEqual([{ domain: "", version: 17 }]);
    expect(m.graph.inputs).toEqual([{ name: "image", elemType: 1, dims: ["N", 1, 28, 28] }]);
    expect(m.graph.outputs).toEqual([{ name: "output", elemType: 1, dims: ["N", 10] }]);
    const params = m.graph.initializers.filter((t) => run.weights.has(t.name));
    expect(params.map((t) => t.name).sort()).toEqual([...run.weights.keys()].sort());
    for (const t of params) {
      expect(t.dims).toEqual(run.weights.get(t.name)!.shape);
      expect(t.values).toEqual({ type: "float", data: run.weights.get(t.name)!.data });
    }
    expect(m.graph.nodes.map((n) => n.opType)).toEqual([
      ...["Conv", "BatchNormalization", "Relu", "MaxPool"],
      ...["Conv", "BatchNormalization", "Relu", "MaxPool"],
      ...["Flatten", "Gemm", "BatchNormalization", "Relu", "Dropout", "Gemm", "LogSoftmax"],
    ]);
    const gemm = m.graph.nodes.find((n) => n.name === "fc1")!;
    expect(gemm.attributes).toEqual([{ name: "transB", kind: "int", value: 1 }]);
  });

  test("two inputs, and an output that is also read by another", async () => {
    await compare(netcForward(twoInputsTwoOutputs), "two inputs");
  });

  test("weights that lack a parameter are refused, naming it", () => {
    const run = netcForward(readFileSync(new URL("mlp.net", samplesDir), "utf8"));
    run.weights.delete("fc2.bias");
    expect(() => onnxModel(run.model, run.weights)).toThrow("the weights lack fc2.bias");
  });

  // Last: every file exported above, in one Python process.
  test("onnx.checker.check_model(full_check=True) accepts every exported file", (ctx) => {
    const probe = spawnSync("/usr/bin/python3", ["-c", "import onnx"], { encoding: "utf8" });
    if (probe.status !== 0) {
      console.warn("SKIPPED: /usr/bin/python3 has no onnx module (Debian's python3-onnx)");
      ctx.skip();
    }
    const script =
      "import glob, sys, onnx\n" +
      "files = sorted(glob.glob(sys.argv[1] + '/*.onnx'))\n" +
      "for f in files: onnx.checker.check_model(onnx.load(f), full_check=True)\n" +
      "print(len(files))\n";
    const out = execFileSync("/usr/bin/python3", ["-c", script, checkDir!], { encoding: "utf8" });
    expect(Number(out.trim())).toBe(kept);
    expect(kept).toBeGreaterThanOrEqual(samples.length + Object.values(layerCases).flat().length);
  });
});
