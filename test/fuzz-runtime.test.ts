// Property tests of the runtime against hostile input: corrupt weights and IDX files, and random
// calls of every Model method with wrong types, lengths and non-finite values, on both backends.
// Every outcome is a result or a NetcError, and a refused call changes nothing. FUZZ_RUNS, when
// set, is every property's run count (and the seed is then fast-check's random one).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import type { Model, ModelOptions } from "../runtime/api-types.js";
import { fromIdx } from "../runtime/data/dataset.js";
import { encodeIdx, parseIdx } from "../runtime/data/idx.js";
import { NetcError } from "../runtime/errors.js";
import { readIdxFile } from "../runtime/node/idx-file.js";
import { decodeSafetensors } from "../runtime/safetensors.js";
import { compileModel, pseudoRandom } from "./helpers/gradcheck.js";

const fuzzRuns = Number(process.env["FUZZ_RUNS"]) || undefined;
/** `runs` runs from a fixed seed in `npm test`; FUZZ_RUNS runs from a random one when set. */
const budget = (runs: number) => (fuzzRuns ? { numRuns: fuzzRuns } : { numRuns: runs, seed: 11 });

const dir = mkdtempSync(join(tmpdir(), "netc-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Outcome<T> = { ok: true; value: T } | { ok: false; message: string };

/** What `run` returned, or the message of the NetcError it threw; any other error fails. */
function outcome<T>(run: () => T): Outcome<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    if (!(error instanceof NetcError)) throw error;
    expect(error.message).not.toMatch(/\[object |^$/);
    return { ok: false, message: error.message };
  }
}

// Two inputs, two outputs, both kinds of target, batch normalisation and dropout: every path of
// writing values in and every kind of state a training step moves.
const source = `
model Two {
  input x: [2, 4, 4]
  input z: [3]
  a = x -> SpatialConvolution(3, kernel=3, pad=1) -> SpatialBatchNormalization -> ReLU -> Flatten
  b = z -> Linear(48) -> Tanh
  h = Add(a, b) -> Dropout(0.3)
  scores = h -> Linear(4) -> LogSoftMax
  value = h -> Linear(2)
  output scores, value
}
criterion NLL(scores) + MSE(value)
`;
const two = compileModel(source);
const BATCH = 4;
const backends = ["ts", "wasm"] as const;
const adam = { name: "Adam" as const, args: { lr: 0.01 } };
const create = (backend: "ts" | "wasm", options: ModelOptions = {}) =>
  two.create({ batch: BATCH, seed: 3, backend, optimizer: adam, ...options });

/** Valid values for `n` samples, from a seed. */
function batchOf(n: number, seed: number) {
  const next = pseudoRandom(seed);
  const floats = (length: number) => Float32Array.from({ length }, () => next());
  return {
    input: { x: floats(n * 32), z: floats(n * 3) },
    target: {
      scores: Int32Array.from({ length: n }, (_, i) => (i + seed) % 4),
      value: floats(n * 2),
    },
  };
}

/** Every number a model keeps between calls: parameters and buffers. */
const stateOf = (model: Model) =>
  [...model.params, ...model.buffers].map((t) => Float64Array.from(t.data));

describe("corrupt safetensors", () => {
  const model = create("ts");
  const good = model.save();
  const headerLength = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + headerLength))) as Record<
    string,
    { dtype: string; shape: unknown[]; data_offsets: unknown[] }
  >;
  const names = Object.keys(header).filter((k) => k !== "__metadata__");

  /** A file of `json` as header, `declared` as its length (the true one by default), `data`. */
  function file(json: string, data: Uint8Array, declared?: bigint): Uint8Array {
    const text = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + text.length + data.length);
    new DataView(bytes.buffer).setBigUint64(0, declared ?? BigInt(text.length), true);
    bytes.set(text, 8);
    bytes.set(data, 8 + text.length);
    return bytes;
  }
  const data = good.subarray(8 + headerLength);

  const number = fc.oneof(
    fc.integer({ min: -5, max: 2000 }),
    fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, 1e300, -1, 0.5, NaN),
  );
  const lie = fc.oneof(
    // offsets out of range, overlapping, reversed or not numbers
    fc.record({ key: fc.constant("data_offsets"), value: fc.array(number, { maxLength: 3 }) }),
    fc.record({ key: fc.constant("shape"), value: fc.array(number, { maxLength: 5 }) }),
    fc.record({
      key: fc.constant("dtype"),
      value: fc.constantFrom("F16", "BF16", "F64", "I32", "f32", "", 7),
    }),
    fc.record({ key: fc.constant("dtype"), value: fc.anything() }),
  );
  const corruption = fc.oneof(
    fc.nat({ max: good.length }).map((n) => good.slice(0, n)),
    fc
      .array(fc.record({ at: fc.nat({ max: good.length - 1 }), bit: fc.nat({ max: 7 }) }), {
        minLength: 1,
        maxLength: 8,
      })
      .map((flips) => {
        const bytes = good.slice();
        for (const { at, bit } of flips) bytes[at]! ^= 1 << bit;
        return bytes;
      }),
    fc
      .array(fc.record({ tensor: fc.constantFrom(...names), lie }), {
        minLength: 1,
        maxLength: 3,
      })
      .map((lies) => {
        const lied = structuredClone(header) as Record<string, Record<string, unknown>>;
        for (const { tensor, lie } of lies) lied[tensor]![lie.key] = lie.value;
        return file(JSON.stringify(lied), data);
      }),
    // the length field lies: short, long, huge
    fc
      .bigInt({ min: 0n, max: 2n ** 64n - 1n })
      .map((declared) => file(JSON.stringify(header), data, declared)),
    // a value that is not finite where a tensor's data is
    fc
      .record({
        at: fc.nat({ max: data.length / 4 - 1 }),
        value: fc.constantFrom(NaN, Infinity, -Infinity),
      })
      .map(({ at, value }) => {
        const bytes = good.slice();
        new DataView(bytes.buffer).setFloat32(8 + headerLength + 4 * at, value, true);
        return bytes;
      }),
    fc.string({ maxLength: 40 }).map((text) => file(text, data)),
    fc.uint8Array({ maxLength: 64 }),
  );

  test("decode and load: a NetcError or the weights, and a refused load changes nothing", () => {
    fc.assert(
      fc.property(corruption, (bytes) => {
        outcome(() => decodeSafetensors(bytes, "fuzz.safetensors"));
        const before = stateOf(model);
        const loaded = outcome(() => model.load(bytes, "fuzz.safetensors"));
        if (!loaded.ok) expect(stateOf(model)).toEqual(before);
        else for (const t of stateOf(model)) expect(t.every(Number.isFinite)).toBe(true);
        model.load(good);
      }),
      budget(400),
    );
  });
});

