// `npm run bench`: netc against PyTorch, onnxruntime, TF.js and ConvNetJS on the workloads of
// shared/design/benchmarks.md, in one run; prints the report and writes bench/results.md.
// `-- --quick` for a check under a minute (bench/results-quick.md), `--only netc,torch` and
// `--workloads mlp,lenet5` to narrow it (bench/results-partial.md).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Contender, Context } from "./contender.js";
import { loadData } from "./data.js";
import { runConvnetjs } from "./peers/convnetjs.js";
import { netcVariants, runNetc } from "./peers/netc.js";
import { runOnnx } from "./peers/onnx.js";
import { runTfjs } from "./peers/tfjs.js";
import { runTorch } from "./peers/torch.js";
import { fullProtocol, quickProtocol } from "./protocol.js";
import { report } from "./report.js";
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

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      workloads: { type: "string" },
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const cpu = cpus();
  const filtered = values.only !== undefined || values.workloads !== undefined;
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
