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

/** f32 or f32x4 arithmetic, so one body serves a run's whole vectors and its tail. */
export interface Lanes {
  type: "f32" | "v128";
  load(addr: Expr, offset: number): Expr;
  /** Stores `value`, or with `acc` adds it to what is there. */
  store(addr: Expr, value: Expr, offset: number, acc?: boolean): Expr;
  const(value: number): Expr;
  add(a: Expr, b: Expr): Expr;
  sub(a: Expr, b: Expr): Expr;
  mul(a: Expr, b: Expr): Expr;
  div(a: Expr, b: Expr): Expr;
  max(a: Expr, b: Expr): Expr;
  /** a < b, a ≤ b: an i32 0 or 1 on f32, a lane mask on f32x4; false where either is NaN. */
  lt(a: Expr, b: Expr): Expr;
  le(a: Expr, b: Expr): Expr;
  /** `cond ? a : b` for a cond from `lt` or `le`. */
  select(a: Expr, b: Expr, cond: Expr): Expr;
}

function lanes(type: "f32" | "v128"): Lanes {
  const prefix = type === "f32" ? "f32" : "f32x4";
  const binary =
    (op: "add" | "sub" | "mul" | "div" | "max" | "lt" | "le") =>
    (a: Expr, b: Expr): Expr =>
      ({ op: `${prefix}.${op}`, a, b }) as Expr;
  const load = type === "f32" ? loadF : loadV;
  const plus = binary("add");
  return {
    type,
    load,
    store: (addr, value, offset, acc = false) =>
      (type === "f32" ? storeF : storeV)(
        addr,
        acc ? plus(load(addr, offset), value) : value,
        offset,
      ),
    const: (value) => (type === "f32" ? f32(value) : splat(f32(value))),
    add: plus,
    sub: binary("sub"),
    mul: binary("mul"),
    div: binary("div"),
    max: binary("max"),
    lt: binary("lt"),
    le: binary("le"),
    select: (a, b, c) =>
      type === "f32" ? { op: "select", a, b, c } : { op: "v128.bitselect", a, b, c },
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