describe("corrupt IDX files", () => {
  const images = encodeIdx({ dims: [3, 4, 5], data: Uint8Array.from({ length: 60 }, (_, i) => i) });
  const labels = encodeIdx({ dims: [3], data: Uint8Array.of(0, 2, 1) });
  const corrupt = (bytes: Uint8Array) =>
    fc.oneof(
      fc.nat({ max: bytes.length }).map((n) => bytes.slice(0, n)),
      fc
        .array(fc.record({ at: fc.nat({ max: bytes.length - 1 }), value: fc.nat({ max: 255 }) }), {
          minLength: 1,
          maxLength: 6,
        })
        .map((edits) => {
          const copy = bytes.slice();
          for (const { at, value } of edits) copy[at] = value;
          return copy;
        }),
      fc.uint8Array({ maxLength: 8 }).map((tail) => Uint8Array.from([...bytes, ...tail])),
      fc.uint8Array({ maxLength: 40 }),
    );

  test("parsed and made a data set: a NetcError or arrays that agree with their dims", () => {
    fc.assert(
      fc.property(corrupt(images), corrupt(labels), (imageBytes, labelBytes) => {
        const parsed = [
          outcome(() => parseIdx(imageBytes, "images")),
          outcome(() => parseIdx(labelBytes, "labels")),
        ];
        for (const p of parsed) {
          if (p.ok) expect(p.value.data.length).toBe(p.value.dims.reduce((a, b) => a * b, 1));
        }
        const [i, l] = parsed;
        if (i!.ok && l!.ok) {
          const data = outcome(() => fromIdx(i.value, l.value, { images: "i", labels: "l" }, 3));
          if (data.ok) expect(data.value.inputs.length).toBe(i.value.data.length);
        }
      }),
      budget(500),
    );
  });

  test("gzip-compressed and cut or flipped on disk: a NetcError or the array", () => {
    const packed = gzipSync(images);
    const path = join(dir, "images.gz");
    fc.assert(
      fc.property(corrupt(packed), (bytes) => {
        writeFileSync(path, bytes);
        outcome(() => readIdxFile(path));
      }),
      budget(100),
    );
  });
});

