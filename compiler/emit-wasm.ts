// emit-wasm: the same kernel program and memory plan as emit-ts, as one WebAssembly module with
// SIMD: a function per step, the exported phases forward, loss and backward that call them with
// a barrier between steps when threads share the work, and the optimizer's update. A step whose
// kernel has no WASM code calls its JS kernel (imported from the TS module) on thread 0.
import type { MemoryPlan } from "./lower/plan.js";
import { elementCount, parameterBackward, type Program, type Step } from "./lower/program.js";
import {
  add,
  f32,
  FuncBuilder,
  get,
  i32,
  loadF,
  mul,
  set,
  splat,
  storeV,
  sub,
} from "./wasm/builder.js";
import {
  encodeModule,
  sharedFlagOffset,
  type Expr,
  type Func,
  type ValType,
} from "./wasm/encoder.js";
import { wasmKernels } from "./wasm/kernels/index.js";
import { at, overRun } from "./wasm/kernels/kernel.js";
import type { WasmKernels } from "../runtime/api-types.js";
import { CONTROL, OPTIMIZER_SLOTS } from "../runtime/wasm-layout.js";

const F32 = 4;
/** Every step and phase takes (N, count, thread, threads). */
const ENTRY: ValType[] = ["i32", "i32", "i32", "i32"];
const ENTRY_ARGS = [get(0), get(1), get(2), get(3)];
const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * Memory: the control words, the constant tables the kernels read, the optimizer's state (two
 * floats per parameter), then the arena (the runtime's Float32Array view, `fixedSize + N ·
 * perSampleSize` floats), then each thread's scratch, then slack for vector reads past the end.
 */
export function emitWasm(program: Program, plan: MemoryPlan): WasmKernels {
  const params = program.tensors.filter((t) => t.role === "param");
  const paramCount = params.reduce((s, t) => s + elementCount(t.shape), 0);
  const { functions, fallback, tables, scratchBytes, late } = emitSteps(program, plan);
  // Tables come first, so the arena's address is known only now: fill in the constants.
  const stateBase = align16(CONTROL.end + tables.length * 4);
  const arenaBase = align16(stateBase + 2 * paramCount * F32);
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
  // Each step then a barrier; a JS step runs on thread 0 alone.
  const calls = (steps: Step[]): Expr[] =>
    steps.flatMap((step): Expr[] => {
      const i = all.indexOf(step);
      const call: Expr = fallback.includes(i)
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
   * parameters' backward pass and the optimizer's update: a whole step in one call.
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
        then: [...calls(p.backward_params), { op: "call", func: "update", args: [...ENTRY_ARGS] }],
      },
    ]);
  };
  drivers.push(trainStepFunc(phases, arenaBase + plan.offsets[program.lossTensor]!.fixed * F32));
  const paramRegion = plan.offsets[params[0]?.id ?? 0]!.fixed;
  const gradRegion = plan.offsets[program.tensors.find((t) => t.role === "grad")?.id ?? 0]!.fixed;
  const update = updateFunc(
    arenaBase + paramRegion * F32,
    arenaBase + gradRegion * F32,
    stateBase,
    paramCount,
  );
  const bytes = encodeModule({
    minPages: 1,
    imports: fallback.map((i) => `js${i}`),
    functions: [...functions, barrierFunc(), ...drivers, update],
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

/** An i32.const whose value is known only after every step is emitted. */
type Late = { op: "i32.const"; value: number };

function emitSteps(program: Program, plan: MemoryPlan) {
  // Arena addresses are relative until the tables' size is known; so is the scratch per thread.
  const late = { arena: [] as Late[], scratch: [] as Late[] };
  const inArena = (bytes: number): Late => {
    const node: Late = { op: "i32.const", value: bytes };
    late.arena.push(node);
    return node;
  };
  const tables: number[] = [];
  const functions: Func[] = [];
  const fallback: number[] = [];
  let scratchBytes = 0;
  const steps: Step[] = [...program.forward, ...program.loss, ...program.backward];
  steps.forEach((step, i) => {
    const kernel = wasmKernels[step.kernel];
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
    const perThread: Late = { op: "i32.const", value: 0 };
    late.scratch.push(perThread);
    const scratchBase = local(
      add({ op: "i32.and", a: add(arenaEnd, i32(15)), b: i32(-16) }, mul(tid, perThread)),
    );
    let used = 0;
    const body = kernel?.({
      fb,
      N,
      count: get(1),
      ins: step.inputs.map((id) => (id >= 0 ? local(address(id)) : i32(0))),
      outs: step.outputs.map((id) => (id >= 0 ? local(address(id)) : i32(0))),
      a: step.attrs,
      acc: step.accumulate,
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
        tables.push(...values);
        return at;
      },
    });
    if (!body) {
      fallback.push(i);
      return;
    }
    scratchBytes = Math.max(scratchBytes, used);
    // Exported too: the kernel benchmark times each step on its own.
    functions.push(fb.build([...prologue, ...body]));
  });
  return { functions, fallback, scratchBytes, tables, late };
}

/**
 * barrier(threads): every thread waits until all have arrived. The last to arrive resets the
 * count and bumps the generation; the others spin on the generation a while, then sleep on it.
 */
function barrierFunc(): Func {
  const fb = new FuncBuilder("barrier", ["i32"]);
  const [generation, spins] = [fb.local("i32"), fb.local("i32")];
  const atomicLoad = (addr: number): Expr => ({
    op: "i32.atomic.load",
    addr: i32(addr),
    offset: 0,
  });
  const arrive: Expr = {
    op: "i32.atomic.rmw.add",
    addr: i32(CONTROL.barrierCount),
    offset: 0,
    value: i32(1),
  };
  const spin = fb.label();
  const done = fb.label();
  const wait: Expr[] = [
    set(spins, i32(0)),
    {
      op: "block",
      label: done,
      body: [
        {
          op: "loop",
          label: spin,
          body: [
            {
              op: "br_if",
              label: done,
              cond: { op: "i32.ne", a: atomicLoad(CONTROL.barrierGeneration), b: get(generation) },
            },
            set(spins, add(get(spins), i32(1))),
            {
              op: "if",
              cond: { op: "i32.gt_s", a: get(spins), b: i32(20000) },
              then: [
                {
                  op: "drop",
                  a: {
                    op: "memory.atomic.wait32",
                    addr: i32(CONTROL.barrierGeneration),
                    offset: 0,
                    expected: get(generation),
                    timeout: { op: "i64.const", value: 1000000 },
                  },
                },
              ],
            },
            { op: "br", label: spin },
          ],
        },
      ],
    },
  ];
  const release: Expr[] = [
    { op: "i32.atomic.store", addr: i32(CONTROL.barrierCount), offset: 0, value: i32(0) },
    {
      op: "drop",
      a: {
        op: "i32.atomic.rmw.add",
        addr: i32(CONTROL.barrierGeneration),
        offset: 0,
        value: i32(1),
      },
    },
    {
      op: "drop",
      a: {
        op: "memory.atomic.notify",
        addr: i32(CONTROL.barrierGeneration),
        offset: 0,
        value: i32(-1),
      },
    },
  ];
  const out = fb.label();
  return fb.build(
    [
      {
        op: "block",
        label: out,
        body: [
          { op: "br_if", label: out, cond: { op: "i32.le_s", a: get(0), b: i32(1) } },
          set(generation, atomicLoad(CONTROL.barrierGeneration)),
          {
            op: "if",
            cond: { op: "i32.eq", a: arrive, b: sub(get(0), i32(1)) },
            then: release,
            else: wait,
          },
        ],
      },
    ],
    false,
  );
}

/**
 * update(N, count, thread, threads): the optimizer's step over this thread's share of the flat
 * parameter buffer, as torch.optim.SGD (dampening 0) or Adam, from the hyperparameters the
 * runtime writes; float32 arithmetic, four parameters per instruction.
 */
function updateFunc(params: number, grads: number, state: number, count: number): Func {
  const fb = new FuncBuilder("update", ["i32", "i32", "i32", "i32"]);
  const [tid, T] = [get(2), get(3)];
  const [p, g, s1, s2, lo, hi, n] = fb.locals("i32", 7);
  const slot = (k: number): Expr => loadF(i32(CONTROL.optimizer + 4 * k));
  const S = OPTIMIZER_SLOTS;
  const hyper = Object.fromEntries(
    (
      [
        "lr",
        "momentum",
        "weightDecay",
        "nesterov",
        "beta1",
        "beta2",
        "eps",
        "stepSize",
        "correction2",
      ] as const
    ).map((k) => [k, { v: fb.local("v128"), s: fb.local("f32") }]),
  ) as Record<string, { v: number; s: number }>;
  const cut = (t: Expr): Expr => ({
    op: "i32.and",
    a: { op: "i32.div_u", a: mul(i32(count), t), b: T },
    b: i32(-4),
  });
  const next = add(tid, i32(1));
  const prologue: Expr[] = [
    set(lo, cut(tid)),
    set(hi, { op: "select", a: i32(count), b: cut(next), c: { op: "i32.eq", a: next, b: T } }),
    set(n, sub(get(hi), get(lo))),
    set(p, at(i32(params), get(lo), F32)),
    set(g, at(i32(grads), get(lo), F32)),
    set(s1, at(i32(state), get(lo), F32)),
    set(s2, at(i32(state + count * F32), get(lo), F32)),
  ];
  for (const [k, h] of Object.entries(hyper)) {
    prologue.push(set(h.s, slot(S[k as keyof typeof S])), set(h.v, splat(get(h.s))));
  }
  // Each rule is written once over operands that are vectors or scalars.
  type Ops = {
    load(ptr: number, o: number): Expr;
    store(ptr: number, v: Expr, o: number): Expr;
    add(a: Expr, b: Expr): Expr;
    sub(a: Expr, b: Expr): Expr;
    mul(a: Expr, b: Expr): Expr;
    div(a: Expr, b: Expr): Expr;
    sqrt(a: Expr): Expr;
    pick(a: Expr, b: Expr, mask: Expr): Expr;
    h(name: string): Expr;
    one: Expr;
  };
  const vector: Ops = {
    load: (ptr, o) => ({ op: "v128.load", addr: get(ptr), offset: o }),
    store: (ptr, v, o) => storeV(get(ptr), v, o),
    add: (a, b) => ({ op: "f32x4.add", a, b }),
    sub: (a, b) => ({ op: "f32x4.sub", a, b }),
    mul: (a, b) => ({ op: "f32x4.mul", a, b }),
    div: (a, b) => ({ op: "f32x4.div", a, b }),
    sqrt: (a) => ({ op: "f32x4.sqrt", a }),
    pick: (a, b, mask) => ({ op: "v128.bitselect", a, b, c: mask }),
    h: (name) => get(hyper[name]!.v),
    one: splat(f32(1)),
  };
  const scalar: Ops = {
    load: (ptr, o) => loadF(get(ptr), o),
    store: (ptr, v, o) => ({ op: "f32.store", addr: get(ptr), offset: o, value: v }),
    add: (a, b) => ({ op: "f32.add", a, b }),
    sub: (a, b) => ({ op: "f32.sub", a, b }),
    mul: (a, b) => ({ op: "f32.mul", a, b }),
    div: (a, b) => ({ op: "f32.div", a, b }),
    sqrt: (a) => ({ op: "f32.sqrt", a }),
    pick: (a, b, mask) => ({ op: "select", a, b, c: mask }),
    h: (name) => get(hyper[name]!.s),
    one: f32(1),
  };
  const [dv, bv, mv, vv] = [fb.local("v128"), fb.local("v128"), fb.local("v128"), fb.local("v128")];
  const [ds, bs, ms, vs] = [fb.local("f32"), fb.local("f32"), fb.local("f32"), fb.local("f32")];
  const nesterovScalar = fb.local("i32");
  prologue.push(
    set(nesterovScalar, {
      op: "i32.load",
      addr: i32(CONTROL.optimizer + 4 * S.nesterov),
      offset: 0,
    }),
  );
  const sgd = (o: Ops, d: number, b: number, off: number): Expr[] => [
    set(d, o.add(o.load(g, off), o.mul(o.h("weightDecay"), o.load(p, off)))),
    // A zero buffer makes the first step's buf = d, as PyTorch's clone of d.
    set(b, o.add(o.mul(o.h("momentum"), o.load(s1, off)), get(d))),
    o.store(s1, get(b), off),
    set(
      d,
      o.pick(
        o.add(get(d), o.mul(o.h("momentum"), get(b))),
        get(b),
        o === vector ? get(hyper["nesterov"]!.v) : get(nesterovScalar),
      ),
    ),
    o.store(p, o.sub(o.load(p, off), o.mul(o.h("lr"), get(d))), off),
  ];
  const adam = (o: Ops, d: number, m: number, v: number, off: number): Expr[] => [
    set(d, o.add(o.load(g, off), o.mul(o.h("weightDecay"), o.load(p, off)))),
    set(m, o.add(o.mul(o.h("beta1"), o.load(s1, off)), o.mul(o.sub(o.one, o.h("beta1")), get(d)))),
    set(
      v,
      o.add(
        o.mul(o.h("beta2"), o.load(s2, off)),
        o.mul(o.mul(o.sub(o.one, o.h("beta2")), get(d)), get(d)),
      ),
    ),
    o.store(s1, get(m), off),
    o.store(s2, get(v), off),
    o.store(
      p,
      o.sub(
        o.load(p, off),
        o.div(
          o.mul(o.h("stepSize"), get(m)),
          o.add(o.div(o.sqrt(get(v)), o.h("correction2")), o.h("eps")),
        ),
      ),
      off,
    ),
  ];
  const runs = [p, g, s1, s2];
  const kind = { op: "i32.load", addr: i32(CONTROL.optimizer + 4 * S.kind), offset: 0 } as Expr;
  return fb.build([
    ...prologue,
    {
      op: "if",
      cond: { op: "i32.eq", a: kind, b: i32(1) },
      then: overRun(
        fb,
        get(n),
        runs,
        (off) => sgd(vector, dv, bv, off),
        (off) => sgd(scalar, ds, bs, off),
      ),
      else: overRun(
        fb,
        get(n),
        runs,
        (off) => adam(vector, dv, mv, vv, off),
        (off) => adam(scalar, ds, ms, vs, off),
      ),
    },
    { op: "call", func: "barrier", args: [get(3)] },
  ]);
}
