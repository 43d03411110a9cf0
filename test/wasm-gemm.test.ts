// The WASM backend's binary encoder and its packed GEMM kernel, checked against a float64 reference.
import { describe, expect, test } from "vitest";
import {
  encodeModule,
  section,
  sleb128,
  toWat,
  uleb128,
  validate,
} from "../compiler/wasm/encoder.js";
import { createGemm, gemmModuleSpec } from "../compiler/wasm/gemm.js";

describe("encoder", () => {
  test("LEB128 matches hand-encoded bytes", () => {
    expect(uleb128(0)).toEqual([0x00]);
    expect(uleb128(127)).toEqual([0x7f]);
    expect(uleb128(128)).toEqual([0x80, 0x01]);
    expect(uleb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb128(0)).toEqual([0x00]);
    expect(sleb128(63)).toEqual([0x3f]);
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(-64)).toEqual([0x40]);
    expect(sleb128(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  test("a section is its id, its byte length, then its content", () => {
    expect(section(7, [1, 2, 3])).toEqual([7, 3, 1, 2, 3]);
    expect(section(10, Array<number>(200).fill(0)).slice(0, 3)).toEqual([10, 0xc8, 0x01]);
  });

  test("a one-function module encodes to the hand-checked bytes", () => {
    const spec = {
      minPages: 1,
      functions: [
        {
          name: "f",
          params: [],
          locals: ["i32" as const],
          body: [
            { op: "local.set" as const, local: 0, value: { op: "i32.const" as const, value: -2 } },
          ],
        },
      ],
    };
    const bytes = encodeModule(spec);
    // prettier-ignore
    expect([...bytes]).toEqual([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
      0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x01, 0x01, 0x80, 0x80, 0x04, // env.mem, min 1, max 65536 pages
      0x03, 0x02, 0x01, 0x00, // function 0 has type 0
      0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f" = func 0
      0x0a, 0x0a, 0x01, 0x08, 0x01, 0x01, 0x7f, 0x41, 0x7e, 0x21, 0x00, 0x0b, // (local i32) i32.const -2 local.set 0
    ]);
    expect(validate(bytes)).toBe(true);
    expect(toWat(spec)).toContain("(local.set 0\n      (i32.const -2))");
  });
});

/** Deterministic values in [-0.5, 0.5). */
function random(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function reference(
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  M: number,
  N: number,
  K: number,
) {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let sum = C[i * N + j]!;
      for (let k = 0; k < K; k++) sum += A[i * K + k]! * B[k * N + j]!;
      out[i * N + j] = sum;
    }
  return out;
}

const small = [1, 3, 7, 17, 33];
const shapes: [number, number, number][] = [
  ...small.flatMap((M) => small.map((N): [number, number, number] => [M, N, small[(M + N) % 5]!])),
  ...small.map((K): [number, number, number] => [5, 12, K]),
  [16, 100, 150], // lenet conv2, scaled down in N
  [64, 196, 288], // cnn conv2, scaled down in N
  [32, 64, 784], // mlp fc1, scaled down in M
];

describe("packed GEMM kernel", () => {
  test.each(shapes)("M=%i N=%i K=%i validates and matches float64", (M, N, K) => {
    expect(validate(encodeModule(gemmModuleSpec(M, N, K)))).toBe(true);
    const A = random(M * K, 1);
    const B = random(K * N, 2);
    const C = random(M * N, 3);
    const expected = reference(A, B, C, M, N, K);
    const kernel = createGemm(M, N, K);
    kernel.multiply(A, B, C);
    const tolerance = 1e-6 * (K + 1);
    for (let i = 0; i < M * N; i++) expect(Math.abs(C[i]! - expected[i]!)).toBeLessThan(tolerance);
  });

  test("repeated runs accumulate into C", () => {
    const [M, N, K] = [6, 11, 5];
    const A = random(M * K, 4);
    const B = random(K * N, 5);
    const kernel = createGemm(M, N, K);
    kernel.multiply(A, B, new Float32Array(M * N));
    const once = kernel.c.slice();
    kernel.run();
    for (let i = 0; i < M * N; i++) expect(kernel.c[i]).toBeCloseTo(2 * once[i]!, 5);
  });
});
