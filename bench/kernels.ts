// Benchmark: GFLOP/s per kernel shape against the ceiling (`--quick` for a short run).
// Each WASM step of the sample models alone at batch 64, then a plain GEMM through outerProduct.
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { compile, type Compiled } from "../compiler/compile.js";
import type { Step } from "../compiler/lower/program.js";
import { FuncBuilder, i32 } from "../compiler/backends/wasm/builder.js";
import { encodeModule } from "../compiler/backends/wasm/encoder.js";
import { outerProduct } from "../compiler/backends/wasm/tiles.js";
import { createModel, kernelFactory } from "../cli/in-process-model.js";
import { dropoutDraws, DropoutSeeds } from "../runtime/dropout.js";
import { Rng } from "../runtime/rng.js";
import type {} from "../runtime/webassembly.js";

const CEILING = 50; // GFLOP/s per core for WASM SIMD (docs/wasm-backend.md)
const BATCH = 64;
const PAGE = 65536;
// As runtime/wasm.ts: bytes past the scratch that the last vector reads may touch.
const SLACK = 64;
const quick = process.argv.includes("--quick");
const repMs = quick ? 30 : 150;
// V8 runs a module in Liftoff first and tiers a function up once it has used its budget.
const WARM_MS = 200;

/** Best ms per call over 3 repetitions of ≥ repMs each, after `warmMs` of calls. */
function msPerCall(fn: () => void, warmMs: number): number {
  for (const start = performance.now(); performance.now() - start < warmMs;) fn();
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < repMs) {
      fn();
      calls++;
      now = performance.now();
    }
    best = Math.min(best, (now - start) / calls);
  }
  return best;
}

const gflops = (flop: number, ms: number): number => flop / 1e6 / ms;
const percent = (g: number): string => `${((100 * g) / CEILING).toFixed(0)}%`;
// Three significant digits: the loss steps take a few hundred nanoseconds.
const millis = (ms: number): string => (ms >= 1 ? ms.toFixed(3) : ms.toPrecision(3));

