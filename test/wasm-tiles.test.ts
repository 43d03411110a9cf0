// Tests of the outerProduct and dotProduct tiles against a float64 reference on odd shapes.
// Each runs in a small module; every float of memory outside the result must keep its bits.
import { describe, expect, test } from "vitest";
import { f32, FuncBuilder, get, i32 } from "../compiler/backends/wasm/builder.js";
import { encodeModule, validate, type Expr } from "../compiler/backends/wasm/encoder.js";
import { dotProduct, outerProduct, type RowStarts } from "../compiler/backends/wasm/tiles.js";

const SIZES = [1, 2, 3, 5, 7, 8, 9, 17, 33];
const PAGE = 65536;
const U = 2 ** -24; // float32 unit roundoff
// Not NaN: a C slot that is read or written by mistake changes visibly, whatever the mode.
const SENTINEL = -1234.5;
const ceil8 = (n: number): number => Math.ceil(n / 8) * 8;

/** mulberry32: a seeded generator of uniforms in [0, 1). */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The test's view of one case: random draws, regions of memory and the kernel's memory. */
class Case {
  readonly rand: () => number;
  /** Floats handed out so far; each region starts 0–3 floats on, so most starts are unaligned. */
  private top = 16;
  readonly writes: [number, number][] = [];
  readonly ints: [number, number][] = [];

  constructor(seed: number) {
    this.rand = seeded(seed);
  }

  int(below: number): number {
    return Math.floor(this.rand() * below);
  }

  value(): number {
    return Math.fround(2 * this.rand() - 1);
  }

  shuffled(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  alloc(floats: number): number {
    const at = this.top + this.int(4);
    this.top = at + floats;
    return at;
  }

  /**
   * Fills memory with NaN, then the recorded writes; runs `body` as `run(p0, p1)` and returns the
   * floats before and after. Memories are reused: each one reserves address space.
   */
  run(fb: FuncBuilder, body: Expr[], args: [number, number]) {
    const pages = Math.ceil((this.top + 64) / (PAGE / 4));
    const spec = { minPages: pages, functions: [fb.build(body)] };
    const bytes = encodeModule(spec);
    expect(validate(bytes)).toBe(true);
    const mem = memoryOf(pages);
    const f = new Float32Array(mem.buffer);
    f.fill(NaN);
    for (const [at, v] of this.writes) f[at] = v;
    const iv = new Int32Array(mem.buffer);
    for (const [at, v] of this.ints) iv[at] = v;
    const before = new Uint32Array(mem.buffer).slice();
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
    (instance.exports["run"] as (m: number, k: number) => void)(...args);
    return { f, before, bits: new Uint32Array(mem.buffer) };
  }
}

const memories = new Map<number, WebAssembly.Memory>();
function memoryOf(pages: number): WebAssembly.Memory {
  let mem = memories.get(pages);
  if (!mem) memories.set(pages, (mem = new WebAssembly.Memory({ initial: pages, maximum: pages })));
  return mem;
}

/**
 * Compares the results at `expected` (float index → value and error bound) and checks that every
 * other float kept its bits, except those `free` lets the kernel write; returns what went wrong.
 */
function verify(
  label: string,
  out: { f: Float32Array; before: Uint32Array; bits: Uint32Array },
  expected: Map<number, { value: number; bound: number }>,
  free: (at: number) => boolean = () => false,
): string[] {
  const errors: string[] = [];
  for (const [at, { value, bound }] of expected) {
    const got = out.f[at]!;
    if (!(Math.abs(got - value) <= bound))
      errors.push(`${label}: [${at}] ${got} ≠ ${value} ± ${bound}`);
  }
  for (let at = 0; at < out.bits.length && errors.length < 8; at++)
    if (out.bits[at] !== out.before[at] && !expected.has(at) && !free(at))
      errors.push(`${label}: float ${at} outside the result changed to ${out.f[at]}`);
  return errors.slice(0, 8);
}

interface OuterCase {
  M: number;
  cols: number;
  K: number;
  /** M and K as constants, or as the function's parameters (computed). */
  constM: boolean;
  constK: boolean;
  mode: "set" | "add";
  padded: boolean;
  /** B rows at shuffled offsets from a table, else every `stride` bytes. */
  table: boolean;
  /** A stored column-major (k outer), as the weight gradients read dy. */
  transposedA: boolean;
  /** Each column panel of B copied to scratch first (which the kernel may then overwrite). */
  pack: boolean;
}

function runOuter(c: OuterCase, seed: number): string[] {
  const t = new Case(seed);
  const { M, cols, K } = c;
  // A(i, k) at a0 + i·aRow + k·aK floats; the gaps between rows stay NaN.
  const [aRow, aK] = c.transposedA ? [1, M + t.int(3)] : [K + t.int(3), 1];
  const a0 = t.alloc(c.transposedA ? K * aK : M * aRow);
  const A = (i: number, k: number) => a0 + i * aRow + k * aK;
  // B rows of `cols` floats: a tail tile reads up to 7 floats past a row, NaN or the next row.
  const bStride = cols + t.int(4);
  const slots = K + (c.table ? t.int(4) : 0);
  const b0 = t.alloc(slots * bStride + 8);
  const order = c.table ? t.shuffled(slots) : Array.from({ length: K }, (_, k) => k);
  const B = (k: number, j: number) => b0 + order[k]! * bStride + j;
  const table = c.table ? t.alloc(K) : 0;
  for (let k = 0; k < K && c.table; k++) t.ints.push([table + k, order[k]! * bStride * 4]);
  const cRow = (c.padded ? ceil8(cols) : cols) + t.int(3);
  const c0 = t.alloc(M * cRow + 8);
  const C = (i: number, j: number) => c0 + i * cRow + j;
  for (let at = c0; at < c0 + M * cRow + 8; at++) t.writes.push([at, SENTINEL]);
  const pack = c.pack ? t.alloc(K * 8) : -1;
  const values = new Map<number, number>();
  const put = (at: number, v = t.value()) => {
    values.set(at, v);
    t.writes.push([at, v]);
  };
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) put(A(i, k));
  for (let k = 0; k < K; k++) for (let j = 0; j < cols; j++) put(B(k, j));
  for (let i = 0; i < M; i++) for (let j = 0; j < cols; j++) put(C(i, j));

