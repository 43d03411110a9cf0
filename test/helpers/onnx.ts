// ONNX tests' shared pieces: netc's forward pass of a source, ONNX Runtime's of a file, and the
// comparison of the two.
import * as ort from "onnxruntime-node";
import { expect } from "vitest";
import type { ModelIR } from "../../compiler/ir.js";
import { decodeSafetensors, type StoredTensor } from "../../runtime/safetensors.js";
import { compileModel, pseudoRandom } from "./gradcheck.js";

export const BATCH = 3;

/** Per-sample shapes of the model's inputs and outputs, by name. */
export const shapes = (m: ModelIR, which: "inputs" | "outputs") =>
  m[which].map((v) => ({ name: v.name, shape: m.nodes.find((n) => n.id === v.node)!.shape }));

/** Deterministic inputs in [-1, 1) for `BATCH` samples, one array per model input. */
export function inputsFor(m: ModelIR, seed = 5): Map<string, Float32Array> {
  const next = pseudoRandom(seed);
  return new Map(
    shapes(m, "inputs").map(({ name, shape }) => [
      name,
      Float32Array.from({ length: BATCH * shape.reduce((a, b) => a * b, 1) }, next),
    ]),
  );
}

export interface NetcRun {
  model: ModelIR;
  weights: Map<string, StoredTensor>;
  inputs: Map<string, Float32Array>;
  /** Evaluation-mode outputs by the model's output names. */
  outputs: Map<string, Float32Array>;
}

/**
 * netc's forward pass of `source` in evaluation mode, initialised from `seed` or loaded from
 * `weights` (safetensors bytes). Batch-norm statistics are moved off their initial 0 and 1 so
 * that an export that ignored them would show.
 */
export function netcForward(
  source: string,
  seed = 3,
  weights?: Uint8Array,
  given?: Map<string, Float32Array>,
): NetcRun {
  const compiled = compileModel(source);
  const net = compiled.create({ batch: BATCH, seed, backend: "wasm", threads: 1 });
  try {
    if (weights) net.load(weights, "weights");
    else {
      const next = pseudoRandom(seed + 100);
      for (const b of net.buffers)
        for (let i = 0; i < b.data.length; i++)
          b.data[i] = b.name.endsWith("running_var") ? 0.5 + Math.abs(next()) : 0.3 * next();
    }
    const model = compiled.model;
    const inputs = given ?? inputsFor(model);
    const fed =
      model.inputs.length === 1 ? inputs.values().next().value! : Object.fromEntries(inputs);
    const result = net.forward(fed as never) as Float32Array | Record<string, Float32Array>;
    const names = model.outputs.map((o) => o.name);
    const outputs = new Map(
      result instanceof Float32Array
        ? [[names[0]!, result]]
        : names.map((n) => [n, (result as Record<string, Float32Array>)[n]!]),
    );
    return { model, weights: decodeSafetensors(net.save(), "weights"), inputs, outputs };
  } finally {
    net.dispose();
  }
}

/** ONNX Runtime's (CPU) outputs of `bytes` for `inputs`, by graph output name. */
export async function ortForward(
  bytes: Uint8Array,
  inputs: Map<string, Float32Array>,
  inputShapes: { name: string; shape: readonly number[] }[],
): Promise<Map<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = Object.fromEntries(
      inputShapes.map(({ name, shape }) => [
        name,
        new ort.Tensor("float32", inputs.get(name)!, [BATCH, ...shape]),
      ]),
    );
    const out = await session.run(feeds);
    return new Map(session.outputNames.map((n) => [n, out[n]!.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/**
 * The largest absolute difference, and the largest relative to the reference's scale (its
 * largest magnitude, at least 1): what "equal within rel 2e-4" is checked on.
 */
export function difference(actual: Float32Array, expected: Float32Array) {
  expect(actual.length).toBe(expected.length);
  let abs = 0;
  let scale = 1;
  for (let i = 0; i < expected.length; i++) {
    if (!Number.isFinite(actual[i]!)) return { abs: Infinity, rel: Infinity };
    abs = Math.max(abs, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return { abs, rel: abs / scale };
}

export const TOLERANCE = 2e-4;
