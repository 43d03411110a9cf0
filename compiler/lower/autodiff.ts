// Compile-time autodiff's bookkeeping: one gradient tensor per memory root, the first part
// written to it overwrites, every later part adds.
import type { ProgramBuilder } from "./program-builder.js";

export interface GradientPart {
  tensor: number;
  /** Another part was written before: add into the tensor. */
  accumulate: boolean;
}

export class Gradients {
  private readonly ofRoot = new Map<number, number>();
  private readonly written = new Set<number>();

  constructor(private readonly b: ProgramBuilder) {}

  /** The gradient tensor of a value (shared by every alias of its memory). */
  of(value: number): number {
    const root = this.b.root(value);
    let g = this.ofRoot.get(root);
    if (g === undefined) {
      const t = this.b.tensors[root]!;
      g = this.b.tensor({
        name: `grad:${t.name}`,
        shape: t.shape,
        perSample: true,
        dtype: "f32",
        role: "gradient",
      });
      this.ofRoot.set(root, g);
    }
    return g;
  }

  /** Where the next part of a value's gradient goes, and whether it adds to an earlier one. */
  part(value: number): GradientPart {
    const tensor = this.of(value);
    const accumulate = this.written.has(tensor);
    this.written.add(tensor);
    return { tensor, accumulate };
  }

  /** The value's gradient when some part of it was written (the loss depends on the value). */
  reached(value: number): number | undefined {
    const g = this.ofRoot.get(this.b.root(value));
    return g !== undefined && this.written.has(g) ? g : undefined;
  }

  /** A parameter's gradient tensor is written by the step being added. */
  wrote(tensor: number): void {
    this.written.add(tensor);
  }

  has(tensor: number): boolean {
    return this.written.has(tensor);
  }
}
