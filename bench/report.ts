// The benchmark report as Markdown: the header (machine, versions, protocol), the targets of
// benchmarks.md with the ratios measured in this run, and one table per workload and metric.
import type { Contender } from "./contender.js";
import type { Cell, Metric, Protocol } from "./protocol.js";
import type { Workload, WorkloadName } from "./workloads.js";

/** GFLOP/s of WebAssembly SIMD128 per core on this machine (benchmarks.md). */
export const WASM_CEILING = 50;

export interface RunInfo {
  date: Date;
  machine: string;
  node: string;
  /** The 1-minute load average at the start and the end: other jobs skew every figure. */
  load: [number, number];
  data: string;
  protocol: Protocol;
  command: string;
}

const units: Record<Metric, string> = {
  train: "training, samples/s at batch 64",
  infer64: "inference, samples/s at batch 64",
  infer1: "inference latency, ms at batch 1",
};

const NETC = ["netc-wasm 1t", "netc-wasm 2t"];

/** Digits without exponents: 58.7k, 556, 1.30, 0.0540. */
function figure(value: number): string {
  if (value >= 1e5) return `${(value / 1e3).toFixed(0)}k`;
  if (value >= 1e3) return `${(value / 1e3).toPrecision(3)}k`;
  return value.toPrecision(3);
}

function ratio(value: number): string {
  return `${value >= 100 ? value.toFixed(0) : value.toPrecision(2)}×`;
}

const valueOf = (cell: Cell | undefined) => (cell && "value" in cell ? cell.value : undefined);

/** How fast, higher is better: latency is inverted so every ratio reads the same way. */
function speed(metric: Metric, cell: Cell | undefined): number | undefined {
  const value = valueOf(cell);
  return value === undefined ? undefined : metric === "infer1" ? 1 / value : value;
}

function gflops(metric: Metric, value: number, workload: Workload): number {
  if (metric === "infer1") return workload.flops / (value / 1e3) / 1e9;
  return (value * workload.flops * (metric === "train" ? 3 : 1)) / 1e9;
}

/** netc's speed over the peer's, from the same run. */
function speedup(
  contenders: Contender[],
  netc: string,
  peer: string,
  workload: WorkloadName,
  metric: Metric,
): number | undefined {
  const cell = (name: string) => contenders.find((c) => c.name === name)?.cells[workload]?.[metric];
  const mine = speed(metric, cell(netc));
  const theirs = speed(metric, cell(peer));
  return mine === undefined || theirs === undefined ? undefined : mine / theirs;
}

interface Target {
  text: string;
  netc: string;
  peer: string;
  workload: WorkloadName;
  metric: Metric;
  min: number;
}

function targets(contenders: Contender[], workloads: Workload[]): Target[] {
  const list: Target[] = [];
  for (const threads of [2, 1])
    for (const [workload, min] of [
      ["lenet5", 1.5],
      ["cnn", 1.0],
      ["mlp", 0.8],
    ] as const) {
      const [netc, peer] = [`netc-wasm ${threads}t`, `PyTorch ${threads}t`];
      const text = `${workload} train: ${netc} ≥ ${min.toFixed(1)}× ${peer}`;
      list.push({ text, netc, peer, workload, metric: "train", min });
    }
  for (const workload of ["lenet5", "mlp"] as const) {
    const text = `${workload} infer1: netc-wasm 1t latency ≤ onnxruntime 1t`;
    list.push({
      text,
      netc: "netc-wasm 1t",
      peer: "onnxruntime 1t",
      workload,
      metric: "infer1",
      min: 1,
    });
  }
  const jsPeers = ["TF.js-wasm 1t", "TF.js-cpu 1t", "ConvNetJS 1t"];
  for (const peer of jsPeers.filter((name) => contenders.some((c) => c.name === name)))
    for (const workload of ["mlp", "lenet5", "cnn"] as const) {
      const text = `${workload} train: netc-wasm 1t ≥ 20× ${peer}`;
      list.push({ text, netc: "netc-wasm 1t", peer, workload, metric: "train", min: 20 });
    }
  return list.filter((t) => workloads.some((w) => w.name === t.workload));
}

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function table(head: string[], align: string[], rows: string[][]): string[] {
  return [row(head), row(align), ...rows.map(row)];
}

/** Every sample's training speed: netc and PyTorch at each thread count, and the ratios. */
export interface SampleResults {
  rows: { name: string; batch: number; optimizer: string; jsSteps: number }[];
  /** By contender ("netc-wasm 1t", "PyTorch 2t"): samples/s by sample, or why none. */
  runs: Record<string, { cells: Record<string, Cell> } | { note: string }>;
}

