// exp and log of the WASM kernels (compiler/backends/wasm/math.ts) against Math.exp and Math.log rounded
// to float32: within 2 ulp over their ranges, with NaN, underflow and overflow as Math's.
import { expect, test } from "vitest";
import {
  FuncBuilder,
  get,
  i32,
  SCALAR,
  VECTOR,
  type Lanes,
} from "../compiler/backends/wasm/builder.js";
import { encodeModule, type Expr } from "../compiler/backends/wasm/encoder.js";
import { expInto, logInto } from "../compiler/backends/wasm/math.js";

/** f(x) for every x of `xs`, through a module applying `into` to each float (or f32x4) in memory. */
function run(
  into: (fb: FuncBuilder, x: Expr, out: number) => Expr[],
  xs: number[],
  L: Lanes = SCALAR,
): Float32Array {
  const fb = new FuncBuilder("run", ["i32"]);
  const [p] = fb.locals("i32", 1);
  const [out] = fb.locals(L.type, 1);
  // Whole vectors: the input padded with ones.
  const bytes = Math.ceil(xs.length / 4) * 16;
  const body = fb.loop(p, i32(0), get(0), L === SCALAR ? 4 : 16, [
    ...into(fb, L.load(get(p), 0), out),
    L.store(get(p), get(out), bytes),
  ]);
  const pages = Math.ceil((2 * bytes) / 65536) + 1;
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const module = new WebAssembly.Module(
    encodeModule({ minPages: pages, functions: [fb.build(body)] }),
  );
  const exports = new WebAssembly.Instance(module, { env: { mem: memory } }).exports;
  new Float32Array(memory.buffer, 0, bytes / 4).fill(1).set(xs);
  (exports["run"] as (n: number) => void)(bytes);
  return new Float32Array(memory.buffer, bytes, xs.length);
}

/** Distance in units in the last place of float32 (0 when both are the same float). */
function ulps(a: number, b: number): number {
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  return Math.abs(bits[0]! - bits[1]!);
}

const worst = (xs: number[], ys: Float32Array, f: (x: number) => number) =>
  Math.max(...xs.map((x, i) => ulps(ys[i]!, Math.fround(f(x)))));

test("exp is within 2 ulp from −87 to 88.7, 0 below, ∞ above, NaN for NaN", () => {
  const xs = Array.from({ length: 20001 }, (_, i) => Math.fround(-87 + (175.7 * i) / 20000));
  expect(worst(xs, run(expInto, xs), Math.exp)).toBeLessThanOrEqual(2);
  const edges = run(expInto, [0, -100, -1e30, 100, Infinity, -Infinity, NaN]);
  expect([...edges]).toEqual([1, 0, 0, Infinity, Infinity, 0, NaN]);
});

test("log is within 2 ulp from 1e-30 to 1e30, on both sides of √½ and 1", () => {
  const xs = Array.from({ length: 20001 }, (_, i) =>
    Math.fround(Math.exp(-69 + (138 * i) / 20000)),
  );
  xs.push(1, Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2 * 1.0000001), 2, 0.5);
  expect(worst(xs, run(logInto, xs), Math.log)).toBeLessThanOrEqual(2);
  expect(run(logInto, [1])[0]).toBe(0);
});

test("log on f32x4 gives each lane the bits of the scalar log", () => {
  const xs = Array.from({ length: 4003 }, (_, i) => Math.fround(Math.exp(-87 + (175 * i) / 4002)));
  const vector = run((fb, x, out) => logInto(fb, x, out, VECTOR), xs, VECTOR);
  expect(vector).toEqual(run(logInto, xs));
});
