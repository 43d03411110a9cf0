// One input file read and checked, or the one-line reason why netc could not check it.
import { check, type CheckResult } from "../compiler/index.js";
import { ExitCode, worst } from "./exit-codes.js";
import { LineMap } from "../grammar/positions.js";
import { printable } from "./printable.js";
import { readSource } from "./read-source.js";

export interface CheckedFile {
  path: string;
  lines: LineMap;
  result: CheckResult;
}

export type CheckOutcome =
  { ok: true; file: CheckedFile } | { ok: false; reason: string; exitCode: ExitCode };

export function checkFile(path: string): CheckOutcome {
  const source = readSource(path);
  if (!source.ok) return { ok: false, reason: source.reason, exitCode: ExitCode.usage };
  const result = check(source.text);
  // The checker accepts a file with nothing in it, but on the command line it is surely a mistake.
  if (result.ast.decls.length === 0 && result.diagnostics.length === 0) {
    const what = source.text.trim() === "" ? "the file is empty" : "the file has only comments";
    return { ok: false, reason: `${what}; expected a 'model'`, exitCode: ExitCode.errors };
  }
  return { ok: true, file: { path, lines: new LineMap(source.text), result } };
}

export function reportFailure(path: string, reason: string): void {
  process.stderr.write(`netc: ${printable(path)}: ${reason}\n`);
}

export function hasErrors(file: CheckedFile): boolean {
  return file.result.diagnostics.some((d) => d.severity === "error");
}

/**
 * Checks each path in turn, handing every readable file to `visit`; an unreadable one is
 * reported and the others still run. Returns the worst exit code (errors count as 1).
 */
export function checkFiles(paths: readonly string[], visit: (file: CheckedFile) => void): ExitCode {
  let exitCode: ExitCode = ExitCode.ok;
  for (const path of paths) {
    const outcome = checkFile(path);
    if (!outcome.ok) {
      reportFailure(path, outcome.reason);
      exitCode = worst(exitCode, outcome.exitCode);
      continue;
    }
    if (hasErrors(outcome.file)) exitCode = worst(exitCode, ExitCode.errors);
    visit(outcome.file);
  }
  return exitCode;
}
