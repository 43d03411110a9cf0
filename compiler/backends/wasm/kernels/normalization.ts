// Batch normalisation on WASM over [N, C, S]: each channel's statistics over the batch (or the
// running ones), the running statistics' update, the normalisation, and the training-mode
// gradient. Threads split the channels, each summing its own over the whole batch.
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
import { at, F32, needed, overRun, type WasmKernel, type WasmStep } from "./kernel.js";

type BatchNormStep = WasmStep<"batch_norm" | "batch_norm_grad">;

/** f32 or f32x4 arithmetic: one channel's value, or four channels' side by side. */
class Arith {
  constructor(
    private readonly fb: FuncBuilder,
    readonly lanes: "f32" | "f32x4",
  ) {}

  private get type() {
    return this.lanes === "f32" ? "f32" : "v128";
  }

  local(): number {
    return this.fb.local(this.type);
  }

  locals<N extends number>(count: N) {
    return this.fb.locals(this.type, count);
  }

  private binary(op: "add" | "sub" | "mul" | "div", a: Expr, b: Expr): Expr {
    return { op: `${this.lanes}.${op}`, a, b } as Expr;
  }

  add = (a: Expr, b: Expr) => this.binary("add", a, b);
  sub = (a: Expr, b: Expr) => this.binary("sub", a, b);
  mul = (a: Expr, b: Expr) => this.binary("mul", a, b);
  div = (a: Expr, b: Expr) => this.binary("div", a, b);
  sqrt = (a: Expr): Expr => ({ op: `${this.lanes}.sqrt`, a });
  /** An f32 in every lane. */
  splat = (a: Expr): Expr => (this.lanes === "f32" ? a : splat(a));
  k = (value: number): Expr => this.splat(f32(value));
  load = (addr: Expr, offset = 0): Expr =>
    this.lanes === "f32" ? loadF(addr, offset) : loadV(addr, offset);
  store = (addr: Expr, value: Expr, offset = 0): Expr =>
    this.lanes === "f32" ? storeF(addr, value, offset) : storeV(addr, value, offset);
  /** The value, kept in a new local for the reads that follow. */
  tee = (value: Expr): [Expr, Expr] => {
    const local = this.local();
    return [{ op: "local.tee", local, value }, get(local)];
  };
}

/**
 * Code at one position from `values` (reads of the input tensors there) at the width `W` of the
 * loop that runs it; `u(l)` reads a per-channel local of the walk's `L` width at width `W`.
 */
type Term = (W: Arith, values: Expr[], u: (local: number) => Expr) => Expr;

/** How the values of the channel (or channels) at `c` are visited across the batch. */
interface Walk {
  /** The per-channel arithmetic: its locals hold one channel's value per lane. */
  L: Arith;
  /** Each term, over the first `count` samples, summed into the `into` locals. */
  sum(tensors: Expr[], terms: Term[], into: number[]): Expr[];
  /** out = f (out += f with `acc`) for samples [from, to). */
  map(tensors: Expr[], out: Expr, f: Term, from: Expr, to: Expr, acc: boolean): Expr[];
}

/** Locals holding each tensor's value at a position, and their reads. */
function valuesAt(W: Arith, addresses: Expr[], offset: number) {
  const locals = addresses.map(() => W.local());
  return {
    load: locals.map((l, j) => set(l, W.load(addresses[j]!, offset))),
    values: locals.map(get),
  };
}

/**
 * One channel as N planes of S floats, C·S floats apart: f32x4 along each plane, the tail in
 * f32. A sum adds each plane's vector into the batch's before one reduction across lanes, so a
 * float is added to about S/4 + N others instead of N·S/4.
 */
