// emit-wasm: the same kernel program and memory plan as emit-ts, as one WebAssembly module with
// SIMD: a function per step, the exported phases forward, loss and backward that call them with
// a barrier between steps when threads share the work, the clipping of the gradients and the
// optimizer's update. A step whose
// kernel has no WASM code calls its JS kernel (imported from the TS module) on thread 0.
import type { WasmKernels } from "../../../runtime/api-types.js";
import { CONTROL } from "../../../runtime/wasm-layout.js";
import type { MemoryPlan } from "../../lower/plan.js";
import { elementCount, parameterBackward, type Program, type Step } from "../../lower/program.js";
import type { OpName, StepOf } from "../../ops.js";
import type { Backend } from "../backend.js";
import { barrierFunc } from "./barrier.js";
import { add, f32, FuncBuilder, get, i32, loadF, mul, set } from "./builder.js";
import {
  encodeFunction,
  encodeModule,
  sharedFlagOffset,
  type EncodedFunc,
  type Expr,
  type Func,
  type ValType,
} from "./encoder.js";
import { wasmKernels } from "./kernels/index.js";
import type { WasmStep } from "./kernels/kernel.js";
import { clipFunc, updateFunc } from "./update.js";

const F32 = 4;
/** Every step and phase takes (N, count, thread, threads). */
const ENTRY: ValType[] = ["i32", "i32", "i32", "i32"];
const ENTRY_ARGS = [get(0), get(1), get(2), get(3)];
const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * Memory: the control words, the constant tables the kernels read, then the arena (the runtime's
 * Float32Array view, `fixedSize + N · perSampleSize` floats), then each thread's scratch, then
 * the optimizer's state (as many buffers as the optimizer keeps, placed by the runtime), then
 * slack for vector reads past the end.
 */
export function emitWasm(program: Program, plan: MemoryPlan): WasmKernels {
  const params = program.tensors.filter((t) => t.role === "param");
  const paramCount = params.reduce((s, t) => s + elementCount(t.shape), 0);
  const { functions, fallback, tables, scratchBytes, late } = emitSteps(program, plan);
  // Tables come first, so the arena's address is known only now: fill in the constants.
  const arenaBase = align16(CONTROL.end + tables.length * 4);
  for (const node of late.arena) node.value += arenaBase;
  for (const node of late.scratch) node.value = scratchBytes;
  // One export per phase; backward_params leaves out the steps that only make input gradients.
  const all = [...program.forward, ...program.loss, ...program.backward];
  const phases = {
    forward: program.forward,
    loss: program.loss,
    backward: program.backward,
    backward_params: parameterBackward(program),
  };
  // Each step then a barrier; a JS step runs on thread 0 alone. Indices and fallbacks are
  // looked up, not searched for: a search per step made emitting quadratic in the steps.
  const index = new Map(all.map((step, i) => [step, i]));
  const onJs = new Set(fallback);
  const calls = (steps: Step[]): Expr[] =>
    steps.flatMap((step): Expr[] => {
      const i = index.get(step)!;
      const call: Expr = onJs.has(i)
        ? {
            op: "if",
            cond: { op: "i32.eqz", a: get(2) },
            then: [{ op: "call", func: `js${i}`, args: [] }],
          }
        : { op: "call", func: `s${i}`, args: [...ENTRY_ARGS] };
      return [call, { op: "call", func: "barrier", args: [get(3)] }];
    });
  const drivers: Func[] = Object.entries(phases).map(([name, steps]) =>
    new FuncBuilder(name, ENTRY).build(calls(steps)),
  );
  /**
   * train_step: forward in training mode, loss, and — when the loss is a finite number — the
   * parameters' backward pass, the clipping of their gradients (when it is on) and the
   * optimizer's update: a whole step in one call.
   */
  const trainStepFunc = (p: typeof phases, loss: number): Func => {
    const value = loadF(i32(loss));
    const finite: Expr = {
      op: "f32.eq",
      a: { op: "f32.sub", a: value, b: loadF(i32(loss)) },
      b: f32(0),
    };
    return new FuncBuilder("train_step", ENTRY).build([
      ...calls(p.forward),
      ...calls(p.loss),
      {
        op: "if",
        cond: finite,
        then: [
          ...calls(p.backward_params),
          { op: "call", func: "clip", args: [...ENTRY_ARGS] },
          { op: "call", func: "update", args: [...ENTRY_ARGS] },
        ],
      },
    ]);
  };
  drivers.push(trainStepFunc(phases, arenaBase + plan.offsets[program.lossTensor]!.fixed * F32));
  const paramRegion = plan.offsets[params[0]?.id ?? 0]!.fixed;
  const gradRegion = plan.offsets[program.tensors.find((t) => t.role === "grad")?.id ?? 0]!.fixed;
  const update = updateFunc(
    arenaBase + paramRegion * F32,
    arenaBase + gradRegion * F32,
    paramCount,
  );
  const clip = clipFunc(arenaBase + gradRegion * F32, paramCount);
  const bytes = encodeModule({
    minPages: 1,
    imports: fallback.map((i) => `js${i}`),
    functions: [...functions, barrierFunc(), ...drivers, update, clip],
    data:
      tables.length > 0
        ? [{ offset: CONTROL.end, bytes: new Uint8Array(new Int32Array(tables).buffer) }]
        : [],
  });
  return {
    bytes,
    arenaBase,
    scratchBytes,
    fallback,
    sharedFlag: sharedFlagOffset(bytes),
  };
}

