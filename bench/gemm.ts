// Benchmark: GFLOP/s of the packed WASM SIMD GEMM kernel per workload shape, after warm-up,
// against the ~50 GFLOP/s per-core ceiling and a scalar JS loop. `--quick` for a short run.
import { createGemm } from "../compiler/wasm/gemm.js";

const CEILING = 50; // GFLOP/s per core for WASM SIMD (docs/wasm-backend.md)
const quick = process.argv.includes("--quick");
const repMs = quick ? 30 : 150;

/** Best ms per call over 3 repetitions of ≥ repMs each, after `warmMs` of calls (V8 tier-up). */
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

function random(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.random() - 0.5);
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

const shapes: [string, number, number, number][] = [
  ["lenet conv2", 16, 150, 100 * 64],
  ["cnn conv2", 64, 288, 196 * 64],
  ["mlp fc1", 256, 784, 64],
  ["odd tails", 33, 97, 1003],
  ...(quick ? [] : [["square 1024³", 1024, 1024, 1024] as [string, number, number, number]]),
];

console.log(`WASM SIMD GEMM 4×8, 1 thread, Node ${process.version}${quick ? " (quick)" : ""}`);
console.log("shape (M, K, N)                    wasm GFLOP/s  of ceiling  scalar JS  speed-up");
for (const [label, M, K, N] of shapes) {
  const gflop = (2 * M * N * K) / 1e9;
  const A = random(M * K);
  const B = random(K * N);
  const C = new Float32Array(M * N);
  const kernel = createGemm(M, N, K);
  kernel.multiply(A, B, C);
  const wasm = gflop / (msPerCall(kernel.run, quick ? 100 : 300) / 1e3);
  // The scalar loop takes seconds on 1024³, so it is only timed on the workload shapes.
  const scalar = gflop < 1 ? gflop / (msPerCall(() => scalarGemm(A, B, C, M, N, K), 0) / 1e3) : NaN;
  const cells = [
    `${label} (${M}, ${K}, ${N})`.padEnd(34),
    wasm.toFixed(1).padStart(12),
    `${((100 * wasm) / CEILING).toFixed(0)}%`.padStart(11),
    (Number.isNaN(scalar) ? "–" : scalar.toFixed(2)).padStart(10),
    (Number.isNaN(scalar) ? "–" : `${(wasm / scalar).toFixed(0)}×`).padStart(9),
  ];
  console.log(cells.join(" "));
}
