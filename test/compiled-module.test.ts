// The compiled module's API beyond one batch: `predict` over any number of samples, and the
// precise declarations `netc compile` writes, type-checked by a real tsc on a user's file.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { NetcError } from "../runtime/errors.js";
import { netc, root } from "./helpers/cli.js";
import { compileModel, pseudoRandom } from "./helpers/gradcheck.js";
import { typeCheck as tscOn } from "./helpers/type-check.js";

const dir = mkdtempSync(join(tmpdir(), "netc-module-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sample = (name: string) =>
  readFileSync(new URL(`../samples/${name}`, import.meta.url), "utf8");
const values = (length: number, seed: number) => {
  const next = pseudoRandom(seed);
  return Float32Array.from({ length }, () => next());
};

/** Two inputs, one output: names typed in the declarations. */
const pairSource = `model Pair {
  input left: [4]
  input right: [4]
  s = Add(left, right) -> Linear(3)
  output s
}
criterion MSE
`;

describe("predict", () => {
  test.each(["wasm", "ts"] as const)(
    "%s: any number of samples, batch by batch, exactly as forward on each batch",
    (backend) => {
      // Batch normalisation and dropout: evaluation mode, so batches do not affect each other.
      const net = compileModel(sample("cnn-bn.net")).create({ batch: 4, seed: 2, backend });
      const x = values(10 * 784, 1);
      const all = net.predict(x) as Float32Array;
      expect(all.length).toBe(10 * 10);
      const chunks = [
        [0, 4],
        [4, 8],
        [8, 10],
      ].map(([a, b]) => net.forward(x.subarray(a! * 784, b! * 784)) as Float32Array);
      expect(all).toEqual(Float32Array.from(chunks.flatMap((c) => [...c])));
      // Fewer samples than a batch is one partial pass.
      expect(net.predict(x.subarray(0, 3 * 784))).toEqual(chunks[0]!.subarray(0, 30));
    },
  );

  test("several outputs: a record of arrays over every sample, as forward returns", () => {
    const net = compileModel(sample("tiny-detector.net")).create({ batch: 2, seed: 1 });
    const x = values(5 * 3 * 64 * 64, 3);
    const all = net.predict(x) as Record<string, Float32Array>;
    expect(Object.keys(all)).toEqual(["boxes", "objectness"]);
    expect(all["boxes"]!.length).toBe(5 * 4 * 8 * 8);
    expect(all["objectness"]!.length).toBe(5 * 8 * 8);
    const last = net.forward(x.subarray(4 * 3 * 64 * 64)) as Record<string, Float32Array>;
    expect(all["boxes"]!.subarray(4 * 256)).toEqual(last["boxes"]);
    expect(all["objectness"]!.subarray(4 * 64)).toEqual(last["objectness"]);
  });

  test("several inputs: a record, each with the same number of samples", () => {
    const net = compileModel(pairSource).create({ batch: 2, seed: 1 });
    const left = values(5 * 4, 4);
    const right = values(5 * 4, 5);
    const all = net.predict({ left, right }) as Float32Array;
    expect(all.length).toBe(15);
    const last = net.forward({ left: left.subarray(16), right: right.subarray(16) });
    expect(all.subarray(12)).toEqual(last);
    expect(() => net.predict({ left, right: right.subarray(4) })).toThrow(
      new NetcError("input 'right' has 4 samples, the others 5"),
    );
  });

  test("no samples give empty outputs; a length that is not whole samples is refused", () => {
    const net = compileModel(sample("lenet5.net")).create({ batch: 4 });
    expect(net.predict(new Float32Array(0))).toEqual(new Float32Array(0));
    expect(() => net.predict(new Float32Array(10 * 784 + 5))).toThrow(
      new NetcError("input 'image' needs a multiple of [1, 28, 28] = 784 values; got 7845"),
    );
    // What an untyped caller may pass.
    const loose = net.predict as (input: unknown) => unknown;
    expect(() => loose(new Int32Array(784))).toThrow(
      new NetcError("input 'image' must be a Float32Array, got an Int32Array of 784 values"),
    );
    expect(() => loose({ image: new Float32Array(784), extra: 1 })).toThrow(NetcError);
    // forward still takes at most a batch, and says so.
    expect(() => net.forward(new Float32Array(5 * 784))).toThrow(
      new NetcError(
        "input 'image' needs a multiple of [1, 28, 28] = 784 values, at most 4 samples (3136); got 3920",
      ),
    );
  });
});

function write(path: string, content: string): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** `netc compile` into a new package directory; `standalone` inlines the runtime. */
function compileInto(name: string, source: string, standalone: boolean): string {
  const out = join(dir, name);
  write(join(out, "package.json"), `{ "type": "module" }\n`);
  const file = write(join(out, "src", `${name}.net`), source);
  const args = ["compile", file, "--out-dir", out];
  const result = netc(...(standalone ? [...args, "--standalone"] : args));
  expect(result.stderr).toBe("");
  if (!standalone) {
    // A project that installed netc: node_modules/netc is this checkout.
    mkdirSync(join(out, "node_modules"));
    symlinkSync(root, join(out, "node_modules", "netc"), "dir");
  }
  return out;
}

/** tsc's diagnostics on `consumer.ts` in `path`, "" when there are none. */
function typeCheck(path: string, consumer: string): string {
  const result = tscOn(path, consumer);
  return result.stdout + result.stderr;
}

// Each `@ts-expect-error` is a mistake the loose types (unions, records keyed by any string)
// let through: tsc fails on an expected error that does not come.
const singleOutput = `import { createModel, kernels, layout, type Signature } from "./lenet5.js";
import type { KernelFactory, Model } from "netc/runtime";
const model: Model<Signature> = await createModel({ batch: 8, seed: 1 });
const scores: Float32Array = model.forward(new Float32Array(8 * 784));
const all: Float32Array = model.predict(new Float32Array(100 * 784));
const loss: number = model.trainStep(new Float32Array(8 * 784), new Int32Array(8));
const { outputs } = model.evaluate(new Float32Array(784), new Int32Array(1));
const grad: Float32Array | Float64Array = model.inputGrad;
const factory: KernelFactory = kernels;
// @ts-expect-error: NLL's targets are class indices, an Int32Array
model.trainStep(new Float32Array(8 * 784), new Float32Array(8));
// @ts-expect-error: one input, so no record of inputs
model.forward({ image: new Float32Array(784) });
export const result = { scores, all, loss, outputs: outputs.length, grad, factory, layout };
`;

const multiOutput = `import { createModel } from "./tiny-detector.js";
const model = await createModel({ batch: 2 });
const x = new Float32Array(2 * 3 * 64 * 64);
const { boxes, objectness } = model.predict(x);
const b: Float32Array = boxes;
const o: Float32Array = objectness;
const loss: number = model.trainStep(x, {
  boxes: new Float32Array(2 * 256),
  objectness: new Float32Array(2 * 64),
});
// @ts-expect-error: a misspelt target name
model.trainStep(x, { box: new Float32Array(512), objectness: new Float32Array(128) });
// @ts-expect-error: a target missing
model.loss(x, { boxes: new Float32Array(512) });
// @ts-expect-error: two outputs: forward returns a record, not an array
const wrong: Float32Array = model.forward(x);
export const result = { b, o, loss, wrong };
`;

const multiInput = `import { createModel } from "./pair.js";
const model = await createModel({ batch: 2 });
const y: Float32Array = model.predict({ left: new Float32Array(4), right: new Float32Array(4) });
const grads = model.inputGrad;
const g: Float32Array | Float64Array = grads.left;
// @ts-expect-error: an input missing
model.forward({ left: new Float32Array(4) });
// @ts-expect-error: no input of that name
model.forward({ left: new Float32Array(4), right: new Float32Array(4), other: new Float32Array(4) });
export const result = { y, g };
`;

describe("the declarations of netc compile", () => {
  test("one output: forward and predict return a Float32Array; kernels are declared", () => {
    const out = compileInto("lenet5", sample("lenet5.net"), false);
    const dts = readFileSync(join(out, "lenet5.d.ts"), "utf8");
    expect(dts).toContain("export interface Signature extends ModelTypes {");
    expect(dts).toContain("  output: Float32Array;");
    expect(dts).toContain("export declare const kernels: KernelFactory;");
    expect(typeCheck(out, singleOutput)).toBe("");
  });

  test("several outputs and targets, standalone: records with the model's names", () => {
    const out = compileInto("tiny-detector", sample("tiny-detector.net"), true);
    expect(typeCheck(out, multiOutput)).toBe("");
  });

  test("several inputs: a record of the inputs, and of their gradients", () => {
    const out = compileInto("pair", pairSource, true);
    expect(typeCheck(out, multiInput)).toBe("");
  });

  test("the checks bite: a consumer that breaks the types is reported", () => {
    const out = compileInto("lenet5-wrong", sample("lenet5.net"), true);
    const wrong = `import { createModel } from "./lenet5-wrong.js";
const model = await createModel();
export const scores: Int32Array = model.forward(new Float32Array(784));
`;
    expect(typeCheck(out, wrong)).toMatch(
      /consumer\.ts\(3,14\): error TS2322: Type 'Float32Array.*' is not assignable to type 'Int32Array.*'/,
    );
  });
});
