// The runtime's view of a program: every named tensor's place in the arena, as plain data.
import type { Layout, LayoutTensor } from "../../runtime/api-types.js";
import type { MemoryPlan } from "./plan.js";
import { elementCount, type Program } from "./program.js";

// The layout is the contract with the runtime; its one definition is the runtime's API types.
export type { Layout, LayoutTensor } from "../../runtime/api-types.js";

export function layoutOf(program: Program, plan: MemoryPlan): Layout {
  const describe = (id: number, name: string): LayoutTensor => {
    const t = program.tensors[id]!;
    return { name, shape: [...t.shape], dtype: t.dtype, offset: plan.offsets[id]! };
  };
  const region = (role: "param" | "grad") => {
    const ts = program.tensors.filter((t) => t.role === role);
    const offset = ts.length > 0 ? plan.offsets[ts[0]!.id]!.fixed : 0;
    return { offset, size: ts.reduce((s, t) => s + elementCount(t.shape), 0) };
  };
  return {
    model: program.model,
    fixedSize: plan.fixedSize,
    perSampleSize: plan.perSampleSize,
    inputs: program.inputs.map((i) => describe(i.tensor, i.name)),
    outputs: program.outputs.map((o) => describe(o.tensor, o.name)),
    targets: program.targets.map((t) => ({
      ...describe(t.tensor, t.name),
      criterion: t.criterion,
      ...(t.classes ? { classes: t.classes } : {}),
      ...(t.ignore !== undefined ? { ignore: t.ignore } : {}),
    })),
    params: program.params.map((p) => {
      const t = program.tensors[p.tensor]!;
      return { ...describe(p.tensor, p.name), trainable: t.role === "param", init: t.init! };
    }),
    paramRegion: region("param"),
    gradRegion: region("grad"),
    inputGrads: program.inputGrads.map((g) => describe(g.tensor, g.name)),
    loss: plan.offsets[program.lossTensor]!.fixed,
  };
}
