// A compiled model run in this process: the kernel source becomes the factory that an emitted
// module's `kernels` export would be; the WASM kernels run where the engine has SIMD.
import { availableParallelism } from "node:os";
import type { Compiled } from "../compiler/compile.js";
import type { Model, ModelOptions } from "../runtime/api-types.js";
import { instantiate, type KernelFactory } from "../runtime/model.js";
import { simdAvailable } from "../runtime/wasm.js";
import { UsageError } from "./usage-error.js";

export interface KernelChoice {
  /** "wasm" or "ts"; by default wasm where WebAssembly SIMD exists. */
  target?: "wasm" | "ts";
  /** By default every core for the WASM kernels (the JS ones run on one). */
  threads?: number;
}

/** The backend and thread count that `--target` and `--threads` ask for, defaults filled in. */
export function kernelChoice(
  choice: KernelChoice,
): Required<Pick<ModelOptions, "backend" | "threads">> {
  const backend = choice.target ?? (simdAvailable() ? "wasm" : "ts");
  if (backend === "ts" && (choice.threads ?? 1) > 1)
    throw new UsageError("--threads needs the WASM kernels; the TS kernels run on one thread");
  return { backend, threads: choice.threads ?? (backend === "wasm" ? availableParallelism() : 1) };
}

export function createModel(compiled: Compiled, options: ModelOptions): Model {
  // The source is netc's own output, built from identifiers and numbers only (see emit-ts).
  const kernels = new Function("f", "iv", "N", "random", compiled.kernelsSource) as KernelFactory;
  return instantiate(compiled.layout, kernels, options, compiled.wasm);
}