/** The op's WASM code for a step, or undefined where the op has none or declines the step. */
function emitStep<K extends OpName>(
  step: StepOf<K>,
  context: Omit<WasmStep<K>, "a" | "acc">,
): Expr[] | undefined {
  return wasmKernels[step.kernel]?.({ ...context, a: step.attrs, acc: step.accumulate });
}

/** An i32.const whose value is known only after every step is emitted. */
type Late = { op: "i32.const"; value: number; late: true };

function emitSteps(program: Program, plan: MemoryPlan) {
  // Arena addresses are relative until the tables' size is known; so is the scratch per thread.
  const late = { arena: [] as Late[], scratch: [] as Late[] };
  const inArena = (bytes: number): Late => {
    const node: Late = { op: "i32.const", value: bytes, late: true };
    late.arena.push(node);
    return node;
  };
  const tables: number[] = [];
  const functions: EncodedFunc[] = [];
  const fallback: number[] = [];
  let scratchBytes = 0;
  const steps: Step[] = [...program.forward, ...program.loss, ...program.backward];
  steps.forEach((step, i) => {
    // (N, count, thread, threads)
    const fb = new FuncBuilder(`s${i}`, ["i32", "i32", "i32", "i32"]);
    const [N, tid, T] = [get(0), get(2), get(3)];
    const address = (id: number): Expr => {
      const { fixed, perSample } = plan.offsets[id]!;
      const base = inArena(fixed * F32);
      return perSample ? add(base, mul(N, i32(perSample * F32))) : base;
    };
    // Every address is computed once, at the top of the step.
    const prologue: Expr[] = [];
    const local = (value: Expr): Expr => {
      const l = fb.local("i32");
      prologue.push(set(l, value));
      return get(l);
    };
    const arenaEnd = add(inArena(plan.fixedSize * F32), mul(N, i32(plan.perSampleSize * F32)));
    const perThread: Late = { op: "i32.const", value: 0, late: true };
    late.scratch.push(perThread);
    const scratchBase = local(
      add({ op: "i32.and", a: add(arenaEnd, i32(15)), b: i32(-16) }, mul(tid, perThread)),
    );
    let used = 0;
    const body = emitStep(step, {
      fb,
      N,
      count: get(1),
      training: { op: "i32.load", addr: i32(CONTROL.training), offset: 0 },
      ins: step.inputs.map((id) => (id >= 0 ? local(address(id)) : i32(0))),
      outs: step.outputs.map((id) => (id >= 0 ? local(address(id)) : i32(0))),
      part(total, align = 1) {
        const n = local(typeof total === "number" ? i32(total) : total);
        const cut = (t: Expr): Expr => {
          const even: Expr = { op: "i32.div_u", a: mul(n, t), b: T };
          return align > 1 ? { op: "i32.and", a: even, b: i32(-align) } : even;
        };
        const next = add(tid, i32(1));
        const hi: Expr = { op: "select", a: n, b: cut(next), c: { op: "i32.eq", a: next, b: T } };
        return { lo: local(cut(tid)), hi: local(hi) };
      },
      scratch(bytes) {
        const at = used;
        used += align16(bytes);
        return add(scratchBase, i32(at));
      },
      table(values) {
        const at = CONTROL.end + tables.length * 4;
        // A loop, not push(...values): a convolution over 16,384 channels has a table of
        // 147,456 offsets, more arguments than a call can take.
        for (const v of values) tables.push(v);
        return at;
      },
    });
    if (!body) {
      fallback.push(i);
      return;
    }
    scratchBytes = Math.max(scratchBytes, used);
    // Exported too: the kernel benchmark times each step on its own.
    functions.push(encodeFunction(fb.build([...prologue, ...body])));
  });
  return { functions, fallback, scratchBytes, tables, late };
}

/** WebAssembly SIMD for the ops it has code for; the other steps call their JS kernels. */
export const wasmBackend: Backend<typeof wasmKernels, WasmKernels> = {
  name: "wasm",
  emitters: wasmKernels,
  emit: emitWasm,
};
