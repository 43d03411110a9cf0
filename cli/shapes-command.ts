// `netc shapes`: a table of every node's output shape, parameters and FLOPs, per model; with
// `--kernels`, the compiled steps instead: the fused kernel each layer runs in, and its backend.
import type { BackendName } from "../compiler/backends/backend.js";
import { compile } from "../compiler/compile.js";
import { checkFiles, hasErrors, reportFailure, type CheckedFile } from "./checked-file.js";
import { colorsFor } from "./colors.js";
import { ExitCode, worst } from "./exit-codes.js";
import { kernelRows, renderKernels, type KernelRow } from "./kernel-listing.js";
import { renderModelSummary } from "./model-summary.js";
import { printable } from "./printable.js";
import { renderDiagnostics } from "./render-diagnostic.js";

export interface ShapesOptions {
  kernels?: boolean;
  json?: boolean;
  backend?: BackendName;
}

export function runShapes(paths: string[], options: ShapesOptions = {}): ExitCode {
  const c = colorsFor(process.stdout);
  const json: KernelRow[] = [];
  let afterTable = false;
  const print = (text: string) => {
    if (afterTable) process.stdout.write("\n");
    process.stdout.write(text);
    afterTable = true;
  };
  let failed: ExitCode = ExitCode.ok;
  const exitCode = checkFiles(paths, (file) => {
    const incomplete = hasErrors(file);
    // Diagnostics first: they explain why a table stops short. Each already ends in a blank line.
    if (file.result.diagnostics.length > 0) {
      const out = options.json ? process.stderr : process.stdout;
      if (afterTable && !options.json) out.write("\n");
      out.write(renderDiagnostics(file, colorsFor(out)));
      afterTable = false;
    }
    if (!options.kernels) {
      for (const model of file.result.models)
        print(renderModelSummary(model, printable(file.path), incomplete, c) + "\n");
      return;
    }
    if (incomplete) return;
    failed = worst(failed, listKernels(file, options, c, json, print));
  });
  if (options.json) process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  return worst(exitCode, failed);
}

function listKernels(
  file: CheckedFile,
  options: ShapesOptions,
  c: ReturnType<typeof colorsFor>,
  json: KernelRow[],
  print: (text: string) => void,
): ExitCode {
  const wasm = (options.backend ?? "wasm") === "wasm";
  for (const model of file.result.models) {
    const result = compile(file.lines.text, { model: model.name, backend: options.backend });
    if (!result.ok) {
      reportFailure(file.path, result.error);
      return ExitCode.errors;
    }
    const rows = kernelRows(result.compiled, file.path, wasm);
    if (options.json) for (const row of rows) json.push(row);
    else print(renderKernels(result.compiled, rows, printable(file.path), c) + "\n");
  }
  return ExitCode.ok;
}
