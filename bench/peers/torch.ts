// PyTorch peer: runs torch_bench.py (not compiled; found in the repository) once per thread count,
// in a fresh process with OpenMP and OpenBLAS held to that count, on the same data written to a
// temporary file. The 1-thread run also exports the models to ONNX for onnxruntime.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { missing, type Context, type Contender } from "../contender.js";
import { BATCH } from "../data.js";
import type { Cell, Metric } from "../protocol.js";
import { plan, type WorkloadName } from "../workloads.js";

const PYTHON = process.env["BENCH_PYTHON"] ?? "/usr/bin/python3";

interface TorchOutput {
  /** Why nothing ran: "No module named 'torch'". */
  missing?: string;
  error?: string;
  version?: string;
  cells?: Partial<Record<WorkloadName, Record<Metric, Cell>>>;
  onnx?: Partial<Record<WorkloadName, string>>;
}

export interface TorchRun {
  contenders: Contender[];
  /** The exported models, when PyTorch is there. */
  onnx: Partial<Record<WorkloadName, string>>;
}

/**
 * Measures PyTorch at each thread count (none: export only) in `dir`, a temporary directory the
 * caller removes.
 */
export function runTorch(ctx: Context, root: string, dir: string, threads: number[]): TorchRun {
  const script = join(root, "bench", "peers", "torch_bench.py");
  const images = join(dir, "images.f32");
  const labels = join(dir, "labels.i32");
  writeFileSync(images, ctx.data.images);
  writeFileSync(labels, ctx.data.labels);
  const { maxStepSeconds } = ctx.protocol;
  const config = {
    ...{ images, labels, count: ctx.data.count, batch: BATCH },
    protocol: {
      ...ctx.protocol,
      maxStepSeconds: Number.isFinite(maxStepSeconds) ? maxStepSeconds : null,
    },
    workloads: ctx.workloads.map((w) => ({ name: w.name, plan: plan(w) })),
  };
  const run = (count: number, measure: boolean, onnxDir?: string): TorchOutput => {
    if (!existsSync(PYTHON)) return { missing: `no ${PYTHON}` };
    const n = String(count);
    const result = spawnSync(PYTHON, [script], {
      input: JSON.stringify({ ...config, threads: count, measure, onnxDir }),
      stdio: ["pipe", "pipe", "inherit"],
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n },
    });
    if (result.status !== 0) return { error: `${script} exited with ${result.status}` };
    return JSON.parse(result.stdout) as TorchOutput;
  };
  if (threads.length === 0) return { contenders: [], onnx: run(1, false, dir).onnx ?? {} };
  const contenders: Contender[] = [];
  let onnx: TorchRun["onnx"] = {};
  threads.forEach((count, index) => {
    const output = run(count, true, index === 0 ? dir : undefined);
    const name = `PyTorch ${count}t`;
    if (output.missing || output.error) {
      const [version, note] = output.missing
        ? [`apt-get install python3-torch (${output.missing})`, "not installed"]
        : ["PyTorch", `failed: ${output.error}`];
      contenders.push(missing(ctx, { name, threads: count, version }, note));
      return;
    }
    if (index === 0) onnx = output.onnx ?? {};
    contenders.push({ name, threads: count, version: output.version!, cells: output.cells ?? {} });
  });
  return { contenders, onnx };
}