function planes(s: BatchNormStep, c: number): Walk {
  const { fb, count } = s;
  const { C, S } = s.a;
  const L = new Arith(fb, "f32");
  const V = new Arith(fb, "f32x4");
  const uS = (l: number) => get(l);
  /**
   * For samples [from, to) and each plane: `start`, then `vector(o)` and `scalar(o)` along it
   * (o a byte offset from the runs of `tensors`), then `end`. The f32x4 splats of the uniforms
   * the vector code reads are set before the loop.
   */
  const visit = (
    tensors: Expr[],
    from: Expr,
    to: Expr,
    body: (
      runs: number[],
      uV: (l: number) => Expr,
    ) => {
      start: Expr[];
      vector: (o: number) => Expr[];
      scalar: (o: number) => Expr[];
      end: Expr[];
    },
  ): Expr[] => {
    const n = fb.local("i32");
    const pointers = tensors.map(() => fb.local("i32"));
    const runs = tensors.map(() => fb.local("i32"));
    const hoisted: Expr[] = [];
    const splats = new Map<number, number>();
    const uV = (l: number) => {
      if (!splats.has(l)) {
        splats.set(l, V.local());
        hoisted.push(set(splats.get(l)!, splat(get(l))));
      }
      return get(splats.get(l)!);
    };
    const b = body(runs, uV);
    const perPlane = [
      ...runs.map((r, j) => set(r, get(pointers[j]!))),
      ...b.start,
      ...overRun(fb, S, runs, b.vector, b.scalar),
      ...b.end,
      ...pointers.map((p) => set(p, add(get(p), i32(C * S * F32)))),
    ];
    const first = add(mul(from, i32(C * S * F32)), mul(get(c), i32(S * F32)));
    return [
      ...hoisted,
      ...pointers.map((p, j) => set(p, add(tensors[j]!, first))),
      ...fb.loop(n, from, to, 1, perPlane),
    ];
  };
  return {
    L,
    sum(tensors, terms, into) {
      const plane = terms.map(() => V.local());
      const batch = terms.map(() => V.local());
      const tail = terms.map(() => L.local());
      const loop = visit(tensors, i32(0), count, (runs, uV) => ({
        start: plane.map((p) => set(p, ZERO_V)),
        vector(o) {
          const { load, values } = valuesAt(V, runs.map(get), o);
          const adds = terms.map((t, i) => set(plane[i]!, V.add(get(plane[i]!), t(V, values, uV))));
          return [...load, ...adds];
        },
        scalar(o) {
          const { load, values } = valuesAt(L, runs.map(get), o);
          const adds = terms.map((t, i) => set(tail[i]!, L.add(get(tail[i]!), t(L, values, uS))));
          return [...load, ...adds];
        },
        end: batch.map((v, i) => set(v, V.add(get(v), get(plane[i]!)))),
      }));
      return [
        ...batch.map((v) => set(v, ZERO_V)),
        ...tail.map((t) => set(t, f32(0))),
        ...loop,
        ...into.map((l, i) => set(l, L.add(hsum(get(batch[i]!)), get(tail[i]!)))),
      ];
    },
    map(tensors, out, f, from, to, acc) {
      const write = (W: Arith, runs: number[], o: number, u: (l: number) => Expr): Expr[] => {
        const { load, values } = valuesAt(W, runs.slice(1).map(get), o);
        const at = get(runs[0]!);
        const value = f(W, values, u);
        return [...load, W.store(at, acc ? W.add(W.load(at, o), value) : value, o)];
      };
      return visit([out, ...tensors], from, to, (runs, uV) => ({
        start: [],
        vector: (o) => write(V, runs, o, uV),
        scalar: (o) => write(L, runs, o, uS),
        end: [],
      }));
    },
  };
}

/**
 * Channels of one value per sample (S = 1), C floats apart: `L` f32x4 takes four neighbouring
 * channels a lane each, f32 one. Each lane sums its channel sample after sample, as f32 does.
 */
