// The samples section of `npm run bench`: every sample model trained by netc and by PyTorch at
// the sample's own batch and optimizer (its `train` block), on the same random data, so that the
// speed of every layer netc has (not only the three workloads') is measured against a peer.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createModel } from "../cli/in-process-model.js";
import { compile, type Compiled } from "../compiler/compile.js";
import { defaultOptimizer } from "../runtime/optimizers.js";
import { Rng } from "../runtime/rng.js";
import type { Context } from "./contender.js";
import { netcName, type NetcVariant } from "./peers/netc.js";
import { throughput, type Cell } from "./protocol.js";

const PYTHON = process.env["BENCH_PYTHON"] ?? "/usr/bin/python3";
/** Batches of random data each side cycles through. */
const BATCHES = 4;

export interface Sample {
  /** The file name in samples/. */
  name: string;
  compiled: Compiled;
  batch: number;
  /** Steps that run their JS kernel on the WASM backend. */
  jsSteps: number;
}

export function loadSamples(root: string, only?: readonly string[]): Sample[] {
  const dir = join(root, "samples");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".net") && (!only || only.includes(f.replace(/\.net$/, ""))))
    .sort()
    .map((name) => {
      const result = compile(readFileSync(join(dir, name), "utf8"));
      if (!result.ok) throw new Error(`samples/${name}: ${result.error}`);
      const { compiled } = result;
      return {
        name,
        compiled,
        batch: compiled.layout.train.batch ?? 64,
        jsSteps: compiled.wasm.fallback.length,
      };
    });
}

/** Training samples/s of netc on each sample, with the sample's optimizer and batch. */
export async function netcSamples(
  ctx: Context,
  samples: Sample[],
  variant: NetcVariant,
): Promise<Record<string, Cell>> {
  const cells: Record<string, Cell> = {};
  for (const s of samples) {
    const model = createModel(s.compiled, {
      batch: s.batch,
      seed: 0,
      backend: variant.backend,
      threads: variant.threads,
    });
    try {
      const rng = new Rng(1);
      const { layout } = s.compiled;
      const batches = Array.from({ length: BATCHES }, () => ({
        x: Object.fromEntries(layout.inputs.map((t) => [t.name, uniform(rng, s.batch, t.shape)])),
        y: Object.fromEntries(
          layout.targets.map((t) => [t.name, values(rng, s.batch, t.shape, t.classes)]),
        ),
      }));
      const step = (i: number) => {
        const { x, y } = batches[i % BATCHES]!;
        return model.trainStep(x, y);
      };
      const { perSecond, approx } = await throughput(step, ctx.protocol);
      const value = s.batch * perSecond;
      cells[s.name] = { value, approx };
      console.error(`${netcName(variant)} ${s.name} train: ${value.toPrecision(4)}`);
    } finally {
      model.dispose();
    }
  }
  return cells;
}

const count = (batch: number, shape: number[]) => batch * shape.reduce((a, b) => a * b, 1);

/** Random values in [0, 1) for `batch` samples. */
const uniform = (rng: Rng, batch: number, shape: number[]) =>
  Float32Array.from({ length: count(batch, shape) }, () => rng.next());

/** Random values, or class indices below `classes`, for `batch` samples. */
const values = (rng: Rng, batch: number, shape: number[], classes: number | undefined) =>
  classes === undefined
    ? uniform(rng, batch, shape)
    : Int32Array.from({ length: count(batch, shape) }, () => rng.int(classes));

/** What torch_samples.py rebuilds a sample's model from: netc's IR, as plain data. */
function torchModel(s: Sample) {
  const { model, layout } = s.compiled;
  return {
    sample: s.name,
    batch: s.batch,
    optimizer: layout.train.optimizer ?? defaultOptimizer,
    inputs: model.inputs.map((i) => ({
      name: i.name,
      node: i.node,
      shape: model.nodes.find((n) => n.id === i.node)!.shape,
    })),
    nodes: model.nodes.map((n) => ({
      id: n.id,
      op: n.op,
      name: n.name,
      inputs: n.inputs,
      shape: n.shape,
      attrs: n.attrs,
    })),
    outputs: model.outputs,
    criterion: model.criterion.map((t) => ({
      ...t,
      classes: t.targetKind === "classes" ? model.nodes.find((n) => n.id === t.node)!.shape[0] : 0,
    })),
  };
}

/** PyTorch at `threads` on every sample, or why it could not run. */
export function torchSamples(
  ctx: Context,
  root: string,
  samples: Sample[],
  threads: number,
): { cells: Record<string, Cell> } | { note: string } {
  const script = join(root, "bench", "peers", "torch_samples.py");
  const { maxStepSeconds } = ctx.protocol;
  const config = {
    threads,
    protocol: {
      ...ctx.protocol,
      maxStepSeconds: Number.isFinite(maxStepSeconds) ? maxStepSeconds : null,
    },
    samples: samples.map(torchModel),
  };
  const n = String(threads);
  const result = spawnSync(PYTHON, [script], {
    input: JSON.stringify(config),
    stdio: ["pipe", "pipe", "inherit"],
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n },
  });
  if (result.error || result.status !== 0) return { note: `failed: ${script} (${result.status})` };
  const output = JSON.parse(result.stdout) as {
    missing?: string;
    version?: string;
    cells?: Record<string, Cell>;
  };
  if (output.missing) return { note: `not installed (${output.missing})` };
  return { cells: output.cells! };
}