describe("random calls of a model's methods", () => {
  const finite = fc.float({ noNaN: true, noDefaultInfinity: true, min: -4, max: 4 });
  const anyFloat = fc.oneof(finite, fc.constantFrom(NaN, Infinity, -Infinity, 3e38));
  /** A float array of `length` values, some perhaps not finite, or of another length. */
  const floats = (length: number) =>
    fc.oneof(
      fc.float32Array({
        minLength: length,
        maxLength: length,
        noNaN: true,
        noDefaultInfinity: true,
      }),
      fc.array(anyFloat, { minLength: length, maxLength: length }).map((a) => Float32Array.from(a)),
      fc.array(anyFloat, { maxLength: length + 3 }).map((a) => Float64Array.from(a)),
    );
  const classes = (n: number) =>
    fc.oneof(
      fc
        .array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n })
        .map((a) => Int32Array.from(a)),
      fc
        .array(fc.integer({ min: -2, max: 6 }), { maxLength: n + 2 })
        .map((a) => Int32Array.from(a)),
    );
  const junk = fc.oneof(
    fc.anything(),
    fc.constantFrom(
      null,
      undefined,
      new ArrayBuffer(16),
      new Uint8Array(32),
      new DataView(new ArrayBuffer(8)),
    ),
  );
  /** A record of the model's names and others, with values of every kind. */
  const record = (fields: Record<string, fc.Arbitrary<unknown>>) =>
    fc.record({ ...fields, extra: junk }, { requiredKeys: [] });
  const input = fc
    .nat({ max: BATCH + 1 })
    .chain((n) =>
      fc.oneof(
        { weight: 3, arbitrary: fc.record({ x: floats(n * 32), z: floats(n * 3) }) },
        record({ x: floats(n * 32), z: fc.oneof(floats(n * 3), junk) }),
        junk,
        floats(n * 32),
      ),
    );
  const target = fc
    .nat({ max: BATCH + 1 })
    .chain((n) =>
      fc.oneof(
        { weight: 3, arbitrary: fc.record({ scores: classes(n), value: floats(n * 2) }) },
        record({ scores: fc.oneof(classes(n), floats(n)), value: fc.oneof(floats(n * 2), junk) }),
        junk,
      ),
    );
  const call = fc.oneof(
    fc.record({ method: fc.constantFrom("forward", "predict"), input }),
    fc.record({
      method: fc.constantFrom("loss", "evaluate", "lossAndGrad", "trainStep"),
      input,
      target,
    }),
    fc.record({ method: fc.constant("setLearningRate" as const), value: fc.oneof(anyFloat, junk) }),
    fc.record({
      method: fc.constantFrom("load", "loadMatching"),
      bytes: fc.oneof(junk, fc.uint8Array({ maxLength: 64 })),
      source: fc.oneof(fc.constant(undefined), junk),
    }),
    fc.record({ method: fc.constant("save" as const) }),
  );
  type Call = typeof call extends fc.Arbitrary<infer T> ? T : never;

  function perform(model: Model, c: Call): unknown {
    // The calls are made with wrong types on purpose: the API must refuse them itself.
    const m = model as unknown as Record<string, (...args: unknown[]) => unknown>;
    switch (c.method) {
      case "forward":
      case "predict":
        return m[c.method]!(c.input);
      case "setLearningRate":
        return m["setLearningRate"]!(c.value);
      case "load":
      case "loadMatching":
        return m[c.method]!(c.bytes, c.source);
      case "save":
        return m["save"]!();
      default:
        return m[c.method]!(c.input, c.target);
    }
  }

  test.each([
    ["ts", 1],
    ["wasm", 1],
    ["wasm", 2],
  ] as const)(
    "%s, %i thread(s): a result or a NetcError, and a refusal changes nothing",
    (backend, threads) => {
      const model = create(backend, { threads });
      try {
        fc.assert(
          fc.property(fc.array(call, { minLength: 1, maxLength: 6 }), (calls) => {
            for (const c of calls) {
              const before = stateOf(model);
              const result = outcome(() => perform(model, c));
              // A training step whose loss is not finite changes nothing either.
              const failed =
                !result.ok || (typeof result.value === "number" && !Number.isFinite(result.value));
              const keeps = ["forward", "predict", "loss", "evaluate", "save"];
              if (failed || keeps.includes(c.method)) {
                expect(stateOf(model)).toEqual(before);
              }
            }
          }),
          budget(threads > 1 ? 60 : 150),
        );
      } finally {
        model.dispose();
      }
    },
  );

  test("createModel with arbitrary options: a model or a NetcError", () => {
    const option = fc.record(
      {
        batch: fc.oneof(fc.integer({ min: -2, max: 8 }), fc.constantFrom(2 ** 40, 1.5, NaN), junk),
        seed: fc.oneof(fc.integer({ min: -2, max: 2 ** 32 + 1 }), junk),
        optimizer: fc.oneof(
          fc.record(
            {
              name: fc.oneof(
                fc.constantFrom("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"),
                junk,
              ),
              args: fc.oneof(
                fc.record(
                  {
                    lr: fc.oneof(anyFloat, junk),
                    momentum: anyFloat,
                    betas: fc.oneof(fc.array(anyFloat, { maxLength: 3 }), junk),
                    nesterov: fc.oneof(fc.boolean(), junk),
                    rho: anyFloat,
                    alpha: anyFloat,
                    centered: fc.oneof(fc.boolean(), junk),
                    lr_decay: anyFloat,
                    initial_accumulator_value: anyFloat,
                  },
                  { requiredKeys: [] },
                ),
                junk,
              ),
            },
            { requiredKeys: [] },
          ),
          junk,
        ),
        precision: fc.oneof(fc.constantFrom("f32", "f64", "f16"), junk),
        backend: fc.oneof(fc.constantFrom("ts", "wasm", "gpu"), junk),
        threads: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constantFrom(2 ** 40, 0.5), junk),
        batchSize: junk,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: option }, junk), (options) => {
        const made = outcome(() => two.create(options as ModelOptions));
        if (made.ok) made.value.dispose();
      }),
      budget(300),
    );
  });
});

