// netc export and netc import end to end (the built CLI): the files they write, that check, shapes,
// train and eval work on an imported model, and their errors and exit codes.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { decodeModel } from "../compiler/export/onnx-proto.js";
import { decodeSafetensors } from "../runtime/safetensors.js";
import { netc } from "./helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "netc-onnx-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
// Each step starts netc in a process of its own; on a loaded machine that takes seconds.
const SLOW = 120_000;

describe("netc export and import", () => {
  test(
    "export without weights: the initialisation from the seed, said so; with --weights: those",
    () => {
      const initial = netc("export", "samples/mlp.net", "--out", at("mlp.onnx"));
      expect(initial).toMatchObject({ status: 0, stderr: "" });
      expect(initial.stdout).toBe(
        `${at("mlp.onnx")}: model MLP, ONNX opset 17, 235,146 weights; no --weights: the initial weights from seed 0\n`,
      );
      const trained = netc(
        ...[
          "train",
          "samples/mlp.net",
          "--epochs",
          "1",
          "--limit",
          "256",
          "--save",
          at("mlp.safetensors"),
        ],
        ...["--data", "data/fashion-mnist-sample"],
      );
      expect(trained.status).toBe(0);
      const again = netc(
        "export",
        "samples/mlp.net",
        "--weights",
        at("mlp.safetensors"),
        "--out",
        at("trained.onnx"),
      );
      expect(again).toMatchObject({ status: 0, stderr: "" });
      expect(again.stdout).toContain(`weights from ${at("mlp.safetensors")}`);
      const saved = decodeSafetensors(readFileSync(at("mlp.safetensors")), "saved");
      const model = decodeModel(readFileSync(at("trained.onnx")), "trained.onnx");
      for (const t of model.graph.initializers.filter((i) => saved.has(i.name)))
        expect(t.values).toEqual({ type: "float", data: saved.get(t.name)!.data });
      expect(model.graph.initializers.filter((i) => saved.has(i.name))).toHaveLength(saved.size);
    },
    SLOW,
  );

  test(
    "import writes a .net file and its weights that check, shapes, train and eval accept",
    () => {
      const onnx = "test/fixtures/onnx/lenet.onnx";
      const run = netc("import", onnx, "--out", at("lenet.net"));
      expect(run).toMatchObject({ status: 0, stderr: "" });
      expect(run.stdout).toBe(
        `${at("lenet.net")}, ${at("lenet.safetensors")}: model Lenet, 2,402 weights\n`,
      );
      expect(readFileSync(at("lenet.net"), "utf8")).toBe(
        [
          "# Imported by netc import from lenet.onnx (pytorch 1.13.0, opset 17).",
          "model Lenet {",
          "  input x: [1, 16, 16]",
          "  conv1: SpatialConvolution(4, kernel=5, pad=2)",
          "  ReLU",
          "  SpatialMaxPooling(2)",
          "  conv2: SpatialConvolution(8, kernel=3)",
          "  ReLU",
          "  SpatialMaxPooling(2)",
          "  View(72)",
          "  fc1: Linear(24)",
          "  ReLU",
          "  fc2: Linear(10)",
          "  LogSoftMax",
          "}",
          "",
          "# ONNX files hold no loss: this one is a guess from the last layer; write the one you train with.",
          "criterion NLL",
          "",
        ].join("\n"),
      );
      expect(netc("check", at("lenet.net"))).toMatchObject({ status: 0 });
      expect(netc("shapes", at("lenet.net")).stdout).toContain("2,402");
    },
    SLOW,
  );

  test(
    "netc's own export imported: train and eval run on it as on the original",
    () => {
      expect(netc("export", "samples/lenet5.net", "--out", at("lenet5.onnx")).status).toBe(0);
      expect(netc("import", at("lenet5.onnx"), "--out", at("back.net")).status).toBe(0);
      const data = ["--data", "data/fashion-mnist-sample"];
      const trained = netc(
        ...["train", at("back.net"), "--epochs", "1", "--limit", "256"],
        ...["--save", at("trained.safetensors"), ...data],
      );
      expect(trained).toMatchObject({ status: 0, stderr: "" });
      const evaluated = netc(
        "eval",
        at("back.net"),
        "--weights",
        at("trained.safetensors"),
        ...data,
      );
      expect(evaluated).toMatchObject({ status: 0, stderr: "" });
      expect(evaluated.stdout).toMatch(/^LeNet5 on the test set \(1,000 samples\): /m);
    },
    SLOW,
  );

  test(
    "a node netc lacks: each named on stderr, nothing written, status 1",
    () => {
      const run = netc("import", "test/fixtures/onnx/unsupported.onnx", "--out", at("u.net"));
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(
        [
          "netc: test/fixtures/onnx/unsupported.onnx: netc cannot express these 3 nodes; nothing written",
          "  node /MaxPool (MaxPool): netc has no dilated pooling",
          "  node /Abs (Abs): netc has no layer for Abs",
          "  node /Transpose (Transpose): netc has no layer for Transpose",
          "",
        ].join("\n"),
      );
      expect(existsSync(at("u.net")) || existsSync(at("u.safetensors"))).toBe(false);
    },
    SLOW,
  );

  test(
    "bad ONNX files: a truncated one (status 1, the byte offset), a missing one",
    () => {
      const bytes = readFileSync("test/fixtures/onnx/lenet.onnx");
      writeFileSync(at("cut.onnx"), bytes.subarray(0, 5000));
      const cut = netc("import", at("cut.onnx"), "--out", at("cut.net"));
      expect(cut.status).toBe(1);
      expect(cut.stderr).toMatch(/^netc: .*cut\.onnx: not a valid ONNX file: .* at byte \d+\n$/);
      const missing = netc("import", at("none.onnx"));
      expect(missing).toMatchObject({
        status: 1,
        stderr: `netc: cannot read the ONNX file ${at("none.onnx")}: no such file\n`,
      });
    },
    SLOW,
  );

  test(
    "--format torch writes the PyTorch module; bad options: --weights with torch, another format, --out not .net, no such directory",
    () => {
      const torch = netc("export", "samples/mlp.net", "--format", "torch", "--out", at("mlp.py"));
      expect(torch).toMatchObject({
        status: 0,
        stdout: `${at("mlp.py")}: model MLP, a PyTorch module\n`,
      });
      expect(readFileSync(at("mlp.py"), "utf8")).toContain("class MLP(nn.Module):");
      const weights = netc(...["export", "samples/mlp.net", "--format", "torch", "--weights", "w"]);
      expect(weights.status).toBe(2);
      expect(weights.stderr).toMatch(/^netc: --weights and --seed go with --format onnx/);
      expect(netc("export", "samples/mlp.net", "--format", "tflite").status).toBe(2);
      expect(netc("import", "test/fixtures/onnx/lenet.onnx", "--out", at("x.txt")).status).toBe(2);
      expect(netc("export", "samples/mlp.net", "--out", at("nodir/x.onnx")).status).toBe(1);
    },
    SLOW,
  );
});
