// The program under construction: its tensors and the steps of each phase.
import type { Step, Tensor } from "./program.js";

export class ProgramBuilder {
  readonly tensors: Tensor[] = [];
  readonly forward: Step[] = [];
  readonly loss: Step[] = [];
  readonly backward: Step[] = [];

  tensor(t: Omit<Tensor, "id">): number {
    const id = this.tensors.length;
    this.tensors.push({ id, ...t });
    return id;
  }

  /** The tensor whose memory `id` uses (following View/Flatten and fused activations). */
  root(id: number): number {
    let t = this.tensors[id]!;
    while (t.aliasOf !== undefined) t = this.tensors[t.aliasOf]!;
    return t.id;
  }
}
