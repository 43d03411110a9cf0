// netc itself, compiled in this process from the samples: the WASM kernels at 1 and 2 threads and
// the readable TS kernels, each a model at batch 64 and one at batch 1 (for latency).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compile, type Compiled } from "../../compiler/compile.js";
import { createModel } from "../../cli/in-process-model.js";
import type { ModelOptions } from "../../runtime/api-types.js";
import { measureContender, type Context, type Contender } from "../contender.js";
import { BATCH, batchOf, sampleOf } from "../data.js";
import type { WorkloadName } from "../workloads.js";

export interface NetcVariant {
  backend: "wasm" | "ts";
  threads: number;
}

export const netcVariants: NetcVariant[] = [
  { backend: "wasm", threads: 1 },
  { backend: "wasm", threads: 2 },
  { backend: "ts", threads: 1 },
];

export const netcName = (v: NetcVariant) => `netc-${v.backend} ${v.threads}t`;

export async function runNetc(
  ctx: Context,
  root: string,
  variant: NetcVariant,
  version: string,
): Promise<Contender> {
  const compiled = new Map<WorkloadName, Compiled>();
  return measureContender(
    ctx,
    { name: netcName(variant), threads: variant.threads, version },
    (workload) => {
      let program = compiled.get(workload.name);
      if (!program) {
        const result = compile(readFileSync(join(root, workload.sample), "utf8"));
        if (!result.ok) throw new Error(`${workload.sample}: ${result.error}`);
        compiled.set(workload.name, (program = result.compiled));
      }
      const options = (batch: number): ModelOptions => ({
        batch,
        seed: 0,
        backend: variant.backend,
        threads: variant.threads,
        optimizer: { name: "SGD", args: { lr: 0.01, momentum: 0.9 } },
      });
      const model = createModel(program, options(BATCH));
      const single = createModel(program, options(1));
      if (model.backend !== variant.backend)
        throw new Error(`asked for the ${variant.backend} kernels, got ${model.backend}`);
      return {
        train: (i) => {
          const { x, y } = batchOf(ctx.data, i);
          return model.trainStep(x, y);
        },
        infer64: (i) => model.forward(batchOf(ctx.data, i).x),
        infer1: (i) => single.forward(sampleOf(ctx.data, i)),
        // Worker threads must stop, or they keep spinning between steps of the other peers.
        dispose: () => {
          model.dispose();
          single.dispose();
        },
      };
    },
  );
}
