// The training runtime's building blocks: generator, initialisation, optimizers, checkpoints.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { OptimizerConfig } from "../compiler/ir.js";
import {
  dropoutDraw,
  dropoutKey,
  dropoutSalt,
  DropoutSeeds,
  dropoutThreshold,
} from "../runtime/dropout.js";
import { NetcError } from "../runtime/errors.js";
import { initialize, type InitTarget } from "../runtime/init.js";
import { writeFileAtomic } from "../runtime/node/write-atomic.js";
import { createOptimizer } from "../runtime/optimizers.js";
import { Rng } from "../runtime/rng.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadInto,
  type NamedTensor,
} from "../runtime/safetensors.js";

// An fsync that fails on demand: the one way to make a write fail half-way through.
const faults = vi.hoisted(() => ({ fsync: false }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    fsyncSync: (fd: number) => {
      if (faults.fsync) throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      fs.fsyncSync(fd);
    },
  };
});

const fixture = (name: string) => new URL(`fixtures/${name}`, import.meta.url);

function stats(draw: () => number, n = 100_000): { mean: number; variance: number } {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    sum += x;
    squares += x * x;
  }
  const mean = sum / n;
  return { mean, variance: squares / n - mean * mean };
}

describe("Rng", () => {
  test("matches xoshiro128** seeded by splitmix32 (a reference transcription in Python)", () => {
    const rng = new Rng(42);
    expect([rng.uint32(), rng.uint32(), rng.uint32(), rng.uint32()]).toEqual([
      660444221, 3652823732, 77672526, 910233633,
    ]);
  });

  test("the same seed gives the same stream; another seed, another", () => {
    const draws = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 50 }, () => rng.next());
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    expect(draws(0)).not.toEqual(draws(1));
  });

  test("forks are named streams: pure, distinct, independent of the parent's position", () => {
    const first = (rng: Rng) => Array.from({ length: 8 }, () => rng.uint32());
    const parent = new Rng(3);
    const before = first(parent.fork("init"));
    first(parent);
    expect(first(parent.fork("init"))).toEqual(before);
    expect(first(parent.fork("shuffle"))).not.toEqual(before);
    expect(first(new Rng(4).fork("init"))).not.toEqual(before);
    expect(first(parent.fork(2))).toEqual(first(parent.fork("2")));
    expect(first(parent.fork("a").fork("b"))).not.toEqual(first(parent.fork("ab")));
  });

  test("next() is uniform in [0, 1) and uniform(lo, hi) in [lo, hi)", () => {
    const rng = new Rng(1);
    let min = 1;
    let max = 0;
    const { mean, variance } = stats(() => {
      const x = rng.next();
      min = Math.min(min, x);
      max = Math.max(max, x);
      return x;
    });
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 2);
    const u = stats(() => rng.uniform(-3, 5));
    expect(u.mean).toBeCloseTo(1, 1);
    expect(u.variance).toBeCloseTo(64 / 12, 1);
  });

  test("int(n) covers [0, n) evenly and refuses a bad n", () => {
    const rng = new Rng(5);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.int(7)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(rng.int(1)).toBe(0);
    const big = rng.int(2 ** 32);
    expect(Number.isInteger(big) && big >= 0 && big < 2 ** 32).toBe(true);
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(2.5)).toThrow(RangeError);
  });

  test("normal() has mean 0 and variance 1", () => {
    const rng = new Rng(9);
    const { mean, variance } = stats(() => rng.normal());
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  test("a seed outside 0 … 2^32 − 1 is a user error", () => {
    for (const seed of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => new Rng(seed)).toThrow(NetcError);
    }
    expect(() => new Rng(-1)).toThrow("the seed must be an integer from 0 to 4294967295, got -1");
    expect(() => new Rng(2 ** 32 - 1)).not.toThrow();
  });
});

