// `npm run bench`: netc against PyTorch, onnxruntime, TF.js and ConvNetJS on the workloads of
// shared/design/benchmarks.md, then every sample's training against PyTorch's, in one run; prints
// the report and writes bench/results.md. `-- --quick` for a check in about a minute
// (bench/results-quick.md); `--only netc,torch`, `--workloads mlp,lenet5` and
// `--samples lenet5,tiny-unet` to narrow it (bench/results-partial.md).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Contender, Context } from "./contender.js";
import { loadData } from "./data.js";
import { runConvnetjs } from "./peers/convnetjs.js";
import { netcName, netcVariants, runNetc } from "./peers/netc.js";
import { runOnnx } from "./peers/onnx.js";
import { runTfjs } from "./peers/tfjs.js";
import { runTorch } from "./peers/torch.js";
import { fullProtocol, quickProtocol } from "./protocol.js";
import { formatOptimizer } from "../cli/training-report.js";
import { defaultOptimizer, optimizerSettings } from "../runtime/optimizers.js";
import type { OptimizerConfig } from "../runtime/api-types.js";
import { report, type SampleResults } from "./report.js";
import { loadSamples, netcSamples, torchSamples } from "./samples.js";
import { forwardFlops, workloads } from "./workloads.js";

const PEERS = ["netc", "torch", "onnx", "tfjs", "convnetjs"] as const;
type Peer = (typeof PEERS)[number];

/** The repository: from dist/bench when built, from bench/ under a TS runner. */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir))
    if (existsSync(join(dir, "bench", "peers", "torch_bench.py"))) return dir;
  throw new Error("cannot find the repository (bench/peers/torch_bench.py) above this script");
}

function list<T extends string>(flag: string, value: string | undefined, all: readonly T[]): T[] {
  if (value === undefined) return [...all];
  const names = value.split(",").map((name) => name.trim());
  const unknown = names.filter((name) => !all.includes(name as T));
  if (unknown.length > 0) {
    console.error(`bench: unknown ${flag} ${unknown.join(", ")}; expected ${all.join(", ")}`);
    process.exit(2);
  }
  return names as T[];
}

function netcVersion(root: string): string {
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    version: string;
  };
  try {
    const commit = execFileSync("git", ["-C", root, "describe", "--always", "--dirty"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return `netc ${version} (${commit.trim()})`;
  } catch {
    return `netc ${version}`;
  }
}

/**
 * Every sample trained by netc (WASM, 1 and 2 threads) and PyTorch (1 and 2 threads), PyTorch
 * first for the same reason as above.
 */
const describeOptimizer = (o: OptimizerConfig) => formatOptimizer(o, optimizerSettings(o).lr);

async function benchSamples(
  ctx: Context,
  root: string,
  peers: readonly Peer[],
  only: string | undefined,
): Promise<SampleResults> {
  const samples = loadSamples(
    root,
    only?.split(",").map((s) => s.trim()),
  );
  const runs: SampleResults["runs"] = {};
  if (peers.includes("torch"))
    for (const threads of [1, 2])
      runs[`PyTorch ${threads}t`] = torchSamples(ctx, root, samples, threads);
  for (const variant of netcVariants.filter((v) => v.backend === "wasm"))
    runs[netcName(variant)] = { cells: await netcSamples(ctx, samples, variant) };
  return {
    rows: samples.map((s) => ({
      name: s.name,
      batch: s.batch,
      optimizer: describeOptimizer(s.compiled.layout.train.optimizer ?? defaultOptimizer),
      jsSteps: s.jsSteps,
    })),
    runs,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      workloads: { type: "string" },
      samples: { type: "string" },
    },
  });
  const peers = list<Peer>("--only", values.only, PEERS);
  const names = list(
    "--workloads",
    values.workloads,
    workloads.map((w) => w.name),
  );
  const chosen = workloads.filter((w) => names.includes(w.name));
  for (const w of chosen)
    if (forwardFlops(w) !== w.flops)
      throw new Error(`${w.name}: the layers do not add up to ${w.flops} FLOPs`);
  const root = repositoryRoot();
  const protocol = values.quick ? quickProtocol : fullProtocol;
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  const data = loadData();
  const ctx: Context = {
    data,
    workloads: chosen,
    protocol,
    progress(contender, workload, metric, cell) {
      const shown =
        "value" in cell ? `${cell.approx ? "≈" : ""}${cell.value.toPrecision(4)}` : cell.note;
      console.error(`${contender} ${workload} ${metric}: ${shown}`);
    },
  };

  const contenders: Contender[] = [];
  let sampleResults: SampleResults | undefined;
  const dir = mkdtempSync(join(tmpdir(), "netc-bench-"));
  try {
    // PyTorch first, while no netc worker threads exist to compete with its threads.
    const torch =
      peers.includes("torch") || peers.includes("onnx")
        ? runTorch(ctx, root, dir, peers.includes("torch") ? [1, 2] : [])
        : undefined;
    if (peers.includes("netc"))
      for (const variant of netcVariants)
        contenders.push(await runNetc(ctx, root, variant, netcVersion(root)));
    if (torch) contenders.push(...torch.contenders);
    if (peers.includes("onnx")) contenders.push(await runOnnx(ctx, torch?.onnx ?? {}));
    if (peers.includes("tfjs")) contenders.push(...(await runTfjs(ctx, root)));
    if (peers.includes("convnetjs")) contenders.push(await runConvnetjs(ctx));
    if (peers.includes("netc"))
      sampleResults = await benchSamples(ctx, root, peers, values.samples);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const cpu = cpus();
  const filtered =
    values.only !== undefined || values.workloads !== undefined || values.samples !== undefined;
  const file = protocol.quick ? "results-quick.md" : filtered ? "results-partial.md" : "results.md";
  const out = join(root, "bench", file);
  const markdown = report(
    {
      date: new Date(),
      machine: `${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length} (${platform()} ${release()})`,
      node: process.version,
      load: [loadAtStart, loadavg()[0]!],
      data: data.description,
      protocol,
      command: [
        "npm run bench",
        ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : []),
      ].join(" "),
    },
    contenders,
    chosen,
    sampleResults,
  );
  // The report is committed, so it is written as Prettier formats it (`npm test` checks that).
  const prettier = await import("prettier");
  const options = (await prettier.resolveConfig(out)) ?? {};
  const formatted = await prettier.format(markdown, { ...options, parser: "markdown" });
  console.log(formatted);
  writeFileSync(out, formatted);
  const seconds = ((performance.now() - started) / 1e3).toFixed(0);
  console.error(`bench: wrote ${join("bench", file)} in ${seconds} s`);
}

await main();
