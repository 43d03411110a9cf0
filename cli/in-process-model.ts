// A compiled model run in this process: the kernel source becomes the factory that an emitted
// module's `kernels` export would be; the WASM kernels run where the engine has SIMD.
import { availableParallelism } from "node:os";
import type { Compiled } from "../compiler/compile.js";
import type { BackendName, KernelFactory, Model, ModelOptions } from "../runtime/api-types.js";
import { instantiateSync } from "../runtime/model.js";
import { simdAvailable } from "../runtime/wasm.js";
import { UsageError } from "./usage-error.js";

export interface KernelChoice {
  /** By default wasm where WebAssembly SIMD exists. */
  backend?: BackendName;
  /** By default every core for the WASM kernels (the JS ones run on one). */
  threads?: number;
}

/** The backend and thread count that `--backend` and `--threads` ask for, defaults filled in. */
export function kernelChoice(
  choice: KernelChoice,
): Required<Pick<ModelOptions, "backend" | "threads">> {
  const backend = choice.backend ?? (simdAvailable() ? "wasm" : "ts");
  if (backend === "ts" && (choice.threads ?? 1) > 1)
    throw new UsageError("--threads needs the WASM kernels; the TS kernels run on one thread");
  return { backend, threads: choice.threads ?? (backend === "wasm" ? availableParallelism() : 1) };
}

/** The JS kernels' factory, as a compiled module's `kernels` export would be. */
export function kernelFactory(compiled: Compiled): KernelFactory {
  // The source is netc's own output, built from identifiers and numbers only (see the TS backend).
  return new Function("f", "iv", "N", "dropout", compiled.kernelsSource) as KernelFactory;
}

export function createModel(compiled: Compiled, options: ModelOptions): Model {
  return instantiateSync(compiled.layout, kernelFactory(compiled), options, compiled.wasm);
}
