// `netc compile`: a .net file becomes an ES module (`<name>.js`) and its declarations (`<name>.d.ts`).
import { mkdirSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import type { BackendName } from "../compiler/backends/backend.js";
import { writeFilesAtomic } from "../runtime/node/write-atomic.js";
import { NetcError } from "../runtime/errors.js";
import { compileFile } from "./compiled-file.js";
import { ExitCode } from "./exit-codes.js";
import { printable } from "./printable.js";
import { standaloneModule } from "./standalone.js";
import { formatCount } from "../compiler/units.js";
import { UsageError } from "./usage-error.js";

export const DEFAULT_RUNTIME = "netc/runtime";

export interface CompileCommandOptions {
  backend: BackendName;
  outDir: string;
  standalone?: boolean;
  runtime?: string;
  model?: string;
}

export function runCompile(path: string, options: CompileCommandOptions): ExitCode {
  if (options.standalone && options.runtime !== undefined) {
    throw new UsageError("--standalone inlines the runtime: it cannot be used with --runtime");
  }
  if (options.outDir === "")
    throw new UsageError("--out-dir is empty: give a directory, such as out");
  const runtimeImport = options.runtime ?? DEFAULT_RUNTIME;
  const file = compileFile(path, { model: options.model, runtimeImport, backend: options.backend });
  if (!file.ok) return file.exitCode;
  const { compiled } = file;
  const module = options.standalone
    ? standaloneModule(compiled.module, runtimeImport)
    : compiled.module;

  const name = basename(path, extname(path));
  makeOutDir(options.outDir);
  const js = join(options.outDir, `${name}.js`);
  const dts = join(options.outDir, `${name}.d.ts`);
  const encoder = new TextEncoder();
  // Both or neither: a module without its declarations (or beside older ones) would mislead.
  writeFilesAtomic([
    { path: js, bytes: encoder.encode(module.js) },
    { path: dts, bytes: encoder.encode(module.dts) },
  ]);

  const params = compiled.layout.params.reduce(
    (sum, p) => sum + p.shape.reduce((a, b) => a * b, 1),
    0,
  );
  const imports = options.standalone ? "standalone" : `imports ${runtimeImport}`;
  process.stdout.write(
    `${printable(js)}, ${printable(dts)}: model ${compiled.model.name}, ${formatCount(params)} parameters (${printable(imports)})\n`,
  );
  return ExitCode.ok;
}

const mkdirReasons: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  ENOTDIR: "a part of the path is a file, not a directory",
  ENOENT: "the file system does not allow it there",
  ELOOP: "too many levels of symbolic links",
};

/** Creates `--out-dir` (and its parents) if need be, or says in a sentence why it cannot. */
function makeOutDir(dir: string): void {
  const fail = (reason: string) => {
    throw new NetcError(`--out-dir ${printable(dir)}: ${reason}`);
  };
  try {
    const existing = statSync(dir, { throwIfNoEntry: false });
    if (existing && !existing.isDirectory()) fail("is a file, not a directory");
    makeDirectories(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    fail(`cannot create the directory (${mkdirReasons[code] ?? code})`);
  }
}

/**
 * `mkdir -p`, one level at a time from the first missing one. Not mkdirSync's `recursive`:
 * where mkdir fails with ENOENT though the parent exists (under /proc), it retries forever.
 */
function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); !statSync(at, { throwIfNoEntry: false }); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const at of missing.reverse()) mkdirSync(at);
}
