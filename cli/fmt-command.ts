// `netc fmt`: rewrite .net files in netc's one style, or with --check list those that are not.
import { parse } from "../compiler/check.js";
import { format } from "../grammar/format.js";
import { LineMap } from "../grammar/positions.js";
import { NetcError } from "../runtime/errors.js";
import { writeFileAtomic } from "../runtime/node/write-atomic.js";
import { reportFailure } from "./checked-file.js";
import { colorsFor } from "./colors.js";
import { ExitCode, reportBug, worst } from "./exit-codes.js";
import { printable } from "./printable.js";
import { readSource } from "./read-source.js";
import { renderDiagnostics } from "./render-diagnostic.js";

export interface FmtOptions {
  check?: boolean;
}

export function runFmt(paths: string[], options: FmtOptions): ExitCode {
  const c = colorsFor(process.stdout);
  let exitCode: ExitCode = ExitCode.ok;
  for (const path of paths) {
    const source = readSource(path);
    if (!source.ok) {
      reportFailure(path, source.reason);
      exitCode = worst(exitCode, ExitCode.usage);
      continue;
    }
    const { ast, diagnostics } = parse(source.text);
    if (diagnostics.length > 0) {
      // Only syntax errors stop the formatter; the checker's findings are `netc check`'s job.
      const file = {
        path,
        lines: new LineMap(source.text),
        result: { ast, diagnostics, models: [] },
      };
      process.stdout.write(renderDiagnostics(file, c));
      exitCode = worst(exitCode, ExitCode.errors);
      continue;
    }
    const result = format(source.text);
    if ("error" in result) {
      // Not the user's doing: the formatter refused a file it could read, and says why.
      reportFailure(path, result.error);
      process.stderr.write(reportBug);
      exitCode = worst(exitCode, ExitCode.internal);
      continue;
    }
    if (result.text === source.text) continue;
    if (options.check) {
      process.stdout.write(`${printable(path)}\n`);
      exitCode = worst(exitCode, ExitCode.errors);
      continue;
    }
    try {
      // Atomic, through a symbolic link, with the file's permissions (see writeFileAtomic); its
      // line breaks were kept by format, and its byte order mark is kept here.
      const bom = source.bom ? "\ufeff" : "";
      writeFileAtomic(path, new TextEncoder().encode(bom + result.text));
    } catch (error) {
      if (!(error instanceof NetcError)) throw error;
      // One unwritable file (its message names it) need not stop the others.
      process.stderr.write(`netc: ${printable(error.message)}\n`);
      exitCode = worst(exitCode, ExitCode.usage);
    }
  }
  return exitCode;
}