function rows(s: BatchNormStep, c: number, L: Arith): Walk {
  const { fb, count } = s;
  const { C } = s.a;
  const u = (l: number) => get(l);
  /** `body(addresses)` for samples [from, to): the addresses of `tensors` at (n, c). */
  const visit = (tensors: Expr[], from: Expr, to: Expr, body: (addresses: Expr[]) => Expr[]) => {
    const n = fb.local("i32");
    const pointers = tensors.map(() => fb.local("i32"));
    const first = add(mul(from, i32(C * F32)), mul(get(c), i32(F32)));
    return [
      ...pointers.map((p, j) => set(p, add(tensors[j]!, first))),
      ...fb.loop(n, from, to, 1, [
        ...body(pointers.map(get)),
        ...pointers.map((p) => set(p, add(get(p), i32(C * F32)))),
      ]),
    ];
  };
  return {
    L,
    sum(tensors, terms, into) {
      return [
        ...into.map((l) => set(l, L.k(0))),
        ...visit(tensors, i32(0), count, (addresses) => {
          const { load, values } = valuesAt(L, addresses, 0);
          return [
            ...load,
            ...terms.map((t, i) => set(into[i]!, L.add(get(into[i]!), t(L, values, u)))),
          ];
        }),
      ];
    },
    map(tensors, out, f, from, to, acc) {
      return visit([out, ...tensors], from, to, ([at, ...addresses]) => {
        const { load, values } = valuesAt(L, addresses, 0);
        const value = f(L, values, u);
        return [...load, L.store(at!, acc ? L.add(L.load(at!), value) : value)];
      });
    },
  };
}

/**
 * `body(walk, c)` for this thread's channels: along the planes when S > 1; for S = 1 four
 * channels per vector while four remain (the thread's share cut at multiples of four), then one
 * at a time. Either way each channel gets the same f32 operations, so the cuts change no bit.
 */
function eachChannel(s: BatchNormStep, body: (walk: Walk, c: number) => Expr[]): Expr[] {
  const { fb } = s;
  const { C, S } = s.a;
  const c = fb.local("i32");
  if (S > 1) {
    const { lo, hi } = s.part(C);
    return fb.loop(c, lo, hi, 1, body(planes(s, c), c));
  }
  const { lo, hi } = s.part(C, 4);
  return [
    ...fb.loop(c, lo, sub(hi, i32(3)), 4, body(rows(s, c, new Arith(fb, "f32x4")), c)),
    ...fb.loop(c, get(c), hi, 1, body(rows(s, c, new Arith(fb, "f32")), c)),
  ];
}

/** count · S, the values a channel's batch statistics are over, as f32. */
const valuesPerChannel = (s: BatchNormStep): Expr => ({
  op: "f32.convert_i32_s",
  a: mul(s.count, i32(s.a.S)),
});

/**
 * Inputs x, (gamma, beta), running mean, running var; outputs y, mean, invstd. Training: the
 * batch's mean, then its biased variance in a second pass (no cancellation), for normalising;
 * the running variance moves towards the unbiased one (M = 1 keeps it). Evaluation: the running
 * statistics.
 */
export const batchNorm: WasmKernel<"batch_norm"> = (s) => {
  const { fb, N, training, ins, outs } = s;
  const { eps, momentum: m, affine } = s.a;
  const x = ins[0]!;
  const [gamma, beta] = affine ? [ins[1]!, ins[2]!] : [];
  const [runningMean, runningVar] = ins.slice(affine ? 3 : 1) as [Expr, Expr];
  const [y, mean, invstd] = outs as [Expr, Expr, Expr];
  const [M, unbiased] = fb.locals("f32", 2);
  const channel = (walk: Walk, c: number): Expr[] => {
    const L = walk.L;
    const [mu, variance, inv, g, h] = L.locals(5);
    const ofChannel = (t: Expr) => at(t, get(c), F32);
    const param = (t: Expr) => L.load(ofChannel(t));
    const toward = (t: Expr, value: Expr) =>
      L.store(ofChannel(t), L.add(L.mul(L.k(1 - m), param(t)), L.mul(L.k(m), value)));
    const invSqrt = (v: Expr) => L.div(L.k(1), L.sqrt(L.add(v, L.k(eps))));
    const squaredDeviation: Term = (W, [xv], u) => {
      const [d, again] = W.tee(W.sub(xv!, u(mu)));
      return W.mul(d, again);
    };
    const batchStatistics = [
      ...walk.sum([x], [(_, [xv]) => xv!], [mu]),
      set(mu, L.div(get(mu), L.splat(get(M)))),
      ...walk.sum([x], [squaredDeviation], [variance]),
      set(inv, invSqrt(L.div(get(variance), L.splat(get(M))))),
      toward(runningMean, get(mu)),
      toward(runningVar, L.div(get(variance), L.splat(get(unbiased)))),
    ];
    const runningStatistics = [set(mu, param(runningMean)), set(inv, invSqrt(param(runningVar)))];
    return [
      { op: "if", cond: training, then: batchStatistics, else: runningStatistics },
      L.store(ofChannel(mean), get(mu)),
      L.store(ofChannel(invstd), get(inv)),
      set(g, gamma ? L.mul(param(gamma), get(inv)) : get(inv)),
      set(h, L.sub(beta ? param(beta) : L.k(0), L.mul(get(mu), get(g)))),
      ...walk.map([x], y, (W, [xv], u) => W.add(W.mul(xv!, u(g)), u(h)), i32(0), N, false),
    ];
  };
  // The unbiased variance divides by M − 1; a single value (M = 1) keeps the biased one.
  const divisor: Expr = { op: "f32.max", a: { op: "f32.sub", a: get(M), b: f32(1) }, b: f32(1) };
  return [set(M, valuesPerChannel(s)), set(unbiased, divisor), ...eachChannel(s, channel)];
};