function samplesSection(results: SampleResults): string[] {
  const cell = (who: string, sample: string): Cell | undefined => {
    const run = results.runs[who];
    return run && "cells" in run ? run.cells[sample] : undefined;
  };
  const shown = (c: Cell | undefined) =>
    c === undefined ? "–" : "note" in c ? c.note : `${c.approx ? "≈" : ""}${figure(c.value)}`;
  const versus = (mine: Cell | undefined, theirs: Cell | undefined) => {
    const [a, b] = [valueOf(mine), valueOf(theirs)];
    return a === undefined || b === undefined ? "–" : ratio(a / b);
  };
  const rows = results.rows.map((r) => {
    const row = [r.name, String(r.batch), r.optimizer, String(r.jsSteps)];
    for (const t of [1, 2]) {
      const [mine, theirs] = [cell(`netc-wasm ${t}t`, r.name), cell(`PyTorch ${t}t`, r.name)];
      row.push(shown(mine), shown(theirs), versus(mine, theirs));
    }
    return row;
  });
  const notes = Object.entries(results.runs).flatMap(([who, run]) =>
    "note" in run ? [`- ${who}: ${run.note}`] : [],
  );
  return [
    "",
    "## Every sample: training, samples/s at the sample's batch and optimizer",
    "",
    "Each sample's `train` block (batch, optimizer) on both sides; PyTorch's model is rebuilt " +
      "from netc's IR (bench/peers/torch_samples.py); random data. JS steps: steps of the WASM " +
      "backend that run their JavaScript kernel.",
    "",
    ...notes,
    ...(notes.length > 0 ? [""] : []),
    ...table(
      [
        "sample",
        "batch",
        "optimizer",
        "JS steps",
        "netc-wasm 1t",
        "PyTorch 1t",
        "1t ×",
        "netc-wasm 2t",
        "PyTorch 2t",
        "2t ×",
      ],
      ["---", "--:", "---", "--:", "--:", "--:", "--:", "--:", "--:", "--:"],
      rows,
    ),
  ];
}

export function report(
  info: RunInfo,
  contenders: Contender[],
  workloads: Workload[],
  samples?: SampleResults,
): string {
  const p = info.protocol;
  const lines = [
    `# netc benchmark${p.quick ? " (quick run)" : ""}`,
    "",
    `\`${info.command}\`, ${info.date.toISOString().slice(0, 16).replace("T", " ")} UTC. ` +
      "Workloads, protocol and targets: shared/design/benchmarks.md. Every figure is from this " +
      "one run, in one process (PyTorch in a child process, one run per thread count).",
    "",
    `- Machine: ${info.machine}; Node ${info.node}; load average ` +
      `${info.load.map((l) => l.toFixed(2)).join(" at the start, ")} at the end`,
    `- Data: ${info.data}`,
    `- Protocol: train and infer64 after ${p.warmup} warm-up calls and ${p.warmupSeconds} s, ` +
      `the median of ${p.reps} ` +
      `repetitions of ≥ ${p.minSteps} calls and ≥ ${p.minSeconds} s (cut at ${p.maxSeconds} s); ` +
      `infer1 the median of ${p.infer1Calls} calls after ${p.infer1Warmup} warm-up calls ` +
      `and ${p.warmupSeconds} s. ` +
      "≈ marks a figure cut short by the time cap.",
    "- GFLOP/s counts 2 per multiply-add of conv and linear layers, a training step 3× the " +
      `forward pass; the ceiling is WebAssembly SIMD's ${WASM_CEILING} GFLOP/s per core times the ` +
      "threads (native code can pass 100%).",
    "- Ratios are netc-wasm's speed over the peer's (for latency, the peer's ms over netc's): " +
      "above 1× netc is faster.",
    "",
    ...contenders.map((c) =>
      c.note
        ? `- ${c.name}: ${c.note}: ${c.version}`
        : `- ${c.name}: ${c.version}, ${c.threads} thread${c.threads > 1 ? "s" : ""}`,
    ),
    "",
    "## Targets",
    "",
    ...table(
      ["target", "measured", "met"],
      ["---", "--:", ":-:"],
      targets(contenders, workloads).map((t) => {
        const measured = speedup(contenders, t.netc, t.peer, t.workload, t.metric);
        if (measured === undefined) {
          const cell = contenders.find((c) => c.name === t.peer)?.cells[t.workload]?.[t.metric];
          return [t.text, cell && "note" in cell ? cell.note : "–", "–"];
        }
        return [t.text, ratio(measured), measured >= t.min ? "yes" : "no"];
      }),
    ),
  ];
  for (const workload of workloads)
    for (const metric of ["train", "infer64", "infer1"] as const) {
      lines.push("", `## ${workload.name}: ${units[metric]}`, "");
      const rows = contenders.map((c) => {
        const cell = c.cells[workload.name]?.[metric];
        const vs = NETC.map((netc) => {
          if (netc === c.name) return "";
          const value = speedup(contenders, netc, c.name, workload.name, metric);
          return value === undefined ? "–" : ratio(value);
        });
        if (!cell || "note" in cell) return [c.name, cell?.note ?? "–", "–", "–", ...vs];
        const rate = gflops(metric, cell.value, workload);
        const percent = `${((100 * rate) / (WASM_CEILING * c.threads)).toFixed(0)}%`;
        return [
          c.name,
          `${cell.approx ? "≈" : ""}${figure(cell.value)}`,
          figure(rate),
          percent,
          ...vs,
        ];
      });
      const head = ["", metric === "infer1" ? "ms" : "samples/s", "GFLOP/s", "of ceiling"];
      lines.push(
        ...table(
          [...head, ...NETC.map((n) => `${n} ×`)],
          ["---", "--:", "--:", "--:", "--:", "--:"],
          rows,
        ),
      );
    }
  if (samples) lines.push(...samplesSection(samples));
  return lines.join("\n") + "\n";
}
