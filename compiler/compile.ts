// compile(source): check, lower to kernels, plan memory, emit both backends and the module.
import type { WasmKernels } from "../runtime/api-types.js";
import type { BackendName } from "./backends/backend.js";
import { tsBackend } from "./backends/ts/emit.js";
import { wasmBackend } from "./backends/wasm/emit.js";
import { check } from "./check.js";
import type { Diagnostic } from "./diagnostics.js";
import type { ModelIR } from "./ir.js";
import { layoutOf, type Layout } from "./lower/layout.js";
import { lower, LoweringError } from "./lower/lower.js";
import { planMemory } from "./lower/plan.js";
import type { Program } from "./lower/program.js";
import { emitModule, type ModuleText } from "./module.js";

export interface CompileOptions {
  /** Which model of the file (default: the first). */
  model?: string;
  /** What the emitted module imports the runtime from. */
  runtimeImport?: string;
  /** The file name, for the generated module's header. */
  source?: string;
  /**
   * "wasm" (default): the module carries the WASM kernels and the JS ones as their fallback;
   * "ts": the JS kernels only.
   */
  backend?: BackendName;
}

export interface Compiled {
  model: ModelIR;
  program: Program;
  layout: Layout & { train: ModelIR["train"] };
  /** The body of the kernel factory `(f, iv, N, random) => steps`. */
  kernelsSource: string;
  /** The WebAssembly kernels (whatever the backend: tests and benchmarks run both). */
  wasm: WasmKernels;
  module: ModuleText;
}

export type CompileResult =
  | { ok: true; diagnostics: Diagnostic[]; compiled: Compiled }
  | { ok: false; diagnostics: Diagnostic[]; error: string };

export function compile(text: string, options: CompileOptions = {}): CompileResult {
  const { diagnostics, models } = check(text);
  if (diagnostics.some((d) => d.severity === "error")) {
    return { ok: false, diagnostics, error: "the file has errors" };
  }
  const model = options.model ? models.find((m) => m.name === options.model) : models[0];
  if (!model) {
    const names = models.map((m) => m.name).join(", ") || "none";
    return {
      ok: false,
      diagnostics,
      error: `no model '${options.model ?? ""}' in the file (models: ${names})`,
    };
  }
  try {
    const program = lower(model);
    const plan = planMemory(program);
    const layout = { ...layoutOf(program, plan), train: model.train };
    const kernelsSource = tsBackend.emit(program, plan);
    const wasm = wasmBackend.emit(program, plan);
    const module = emitModule(
      program,
      layout,
      kernelsSource,
      options.runtimeImport ?? "netc/runtime",
      options.source ?? `${model.name}.net`,
      (options.backend ?? "wasm") === "wasm" ? wasm : undefined,
    );
    return {
      ok: true,
      diagnostics,
      compiled: { model, program, layout, kernelsSource, wasm, module },
    };
  } catch (e) {
    if (e instanceof LoweringError) return { ok: false, diagnostics, error: e.message };
    throw e;
  }
}
