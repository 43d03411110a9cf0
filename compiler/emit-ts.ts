// emit-ts: a kernel program and its memory plan become a JavaScript module (+ .d.ts) with
// every shape a constant; the batch size N is fixed when the model is created.
import { kernels } from "./kernels/index.js";
import type { MemoryPlan } from "./lower/plan.js";
import { elementCount, parameterBackward, type Program, type Step } from "./lower/program.js";
import type { Layout, LayoutTensor, WasmKernels } from "../runtime/api-types.js";
import type { TrainConfig } from "./ir.js";

// The layout is the contract with the runtime; its one definition is the runtime's API types.
export type { Layout, LayoutTensor } from "../runtime/api-types.js";

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

/** Browser-safe base64 (no Buffer): the module decodes it with atob. */
function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Source names reach generated code only through this (comments) or JSON.stringify (data). */
const safeComment = (s: string): string => s.replace(/[^A-Za-z0-9_.:\- ]/g, "?");

/**
 * The body of `function (f, iv, N, random)` returning `{ forward(training, count), loss(count),
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
      const emit = kernels[step.kernel];
      if (!emit) throw new Error(`no kernel '${step.kernel}'`);
      const body = emit({
        ins: step.inputs.map((id) => (id >= 0 ? `t${id}` : "")),
        outs: step.outputs.map((id) => (id >= 0 ? `t${id}` : "")),
        a: step.attrs,
        acc: step.accumulate,
      });
      lines.push(`function ${name}() { // ${step.kernel}\n${body}\n}`);
      return `${name}();`;
    });
  const forward = phase(program.forward);
  const loss = phase(program.loss);
  const backward = phase(program.backward);
  const forParams = new Set(parameterBackward(program));
  const paramsOnly = backward.filter((_, i) => forParams.has(program.backward[i]!));
  lines.push(`return {
  steps: [${Array.from({ length: index }, (_, i) => `s${i}`).join(", ")}],
  mode(isTraining, valid) { training = isTraining; count = valid; },
  forward(isTraining, valid = N) { training = isTraining; count = valid; ${forward.join(" ")} },
  loss(valid) { count = valid; ${loss.join(" ")} },
  backward(inputGrads = true) { if (inputGrads) { ${backward.join(" ")} } else { ${paramsOnly.join(" ")} } },
};`);
  return lines.join("\n");
}

export interface ModuleText {
  js: string;
  dts: string;
}

/** The ES module `netc compile` writes: it imports only the runtime (or inlines it). */
export function emitModule(
  program: Program,
  layout: Layout & { train: TrainConfig },
  kernelsSource: string,
  runtimeImport: string,
  source: string,
  wasm?: WasmKernels,
): ModuleText {
  const wasmConst = wasm
    ? `
/** The WebAssembly kernels; steps without WASM code run the JS kernels below. */
const wasm = {
  bytes: Uint8Array.from(atob(${JSON.stringify(base64(wasm.bytes))}), (c) => c.charCodeAt(0)),
  ...${JSON.stringify({ ...wasm, bytes: undefined })},
};
`
    : "";
  const js = `// Generated by netc from ${safeComment(source)}: model ${safeComment(program.model)}. Do not edit.
import { instantiate } from ${JSON.stringify(runtimeImport)};

export const layout = ${JSON.stringify(layout)};
${wasmConst}
export function kernels(f, iv, N, random) {
${kernelsSource}
}

/** Creates the model with its own memory: \`createModel({ batch, seed, optimizer })\`. */
export async function createModel(options = {}) {
  return instantiate(layout, kernels, options${wasm ? ", wasm" : ""});
}
`;
  const describe = (t: LayoutTensor, kind: string) =>
    ` * - ${kind} \`${safeComment(t.name)}\`: ${t.dtype === "i32" ? "Int32Array" : "Float32Array"} of [${["batch", ...t.shape].join(", ")}]`;
  const dts = `// Generated by netc from ${safeComment(source)}. Do not edit.
import type { Layout, Model, ModelOptions } from ${JSON.stringify(runtimeImport)};

/**
 * Model ${safeComment(program.model)}.
${[...layout.inputs.map((t) => describe(t, "input")), ...layout.outputs.map((t) => describe(t, "output")), ...layout.targets.map((t) => describe(t, `target (${t.criterion})`))].join("\n")}
 */
export declare function createModel(options?: ModelOptions): Promise<Model>;
export declare const layout: Layout;
`;
  return { js, dts };
}