/**
 * Inputs x, (gamma), mean, invstd, dy; outputs dx (or none), (dgamma, dbeta: none for a frozen
 * layer, which still reads gamma). With x̂ = (x − μ)·
 * invstd and k = gamma·invstd / M: dx = k·(M·dy − Σdy − x̂·Σ(dy·x̂)) for the first `count`
 * samples, written as gamma·invstd·dy + b·(x − μ) + e with per-channel b and e; 0 for padding.
 */
export const batchNormGrad: WasmKernel<"batch_norm_grad"> = (s) => {
  const { fb, N, count, ins, outs, acc } = s;
  const { affine } = s.a;
  const x = ins[0]!;
  const gamma = affine ? ins[1] : undefined;
  const [mean, invstd, dy] = ins.slice(affine ? 2 : 1) as [Expr, Expr, Expr];
  const [dx, dgamma, dbeta] = outs as [Expr, Expr?, Expr?];
  const M = fb.local("f32");
  const channel = (walk: Walk, c: number): Expr[] => {
    const L = walk.L;
    const [mu, inv, sdy, sdyx, a, b, e, k] = L.locals(8);
    const ofChannel = (t: Expr) => at(t, get(c), F32);
    const body: Expr[] = [
      set(mu, L.load(ofChannel(mean))),
      set(inv, L.load(ofChannel(invstd))),
      ...walk.sum(
        [x, dy],
        [(_, [, dyv]) => dyv!, (W, [xv, dyv], u) => W.mul(dyv!, W.sub(xv!, u(mu)))],
        [sdy, sdyx],
      ),
      set(sdyx, L.mul(get(sdyx), get(inv))),
    ];
    if (dgamma && dbeta)
      body.push(L.store(ofChannel(dgamma), get(sdyx)), L.store(ofChannel(dbeta), get(sdy)));
    if (!needed(dx)) return body;
    const scale = gamma ? L.mul(L.load(ofChannel(gamma)), get(inv)) : get(inv);
    const gradient: Term = (W, [xv, dyv], u) =>
      W.add(W.add(W.mul(u(a), dyv!), W.mul(u(b), W.sub(xv!, u(mu)))), u(e));
    body.push(
      set(a, scale),
      set(k, L.div(get(a), L.splat(get(M)))),
      set(b, L.sub(L.k(0), L.mul(L.mul(get(k), get(inv)), get(sdyx)))),
      set(e, L.sub(L.k(0), L.mul(get(k), get(sdy)))),
      ...walk.map([x, dy], dx, gradient, i32(0), count, acc),
    );
    // Padding's gradient is zero; added to a gradient, nothing.
    if (!acc) body.push(...walk.map([], dx, (W) => W.k(0), count, N, false));
    return body;
  };
  return [set(M, valuesPerChannel(s)), ...eachChannel(s, channel)];
};