/** Prints rows as a markdown table, numeric columns right-aligned. */
function table(head: string[], rows: string[][], right: boolean[]): void {
  const widths = head.map((h, c) => Math.max(h.length, 3, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((s, c) => (right[c] ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join(" | ")} |`;
  console.log(line(head));
  console.log(
    `| ${widths.map((w, c) => (right[c] ? "-".repeat(w - 1) + ":" : "-".repeat(w))).join(" | ")} |`,
  );
  for (const r of rows) console.log(line(r));
  console.log();
}

/** Useful FLOPs of a GEMM-shaped step (what the layer computes, not the kernel's padding). */
function usefulFlops(step: Step): { flop: number; shape: string } | undefined {
  switch (step.kernel) {
    case "conv2d":
    case "conv2d_grad_input":
    case "conv2d_grad_weight": {
      const a = step.attrs;
      return {
        flop: 2 * BATCH * a.K * a.C * a.KH * a.KW * a.OH * a.OW,
        shape: `${a.C}→${a.K} ${a.KH}×${a.KW} → ${a.OH}×${a.OW}`,
      };
    }
    case "linear":
    case "linear_grad_input":
    case "linear_grad_weight":
      return {
        flop: 2 * BATCH * step.attrs.I * step.attrs.O,
        shape: `${step.attrs.I}→${step.attrs.O}`,
      };
    default:
      return undefined;
  }
}

/**
 * Times every step of a model on its own instance of the model's module, with memory laid out
 * as runtime/wasm.ts `wasmArena` does (one thread). Steps without WASM code run their JS kernel
 * on the same arena. Also times the model's whole training pass for comparison.
 */
function modelSteps(name: string): string[][] {
  const text = readFileSync(new URL(`../../samples/${name}`, import.meta.url), "utf8");
  const result = compile(text, { source: name });
  if (!result.ok) throw new Error(`${name}: ${result.error}`);
  const compiled: Compiled = result.compiled;
  const { layout, program, wasm } = compiled;

  // The real model, as `netc train` runs it: its pass is the sum the steps below should add to.
  const model = createModel(compiled, { batch: BATCH, backend: "wasm", threads: 1 });
  const per = (shape: number[]) => shape.reduce((x, y) => x * y, 1);
  const input = Float32Array.from({ length: BATCH * per(layout.inputs[0]!.shape) }, () =>
    Math.random(),
  );
  const target = targetsFor(layout.targets[0]!, BATCH);
  const passMs = msPerCall(() => model.lossAndGrad(input, target), 2 * WARM_MS);
  model.dispose();

  const length = layout.fixedSize + BATCH * layout.perSampleSize;
  const arenaEnd = Math.ceil((wasm.arenaBase + length * 4) / 16) * 16;
  const pages = Math.ceil((arenaEnd + wasm.scratchBytes + SLACK) / PAGE);
  const mem = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const f = new Float32Array(mem.buffer, wasm.arenaBase, length);
  const iv = new Int32Array(mem.buffer, wasm.arenaBase, length);
  for (let i = 0; i < length; i++) f[i] = (Math.random() - 0.5) * 0.2;
  for (const t of layout.targets) {
    if (t.dtype !== "i32") continue;
    const start = t.offset.fixed + BATCH * t.offset.perSample;
    iv.set(targetsFor(t, BATCH) as Int32Array, start);
  }
  const env: Record<string, WebAssembly.Memory | Function> = { mem };
  for (const i of wasm.fallback) env[`js${i}`] = () => {};
  const module = new WebAssembly.Module(wasm.bytes);
  const exports = new WebAssembly.Instance(module, { env }).exports as Record<
    string,
    (N: number, count: number, thread: number, threads: number) => void
  >;
  const draws = dropoutDraws(new DropoutSeeds(new Rng(0).fork("dropout")));
  const js = kernelFactory(compiled)(f, iv, BATCH, draws);
  js.mode(true, BATCH);

  const rows: string[][] = [];
  let total = 0;
  [...program.forward, ...program.loss, ...program.backward].forEach((step, i) => {
    const fallback = wasm.fallback.includes(i);
    const run = fallback ? js.steps[i]! : () => exports[`s${i}`]!(BATCH, BATCH, 0, 1);
    const ms = msPerCall(run, WARM_MS);
    total += ms;
    const work = usefulFlops(step);
    const g = work ? gflops(work.flop, ms) : undefined;
    rows.push([
      name.replace(".net", ""),
      `s${i} ${step.kernel}${fallback ? " (JS)" : ""}`,
      work?.shape ?? "",
      millis(ms),
      g === undefined ? "" : g.toFixed(1),
      g === undefined ? "" : percent(g),
    ]);
  });
  rows.push([
    name.replace(".net", ""),
    "**all steps** (model.lossAndGrad)",
    "",
    `${total.toFixed(2)} (${passMs.toFixed(2)})`,
    "",
    "",
  ]);
  return rows;
}

/** Valid class indices for a class target, else small values. */
function targetsFor(
  t: { shape: number[]; dtype: "f32" | "i32"; classes?: number },
  N: number,
): Int32Array | Float32Array {
  const n = N * t.shape.reduce((x, y) => x * y, 1);
  if (t.dtype === "i32")
    return Int32Array.from({ length: n }, () => Math.floor(Math.random() * (t.classes ?? 1)));
  return Float32Array.from({ length: n }, () => Math.random());
}

/** The baseline: a plain i-k-j triple loop on row-major Float32Arrays. */
function scalarGemm(
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  M: number,
  N: number,
  K: number,
) {
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) {
      const a = A[i * K + k]!;
      for (let j = 0; j < N; j++) C[i * N + j]! += a * B[k * N + j]!;
    }
}

/**
 * C = A·B on row-major operands through `outerProduct`, checked on a few entries; with `pack`,
 * each column panel of B copied to L1 first (what the kernels do where 8+ row tiles share it).
 */
function plainGemm(M: number, K: number, N: number, pack: boolean): number {
  const flop = 2 * M * N * K;
  const align = (floats: number) => Math.ceil(floats / 4) * 4;
  const [a0, b0] = [0, align(M * K)];
  const c0 = b0 + align(K * N) + 16; // a tail tile reads up to 3 floats past B's last row
  const p0 = align(c0 + M * N);
  const pages = Math.ceil(((p0 + K * 8) * 4 + SLACK) / PAGE);
  const fb = new FuncBuilder("gemm", []);
  const body = outerProduct(fb, {
    M,
    cols: N,
    K,
    a: { base: i32(a0 * 4), row: K * 4, k: 4 },
    b: { base: i32(b0 * 4), k: N * 4 },
    c: { base: i32(c0 * 4), row: N * 4, mode: "set", padded: false },
    ...(pack ? { pack: i32(p0 * 4) } : {}),
  });
  const bytes = encodeModule({ minPages: pages, functions: [fb.build(body)] });
  const mem = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const f = new Float32Array(mem.buffer);
  const A = f.subarray(a0, a0 + M * K);
  const B = f.subarray(b0, b0 + K * N);
  const C = f.subarray(c0, c0 + M * N);
  for (const x of [A, B]) for (let i = 0; i < x.length; i++) x[i] = Math.random() - 0.5;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
  const gemm = instance.exports["gemm"] as () => void;
  gemm();
  for (let probe = 0; probe < 16; probe++) {
    const [i, j] = [Math.floor(Math.random() * M), Math.floor(Math.random() * N)];
    let sum = 0;
    let scale = 0;
    for (let k = 0; k < K; k++) {
      sum += A[i * K + k]! * B[k * N + j]!;
      scale += Math.abs(A[i * K + k]! * B[k * N + j]!);
    }
    if (!(Math.abs(C[i * N + j]! - sum) <= (K + 2) * 2 ** -23 * scale))
      throw new Error(`GEMM ${M}×${K}×${N}: C[${i}, ${j}] = ${C[i * N + j]}, expected ${sum}`);
  }
  return gflops(flop, msPerCall(gemm, quick ? 100 : 300));
}

/** The scalar JS triple loop on the same shape (seconds on 1024³: only the smaller shapes). */
function scalarGflops(M: number, K: number, N: number): number | undefined {
  const flop = 2 * M * N * K;
  if (flop >= 1e9) return undefined;
  const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
  const [A, B, C] = [random(M * K), random(K * N), new Float32Array(M * N)];
  return gflops(
    flop,
    msPerCall(() => scalarGemm(A, B, C, M, N, K), 0),
  );
}

const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(", ");
console.log(
  `# WASM SIMD kernels, 1 thread, batch ${BATCH}, Node ${process.version}${quick ? " (quick)" : ""}; load average ${load}\n`,
);
console.log(
  `Each step alone after ≥ ${WARM_MS} ms of calls; best of 3 reps of ≥ ${repMs} ms. % of the ${CEILING} GFLOP/s per-core ceiling. The last row per model: the steps' sum (the model's own pass).\n`,
);
table(
  ["model", "step", "shape", "ms/call", "GFLOP/s", "of ceiling"],
  ["mlp.net", "lenet5.net", "cnn.net"].flatMap(modelSteps),
  [false, false, false, true, true, true],
);

const shapes: [string, number, number, number][] = [
  ["lenet conv2", 16, 150, 6400],
  ["cnn conv2", 64, 288, 12544],
  ["mlp fc1", 256, 784, 64],
  ["odd tails", 33, 97, 1003],
  ["square 1024³", 1024, 1024, 1024],
];
console.log("Plain GEMM C = A·B through `outerProduct`, row-major operands:\n");
table(
  ["shape", "(M, K, N)", "GFLOP/s", "packed B", "of ceiling (packed)", "scalar JS", "speed-up"],
  shapes.map(([label, M, K, N]) => {
    const [plain, packed] = [plainGemm(M, K, N, false), plainGemm(M, K, N, true)];
    const scalar = scalarGflops(M, K, N);
    return [
      label,
      `(${M}, ${K}, ${N})`,
      plain.toFixed(1),
      packed.toFixed(1),
      percent(packed),
      scalar === undefined ? "–" : scalar.toFixed(2),
      scalar === undefined ? "–" : `${(packed / scalar).toFixed(0)}×`,
    ];
  }),
  [false, false, true, true, true, true, true],
);
