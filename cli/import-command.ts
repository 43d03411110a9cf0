// `netc import`: an ONNX file becomes a `.net` file and the `.safetensors` of its weights beside
// it, both written atomically, or neither when netc cannot express a node (each one listed).
import { basename, extname } from "node:path";
import { importOnnx } from "../compiler/import/onnx.js";
import { formatCount } from "../compiler/units.js";
import { withRegularFile } from "../runtime/node/read-file.js";
import { writeFilesAtomic } from "../runtime/node/write-atomic.js";
import { encodeSafetensors } from "../runtime/safetensors.js";
import { ExitCode } from "./exit-codes.js";
import { checkOutputPath } from "./output-file.js";
import { printable } from "./printable.js";
import { UsageError } from "./usage-error.js";

export interface ImportCommandOptions {
  out?: string;
}

export function runImport(path: string, options: ImportCommandOptions): ExitCode {
  const out = options.out ?? `${basename(path, extname(path))}.net`;
  if (extname(out) !== ".net") throw new UsageError(`--out ${printable(out)}: a .net file, please`);
  const weightsPath = `${out.slice(0, -".net".length)}.safetensors`;
  checkOutputPath(out, "--out");
  const bytes = withRegularFile(path, "the ONNX file", (file) => file.read(0, file.size));
  const result = importOnnx(bytes, printable(path));
  if (!result.ok) {
    const lines = result.problems.map(
      (p) => `  node ${printable(p.node)} (${printable(p.opType)}): ${printable(p.message)}`,
    );
    process.stderr.write(
      `netc: ${printable(path)}: netc cannot express ${result.problems.length === 1 ? "this node" : `these ${result.problems.length} nodes`}; nothing written\n${lines.join("\n")}\n`,
    );
    return ExitCode.errors;
  }
  writeFilesAtomic([
    { path: out, bytes: new TextEncoder().encode(result.source) },
    { path: weightsPath, bytes: encodeSafetensors(result.tensors) },
  ]);
  const values = result.tensors.reduce((sum, t) => sum + t.data.length, 0);
  process.stdout.write(
    `${printable(out)}, ${printable(weightsPath)}: model ${result.modelName}, ${formatCount(values)} weights\n`,
  );
  return ExitCode.ok;
}