  const fb = new FuncBuilder("run", ["i32", "i32"]);
  const b: RowStarts = c.table
    ? { base: i32(b0 * 4), table: table * 4 }
    : { base: i32(b0 * 4), k: bStride * 4 };
  const body = outerProduct(fb, {
    M: c.constM ? M : get(0),
    cols,
    K: c.constK ? K : get(1),
    a: { base: i32(a0 * 4), row: aRow * 4, k: aK * 4 },
    b,
    c: { base: i32(c0 * 4), row: cRow * 4, mode: c.mode, padded: c.padded },
    ...(c.pack ? { pack: i32(pack * 4) } : {}),
  });
  const out = t.run(fb, body, [M, K]);

  const expected = new Map<number, { value: number; bound: number }>();
  for (let i = 0; i < M; i++)
    for (let j = 0; j < cols; j++) {
      let sum = c.mode === "add" ? values.get(C(i, j))! : 0;
      let scale = Math.abs(sum);
      for (let k = 0; k < K; k++) {
        const p = values.get(A(i, k))! * values.get(B(k, j))!;
        sum += p;
        scale += Math.abs(p);
      }
      expected.set(C(i, j), { value: sum, bound: (K + 2) * 2 * U * scale });
    }
  // A padded C lets whole vectors land up to the next multiple of 8 columns of each row.
  const free = (at: number): boolean => {
    if (c.pack && at >= pack && at < pack + K * 8) return true;
    if (!c.padded || at < c0) return false;
    const [i, j] = [Math.floor((at - c0) / cRow), (at - c0) % cRow];
    return i < M && j >= cols && j < ceil8(cols);
  };
  return verify(JSON.stringify(c), out, expected, free);
}

interface DotCase {
  M: number;
  cols: number;
  L: number;
  constM: boolean;
  mode: "set" | "add";
  table: boolean;
  /** C stored column-major (c.row one float), as a transposed result. */
  transposedC: boolean;
  /** 0: no `segments`; else their count, a constant or the function's second parameter. */
  segments: number;
  constCount: boolean;
  bias: boolean;
  relu: boolean;
}

