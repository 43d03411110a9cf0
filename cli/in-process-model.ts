// A compiled model run in this process: the kernel source becomes the factory that an emitted
// module's `kernels` export would be.
import type { Compiled } from "../compiler/compile.js";
import type { Model, ModelOptions } from "../runtime/api-types.js";
import { instantiate, type KernelFactory } from "../runtime/model.js";

export function createModel(compiled: Compiled, options: ModelOptions): Model {
  // The source is netc's own output, built from identifiers and numbers only (see emit-ts).
  const kernels = new Function("f", "iv", "N", "random", compiled.kernelsSource) as KernelFactory;
  return instantiate(compiled.layout, kernels, options);
}
