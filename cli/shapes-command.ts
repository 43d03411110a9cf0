// `netc shapes`: a table of every node's output shape, parameters and FLOPs, per model.
import { checkFiles, hasErrors } from "./checked-file.js";
import { colorsFor } from "./colors.js";
import type { ExitCode } from "./exit-codes.js";
import { renderModelSummary } from "./model-summary.js";
import { printable } from "./printable.js";
import { renderDiagnostics } from "./render-diagnostic.js";

export function runShapes(paths: string[]): ExitCode {
  const c = colorsFor(process.stdout);
  let afterTable = false;
  return checkFiles(paths, (file) => {
    const incomplete = hasErrors(file);
    // Diagnostics first: they explain why a table stops short. Each already ends in a blank line.
    if (file.result.diagnostics.length > 0) {
      if (afterTable) process.stdout.write("\n");
      process.stdout.write(renderDiagnostics(file, c));
      afterTable = false;
    }
    for (const model of file.result.models) {
      if (afterTable) process.stdout.write("\n");
      process.stdout.write(renderModelSummary(model, printable(file.path), incomplete, c) + "\n");
      afterTable = true;
    }
  });
}