describe("NaN and Infinity through both backends", () => {
  /** Where to put a value that is not finite, if anywhere. */
  const poison = fc.option(
    fc.record({
      array: fc.constantFrom("x", "z", "value"),
      at: fc.nat(),
      value: fc.constantFrom(NaN, Infinity, -Infinity),
    }),
  );

  /** Equal within float32 rounding, NaN where the other is NaN, the same infinities. */
  const expectSame = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) {
      const [x, y] = [a[i]!, b[i]!];
      if (Number.isFinite(x)) expect(Math.abs(x - y), `${i}: ${x} ${y}`).toBeLessThan(1e-4);
      else expect(y, `at ${i}`).toBe(x);
    }
  };

  test("training refuses it alike; evaluation passes it on alike", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: BATCH }),
        fc.nat(),
        poison,
        fc.constantFrom("evaluate", "lossAndGrad", "trainStep"),
        (n, seed, bad, method) => {
          const { input, target } = batchOf(n, seed);
          if (bad) {
            const array = bad.array === "value" ? target.value : input[bad.array];
            array[bad.at % array.length] = bad.value;
          }
          const results = backends.map((backend) => {
            // SGD: Adam's first step would turn a sign difference of a tiny gradient into ±lr.
            const model = create(backend, { optimizer: { name: "SGD", args: { lr: 0.1 } } });
            const before = stateOf(model);
            const result = outcome(() => {
              if (method !== "evaluate") return [model[method](input, target)];
              const { loss, outputs } = model.evaluate(input, target);
              const { scores, value } = outputs as Record<string, Float32Array>;
              return [loss, ...scores!, ...value!];
            });
            if (!result.ok) expect(stateOf(model)).toEqual(before);
            return { result, state: stateOf(model) };
          });
          const [ts, wasm] = results as [(typeof results)[0], (typeof results)[0]];
          expect(ts.result.ok).toBe(!bad || method === "evaluate");
          if (!ts.result.ok || !wasm.result.ok) {
            expect(wasm.result).toEqual(ts.result);
            return;
          }
          expectSame(wasm.result.value, ts.result.value);
          ts.state.forEach((t, i) => expectSame(wasm.state[i]!, t));
        },
      ),
      budget(40),
    );
  });
});