describe("dropout masks", () => {
  const kept = (key: number, p: number, n: number) => {
    let count = 0;
    for (let i = 0; i < n; i++) if (dropoutDraw(key, i) >= dropoutThreshold(p)) count++;
    return count / n;
  };

  test.each([0.1, 0.5, 0.9])("drop a fraction p = %s of the elements", (p) => {
    const key = dropoutKey(new DropoutSeeds(new Rng(3).fork("dropout")).next(), dropoutSalt("d"));
    // 200,000 draws: the binomial's standard deviation is below 0.0012.
    expect(Math.abs(kept(key, p, 200_000) - (1 - p))).toBeLessThan(0.005);
  });

  test("p = 0 keeps everything; a draw is dropped exactly when its uniform is below p", () => {
    expect(kept(12345, 0, 10_000)).toBe(1);
    for (const p of [0.1, 0.3, 1 / 3, 0.7]) {
      const t = dropoutThreshold(p);
      expect((t - 1) / 2 ** 24 < p && t / 2 ** 24 >= p).toBe(true);
    }
  });

  test("passes, layers and neighbouring elements get unrelated masks", () => {
    const seeds = new DropoutSeeds(new Rng(0).fork("dropout"));
    const [first, second] = [seeds.next(), seeds.next()];
    const mask = (seed: number, layer: string) =>
      Array.from(
        { length: 64 },
        (_, i) => dropoutDraw(dropoutKey(seed, dropoutSalt(layer)), i) < 2 ** 23,
      );
    const agree = (a: boolean[], b: boolean[]) => a.filter((v, i) => v === b[i]).length;
    // Independent fair masks agree on about half of 64 elements; 16 to 48 is a loose band.
    const pairs = [
      [mask(first, "a"), mask(second, "a")],
      [mask(first, "a"), mask(first, "b")],
      [mask(first, "block.0"), mask(first, "block.1")],
    ];
    for (const [a, b] of pairs) expect(agree(a!, b!)).toSatisfy((n: number) => n > 16 && n < 48);
  });
});

describe("initialize", () => {
  const target = (name: string, shape: number[], init: InitTarget["init"]): InitTarget => ({
    name,
    shape,
    init,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  });

  test("uniform within ±bound, spread over it; constants filled", () => {
    const bound = 1 / Math.sqrt(25);
    const weight = target("conv1.weight", [6, 1, 5, 5], { kind: "uniform", bound });
    const big = target("fc.weight", [100, 100], { kind: "uniform", bound: 0.1 });
    const ones = target("bn.weight", [16], { kind: "constant", value: 1 });
    const zeros = target("bn.bias", [16], { kind: "constant", value: 0 });
    zeros.data.fill(7);
    initialize([weight, big, ones, zeros], 0);
    for (const x of weight.data) expect(Math.abs(x)).toBeLessThanOrEqual(bound);
    const values = [...big.data];
    expect(Math.max(...values)).toBeGreaterThan(0.099);
    expect(Math.min(...values)).toBeLessThan(-0.099);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.003);
    expect([...ones.data]).toEqual(new Array(16).fill(1));
    expect([...zeros.data]).toEqual(new Array(16).fill(0));
  });

  test("deterministic for a seed, and a tensor's values depend only on its name and size", () => {
    const init = { kind: "uniform", bound: 0.2 } as const;
    const run = (seed: number, otherShape: number[], order: "ab" | "ba") => {
      const a = target("fc1.weight", [4, 3], init);
      const b = target("fc0.weight", otherShape, init);
      initialize(order === "ab" ? [a, b] : [b, a], seed);
      return [...a.data];
    };
    const reference = run(1, [2, 2], "ab");
    expect(run(1, [2, 2], "ab")).toEqual(reference);
    expect(run(1, [50, 7], "ba")).toEqual(reference);
    expect(run(2, [2, 2], "ab")).not.toEqual(reference);
    const renamed = target("fc2.weight", [4, 3], init);
    initialize([renamed], 1);
    expect([...renamed.data]).not.toEqual(reference);
  });

  test("a buffer of the wrong size is a bug, not silently half-filled", () => {
    const bad = { ...target("x.weight", [3], { kind: "constant", value: 1 }), shape: [4] };
    expect(() => initialize([bad], 0)).toThrow(RangeError);
  });
});