function runDot(c: DotCase, seed: number): string[] {
  const t = new Case(seed);
  const { M, cols, L } = c;
  const count = Math.max(1, c.segments);
  // Segment s of row i of A at a0 + i·aRow + s·segA; ≥ 3 NaN after each, where a masked tail
  // reads: any lane the mask lets through turns the result into NaN.
  const segA = L + 3 + t.int(3);
  const aRow = count * segA + t.int(3);
  const a0 = t.alloc(M * aRow + 4);
  const A = (i: number, s: number, l: number) => a0 + i * aRow + s * segA + l;
  const segB = L + 3 + t.int(3);
  const bRow = count * segB + t.int(3);
  const slots = cols + (c.table ? t.int(4) : 0);
  const b0 = t.alloc(slots * bRow + 4);
  const order = c.table ? t.shuffled(slots) : Array.from({ length: cols }, (_, j) => j);
  const B = (j: number, s: number, l: number) => b0 + order[j]! * bRow + s * segB + l;
  const table = c.table ? t.alloc(cols) : 0;
  for (let j = 0; j < cols && c.table; j++) t.ints.push([table + j, order[j]! * bRow * 4]);
  const [cRow, cCol] = c.transposedC ? [1, M + t.int(3)] : [cols + t.int(3), 1];
  const cSize = c.transposedC ? cols * cCol : M * cRow;
  const c0 = t.alloc(cSize + 4);
  const C = (i: number, j: number) => c0 + i * cRow + j * cCol;
  for (let at = c0; at < c0 + cSize + 4; at++) t.writes.push([at, SENTINEL]);
  const bias = c.bias ? t.alloc(cols) : 0;
  const values = new Map<number, number>();
  const put = (at: number, v = t.value()) => {
    values.set(at, v);
    t.writes.push([at, v]);
  };
  for (let i = 0; i < M; i++)
    for (let s = 0; s < count; s++) for (let l = 0; l < L; l++) put(A(i, s, l));
  for (let j = 0; j < cols; j++)
    for (let s = 0; s < count; s++) for (let l = 0; l < L; l++) put(B(j, s, l));
  for (let i = 0; i < M; i++) for (let j = 0; j < cols; j++) put(C(i, j));
  for (let j = 0; j < cols && c.bias; j++) put(bias + j);

  const fb = new FuncBuilder("run", ["i32", "i32"]);
  const body = dotProduct(fb, {
    M: c.constM ? M : get(0),
    cols,
    L,
    a: { base: i32(a0 * 4), row: aRow * 4 },
    b: c.table ? { base: i32(b0 * 4), table: table * 4 } : { base: i32(b0 * 4), k: bRow * 4 },
    c: { base: i32(c0 * 4), row: cRow * 4, col: cCol * 4, mode: c.mode },
    ...(c.segments > 0
      ? { segments: { count: c.constCount ? i32(count) : get(1), a: segA * 4, b: segB * 4 } }
      : {}),
    ...(c.bias ? { bias: i32(bias * 4) } : {}),
    ...(c.relu ? { act: (v: Expr): Expr => ({ op: "f32.max", a: v, b: f32(0) }) } : {}),
  });
  const out = t.run(fb, body, [M, count]);

  const expected = new Map<number, { value: number; bound: number }>();
  for (let i = 0; i < M; i++)
    for (let j = 0; j < cols; j++) {
      let sum = c.bias ? values.get(bias + j)! : 0;
      let scale = Math.abs(sum);
      for (let s = 0; s < count; s++)
        for (let l = 0; l < L; l++) {
          const p = values.get(A(i, s, l))! * values.get(B(j, s, l))!;
          sum += p;
          scale += Math.abs(p);
        }
      if (c.relu) sum = Math.max(sum, 0);
      if (c.mode === "add") {
        sum += values.get(C(i, j))!;
        scale += Math.abs(values.get(C(i, j))!);
      }
      expected.set(C(i, j), { value: sum, bound: (L * count + 4) * 2 * U * scale });
    }
  return verify(JSON.stringify(c), out, expected);
}

const flag = (t: Case): boolean => t.rand() < 0.5;

describe("outerProduct", () => {
  test.each(SIZES)("M=%i, every cols × K, flags drawn at random", (M) => {
    const t = new Case(1000 + M);
    const errors: string[] = [];
    for (const cols of SIZES)
      for (const K of SIZES) {
        const c: OuterCase = {
          M,
          cols,
          K,
          constM: flag(t),
          constK: flag(t),
          mode: flag(t) ? "add" : "set",
          padded: flag(t),
          table: flag(t),
          transposedA: flag(t),
          pack: flag(t),
        };
        errors.push(...runOuter(c, t.int(2 ** 31)));
      }
    expect(errors).toEqual([]);
  });

  test.each([
    [7, 13, 5],
    [6, 3, 9],
    [1, 17, 1],
  ])("every flag combination at M=%i cols=%i K=%i", (M, cols, K) => {
    const errors: string[] = [];
    for (let bits = 0; bits < 128; bits++) {
      const c: OuterCase = {
        M,
        cols,
        K,
        constM: (bits & 1) !== 0,
        constK: (bits & 2) !== 0,
        mode: bits & 4 ? "add" : "set",
        padded: (bits & 8) !== 0,
        table: (bits & 16) !== 0,
        transposedA: (bits & 32) !== 0,
        pack: (bits & 64) !== 0,
      };
      errors.push(...runOuter(c, bits));
    }
    expect(errors).toEqual([]);
  });
});

describe("dotProduct", () => {
  test.each(SIZES)("M=%i, every cols × L, flags drawn at random", (M) => {
    const t = new Case(2000 + M);
    const errors: string[] = [];
    for (const cols of SIZES)
      for (const L of SIZES) {
        const c: DotCase = {
          M,
          cols,
          L,
          constM: flag(t),
          mode: flag(t) ? "add" : "set",
          table: flag(t),
          transposedC: flag(t),
          segments: t.int(4),
          constCount: flag(t),
          bias: flag(t),
          relu: flag(t),
        };
        errors.push(...runDot(c, t.int(2 ** 31)));
      }
    expect(errors).toEqual([]);
  });

  test.each([
    [5, 3, 7],
    [9, 2, 33],
  ])("every flag combination at M=%i cols=%i L=%i", (M, cols, L) => {
    const errors: string[] = [];
    for (let bits = 0; bits < 256; bits++)
      for (const segments of bits & 64 ? [1, 2, 3] : [0]) {
        const c: DotCase = {
          M,
          cols,
          L,
          constM: (bits & 1) !== 0,
          mode: bits & 2 ? "add" : "set",
          table: (bits & 4) !== 0,
          transposedC: (bits & 8) !== 0,
          bias: (bits & 16) !== 0,
          relu: (bits & 32) !== 0,
          segments,
          constCount: (bits & 128) !== 0,
        };
        errors.push(...runDot(c, bits));
      }
    expect(errors).toEqual([]);
  });
});
