// `netc export`: a checked model in another framework's format, written atomically: ONNX (the
// graph and its weights) or PyTorch (a Python module that loads weights when it runs).
import { basename, extname } from "node:path";
import type { Compiled } from "../compiler/compile.js";
import { ONNX_OPSET, exportOnnx, type Weights } from "../compiler/export/onnx.js";
import { exportTorch } from "../compiler/export/torch.js";
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

interface Written {
  bytes: Uint8Array;
  /** What the command's line says of the file. */
  note: string;
}

type Format = { extension: string } & (
  | { holdsWeights: true; write(compiled: Compiled, weights: Weights): Written }
  | {
      holdsWeights: false;
      write(compiled: Compiled, files: { source: string; out: string }): Written;
    }
);

export const exportFormats = ["onnx", "torch"] as const;
export type ExportFormat = (typeof exportFormats)[number];

const formats: Record<ExportFormat, Format> = {
  onnx: {
    extension: ".onnx",
    holdsWeights: true,
    write: (compiled, weights) => ({
      bytes: exportOnnx(compiled.model, weights),
      note: `ONNX opset ${ONNX_OPSET}`,
    }),
  },
  // The module loads its weights when it runs (its --init): see docs/moving-models.md.
  torch: {
    extension: ".py",
    holdsWeights: false,
    write: (compiled, { source, out }) => ({
      bytes: new TextEncoder().encode(
        exportTorch(compiled.model, { source: basename(source), file: basename(out) }),
      ),
      note: "a PyTorch module",
    }),
  },
};

export function runExport(path: string, options: ExportCommandOptions): ExitCode {
  const format = formats[options.format];
  if (!format.holdsWeights && (options.weights !== undefined || options.seed !== undefined))
    throw new UsageError(
      `--weights and --seed go with --format onnx; the ${options.format} module takes its weights when it runs (--init)`,
    );
  const file = compileFile(path, { model: options.model });
  if (!file.ok) return file.exitCode;
  const { compiled } = file;
  const out = options.out ?? `${basename(path, extname(path))}${format.extension}`;
  checkOutputPath(out, "--out");
  if (!format.holdsWeights) {
    const written = format.write(compiled, { source: path, out });
    writeFileAtomic(out, written.bytes);
    process.stdout.write(`${printable(out)}: model ${compiled.model.name}, ${written.note}\n`);
    return ExitCode.ok;
  }
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