describe("optimizers", () => {
  const sgd = (args: Record<string, number | boolean>): OptimizerConfig => ({
    name: "SGD",
    args: { momentum: 0, weight_decay: 0, nesterov: false, ...args },
  });
  const adam = (args: Record<string, number | readonly number[]>): OptimizerConfig => ({
    name: "Adam",
    args: { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, ...args },
  });

  /** Parameters after each step, with the same gradients at every step unless given per step. */
  function run(config: OptimizerConfig, start: number[], grads: number[][], steps: number) {
    const params = Float32Array.from(start);
    const g = new Float32Array(start.length);
    const optimizer = createOptimizer(config, params, g);
    const after: number[][] = [];
    for (let s = 0; s < steps; s++) {
      g.set(grads[Math.min(s, grads.length - 1)]!);
      optimizer.step();
      after.push([...params]);
    }
    expect(optimizer.stepCount).toBe(steps);
    return after;
  }

  /**
   * Within `tolerance` relative to the parameter before the step or after it, whichever is
   * larger: p − lr·d cancels when the step nearly zeroes p, and float32 rounding of p then
   * shows as a large relative error of the small result.
   */
  function expectClose(actual: number[], expected: number[], before = expected, tolerance = 1e-6) {
    expect(actual).toHaveLength(expected.length);
    actual.forEach((a, i) => {
      const e = expected[i]!;
      const scale = Math.max(Math.abs(e), Math.abs(before[i]!), 1e-3);
      expect(Math.abs(a - e), `element ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tolerance * scale);
    });
  }

  test("SGD: p − lr·g", () => {
    const after = run(sgd({ lr: 0.1 }), [1, -2], [[0.5, 0.25]], 2);
    expectClose(after[0]!, [0.95, -2.025]);
    expectClose(after[1]!, [0.9, -2.05]);
  });

  test("SGD momentum: the buffer starts as the gradient, then momentum·buf + g", () => {
    const after = run(sgd({ lr: 0.1, momentum: 0.9 }), [1], [[0.5]], 3);
    // buf = 0.5, 0.95, 1.355
    expectClose(after.flat(), [0.95, 0.855, 0.7195]);
  });

  test("SGD Nesterov: the step is g + momentum·buf", () => {
    const after = run(sgd({ lr: 0.1, momentum: 0.9, nesterov: true }), [1], [[0.5]], 2);
    // d = 0.5 + 0.9·0.5 = 0.95, then 0.5 + 0.9·0.95 = 1.355
    expectClose(after.flat(), [0.905, 0.7695]);
  });

  test("SGD weight decay adds weight_decay·p to the gradient", () => {
    const after = run(sgd({ lr: 0.1, weight_decay: 0.1 }), [1], [[0.5]], 2);
    // d = 0.5 + 0.1·1 = 0.6, then 0.5 + 0.1·0.94 = 0.594
    expectClose(after.flat(), [0.94, 0.8806]);
  });

  test("Adam: bias-corrected moments, eps outside the square root", () => {
    // The first step moves every parameter by lr against its gradient's sign.
    const first = run(adam({}), [1, 2, 3], [[0.5, -3, 1e-4]], 1)[0]!;
    expectClose(first, [0.999, 2.001, 2.999], undefined, 1e-7);
    // β = ½, lr = 1, eps = 0, g = 1 then 0: m = ½, v = ½ (m̂ = v̂ = 1, step 1), then
    // m = v = ¼ with corrections 1 − ¼ (m̂ = v̂ = ⅓, step ⅓ / √⅓ = √⅓).
    const after = run(adam({ lr: 1, betas: [0.5, 0.5], eps: 0 }), [0], [[1], [0]], 2);
    expectClose(after.flat(), [-1, -1 - Math.sqrt(1 / 3)]);
    // eps = 1: step 1 is 1 / (1 + 1) instead of 1.
    const withEps = run(adam({ lr: 1, betas: [0.5, 0.5], eps: 1 }), [0], [[1]], 1);
    expectClose(withEps.flat(), [-0.5]);
  });

  test("Adam weight decay is L2 on the gradient (not AdamW's decoupled decay)", () => {
    // g + 0.5·p = −0.1 + 0.5 = 0.4 > 0: the parameter goes down by lr, though g < 0.
    const after = run(adam({ lr: 0.01, weight_decay: 0.5 }), [1], [[-0.1]], 1);
    expectClose(after.flat(), [0.99]);
  });

  test("setLearningRate applies from the next step; a bad rate is a user error", () => {
    const params = Float32Array.of(1);
    const optimizer = createOptimizer(sgd({ lr: 0.1 }), params, Float32Array.of(1));
    optimizer.step();
    optimizer.setLearningRate(0.5);
    expect(optimizer.learningRate).toBe(0.5);
    optimizer.step();
    expect(params[0]).toBeCloseTo(1 - 0.1 - 0.5, 6);
    expect(() => optimizer.setLearningRate(-1)).toThrow(NetcError);
    expect(() => optimizer.setLearningRate(Number.NaN)).toThrow(NetcError);
  });

  test("settings PyTorch refuses are user errors", () => {
    const make = (config: OptimizerConfig) => () =>
      createOptimizer(config, new Float32Array(1), new Float32Array(1));
    expect(make(sgd({ lr: 0.1, nesterov: true }))).toThrow(
      "SGD: nesterov = true needs a momentum above 0",
    );
    expect(make({ name: "SGD", args: {} })).toThrow("SGD needs a value for lr");
    expect(make(adam({ betas: [0.9] }))).toThrow("Adam: betas must be two numbers in [0, 1)");
    expect(make(adam({ eps: -1 }))).toThrow(NetcError);
  });

  test("parameter and gradient buffers of different lengths are a bug", () => {
    expect(() =>
      createOptimizer(sgd({ lr: 0.1 }), new Float32Array(2), new Float32Array(3)),
    ).toThrow(RangeError);
  });
});

describe("safetensors", () => {
  const tensors: NamedTensor[] = [
    { name: "conv1.weight", shape: [2, 1, 2, 2], data: Float32Array.of(1, -2, 0.5, 3, 4, 5, 6, 7) },
    { name: "conv1.bias", shape: [2], data: Float32Array.of(-0, 1e-40) },
    { name: "fc.weight", shape: [1, 3], data: Float32Array.of(Infinity, -Infinity, Number.NaN) },
    { name: "bn.num_batches", shape: [], data: Float32Array.of(42) },
  ];

  const headerOf = (bytes: Uint8Array) => {
    const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    return { length, json: new TextDecoder().decode(bytes.subarray(8, 8 + length)) };
  };

  /** A file laid out by hand from the spec: u64 length, JSON header, then `data`. */
  function file(header: unknown, data: Uint8Array | number = 0, rawHeader?: string): Uint8Array {
    const json = new TextEncoder().encode(rawHeader ?? JSON.stringify(header));
    const body = typeof data === "number" ? new Uint8Array(data) : data;
    const bytes = new Uint8Array(8 + json.length + body.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    bytes.set(body, 8 + json.length);
    return bytes;
  }
  const f32 = (shape: number[], begin: number, end: number) => ({
    dtype: "F32",
    shape,
    data_offsets: [begin, end],
  });

  test("round trip, with metadata and a header padded to 8 bytes", () => {
    const bytes = encodeSafetensors(tensors, { model: "LeNet5", netc: "0.1.0" });
    const { length, json } = headerOf(bytes);
    expect(length % 8).toBe(0);
    expect(JSON.parse(json)).toEqual({
      __metadata__: { model: "LeNet5", netc: "0.1.0" },
      "conv1.weight": f32([2, 1, 2, 2], 0, 32),
      "conv1.bias": f32([2], 32, 40),
      "fc.weight": f32([1, 3], 40, 52),
      "bn.num_batches": f32([], 52, 56),
    });
    expect(bytes.length).toBe(8 + length + 56);
    const decoded = decodeSafetensors(bytes, "m.safetensors");
    expect([...decoded.keys()]).toEqual(tensors.map((t) => t.name));
    for (const t of tensors) {
      expect(decoded.get(t.name)).toEqual({ shape: t.shape, data: t.data });
    }
    expect(Object.is(decoded.get("conv1.bias")!.data[0], -0)).toBe(true);
  });

  test("byte for byte what safetensors.torch.save_file writes, and reads its files", () => {
    const torchFile = new Uint8Array(readFileSync(fixture("torch-written.safetensors")));
    const weight = Float32Array.of(-0.5, -0.25, 0, 0.25, 0.5, 0.75);
    const same: NamedTensor[] = [
      // The reference implementation orders tensors by name.
      { name: "bn.num", shape: [], data: Float32Array.of(3) },
      { name: "empty.weight", shape: [0, 3], data: new Float32Array(0) },
      { name: "fc.bias", shape: [2], data: Float32Array.of(-1.5, 1e-30) },
      { name: "fc.weight", shape: [2, 3], data: weight },
    ];
    expect(encodeSafetensors(same, { model: "Tiny" })).toEqual(torchFile);
    const decoded = decodeSafetensors(torchFile, "torch.safetensors");
    for (const t of same) expect(decoded.get(t.name)).toEqual({ shape: t.shape, data: t.data });
  });

  test("an empty model makes a valid file", () => {
    expect(decodeSafetensors(encodeSafetensors([]), "e.safetensors").size).toBe(0);
  });

  const malformed: [string, Uint8Array, string][] = [
    ["too short", new Uint8Array(5), "5 bytes, too short for the 8-byte header length"],
    [
      "header length beyond the file",
      (() => {
        const bytes = file({}, 0);
        new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
        return bytes;
      })(),
      "the header length says 1000 bytes but only 2 follow it",
    ],
    ["invalid JSON", file(null, 0, '{"a": '), "the header is not valid JSON"],
    // U+FFFD is EF BF BD in UTF-8; EF BF FF is no character.
    ["not UTF-8", file(null, 0, "{\uFFFD}").map((b) => (b === 0xbd ? 0xff : b)), "not UTF-8"],
    ["a JSON array", file([1, 2]), "the header is not a JSON object"],
    ["a non-object entry", file({ w: 3 }), "tensor 'w': expected an object"],
    [
      "F16",
      file({ "fc.weight": { dtype: "F16", shape: [2], data_offsets: [0, 4] } }, 4),
      "tensor 'fc.weight' has dtype F16; netc reads only F32",
    ],
    ["no dtype", file({ w: { shape: [1], data_offsets: [0, 4] } }, 4), "tensor 'w': missing dtype"],
    [
      "a negative dimension",
      file({ w: f32([-1], 0, 4) }, 4),
      "tensor 'w': shape must be a list of non-negative integers, got [-1]",
    ],
    [
      "offsets that are not two numbers",
      file({ w: { dtype: "F32", shape: [1], data_offsets: [0] } }, 4),
      "tensor 'w': data_offsets must be two byte offsets, got [0]",
    ],
    [
      "offsets backwards",
      file({ w: f32([0], 4, 0) }, 4),
      "tensor 'w': data_offsets [4, 0] end before they begin",
    ],
    [
      "offsets not matching the shape",
      file({ w: f32([3], 0, 8) }, 8),
      "tensor 'w': data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 takes 12",
    ],
    [
      "overlapping tensors",
      file({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12),
      "tensor 'b' (data_offsets [4, 12]) overlaps tensor 'a', which ends at byte 8",
    ],
    [
      "a gap between tensors",
      file({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12),
      "tensor 'b' (data_offsets [8, 12]) leaves bytes 4 to 8 of the data unused",
    ],
    [
      "offsets beyond the data",
      file({ a: f32([1], 0, 4), b: f32([2], 4, 12) }, 10),
      "tensor 'b' (data_offsets [4, 12]) ends beyond the 10 bytes of data: the file is truncated",
    ],
    [
      "a truncated file",
      encodeSafetensors(tensors).subarray(0, -3),
      "tensor 'bn.num_batches' (data_offsets [52, 56]) ends beyond the 53 bytes of data",
    ],
    [
      "bytes after the last tensor",
      file({ a: f32([1], 0, 4) }, 6),
      "2 bytes after the last tensor's data belong to no tensor",
    ],
    [
      "metadata that is not strings",
      file({ __metadata__: { epoch: 3 } }),
      "__metadata__ must map names to strings",
    ],
  ];

  test.each(malformed)("refuses %s", (_, bytes, message) => {
    const decode = () => decodeSafetensors(bytes, "bad.safetensors");
    expect(decode).toThrow(NetcError);
    expect(decode).toThrow(`bad.safetensors: `);
    expect(decode).toThrow(message);
  });

  const model = (): NamedTensor[] => [
    { name: "fc1.weight", shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
    { name: "fc1.bias", shape: [2], data: Float32Array.of(5, 6) },
  ];

  test("loadInto copies every tensor of a matching file", () => {
    const saved = model();
    saved[0]!.data.set([9, 8, 7, 6]);
    saved[1]!.data.set([-1, -2]);
    const target = model();
    loadInto(target, decodeSafetensors(encodeSafetensors(saved), "w.safetensors"), "w");
    expect(target).toEqual(saved);
  });

  test.each([
    [
      "a shape mismatch",
      [
        { name: "fc1.weight", shape: [4, 1] },
        { name: "fc1.bias", shape: [2] },
      ],
      "fc1.weight: the model has shape [2, 2], the file [4, 1]",
    ],
    [
      "a missing tensor",
      [{ name: "fc1.weight", shape: [2, 2] }],
      "fc1.bias: missing from the file",
    ],
    [
      "an extra tensor",
      [
        { name: "fc1.weight", shape: [2, 2] },
        { name: "fc1.bias", shape: [2] },
        { name: "fc2.bias", shape: [1] },
      ],
      "fc2.bias: in the file but not in the model",
    ],
  ])("loadInto refuses %s and changes nothing", (_, stored, message) => {
    const other = stored.map(({ name, shape }) => ({
      name,
      shape,
      data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(-9),
    }));
    const file = decodeSafetensors(encodeSafetensors(other), "other.safetensors");
    const target = model();
    const load = () => loadInto(target, file, "other.safetensors");
    expect(load).toThrow(NetcError);
    expect(load).toThrow(
      "other.safetensors: the weights do not fit the model (saved from another model?)",
    );
    expect(load).toThrow(message);
    expect(target).toEqual(model());
  });

  test("loadInto lists a few mismatches, not a whole model's", () => {
    const many = Array.from({ length: 12 }, (_, i) => ({
      name: `l${i}.bias`,
      shape: [1],
      data: new Float32Array(1),
    }));
    const load = () => loadInto(many, new Map(), "empty.safetensors");
    expect(load).toThrow("l7.bias: missing from the file\n  and 4 more");
  });
});

describe("writeFileAtomic", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "netc-write-"));
  });
  afterEach(() => {
    faults.fsync = false;
    rmSync(dir, { recursive: true, force: true });
  });
  const bytes = (text: string) => new TextEncoder().encode(text);

  test("creates the file, then replaces it whole, leaving no temporary file", () => {
    const path = join(dir, "m.safetensors");
    writeFileAtomic(path, bytes("first"));
    expect(readFileSync(path, "utf8")).toBe("first");
    writeFileAtomic(path, bytes("second, longer"));
    expect(readFileSync(path, "utf8")).toBe("second, longer");
    expect(readdirSync(dir)).toEqual(["m.safetensors"]);
  });

  test("a write failing half-way leaves the old file intact and no temporary file", () => {
    const path = join(dir, "m.safetensors");
    writeFileSync(path, "old weights");
    faults.fsync = true;
    expect(() => writeFileAtomic(path, bytes("new weights"))).toThrow(
      new NetcError(`cannot write ${path}: input/output error`),
    );
    expect(readFileSync(path, "utf8")).toBe("old weights");
    expect(readdirSync(dir)).toEqual(["m.safetensors"]);
  });

  test("a missing directory is a user error naming the path", () => {
    const path = join(dir, "missing", "m.safetensors");
    const write = () => writeFileAtomic(path, bytes("x"));
    expect(write).toThrow(NetcError);
    expect(write).toThrow(`cannot write ${path}: the directory does not exist`);
  });

  test("a directory in the way is refused and kept as it was", () => {
    const path = join(dir, "m.safetensors");
    mkdirSync(path);
    writeFileSync(join(path, "inside"), "kept");
    expect(() => writeFileAtomic(path, bytes("x"))).toThrow(
      `cannot write ${path}: it is a directory`,
    );
    expect(readFileSync(join(path, "inside"), "utf8")).toBe("kept");
    expect(readdirSync(dir)).toEqual(["m.safetensors"]);
  });
});
