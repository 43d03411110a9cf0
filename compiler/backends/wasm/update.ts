// The optimizer's update in WASM: SGD or Adam over the flat parameter buffer, four at a time.
import { add, f32, FuncBuilder, get, i32, loadF, mul, set, splat, storeV, sub } from "./builder.js";
import type { Expr, Func } from "./encoder.js";
import { at, overRun } from "./kernels/kernel.js";
import { CONTROL, OPTIMIZER_SLOTS } from "../../../runtime/wasm-layout.js";

const F32 = 4;

/**
 * update(N, count, thread, threads): the optimizer's step over this thread's share of the flat
 * parameter buffer, as torch.optim.SGD (dampening 0) or Adam, from the hyperparameters the
 * runtime writes; float32 arithmetic, four parameters per instruction.
 */
export function updateFunc(params: number, grads: number, state: number, count: number): Func {
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
