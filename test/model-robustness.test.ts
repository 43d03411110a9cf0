// The run-time failures issue 11 found, one test each: weights files that are devices, huge or
// not finite.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Model } from "../runtime/api-types.js";
import { NetcError } from "../runtime/errors.js";
import { readWeightsFile } from "../runtime/node/weights-file.js";
import { encodeSafetensors } from "../runtime/safetensors.js";
import { compileModel } from "./helpers/gradcheck.js";

const dir = mkdtempSync(join(tmpdir(), "netc-robust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends = ["ts", "wasm"] as const;

/** The NetcError `run` throws; anything else fails the test. */
function netcError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(NetcError);
    return (error as Error).message;
  }
  throw new Error("expected a NetcError");
}

const mlpSource =
  "model M {\n  input x: [8]\n  fc1: Linear(16) -> ReLU\n  fc2: Linear(3)\n  LogSoftMax\n}\ncriterion NLL\n";
const mlp = compileModel(mlpSource);
const stateOf = (model: Model) =>
  [...model.params, ...model.buffers].map((t) => Float64Array.from(t.data));

describe("NaN and Infinity in weights", () => {
  test.each(backends)(
    "%s: weights holding NaN or Infinity are refused, naming the tensor",
    (backend) => {
      const model = mlp.create({ batch: 4, backend });
      const tensors = [...model.params, ...model.buffers].map((t) => ({
        name: t.name,
        shape: t.shape,
        data: Float32Array.from(t.data),
      }));
      tensors[0]!.data.fill(NaN);
      tensors[3]!.data[2] = -Infinity;
      const before = stateOf(model);
      expect(netcError(() => model.load(encodeSafetensors(tensors), "nan.safetensors"))).toBe(
        "nan.safetensors: the weights hold values that are not finite numbers\n" +
          "  fc1.weight: 128 of 128 values are not finite, the first NaN at [0, 0]\n" +
          "  fc2.bias: 1 of 3 values are not finite, the first -Infinity at [2]",
      );
      expect(stateOf(model)).toEqual(before);
      model.dispose();
    },
  );
});

describe("weights files", () => {
  const model = mlp.create({ batch: 1, backend: "ts" });
  const weights = model.save();

  test("a device, a directory or a missing file is refused without reading it", () => {
    // /dev/zero used to be read until memory ran out.
    expect(netcError(() => readWeightsFile("/dev/zero", mlp.layout))).toBe(
      "cannot read the weights /dev/zero: is not a regular file (a device, a pipe or a socket)",
    );
    expect(netcError(() => readWeightsFile(dir, mlp.layout))).toBe(
      `cannot read the weights ${dir}: is a directory`,
    );
    expect(netcError(() => readWeightsFile(join(dir, "none"), mlp.layout))).toBe(
      `cannot read the weights ${join(dir, "none")}: no such file`,
    );
  });

  test("a file larger than the model's weights is refused before it is read", () => {
    // 3 GB used to be a raw ERR_FS_FILE_TOO_LARGE; a sparse file costs no disk.
    const path = join(dir, "huge.safetensors");
    writeFileSync(path, weights);
    truncateSync(path, 3 * 1024 ** 3);
    expect(netcError(() => readWeightsFile(path, mlp.layout))).toBe(
      `${path}: ${3 * 1024 ** 3 - weights.length} bytes after the last tensor's data belong to no tensor`,
    );
    // Weights of another model are named as such, from the header alone.
    const other = compileModel(mlpSource.replace("Linear(3)", "Linear(4)")).create({ batch: 1 });
    writeFileSync(path, other.save());
    truncateSync(path, 3 * 1024 ** 3);
    expect(netcError(() => readWeightsFile(path, mlp.layout))).toMatch(
      /the weights do not fit the model \(saved from another model\?\)\n  fc2\.weight: the model has shape \[3, 16\], the file \[4, 16\]\n/,
    );
    const exact = join(dir, "exact.safetensors");
    writeFileSync(exact, weights);
    expect(new Uint8Array(readWeightsFile(exact, mlp.layout))).toEqual(weights);
  });
});
