// Activations as WASM, scalar and f32x4: the formulas of ops.ts rendered to instructions, the
// standalone kernel, and the derivative-and-bias-gradient pass. Formulas made of arithmetic,
// compares and selects render here; the others (exp, tanh, …) stay with the JS kernels for now.
import { activationRow, type Activation, type Formula } from "../../../ops.js";
import {
  add,
  f32,
  FuncBuilder,
  get,
  hsum,
  i32,
  loadF,
  loadV,
  mul,
  set,
  splat,
  storeF,
  storeV,
  sub,
  ZERO_V,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import { at, F32, overRun, zeroFill, type WasmKernel } from "./kernel.js";

/** Functions of operand expressions; each operand is evaluated once. */
export interface WasmActivation {
  vec(x: Expr): Expr;
  scalar(x: Expr): Expr;
  /** dy · act'(v), from v the output y (or the input x, as the row says). */
  gradVec(v: Expr, dy: Expr): Expr;
  gradScalar(v: Expr, dy: Expr): Expr;
}

type Lanes = "f32" | "f32x4";

/** How many times a formula reads v. */
const reads = (g: Formula): number =>
  g.op === "v"
    ? 1
    : g.op === "const"
      ? 0
      : g.op === "select"
        ? reads(g.a) + reads(g.b) + reads(g.then) + reads(g.otherwise)
        : "b" in g
          ? reads(g.a) + reads(g.b)
          : reads(g.a);

/** Reads of an operand used `count` times: the first tees it into a local, the rest read that. */
function once(fb: FuncBuilder, lanes: Lanes, value: Expr, count: number): () => Expr {
  if (count <= 1) return () => value;
  const local = fb.local(lanes === "f32x4" ? "v128" : "f32");
  let first = true;
  return () => (first ? ((first = false), { op: "local.tee", local, value }) : get(local));
}

/**
 * Formulas as instructions on f32 or f32x4 operands, with v read through `use` in evaluation
 * order; undefined where a formula needs a function WASM has no code for.
 */
class Render {
  constructor(private readonly lanes: Lanes) {}

  private get vector() {
    return this.lanes === "f32x4";
  }

  walk(g: Formula, use: () => Expr): Expr | undefined {
    const lanes = this.lanes;
    switch (g.op) {
      case "v":
        return use();
      case "const":
        return this.vector ? splat(f32(g.value)) : f32(g.value);
      case "add":
      case "sub":
      case "mul":
      case "div": {
        const a = this.walk(g.a, use);
        const b = a && this.walk(g.b, use);
        return b && ({ op: `${lanes}.${g.op}`, a: a!, b } as Expr);
      }
      case "neg": {
        const a = this.walk(g.a, use);
        return a && ({ op: `${lanes}.neg`, a } as Expr);
      }
      case "select": {
        // The operands evaluate in order: then, otherwise, the comparison.
        const then = this.walk(g.then, use);
        const otherwise = then && this.walk(g.otherwise, use);
        const cond = otherwise && this.compare(g.a, g.b, use);
        return cond && this.select(then!, otherwise!, cond);
      }
      default:
        return undefined;
    }
  }

  compare(a: Formula, b: Formula, use: () => Expr): Expr | undefined {
    const x = this.walk(a, use);
    const y = x && this.walk(b, use);
    return y && ({ op: `${this.lanes}.gt`, a: x!, b: y } as Expr);
  }

  /** `cond ? then : otherwise`; on f32x4 a pick of 0 is one `and` with the mask. */
  select(then: Expr, otherwise: Expr, cond: Expr): Expr {
    if (!this.vector) return { op: "select", a: then, b: otherwise, c: cond };
    const zero =
      otherwise.op === "f32x4.splat" && otherwise.a.op === "f32.const" && otherwise.a.value === 0;
    return zero
      ? { op: "v128.and", a: then, b: cond }
      : { op: "v128.bitselect", a: then, b: otherwise, c: cond };
  }
}

/** act(v) on one lane width, or undefined where WASM has no code for it. */
function render(fb: FuncBuilder, f: Formula, lanes: Lanes): ((v: Expr) => Expr) | undefined {
  const r = new Render(lanes);
  if (!r.walk(f, () => f32(0))) return undefined;
  return (v) => r.walk(f, once(fb, lanes, v, reads(f)))!;
}

/**
 * dy · df(v). A derivative that picks between constants (ReLU's 1 or 0, LeakyReLU's 1 or slope)
 * picks between dy · constant instead, with no multiplication by 1 and none by 0 (which would
 * turn an infinite dy into NaN where the pick gives 0).
 */
function renderGrad(
  fb: FuncBuilder,
  df: Formula,
  lanes: Lanes,
): ((v: Expr, dy: Expr) => Expr) | undefined {
  const r = new Render(lanes);
  if (!r.walk(df, () => f32(0))) return undefined;
  const mul = (a: Expr, b: Expr) => ({ op: `${lanes}.mul`, a, b }) as Expr;
  if (df.op === "select" && df.then.op === "const" && df.otherwise.op === "const") {
    const [then, otherwise] = [df.then.value, df.otherwise.value];
    return (v, dy) => {
      const useDy = once(fb, lanes, dy, [then, otherwise].filter((k) => k !== 0).length);
      const constant = (k: number) => r.walk({ op: "const", value: k }, useDy)!;
      const pick = (k: number): Expr =>
        k === 0 ? constant(0) : k === 1 ? useDy() : mul(useDy(), constant(k));
      const [a, b] = [pick(then), pick(otherwise)];
      const useV = once(fb, lanes, v, reads(df.a) + reads(df.b));
      return r.select(a, b, r.compare(df.a, df.b, useV)!);
    };
  }
  return (v, dy) => mul(dy, r.walk(df, once(fb, lanes, v, reads(df)))!);
}

/** The activation's code, the identity for none, or undefined when WASM has no code for it. */
export function wasmActivation(
  fb: FuncBuilder,
  act: Activation | undefined,
): WasmActivation | undefined {
  if (!act) {
    return { vec: (x) => x, scalar: (x) => x, gradVec: (_, dy) => dy, gradScalar: (_, dy) => dy };
  }
  const row = activationRow(act);
  const [vec, scalar] = [render(fb, row.f(act), "f32x4"), render(fb, row.f(act), "f32")];
  const [gradVec, gradScalar] = [
    renderGrad(fb, row.df(act), "f32x4"),
    renderGrad(fb, row.df(act), "f32"),
  ];
  if (!vec || !scalar || !gradVec || !gradScalar) return undefined;
  return { vec, scalar, gradVec, gradScalar };
}

/** y = act(x), elementwise over N · size; threads split the samples. */
export const activation: WasmKernel<"activation"> = ({ fb, N, ins, outs, a, part }) => {
  const act = wasmActivation(fb, a.act);
  if (!act) return undefined;
  const [x, y, n] = [fb.local("i32"), fb.local("i32"), fb.local("i32")];
  const { size } = a;
  const { lo, hi } = part(N);
  const run = overRun(
    fb,
    size,
    [x, y],
    (o) => [storeV(get(y), act.vec(loadV(get(x), o)), o)],
    (o) => [storeF(get(y), act.scalar(loadF(get(x), o)), o)],
  );
  return [
    set(x, at(ins[0]!, lo, size * F32)),
    set(y, at(outs[0]!, lo, size * F32)),
    ...fb.loop(n, lo, hi, 1, [...run, ...advanceTail([x, y], size)]),
  ];
};

/**
 * dx (+)= dy · act'(y) (dx may be dy itself) and, with `bias`, db[c] = Σ over the batch and the
 * S positions of channel c of dx: one pass for both. Threads split the channels, so each sums
 * its own bias gradients over the whole batch.
 */
export const activationGrad: WasmKernel<"activation_grad"> = (s) => {
  const { fb, N, ins, outs, a, acc, part } = s;
  const act = wasmActivation(fb, a.act);
  if (!act) return undefined;
  const { C, S } = a;
  const dxOut = a.act ? outs[0] : undefined;
  const dbOut = a.bias ? outs[a.act ? 1 : 0] : undefined;
  const [y, dy, dx, db, n, c] = fb.locals("i32", 6);
  const g = fb.local("v128");
  const gs = fb.local("f32");
  const sumV = fb.local("v128");
  const sumS = fb.local("f32");
  // Rows of channels (S = 1) are cut at vector groups; planes anywhere (6 channels: 3 and 3).
  const { lo, hi } = part(C, S === 1 ? 4 : 1);
  const runs = [y, dy, ...(dxOut ? [dx] : [])];
  // The runs start at channel lo of sample n.
  const start = (): Expr[] => {
    const offset = add(mul(get(n), i32(C * S * F32)), mul(lo, i32(S * F32)));
    return [
      set(y, add(ins[0]!, offset)),
      set(dy, add(ins[1]!, offset)),
      ...(dxOut ? [set(dx, add(dxOut, offset))] : []),
    ];
  };
  const body: Expr[] = [];
  if (dbOut) body.push(set(db, dbOut), ...zeroFill(fb, at(get(db), lo, F32), sub(hi, lo)));
  const writeV = (o: number): Expr[] =>
    dxOut
      ? [storeV(get(dx), acc ? { op: "f32x4.add", a: loadV(get(dx), o), b: get(g) } : get(g), o)]
      : [];
  const writeS = (o: number): Expr[] =>
    dxOut
      ? [storeF(get(dx), acc ? { op: "f32.add", a: loadF(get(dx), o), b: get(gs) } : get(gs), o)]
      : [];
  const gradV = (o: number) => set(g, act.gradVec(loadV(get(y), o), loadV(get(dy), o)));
  const gradS = (o: number) => set(gs, act.gradScalar(loadF(get(y), o), loadF(get(dy), o)));
  if (S === 1) {
    // A row of channels per sample: the bias sums are a vector add into db.
    const dbp = fb.local("i32");
    const row = overRun(
      fb,
      sub(hi, lo),
      [...runs, dbp],
      (o) => [
        gradV(o),
        ...writeV(o),
        ...(dbOut
          ? [storeV(get(dbp), { op: "f32x4.add", a: loadV(get(dbp), o), b: get(g) }, o)]
          : []),
      ],
      (o) => [
        gradS(o),
        ...writeS(o),
        ...(dbOut
          ? [storeF(get(dbp), { op: "f32.add", a: loadF(get(dbp), o), b: get(gs) }, o)]
          : []),
      ],
    );
    const perSample = [...start(), set(dbp, at(get(db), lo, F32)), ...row];
    body.push(...fb.loop(n, i32(0), N, 1, perSample, true));
    return body;
  }
  // Per (sample, channel): S positions, summed across lanes once.
  const plane = [
    set(sumV, ZERO_V),
    set(sumS, f32(0)),
    ...overRun(
      fb,
      S,
      runs,
      (o) => [gradV(o), ...writeV(o), set(sumV, { op: "f32x4.add", a: get(sumV), b: get(g) })],
      (o) => [gradS(o), ...writeS(o), set(sumS, { op: "f32.add", a: get(sumS), b: get(gs) })],
    ),
    ...advanceTail(runs, S),
    ...(dbOut
      ? [
          storeF(at(get(db), get(c), F32), {
            op: "f32.add",
            a: loadF(at(get(db), get(c), F32)),
            b: { op: "f32.add", a: hsum(get(sumV)), b: get(sumS) },
          }),
        ]
      : []),
  ];
  const perSample = [...start(), ...fb.loop(c, lo, hi, 1, plane)];
  body.push(...fb.loop(n, i32(0), N, 1, perSample, true));
  return body;
};

/** A constant-length overRun leaves its pointers at the tail: step them past it. */
function advanceTail(runs: number[], length: number): Expr[] {
  const tail = length & 3;
  return tail > 0 ? runs.map((r) => set(r, add(get(r), i32(tail * F32)))) : [];
}
