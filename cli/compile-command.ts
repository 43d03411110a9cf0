// `netc compile`: a .net file becomes an ES module (`<name>.js`) and its declarations (`<name>.d.ts`).
import { mkdirSync } from "node:fs";
import { basename, extname, join } from "node:path";
import type { BackendName } from "../compiler/backends/backend.js";
import { writeFileAtomic } from "../runtime/node/write-atomic.js";
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
  const runtimeImport = options.runtime ?? DEFAULT_RUNTIME;
  const file = compileFile(path, { model: options.model, runtimeImport, backend: options.backend });
  if (!file.ok) return file.exitCode;
  const { compiled } = file;
  const module = options.standalone
    ? standaloneModule(compiled.module, runtimeImport)
    : compiled.module;

  const name = basename(path, extname(path));
  try {
    mkdirSync(options.outDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new NetcError(`cannot create the directory ${options.outDir}: ${code}`);
  }
  const js = join(options.outDir, `${name}.js`);
  const dts = join(options.outDir, `${name}.d.ts`);
  const encoder = new TextEncoder();
  writeFileAtomic(js, encoder.encode(module.js));
  writeFileAtomic(dts, encoder.encode(module.dts));

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
