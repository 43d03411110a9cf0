// What a backend is: a name, code for kernel ops, and the emitter of a whole program.
import type { BackendName } from "../../runtime/api-types.js";
import type { MemoryPlan } from "../lower/plan.js";
import type { Program } from "../lower/program.js";
import { opNames, type OpName } from "../ops.js";

export type { BackendName } from "../../runtime/api-types.js";

/** Every backend, for the CLI's choices. */
export const backendNames: readonly BackendName[] = ["ts", "wasm"];

export interface Backend<Emitters extends { readonly [K in OpName]?: unknown }, Output> {
  readonly name: BackendName;
  /**
   * Code per kernel op. The TS backend's table is total (by its type); a partial backend leaves
   * the steps of the ops it lacks, and of attributes its code declines, to the TS kernels.
   */
  readonly emitters: Emitters;
  emit(program: Program, plan: MemoryPlan): Output;
}

/** The ops a backend has no code for at all. */
export const missingOps = (backend: Backend<{ readonly [K in OpName]?: unknown }, unknown>) =>
  opNames.filter((op) => backend.emitters[op] === undefined);
