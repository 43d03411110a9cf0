// `netc export`: a checked model and its weights in another framework's format (ONNX; PyTorch to
// come), written atomically.
import { basename, extname } from "node:path";
import type { Compiled } from "../compiler/compile.js";
import { ONNX_OPSET, exportOnnx, type Weights } from "../compiler/export/onnx.js";
import { formatCount } from "../compiler/units.js";
import { readWeightsFile } from "../runtime/node/weights-file.js";
import { writeFileAtomic } from "../runtime/node/write-atomic.js";
import { decodeSafetensors } from "../runtime/safetensors.js";
import { compileFile } from "./compiled-file.js";
import { ExitCode } from "./exit-codes.js";
import { createModel } from "./in-process-model.js";
import { checkOutputPath } from "./output-file.js";
import { printable } from "./printable.js";
import { defaults } from "./train-command.js";
import { UsageError } from "./usage-error.js";

export interface ExportCommandOptions {
  format: ExportFormat;
  weights?: string;
  out?: string;
  seed?: number;
  model?: string;
}

interface Format {
  extension: string;
  /** The file's bytes, and what it says of itself on the command's line. */
  write(compiled: Compiled, weights: Weights): { bytes: Uint8Array; note: string };
}

export const exportFormats = ["onnx", "torch"] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** The formats by name; PyTorch's is not written yet (branch issue12-torch). */
const formats: Record<ExportFormat, Format | undefined> = {
  onnx: {
    extension: ".onnx",
    write: (compiled, weights) => ({
      bytes: exportOnnx(compiled.model, weights),
      note: `ONNX opset ${ONNX_OPSET}`,
    }),
  },
  torch: undefined,
};

export function runExport(path: string, options: ExportCommandOptions): ExitCode {
  const format = formats[options.format];
  if (!format) throw new UsageError(`--format ${options.format} is not available yet`);
  const file = compileFile(path, { model: options.model });
  if (!file.ok) return file.exitCode;
  const { compiled } = file;
  const out = options.out ?? `${basename(path, extname(path))}${format.extension}`;
  checkOutputPath(out, "--out");
  // The weights as `netc train --save` writes them: loaded (and checked) by the model itself, or
  // its initialisation from the seed.
  const seed = options.seed ?? compiled.model.train.seed ?? defaults.seed;
  const model = createModel(compiled, { batch: 1, seed, backend: "ts", threads: 1 });
  let saved: Uint8Array;
  try {
    if (options.weights)
      model.load(readWeightsFile(options.weights, compiled.layout), printable(options.weights));
    saved = model.save();
  } finally {
    model.dispose();
  }
  const weights = decodeSafetensors(saved, "the model's weights");
  const written = format.write(compiled, weights);
  writeFileAtomic(out, written.bytes);
  const params = [...weights.values()].reduce((sum, t) => sum + t.data.length, 0);
  const origin = options.weights
    ? `weights from ${printable(options.weights)}`
    : `no --weights: the initial weights from seed ${seed}`;
  process.stdout.write(
    `${printable(out)}: model ${compiled.model.name}, ${written.note}, ${formatCount(params)} weights; ${origin}\n`,
  );
  return ExitCode.ok;
}
