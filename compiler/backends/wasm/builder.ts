// Helpers that make instruction trees read like code: typed locals, arithmetic, counted loops.
import type { Expr, Func, ValType } from "./encoder.js";

export const get = (local: number): Expr => ({ op: "local.get", local });
export const set = (local: number, value: Expr): Expr => ({ op: "local.set", local, value });
export const i32 = (value: number): Expr => ({ op: "i32.const", value });
export const f32 = (value: number): Expr => ({ op: "f32.const", value });
export const add = (a: Expr, b: Expr): Expr =>
  b.op === "i32.const" && b.value === 0 ? a : { op: "i32.add", a, b };
export const sub = (a: Expr, b: Expr): Expr => ({ op: "i32.sub", a, b });
export const mul = (a: Expr, b: Expr): Expr => ({ op: "i32.mul", a, b });
export const ltS = (a: Expr, b: Expr): Expr => ({ op: "i32.lt_s", a, b });
export const geS = (a: Expr, b: Expr): Expr => ({ op: "i32.ge_s", a, b });
export const ne = (a: Expr, b: Expr): Expr => ({ op: "i32.ne", a, b });
export const loadF = (addr: Expr, offset = 0): Expr => ({ op: "f32.load", addr, offset });
export const storeF = (addr: Expr, value: Expr, offset = 0): Expr => ({
  op: "f32.store",
  addr,
  offset,
  value,
});
export const loadI = (addr: Expr, offset = 0): Expr => ({ op: "i32.load", addr, offset });
export const loadV = (addr: Expr, offset = 0): Expr => ({ op: "v128.load", addr, offset });
export const storeV = (addr: Expr, value: Expr, offset = 0): Expr => ({
  op: "v128.store",
  addr,
  offset,
  value,
});
export const splatLoad = (addr: Expr, offset = 0): Expr => ({
  op: "v128.load32_splat",
  addr,
  offset,
});
export const splat = (a: Expr): Expr => ({ op: "f32x4.splat", a });
export const vadd = (a: Expr, b: Expr): Expr => ({ op: "f32x4.add", a, b });
export const vmul = (a: Expr, b: Expr): Expr => ({ op: "f32x4.mul", a, b });
export const fadd = (a: Expr, b: Expr): Expr => ({ op: "f32.add", a, b });
export const fsub = (a: Expr, b: Expr): Expr => ({ op: "f32.sub", a, b });
export const fmul = (a: Expr, b: Expr): Expr => ({ op: "f32.mul", a, b });
export const fdiv = (a: Expr, b: Expr): Expr => ({ op: "f32.div", a, b });
export const lane = (vec: Expr, index: number): Expr => ({
  op: "f32x4.extract_lane",
  lane: index,
  vec,
});
/** The f32x4 whose lane j is lane `picks[j]` of a (0–3) or of b (4–7). */
export const shuffle = (a: Expr, b: Expr, picks: readonly number[]): Expr => ({
  op: "i8x16.shuffle",
  a,
  b,
  lanes: picks.flatMap((l) => [0, 1, 2, 3].map((byte) => 4 * l + byte)),
});
export const ZERO_V: Expr = { op: "v128.const", bytes: Array<number>(16).fill(0) };

/**
 * f32 or f32x4 arithmetic, so that one body serves a run's whole vectors and its tail, and the
 * elementary functions (math.ts) are written once for both widths.
 */
export interface Lanes {
  readonly type: "f32" | "v128";
  /** The type of the integer lanes (exponents, bits): i32 beside f32, i32x4 beside f32x4. */
  readonly intType: "i32" | "v128";
  load(addr: Expr, offset: number): Expr;
  /** Stores `value`, or with `acc` adds it to what is there. */
  store(addr: Expr, value: Expr, offset: number, acc?: boolean): Expr;
  const(value: number): Expr;
  add(a: Expr, b: Expr): Expr;
  sub(a: Expr, b: Expr): Expr;
  mul(a: Expr, b: Expr): Expr;
  div(a: Expr, b: Expr): Expr;
  /**
   * `b < a ? b : a` and `a < b ? b : a` (f32x4.pmin/pmax: one instruction each on x64, where
   * min/max are NaN-exact sequences): a NaN `a` passes through.
   */
  min(a: Expr, b: Expr): Expr;
  max(a: Expr, b: Expr): Expr;
  abs(a: Expr): Expr;
  neg(a: Expr): Expr;
  sqrt(a: Expr): Expr;
  /** a < b, a ≤ b, …: an i32 0 or 1 on f32, a lane mask on f32x4; false where either is NaN. */
  lt(a: Expr, b: Expr): Expr;
  le(a: Expr, b: Expr): Expr;
  gt(a: Expr, b: Expr): Expr;
  ge(a: Expr, b: Expr): Expr;
  eq(a: Expr, b: Expr): Expr;
  /** Either of two comparisons. */
  or(a: Expr, b: Expr): Expr;
  /** `cond ? a : b` for a cond from a comparison; on the integer lanes too. */
  select(a: Expr, b: Expr, cond: Expr): Expr;
  /** Integer lanes: a constant, a float's bits, the float of some bits, conversion to float. */
  int(value: number): Expr;
  bits(a: Expr): Expr;
  float(a: Expr): Expr;
  convert(a: Expr): Expr;
  iadd(a: Expr, b: Expr): Expr;
  isub(a: Expr, b: Expr): Expr;
  iand(a: Expr, b: Expr): Expr;
  ior(a: Expr, b: Expr): Expr;
  shl(a: Expr, by: number): Expr;
  shr(a: Expr, by: number): Expr;
}

