// One `.net` file read, checked and compiled for compile/train/eval; diagnostics go to stderr,
// rendered as `netc check` renders them, since stdout carries the command's own output.
import { basename } from "node:path";
import type { BackendName } from "../compiler/backends/backend.js";
import { compile, type Compiled } from "../compiler/compile.js";
import type { Diagnostic } from "../compiler/diagnostics.js";
import { checkFile, hasErrors, reportFailure } from "./checked-file.js";
import { colorsFor } from "./colors.js";
import { ExitCode } from "./exit-codes.js";
import { renderDiagnostics } from "./render-diagnostic.js";

export interface CompileFileOptions {
  /** Which model of the file (default: the first). */
  model?: string;
  runtimeImport?: string;
  backend?: BackendName;
}

export type CompiledFile =
  { ok: true; compiled: Compiled; diagnostics: Diagnostic[] } | { ok: false; exitCode: ExitCode };

export function compileFile(path: string, options: CompileFileOptions = {}): CompiledFile {
  const outcome = checkFile(path);
  if (!outcome.ok) {
    reportFailure(path, outcome.reason);
    return { ok: false, exitCode: outcome.exitCode };
  }
  const file = outcome.file;
  if (file.result.diagnostics.length > 0) {
    process.stderr.write(renderDiagnostics(file, colorsFor(process.stderr)));
  }
  if (hasErrors(file)) return { ok: false, exitCode: ExitCode.errors };
  const result = compile(file.lines.text, {
    model: options.model,
    runtimeImport: options.runtimeImport,
    backend: options.backend,
    // The name alone: the module's text does not depend on where it was compiled from.
    source: basename(path),
  });
  if (!result.ok) {
    reportFailure(path, result.error);
    return { ok: false, exitCode: ExitCode.errors };
  }
  return { ok: true, compiled: result.compiled, diagnostics: file.result.diagnostics };
}
