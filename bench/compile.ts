// Benchmark: how compile time grows with the layers (issue 11: 10k ReLU layers took 6 s and
// 20k took 33 s), and what a syntax error costs against a line without one.
import { check, compile } from "../compiler/index.js";
import { formatCount } from "../compiler/units.js";
import { parse } from "../grammar/index.js";

const stack = (layers: number) =>
  `model Deep {\n  input x: [10]\n${"  ReLU\n".repeat(layers)}}\ncriterion MSE\n`;

/** Wall and CPU seconds of `run`; the CPU time includes the collector's other threads. */
function timed(run: () => void): { wall: number; cpu: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  run();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6 };
}

console.log(`netc compile (WASM and TS kernels, the module), Node ${process.version}`);
compile(stack(500)); // warm-up
const sizes = process.argv.slice(2).map(Number);
for (const layers of sizes.length > 0 ? sizes : [1000, 5000, 10_000, 20_000, 50_000]) {
  const text = stack(layers);
  const checked = timed(() => {
    if (check(text).diagnostics.length > 0) throw new Error("expected a clean check");
  });
  const compiled = timed(() => {
    if (!compile(text).ok) throw new Error("expected a compiled model");
  });
  console.log(
    `${String(layers).padStart(6)} layers  check ${checked.wall.toFixed(2)} s  compile ${compiled.wall.toFixed(2)} s wall, ${compiled.cpu.toFixed(2)} s CPU  (${((compiled.wall / layers) * 1e6).toFixed(0)} µs a layer)`,
  );
}

const lines = 32_000;
const clean = timed(() => parse(`model M {\n  input x: [10]\n${"  Linear(1)\n".repeat(lines)}}\n`));
const broken = timed(() =>
  parse(`model M {\n  input x: [10]\n${"  Linear(,)\n".repeat(lines)}}\n`),
);
console.log(
  `parse of ${formatCount(lines)} lines: ${clean.wall.toFixed(2)} s clean, ${broken.wall.toFixed(2)} s with a syntax error on each (${(((broken.wall - clean.wall) / lines) * 1e6).toFixed(1)} µs an error)`,
);
