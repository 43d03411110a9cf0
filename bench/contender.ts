// One contender's results (a netc backend or a peer at a thread count) and the loop every JS peer
// shares: build a runner per workload, measure its three metrics, release it.
import { BATCH, type BenchData } from "./data.js";
import {
  measure,
  metrics,
  type Cell,
  type Metric,
  type Protocol,
  type Runner,
} from "./protocol.js";
import type { Workload, WorkloadName } from "./workloads.js";

export interface Contender {
  name: string;
  threads: number;
  /** What ran, with its version: "TF.js 4.22.0 wasm (SIMD)". */
  version: string;
  /** Absent workloads were filtered out or the whole contender could not run (`note`). */
  cells: Partial<Record<WorkloadName, Record<Metric, Cell>>>;
  /** Why nothing was measured: "not installed". */
  note?: string;
}

export interface Context {
  data: BenchData;
  workloads: Workload[];
  protocol: Protocol;
  /** One line per figure on stderr, so a long run shows where it is. */
  progress(contender: string, workload: WorkloadName, metric: Metric, cell: Cell): void;
}

/** A runner and what releases it: worker threads or native sessions must not outlive it. */
export type Built = Runner & { dispose?: () => unknown };

export async function measureContender(
  ctx: Context,
  contender: Omit<Contender, "cells">,
  build: (workload: Workload) => Built | Promise<Built>,
): Promise<Contender> {
  const cells: Contender["cells"] = {};
  for (const workload of ctx.workloads) {
    let built: Built;
    try {
      built = await build(workload);
    } catch (error) {
      const note = `failed: ${error instanceof Error ? error.message : String(error)}`;
      cells[workload.name] = { train: { note }, infer64: { note }, infer1: { note } };
      for (const metric of metrics) ctx.progress(contender.name, workload.name, metric, { note });
      continue;
    }
    try {
      cells[workload.name] = await measure(built, ctx.protocol, BATCH, (metric, cell) =>
        ctx.progress(contender.name, workload.name, metric, cell),
      );
    } finally {
      await built.dispose?.();
    }
  }
  return { ...contender, cells };
}

/** The same contender, unmeasured: a peer that is not installed. */
export function missing(ctx: Context, contender: Omit<Contender, "cells" | "note">, note: string) {
  const cells: Contender["cells"] = {};
  for (const { name } of ctx.workloads)
    cells[name] = { train: { note }, infer64: { note }, infer1: { note } };
  return { ...contender, cells, note };
}
