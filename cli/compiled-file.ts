// One `.net` file read, checked and compiled for compile/train/eval; diagnostics go to stderr,
// rendered as `netc check` renders them, since stdout carries the command's own output.
import { basename } from "node:path";
import type { BackendName } from "../compiler/backends/backend.js";
import { compile, type Compiled } from "../compiler/compile.js";
import type { Diagnostic } from "../compiler/diagnostics.js";
import { checkFile, hasErrors, reportFailure } from "./checked-file.js";
import { colorsFor } from "./colors.js";
import { ExitCode } from "./exit-codes.js";
import { printable } from "./printable.js";
import { renderDiagnostics } from "./render-diagnostic.js";

export interface CompileFileOptions {
  /** Which model of the file (default: the first). */
  model?: string;
  runtimeImport?: string;
  backend?: BackendName;
  /**
   * The command that trains or evaluates the model (train, eval, data): it needs the model's
   * criterion, and a model without one is an error before anything is read or written.
   */
  needsCriterion?: string;
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
  const { model } = result.compiled;
  if (options.needsCriterion !== undefined && result.compiled.layout.targets.length === 0) {
    // Where the model starts: a file may hold several, and the criterion goes after this one.
    const decl = file.result.ast.decls.find(
      (d) => d.kind === "Model" && d.name.name === model.name,
    );
    const line = decl ? `:${file.lines.at(decl.range.pos).line}` : "";
    process.stderr.write(
      `netc: ${printable(path)}${line}: model ${model.name} has no criterion, which netc ${options.needsCriterion} needs: it gives the loss and the targets the data must have; add one after the model, e.g. \`criterion NLL\` for class indices after LogSoftMax, \`criterion CrossEntropy\` on class scores or \`criterion MSE\` for values (see docs/language.md, "The criterion")\n`,
    );
    return { ok: false, exitCode: ExitCode.errors };
  }
  return { ok: true, compiled: result.compiled, diagnostics: file.result.diagnostics };
}
