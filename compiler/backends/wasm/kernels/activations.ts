// Activations as WASM, scalar and f32x4: the formulas of ops.ts rendered to instructions (exp,
// tanh and the others from math.ts), the standalone kernel, and the derivative-and-bias pass.
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
  SCALAR,
  set,
  storeF,
  storeV,
  sub,
  VECTOR,
  ZERO_V,
  type Lanes,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import { erf, exp, expm1, log1p, tanh } from "../math.js";
import { at, F32, overRun, zeroFill, type WasmKernel } from "./kernel.js";

/** Functions of operand expressions; each operand is evaluated once. */
export interface WasmActivation {
  vec(x: Expr): Expr;
  scalar(x: Expr): Expr;
  /** dy · act'(v), from v the output y (or the input x, as the row says). */
  gradVec(v: Expr, dy: Expr): Expr;
  gradScalar(v: Expr, dy: Expr): Expr;
}

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
function once(fb: FuncBuilder, L: Lanes, value: Expr, count: number): () => Expr {
  if (count <= 1) return () => value;
  const local = fb.local(L.type);
  let first = true;
  return () => (first ? ((first = false), { op: "local.tee", local, value }) : get(local));
}

const functions = { exp, expm1, log1p, tanh, erf };

/** A formula as instructions on L's lanes, with v read through `use` in evaluation order. */
function walk(fb: FuncBuilder, L: Lanes, g: Formula, use: () => Expr): Expr {
  switch (g.op) {
    case "v":
      return use();
    case "const":
      return L.const(g.value);
    case "add":
    case "sub":
    case "mul":
    case "div": {
      const a = walk(fb, L, g.a, use);
      return L[g.op](a, walk(fb, L, g.b, use));
    }
    case "neg":
      return L.neg(walk(fb, L, g.a, use));
    case "abs":
      return L.abs(walk(fb, L, g.a, use));
    case "select": {
      // The operands evaluate in order: then, otherwise, the comparison.
      const then = walk(fb, L, g.then, use);
      const otherwise = walk(fb, L, g.otherwise, use);
      return pick(L, then, otherwise, compare(fb, L, g, use));
    }
    default:
      return functions[g.op](fb, L, walk(fb, L, g.a, use));
  }
}

/** A select's comparison. */
function compare(
  fb: FuncBuilder,
  L: Lanes,
  g: Extract<Formula, { op: "select" }>,
  use: () => Expr,
): Expr {
  const x = walk(fb, L, g.a, use);
  return (g.cmp === ">" ? L.gt : L.ge)(x, walk(fb, L, g.b, use));
}

const isZero = (e: Expr) =>
  (e.op === "f32.const" && Object.is(e.value, 0)) ||
  (e.op === "f32x4.splat" && e.a.op === "f32.const" && Object.is(e.a.value, 0));

/** `cond ? then : otherwise`; on f32x4 a pick of 0 is one `and` (or `andnot`) with the mask. */
const pick = (L: Lanes, then: Expr, otherwise: Expr, cond: Expr): Expr =>
  L !== VECTOR
    ? L.select(then, otherwise, cond)
    : isZero(otherwise)
      ? { op: "v128.and", a: then, b: cond }
      : isZero(then)
        ? { op: "v128.andnot", a: otherwise, b: cond }
        : L.select(then, otherwise, cond);

/** f(v) on L's lanes. */
const render =
  (fb: FuncBuilder, f: Formula, L: Lanes) =>
  (v: Expr): Expr =>
    walk(fb, L, f, once(fb, L, v, reads(f)));

/**
 * dy · df(v). A derivative that picks between constants (ReLU's 1 or 0, LeakyReLU's 1 or slope)
 * picks between dy · constant instead: no multiplication by 1, and none by 0, which would turn
 * an infinite dy into NaN where PyTorch's pick gives 0.
 */
function renderGrad(fb: FuncBuilder, df: Formula, L: Lanes) {
  if (df.op === "select" && df.then.op === "const" && df.otherwise.op === "const") {
    const [then, otherwise] = [df.then.value, df.otherwise.value];
    return (v: Expr, dy: Expr): Expr => {
      const useDy = once(fb, L, dy, [then, otherwise].filter((k) => k !== 0).length);
      const scaled = (k: number): Expr =>
        k === 0 ? L.const(0) : k === 1 ? useDy() : L.mul(useDy(), L.const(k));
      const [a, b] = [scaled(then), scaled(otherwise)];
      const useV = once(fb, L, v, reads(df.a) + reads(df.b));
      return pick(L, a, b, compare(fb, L, df, useV));
    };
  }
  return (v: Expr, dy: Expr): Expr => L.mul(dy, render(fb, df, L)(v));
}

const identity: WasmActivation = {
  vec: (x) => x,
  scalar: (x) => x,
  gradVec: (_, dy) => dy,
  gradScalar: (_, dy) => dy,
};

/** The activation's code, or the identity for none. */
export function wasmActivation(fb: FuncBuilder, act: Activation | undefined): WasmActivation {
  if (!act) return identity;
  const row = activationRow(act);
  const [f, df] = [row.f(act), row.df(act)];
  return {
    vec: render(fb, f, VECTOR),
    scalar: render(fb, f, SCALAR),
    gradVec: renderGrad(fb, df, VECTOR),
    gradScalar: renderGrad(fb, df, SCALAR),
  };
}

/** y = act(x), elementwise over N · size; threads split the samples. */
export const activation: WasmKernel<"activation"> = ({ fb, N, ins, outs, a, part }) => {
  const act = wasmActivation(fb, a.act);
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
