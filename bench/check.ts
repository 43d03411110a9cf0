// Benchmark: parse + check time for lenet5 and a generated 1,000-layer stack, after warm-up.
import { readFileSync } from "node:fs";
import { check } from "../compiler/index.js";
import { generatedStack } from "./generated-stack.js";

function measure(name: string, text: string, target: number): void {
  const result = check(text);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0)
    throw new Error(`${name}: expected a clean check, got ${errors[0]!.message}`);
  const layers = result.models[0]!.nodes.length - 1;
  for (let i = 0; i < 20; i++) check(text); // warm-up: JIT and chevrotain's lookahead caches
  const times: number[] = [];
  const deadline = performance.now() + 2000;
  while (times.length < 30 || (performance.now() < deadline && times.length < 1000)) {
    const start = performance.now();
    check(text);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1]!;
  const p90 = times[Math.floor(times.length * 0.9)]!;
  const verdict = median <= target ? "meets" : "MISSES";
  console.log(
    `${name.padEnd(22)} ${String(layers).padStart(5)} layers  median ${median.toFixed(3)} ms  p90 ${p90.toFixed(3)} ms  (${times.length} runs; target < ${target} ms: ${verdict})`,
  );
}

const lenet = readFileSync(new URL("../../samples/lenet5.net", import.meta.url), "utf8");
console.log(`netc parse+check, Node ${process.version}`);
measure("lenet5.net", lenet, 2);
measure("generated 1,000 layers", generatedStack(1000), 50);
