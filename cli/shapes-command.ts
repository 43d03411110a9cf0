// `netc shapes`: a table of every node's output shape, parameters and FLOPs, per model.
import { checkFile, hasErrors, reportFailure } from "./checked-file.js";
import { colorsFor } from "./colors.js";
import { ExitCode, worst } from "./exit-codes.js";
import { renderModelSummary } from "./model-summary.js";
import { printable } from "./printable.js";
import { renderDiagnostics } from "./render-diagnostic.js";

export function runShapes(paths: string[]): ExitCode {
  const c = colorsFor(process.stdout);
  let exitCode: ExitCode = ExitCode.ok;
  let afterTable = false;

  for (const path of paths) {
    const outcome = checkFile(path);
    if (!outcome.ok) {
      reportFailure(path, outcome.reason);
      exitCode = worst(exitCode, outcome.exitCode);
      continue;
    }
    const { file } = outcome;
    const incomplete = hasErrors(file);
    if (incomplete) exitCode = worst(exitCode, ExitCode.errors);
    // Diagnostics first: they explain why a table stops short. Each already ends in a blank line.
    if (file.result.diagnostics.length > 0) {
      if (afterTable) process.stdout.write("\n");
      process.stdout.write(renderDiagnostics(file, c));
      afterTable = false;
    }
    for (const model of file.result.models) {
      if (afterTable) process.stdout.write("\n");
      process.stdout.write(renderModelSummary(model, printable(path), incomplete, c) + "\n");
      afterTable = true;
    }
  }
  return exitCode;
}
