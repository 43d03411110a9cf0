// `netc check`: report every file's diagnostics with code frames, or as JSON for tools.
import type { Diagnostic } from "../compiler/index.js";
import { checkFiles, type CheckedFile } from "./checked-file.js";
import { colorsFor } from "./colors.js";
import type { ExitCode } from "./exit-codes.js";
import { printable } from "./printable.js";
import { renderDiagnostics } from "./render-diagnostic.js";

export interface CheckOptions {
  json?: boolean;
}

/** One diagnostic in `--json` output: 1-based lines and columns, the end exclusive. */
interface JsonDiagnostic {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Diagnostic["severity"];
  code: string;
  message: string;
}

export function runCheck(paths: string[], options: CheckOptions): ExitCode {
  const c = colorsFor(process.stdout);
  const json: JsonDiagnostic[] = [];
  const counts = { error: 0, warning: 0, files: 0 };
  const exitCode = checkFiles(paths, (file) => {
    const { diagnostics, models } = file.result;
    if (options.json) {
      for (const d of diagnostics) json.push(toJson(d, file));
    } else if (diagnostics.length === 0) {
      const names = models.map((m) => m.name).join(", ");
      process.stdout.write(`${printable(file.path)}: ${c.green("ok")} (${names})\n`);
    } else {
      process.stdout.write(renderDiagnostics(file, c));
      counts.files++;
      for (const d of diagnostics) counts[d.severity]++;
    }
  });

  if (options.json) process.stdout.write(JSON.stringify(json, null, 2) + "\n");
  else if (counts.files > 0) process.stdout.write(summary(counts) + "\n");
  return exitCode;
}

function toJson(d: Diagnostic, file: CheckedFile): JsonDiagnostic {
  const start = file.lines.at(d.range.pos);
  const end = file.lines.at(d.range.end);
  return {
    file: file.path,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    severity: d.severity,
    code: d.code,
    message: d.message,
  };
}

function summary(counts: { error: number; warning: number; files: number }): string {
  const parts = [plural(counts.error, "error"), plural(counts.warning, "warning")];
  const found = parts.filter((p) => !p.startsWith("0 ")).join(", ");
  return `${found} in ${plural(counts.files, "file")}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
