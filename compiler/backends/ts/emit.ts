// The TS backend: a kernel program and its memory plan become the body of a JavaScript kernel
// factory with every shape a constant; the batch size N is fixed when the model is created.
import type { MemoryPlan } from "../../lower/plan.js";
import { parameterBackward, type Program, type Step } from "../../lower/program.js";
import type { OpName, StepOf } from "../../ops.js";
import type { Backend } from "../backend.js";
import { jsHelpers } from "./kernels/activations.js";
import { tsKernels } from "./kernels/index.js";

/** Source names reach generated code only through this (comments) or JSON.stringify (data). */
export const safeComment = (s: string): string => s.replace(/[^A-Za-z0-9_.:\- ]/g, "?");

/** A step's JavaScript: its op's emitter with the names of its tensors' offsets. */
function emitStep<K extends OpName>(step: StepOf<K>): string {
  const name = (id: number) => (id >= 0 ? `t${id}` : "");
  return tsKernels[step.kernel]({
    ins: step.inputs.map(name),
    outs: step.outputs.map(name),
    a: step.attrs,
    acc: step.accumulate,
  });
}

/**
 * The body of `function (f, iv, N, dropout)` returning `{ forward(training, count), loss(count),
 * backward(inputGrads) }`, and each step's function in `steps` (run by a WASM module, after
 * `mode`); `backward(false)` runs only the steps that lead to parameter gradients:
 * `f` is the arena (Float32Array, or Float64Array for gradient checks), `iv` an Int32Array over it.
 */
export function emitKernels(program: Program, plan: MemoryPlan): string {
  const used = new Set<number>();
  const all = [...program.forward, ...program.loss, ...program.backward];
  for (const s of all) for (const id of [...s.inputs, ...s.outputs]) if (id >= 0) used.add(id);
  const lines: string[] = [];
  for (const id of [...used].sort((a, b) => a - b)) {
    const { fixed, perSample } = plan.offsets[id]!;
    const t = program.tensors[id]!;
    lines.push(
      `const t${id} = ${fixed}${perSample ? ` + N * ${perSample}` : ""}; // ${safeComment(t.name)}`,
    );
  }
  lines.push("let count = N, training = false;");
  let index = 0;
  const phase = (steps: Step[]) =>
    steps.map((step) => {
      const name = `s${index++}`;
      lines.push(`function ${name}() { // ${step.kernel}\n${emitStep(step)}\n}`);
      return `${name}();`;
    });
  const forward = phase(program.forward);
  const loss = phase(program.loss);
  const backward = phase(program.backward);
  const forParams = new Set(parameterBackward(program));
  const paramsOnly = backward.filter((_, i) => forParams.has(program.backward[i]!));
  // The helpers the steps call (erf), defined once ahead of them.
  const body = lines.join("\n");
  for (const [name, source] of Object.entries(jsHelpers))
    if (new RegExp(`\\b${name}\\(`).test(body)) lines.unshift(source);
  lines.push(`return {
  steps: [${Array.from({ length: index }, (_, i) => `s${i}`).join(", ")}],
  mode(isTraining, valid) { training = isTraining; count = valid; },
  forward(isTraining, valid = N) { training = isTraining; count = valid; ${forward.join(" ")} },
  loss(valid) { count = valid; ${loss.join(" ")} },
  backward(inputGrads = true) { if (inputGrads) { ${backward.join(" ")} } else { ${paramsOnly.join(" ")} } },
};`);
  return lines.join("\n");
}

/** JavaScript for every op: the reference and the fallback of every other backend. */
export const tsBackend: Backend<typeof tsKernels, string> = {
  name: "ts",
  emitters: tsKernels,
  emit: emitKernels,
};
