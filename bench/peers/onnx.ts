// onnxruntime-node peer, 1 thread, inference only, on the models PyTorch exported. A
// devDependency; `.npmrc` skips its installer, which would fetch CUDA files (the CPU provider ships
// in the package).
import { measureContender, missing, type Context, type Contender } from "../contender.js";
import { BATCH, batchOf, sampleOf } from "../data.js";
import type { WorkloadName } from "../workloads.js";

interface Session {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
  release?(): Promise<void>;
}

/** The part of onnxruntime-node's API used here. */
interface Ort {
  InferenceSession: { create(path: string, options: object): Promise<Session> };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
  env: { versions?: { node?: string } };
}

const NAME = "onnxruntime 1t";

export async function runOnnx(
  ctx: Context,
  models: Partial<Record<WorkloadName, string>>,
): Promise<Contender> {
  let ort: Ort;
  try {
    ort = (await import("onnxruntime-node")) as Ort;
  } catch {
    const version = "npm ci (onnxruntime-node is a devDependency)";
    return missing(ctx, { name: NAME, threads: 1, version }, "not installed");
  }
  const version = `onnxruntime-node ${ort.env.versions?.node ?? "?"} (CPU execution provider)`;
  if (Object.keys(models).length === 0)
    return missing(ctx, { name: NAME, threads: 1, version }, "no models (PyTorch exports them)");
  return measureContender(ctx, { name: NAME, threads: 1, version }, async (workload) => {
    const path = models[workload.name];
    if (!path) throw new Error(`no ONNX export of ${workload.name}`);
    const session = await ort.InferenceSession.create(path, {
      ...{ intraOpNumThreads: 1, interOpNumThreads: 1 },
      ...{ executionMode: "sequential", graphOptimizationLevel: "all" },
    });
    const run = (x: Float32Array, n: number) =>
      session.run({ x: new ort.Tensor("float32", x, [n, 1, 28, 28]) });
    return {
      infer64: (i) => run(batchOf(ctx.data, i).x, BATCH),
      infer1: (i) => run(sampleOf(ctx.data, i), 1),
      dispose: () => session.release?.(),
    };
  });
}
