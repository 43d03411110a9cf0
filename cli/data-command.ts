// `netc data FILE.net --out F.npz`: the data `netc train` would train the model on (its built-in
// set, or --data read and checked), written in the .npz layout netc reads, so that another tool
// (the PyTorch export's torchrun entry point) trains on exactly the same samples.
import { zipSync } from "fflate";
import { bindData } from "../runtime/bind-data.js";
import type { Dataset } from "../runtime/data/dataset.js";
import { writeFileAtomic } from "../runtime/node/write-atomic.js";
import { compileFile } from "./compiled-file.js";
import { loadData, type DataFlags } from "./data-options.js";
import { ExitCode } from "./exit-codes.js";
import { checkOutputPath } from "./output-file.js";
import { printable } from "./printable.js";
import { defaults } from "./train-command.js";
import type { Layout } from "../runtime/api-types.js";

export interface DataCommandOptions extends DataFlags {
  out: string;
  seed?: number;
  limit?: number;
  model?: string;
}

/** A .npy file (version 1.0, little-endian, C order) of int32 or float32 values. */
export function encodeNpy(data: Int32Array | Float32Array, shape: readonly number[]): Uint8Array {
  const descr = data instanceof Int32Array ? "<i4" : "<f4";
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // The header, its 10-byte preamble and the newline end on a multiple of 64 bytes (numpy's rule).
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const bytes = new Uint8Array(10 + header.length + data.byteLength);
  bytes.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return bytes;
}

/** One part's arrays: `x_<part>`, and a target per judged output (`y_<part>_<output>` if several). */
function arrays(layout: Layout, set: Dataset, part: string): Record<string, Uint8Array> {
  const bindings = bindData(layout, set);
  const names = [...new Set(bindings.map((b) => b.name))];
  const files: Record<string, Uint8Array> = {
    [`x_${part}.npy`]: encodeNpy(set.inputs, [set.count, ...set.inputShape]),
  };
  for (const name of names) {
    const target = set.targets[bindings.find((b) => b.name === name)!.index]!;
    const key = names.length === 1 ? `y_${part}` : `y_${part}_${name}`;
    files[`${key}.npy`] = encodeNpy(target.data, [set.count, ...target.shape]);
  }
  return files;
}

export function runData(path: string, options: DataCommandOptions): ExitCode {
  const file = compileFile(path, { model: options.model, needsCriterion: "data" });
  if (!file.ok) return file.exitCode;
  checkOutputPath(options.out, "--out");
  const { layout } = file.compiled;
  const seed = options.seed ?? file.compiled.model.train.seed ?? defaults.seed;
  const limit = options.limit !== undefined ? { limit: options.limit } : {};
  const data = loadData(layout, options, { seed, ...limit });
  const files = { ...arrays(layout, data.train, "train"), ...arrays(layout, data.test, "test") };
  // Stored, not deflated: numpy's savez does the same, and float data hardly compresses.
  writeFileAtomic(options.out, zipSync(files, { level: 0 }));
  process.stdout.write(
    `wrote ${printable(options.out)}: ${Object.keys(files)
      .map((f) => f.slice(0, -4))
      .join(", ")}\n`,
  );
  return ExitCode.ok;
}
