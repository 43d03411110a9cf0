// The WASM kernels' elementary functions (compiler/backends/wasm/math.ts), scalar and f32x4,
// against Math's rounded to float32: within a few ulp over their ranges, with NaN, infinities,
// underflow and overflow as Math's; erf against the double one of ops.ts; and every activation row
// at NaN as PyTorch.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  FuncBuilder,
  get,
  i32,
  loadF,
  loadV,
  SCALAR,
  storeF,
  storeV,
  VECTOR,
  type Lanes,
} from "../compiler/backends/wasm/builder.js";
import { encodeModule, type Expr } from "../compiler/backends/wasm/encoder.js";
import { erf, exp, expm1, log, log1p, tanh } from "../compiler/backends/wasm/math.js";
import { wasmActivation } from "../compiler/backends/wasm/kernels/activations.js";
import { compile } from "../compiler/compile.js";
import {
  activationRow,
  erf as erf64,
  evaluate,
  type Activation,
  type OpAttrs,
} from "../compiler/ops.js";

type Fn = (fb: FuncBuilder, L: Lanes, x: Expr) => Expr;

/** f(x) for every x of `xs`, through a module applying f to each float (or four) in memory. */
function run(f: Fn, L: Lanes, xs: number[]): Float32Array {
  const fb = new FuncBuilder("run", ["i32"]);
  const [p] = fb.locals("i32", 1);
  const n = Math.ceil(xs.length / 4) * 4;
  const bytes = n * 4;
  const vector = L === VECTOR;
  const body = fb.loop(p, i32(0), get(0), vector ? 16 : 4, [
    vector
      ? storeV(get(p), f(fb, L, loadV(get(p))), bytes)
      : storeF(get(p), f(fb, L, loadF(get(p))), bytes),
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
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  const bits = new Int32Array(new Float32Array([a, b]).buffer);
  // Floats of opposite signs: count through zero.
  const ordered = (v: number) => (v < 0 ? -(v & 0x7fffffff) : v);
  return Math.abs(ordered(bits[0]!) - ordered(bits[1]!));
}

const worst = (xs: number[], ys: Float32Array, f: (x: number) => number) =>
  Math.max(...xs.map((x, i) => ulps(ys[i]!, Math.fround(f(x)))));

const sweep = (from: number, to: number, count = 20001) =>
  Array.from({ length: count }, (_, i) => Math.fround(from + ((to - from) * i) / (count - 1)));

const lanes = [
  ["f32", SCALAR],
  ["f32x4", VECTOR],
] as const;

describe.each(lanes)("on %s lanes", (_, L) => {
  test("exp is within 2 ulp from −87 to 88.7, 0 below, ∞ above, NaN for NaN", () => {
    const xs = sweep(-87, 88.7);
    expect(worst(xs, run(exp, L, xs), Math.exp)).toBeLessThanOrEqual(2);
    const edges = run(exp, L, [0, -100, -1e30, 100, Infinity, -Infinity, NaN]);
    expect([...edges]).toEqual([1, 0, 0, Infinity, Infinity, 0, NaN]);
  });

  test("log is within 2 ulp from 1e-30 to 1e30, on both sides of √½ and 1; ∞ for ∞", () => {
    const xs = sweep(-69, 69).map((t) => Math.fround(Math.exp(t)));
    xs.push(1, Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2 * 1.0000001), 2, 0.5);
    expect(worst(xs, run(log, L, xs), Math.log)).toBeLessThanOrEqual(2);
    expect([...run(log, L, [1, Infinity])]).toEqual([0, Infinity]);
  });

  test("tanh is within 8 ulp from −12 to 12 and near 0; ±1 at ±∞, NaN for NaN, −0 for −0", () => {
    const xs = [...sweep(-12, 12), ...sweep(-0.01, 0.01), 7.9, -7.9, 1e-30, -1e-30];
    expect(worst(xs, run(tanh, L, xs), Math.tanh)).toBeLessThanOrEqual(8);
    const edges = run(tanh, L, [0, -0, 50, -50, Infinity, -Infinity, NaN]);
    expect([...edges]).toEqual([0, -0, 1, -1, 1, -1, NaN]);
  });

  test("expm1 is within 3 ulp from −20 to 20 and near 0; −1 at −∞, NaN for NaN", () => {
    const xs = [...sweep(-20, 20), ...sweep(-0.6, 0.6), 1e-10, -1e-10, 0.5, -0.5];
    expect(worst(xs, run(expm1, L, xs), Math.expm1)).toBeLessThanOrEqual(3);
    expect([...run(expm1, L, [0, -Infinity, NaN])]).toEqual([0, -1, NaN]);
  });

  test("log1p is within 2 ulp from 0 to 1e30, tiny values exact; ∞ for ∞", () => {
    const xs = [...sweep(-69, 69).map((t) => Math.fround(Math.exp(t))), ...sweep(0, 2), 1e-10];
    expect(worst(xs, run(log1p, L, xs), Math.log1p)).toBeLessThanOrEqual(2);
    expect([...run(log1p, L, [0, 1e-30, Infinity])]).toEqual([0, Math.fround(1e-30), Infinity]);
  });

  test("erf is within 6 ulp from −5 to 5 and near 0; ±1 at ±∞, NaN for NaN, −0 for −0", () => {
    const xs = [...sweep(-5, 5), ...sweep(-0.01, 0.01), 1e-30, -1e-30, 3.9, 4, 4.1];
    expect(worst(xs, run(erf, L, xs), erf64)).toBeLessThanOrEqual(6);
    const edges = run(erf, L, [0, -0, 10, -10, Infinity, -Infinity, NaN]);
    expect([...edges]).toEqual([0, -0, 1, -1, 1, -1, NaN]);
  });
});

test.each([
  ["exp", exp],
  ["log", log],
  ["tanh", tanh],
  ["expm1", expm1],
  ["log1p", log1p],
  ["erf", erf],
] as const)("%s on f32x4 gives each lane the bits of the scalar one", (_, f) => {
  const xs = Array.from({ length: 4003 }, (_, i) => Math.fround(Math.exp(-20 + (40 * i) / 4002)));
  const both = [...xs, ...xs.map((x) => -x)];
  const usable = f === log || f === log1p ? xs : both;
  expect(run(f, VECTOR, usable)).toEqual(run(f, SCALAR, usable));
});

// The double-precision erf the reference and the TS kernels use (ops.ts), against values to 17
// digits (Abramowitz & Stegun's table, extended): within 2 ulp across its series' range.
test("ops.ts's erf is within 2 ulp of tabulated values, odd, ±1 from 6 on, NaN for NaN", () => {
  const table: [number, number][] = [
    [0.1, 0.1124629160182848922],
    [0.5, 0.5204998778130465377],
    [1, 0.8427007929497148693],
    [2, 0.9953222650189527342],
    [3, 0.9999779095030014146],
    [1e-3, 0.001128378790969236],
  ];
  for (const [x, value] of table) {
    const ulp = 2 ** (Math.floor(Math.log2(value)) - 52);
    expect(Math.abs(erf64(x) - value) / ulp, `erf(${x})`).toBeLessThanOrEqual(2);
    expect(erf64(-x)).toBe(-erf64(x));
  }
  expect([erf64(6), erf64(-7), erf64(0), erf64(-0), erf64(NaN)]).toEqual([1, -1, 0, -0, NaN]);
});

// ---------------------------------------------------------------------------------------------
// NaN through each activation row as PyTorch passes it (test/fixtures/make-torch-fixtures.py):
// the output, and the derivative for dy = 1, which for some functions is dy itself.

const nanCases = (
  JSON.parse(readFileSync(new URL("fixtures/torch-layers.json", import.meta.url), "utf8")) as {
    nan: { layer: string; y: number | null; dx: number | null }[];
  }
).nan;

/** The activation a layer compiles to, as its kernel step carries it. */
function activationOf(layer: string): Activation {
  const result = compile(`model M {\n  input x: [4]\n  ${layer}\n}\ncriterion MSE\n`);
  if (!result.ok) throw new Error(`${layer}: ${result.error}`);
  const step = result.compiled.program.forward.find((s) => s.kernel === "activation")!;
  return (step.attrs as OpAttrs["activation"]).act;
}

describe.each(lanes)("at NaN on %s lanes", (_, L) => {
  test.each(nanCases.map((c) => [c.layer, c] as const))("%s is PyTorch's", (_, c) => {
    const act = activationOf(c.layer);
    const row = activationRow(act);
    const vector = L === VECTOR;
    const [y] = run(
      (fb, _lanes, x) =>
        vector ? wasmActivation(fb, act).vec(x) : wasmActivation(fb, act).scalar(x),
      L,
      [NaN],
    );
    const at = row.gradReads === "y" ? y! : NaN;
    const [dx] = run(
      (fb, lanes, v) => {
        const a = wasmActivation(fb, act);
        return vector ? a.gradVec(v, lanes.const(1)) : a.gradScalar(v, lanes.const(1));
      },
      L,
      [at],
    );
    const [expectedY, expectedDx] = [c.y ?? NaN, c.dx ?? NaN];
    expect([y, dx]).toEqual([expectedY, expectedDx]);
    // The reference interpreter reads the same row.
    const [f, df] = [row.f(act), row.df(act)];
    const reference = [
      evaluate(f, NaN),
      evaluate(df, row.gradReads === "y" ? evaluate(f, NaN) : NaN),
    ];
    expect(reference.map(Math.fround)).toEqual([expectedY, expectedDx]);
  });
});