function lanes(type: "f32" | "v128"): Lanes {
  const scalar = type === "f32";
  const op =
    (f32op: string, v128op: string) =>
    (a: Expr, b: Expr): Expr =>
      ({ op: scalar ? f32op : v128op, a, b }) as Expr;
  const unary =
    (f32op: string, v128op: string) =>
    (a: Expr): Expr =>
      ({ op: scalar ? f32op : v128op, a }) as Expr;
  const load = scalar ? loadF : loadV;
  const plus = op("f32.add", "f32x4.add");
  const shift = (f32op: string, v128op: string) => (a: Expr, by: number) =>
    op(f32op, v128op)(a, i32(by));
  return {
    type,
    intType: scalar ? "i32" : "v128",
    load,
    store: (addr, value, offset, acc = false) =>
      (scalar ? storeF : storeV)(addr, acc ? plus(load(addr, offset), value) : value, offset),
    const: (value) => (scalar ? f32(value) : splat(f32(value))),
    add: plus,
    sub: op("f32.sub", "f32x4.sub"),
    mul: op("f32.mul", "f32x4.mul"),
    div: op("f32.div", "f32x4.div"),
    min: op("f32.min", "f32x4.pmin"),
    max: op("f32.max", "f32x4.pmax"),
    abs: unary("f32.abs", "f32x4.abs"),
    neg: unary("f32.neg", "f32x4.neg"),
    sqrt: unary("f32.sqrt", "f32x4.sqrt"),
    lt: op("f32.lt", "f32x4.lt"),
    le: op("f32.le", "f32x4.le"),
    gt: op("f32.gt", "f32x4.gt"),
    ge: op("f32.ge", "f32x4.ge"),
    eq: op("f32.eq", "f32x4.eq"),
    or: op("i32.or", "v128.or"),
    select: (a, b, c) => (scalar ? { op: "select", a, b, c } : { op: "v128.bitselect", a, b, c }),
    int: (value) => (scalar ? i32(value) : { op: "i32x4.splat", a: i32(value) }),
    // The lanes' bits are the vector's bits: nothing to do on f32x4.
    bits: (a) => (scalar ? { op: "i32.reinterpret_f32", a } : a),
    float: (a) => (scalar ? { op: "f32.reinterpret_i32", a } : a),
    convert: unary("f32.convert_i32_s", "f32x4.convert_i32x4_s"),
    iadd: op("i32.add", "i32x4.add"),
    isub: op("i32.sub", "i32x4.sub"),
    iand: op("i32.and", "v128.and"),
    ior: op("i32.or", "v128.or"),
    shl: shift("i32.shl", "i32x4.shl"),
    shr: shift("i32.shr_s", "i32x4.shr_s"),
  };
}

export const SCALAR = lanes("f32");
export const VECTOR = lanes("v128");

/** A v128 whose first `n` f32 lanes are all ones and the rest zero: masks a short tail. */
export function laneMask(n: number): Expr {
  const bytes = Array.from({ length: 16 }, (_, i) => (i < 4 * n ? 0xff : 0));
  return { op: "v128.const", bytes };
}

/** The horizontal sum of a f32x4, in the order (l0 + l1) + (l2 + l3). */
export const hsum = (v: Expr): Expr =>
  fadd(fadd(lane(v, 0), lane(v, 1)), fadd(lane(v, 2), lane(v, 3)));

/** A tuple of N numbers: the locals `FuncBuilder.locals` declares. */
type Locals<N extends number, T extends number[] = []> = T["length"] extends N
  ? T
  : Locals<N, [...T, number]>;

/** One function under construction: declares locals and hands out unique loop labels. */
export class FuncBuilder {
  private readonly declared: ValType[] = [];
  private labels = 0;

  constructor(
    readonly name: string,
    readonly params: ValType[],
  ) {}

  local(type: ValType): number {
    this.declared.push(type);
    return this.params.length + this.declared.length - 1;
  }

  /** `count` locals of one type. */
  locals<N extends number>(type: ValType, count: N): Locals<N> {
    return Array.from({ length: count }, () => this.local(type)) as Locals<N>;
  }

  /** Runs `body`, then again while `again` holds (a pointer short of its end, say). */
  repeat(body: Expr[], again: Expr): Expr {
    const top = this.label();
    return { op: "loop", label: top, body: [...body, { op: "br_if", label: top, cond: again }] };
  }

  /** Runs `body` until `exit` holds, testing before each round. */
  until(exit: Expr, body: Expr[]): Expr {
    const top = this.label();
    const out = this.label();
    const round: Expr[] = [
      { op: "br_if", label: out, cond: exit },
      ...body,
      { op: "br", label: top },
    ];
    return { op: "block", label: out, body: [{ op: "loop", label: top, body: round }] };
  }

  label(): string {
    return `L${this.labels++}`;
  }

  /**
   * `for (counter = start; counter < end; counter += step)` over i32 values, with the test first
   * unless `once` says the body runs at least once.
   */
  loop(counter: number, start: Expr, end: Expr, step: number, body: Expr[], once = false): Expr[] {
    const out = this.label();
    const repeat = this.repeat(
      [...body, set(counter, add(get(counter), i32(step)))],
      ltS(get(counter), end),
    );
    if (once) return [set(counter, start), repeat];
    return [
      set(counter, start),
      {
        op: "block",
        label: out,
        body: [{ op: "br_if", label: out, cond: geS(get(counter), end) }, repeat],
      },
    ];
  }

  build(body: Expr[], exported = true): Func {
    return {
      name: this.name,
      params: this.params,
      locals: this.declared,
      body,
      ...(exported ? {} : { export: false }),
    };
  }
}
