// Group normalisation on WASM (GroupNorm, LayerNorm, InstanceNorm) over [N, C, S]: each sample's
// group of C/G channels is one run of M = (C/G)·S floats. Threads split the groups for the
// forward and the input gradient, and the channels for the scale and shift gradients. With
// S = 1 (LayerNorm) the channels are the run's values: the scale and shift are runs beside it.
import {
  add,
  f32,
  fadd,
  fdiv,
  fmul,
  fsub,
  get,
  i32,
  loadF,
  mul,
  SCALAR,
  set,
  splat,
  storeF,
  sub,
  VECTOR,
  type FuncBuilder,
  type Lanes,
} from "../builder.js";
import type { Expr } from "../encoder.js";
import type { GroupNormAttrs } from "../../../ops.js";
import {
  at,
  F32,
  needed,
  overRun,
  sumRun,
  zeroFill,
  type WasmKernel,
  type WasmStep,
} from "./kernel.js";

/** An f32 local and its f32x4 splat, read at either width. */
interface Uniform {
  s: number;
  v: number;
}

function uniform(fb: FuncBuilder): Uniform {
  return { s: fb.local("f32"), v: fb.local("v128") };
}

const read = (L: Lanes, u: Uniform): Expr => get(L === VECTOR ? u.v : u.s);

/** Sets a uniform to `value` (an f32) and its splat. */
const assign = (u: Uniform, value: Expr): Expr[] => [set(u.s, value), set(u.v, splat(get(u.s)))];

/** What the kernels of one step share: sizes, and the group's first channel and pointers. */
function groupFrame(s: WasmStep<"group_norm" | "group_norm_grad">, a: GroupNormAttrs) {
  const { fb } = s;
  const per = a.C / a.G;
  const M = per * a.S;
  const [t, first, ch] = fb.locals("i32", 3);
  /** Group t's first value (t = n·G + g counts the groups of the batch). */
  const block = (base: Expr) => at(base, get(t), M * F32);
  /** Channel ch of group t, its first value. */
  const plane = (base: Expr) => at(block(base), get(ch), a.S * F32);
  /** A per-channel value of the group's channel ch; with S = 1 the group's first. */
  const ofChannel = (base: Expr) => at(at(base, get(first), F32), get(ch), F32);
  // g = t mod G (the encoder has no remainder): t − ⌊t/G⌋·G.
  const g = sub(get(t), mul({ op: "i32.div_u", a: get(t), b: i32(a.G) }, i32(a.G)));
  const setFirst = set(first, mul(g, i32(per)));
  return { per, M, t, ch, block, plane, ofChannel, setFirst };
}

/** Σdy and Σdy·(x − μ) over a plane of S floats from the pointers, into `into` (cleared first). */
function planeSums(
  fb: FuncBuilder,
  S: number,
  px: number,
  pdy: number,
  mu: Uniform,
  into: [number, number],
): Expr[] {
  const dyAt = (L: Lanes, o: number) => L.load(get(pdy), o);
  const centred = (L: Lanes, o: number) => L.sub(L.load(get(px), o), read(L, mu));
  return [
    ...into.map((l) => set(l, f32(0))),
    ...sumRun(fb, S, [px, pdy], [dyAt, (L, o) => L.mul(dyAt(L, o), centred(L, o))], into),
  ];
}

const rsqrt = (v: Expr): Expr => fdiv(f32(1), { op: "f32.sqrt", a: v });

/** Inputs x, (weight, bias); outputs y, mean, invstd. Threads split the batch's groups. */
export const groupNorm: WasmKernel<"group_norm"> = (s) => {
  const { fb, N, a } = s;
  const [x, weight, bias] = [s.ins[0]!, s.ins[1], s.ins[2]];
  const [y, mean, invstd] = s.outs as [Expr, Expr, Expr];
  const f = groupFrame(s, a);
  const [px, py, pw, pb] = fb.locals("i32", 4);
  const [mu, inv, scale, shift] = [uniform(fb), uniform(fb), uniform(fb), uniform(fb)];
  const [sum, squares] = fb.locals("f32", 2);
  const [dS, dV] = [fb.local("f32"), fb.local("v128")];
  /** (x − μ)², the difference kept in a local of the width. */
  const square = (L: Lanes, o: number): Expr => {
    const d = L === VECTOR ? dV : dS;
    const value: Expr = {
      op: "local.tee",
      local: d,
      value: L.sub(L.load(get(px), o), read(L, mu)),
    };
    return L.mul(value, get(d));
  };
  const statistics = [
    set(sum, f32(0)),
    set(px, f.block(x)),
    ...sumRun(fb, f.M, [px], [(L, o) => L.load(get(px), o)], [sum]),
    ...assign(mu, fdiv(get(sum), f32(f.M))),
    set(squares, f32(0)),
    set(px, f.block(x)),
    ...sumRun(fb, f.M, [px], [square], [squares]),
    ...assign(inv, rsqrt(fadd(fdiv(get(squares), f32(f.M)), f32(a.eps)))),
    storeF(at(mean, get(f.t), F32), get(mu.s)),
    storeF(at(invstd, get(f.t), F32), get(inv.s)),
  ];
  let normalise: Expr[];
  if (a.S === 1) {
    // y = (x − μ)·invstd·weight + bias, the weights and biases a run beside x.
    const runs = [px, py, ...(weight ? [pw, pb] : [])];
    const value = (L: Lanes, o: number) => {
      const xhat = L.mul(L.sub(L.load(get(px), o), read(L, mu)), read(L, inv));
      return weight ? L.add(L.mul(xhat, L.load(get(pw), o)), L.load(get(pb), o)) : xhat;
    };
    normalise = [
      set(f.ch, i32(0)),
      set(px, f.block(x)),
      set(py, f.block(y)),
      ...(weight ? [set(pw, f.ofChannel(weight)), set(pb, f.ofChannel(bias!))] : []),
      ...overRun(
        fb,
        f.M,
        runs,
        (o) => [VECTOR.store(get(py), value(VECTOR, o), o)],
        (o) => [SCALAR.store(get(py), value(SCALAR, o), o)],
      ),
    ];
  } else {
    // Per channel: y = x·scale + shift with scale = weight·invstd, shift = bias − μ·scale.
    const value = (L: Lanes, o: number) =>
      L.add(L.mul(L.load(get(px), o), read(L, scale)), read(L, shift));
    const channel = [
      ...assign(scale, weight ? fmul(loadF(f.ofChannel(weight)), get(inv.s)) : get(inv.s)),
      ...assign(
        shift,
        fsub(bias ? loadF(f.ofChannel(bias)) : f32(0), fmul(get(mu.s), get(scale.s))),
      ),
      set(px, f.plane(x)),
      set(py, f.plane(y)),
      ...overRun(
        fb,
        a.S,
        [px, py],
        (o) => [VECTOR.store(get(py), value(VECTOR, o), o)],
        (o) => [SCALAR.store(get(py), value(SCALAR, o), o)],
      ),
    ];
    normalise = fb.loop(f.ch, i32(0), i32(f.per), 1, channel, true);
  }
  const { lo, hi } = s.part(mul(N, i32(a.G)));
  return fb.loop(f.t, lo, hi, 1, [f.setFirst, ...statistics, ...normalise]);
};

/**
 * Inputs x, (weight), mean, invstd, dy; output dx. With ĝ = dy·weight and x̂ = (x − μ)·invstd,
 * dx = invstd·(ĝ − Σĝ/M − x̂·Σ(ĝ·x̂)/M), written a·dy + b·(x − μ) + e with a = invstd·weight
 * and per-group b and e. Threads split the real samples' groups; the padding's gradient is 0.
 */
export const groupNormGrad: WasmKernel<"group_norm_grad"> = (s) => {
  const { fb, N, count, a, acc } = s;
  const x = s.ins[0]!;
  const weight = a.affine ? s.ins[1] : undefined;
  const [mean, invstd, dy] = s.ins.slice(a.affine ? 2 : 1) as [Expr, Expr, Expr];
  const dx = s.outs[0]!;
  if (!needed(dx)) return [];
  const f = groupFrame(s, a);
  const [px, pdy, pdx, pw] = fb.locals("i32", 4);
  const [mu, scale, b, e] = [uniform(fb), uniform(fb), uniform(fb), uniform(fb)];
  const [inv, sum, dot, s1, s2, wc] = fb.locals("f32", 6);
  const centred = (L: Lanes, o: number) => L.sub(L.load(get(px), o), read(L, mu));
  const gradient = (L: Lanes, o: number, factor: Expr) =>
    L.store(
      get(pdx),
      L.add(
        L.add(L.mul(factor, L.load(get(pdy), o)), L.mul(read(L, b), centred(L, o))),
        read(L, e),
      ),
      o,
      acc,
    );
  let sums: Expr[];
  let write: Expr[];
  if (a.S === 1) {
    const runs = [px, pdy, ...(weight ? [pw] : [])];
    const ghat = (L: Lanes, o: number) =>
      weight ? L.mul(L.load(get(pdy), o), L.load(get(pw), o)) : L.load(get(pdy), o);
    const start = (withDx: boolean) => [
      set(f.ch, i32(0)),
      set(px, f.block(x)),
      set(pdy, f.block(dy)),
      ...(withDx ? [set(pdx, f.block(dx))] : []),
      ...(weight ? [set(pw, f.ofChannel(weight))] : []),
    ];
    sums = [
      ...start(false),
      ...sumRun(fb, f.M, runs, [ghat, (L, o) => L.mul(ghat(L, o), centred(L, o))], [sum, dot]),
    ];
    // a = invstd·weight, a run beside x.
    const factor = (L: Lanes, o: number) =>
      weight ? L.mul(read(L, scale), L.load(get(pw), o)) : read(L, scale);
    write = [
      ...start(true),
      ...overRun(
        fb,
        f.M,
        [...runs, pdx],
        (o) => [gradient(VECTOR, o, factor(VECTOR, o))],
        (o) => [gradient(SCALAR, o, factor(SCALAR, o))],
      ),
    ];
  } else {
    const plane = [set(px, f.plane(x)), set(pdy, f.plane(dy))];
    const setWeight = set(wc, weight ? loadF(f.ofChannel(weight)) : f32(1));
    // Per channel: Σdy and Σdy·(x − μ), then times the channel's weight.
    const channelSums = [
      setWeight,
      ...plane,
      ...planeSums(fb, a.S, px, pdy, mu, [s1, s2]),
      set(sum, fadd(get(sum), fmul(get(wc), get(s1)))),
      set(dot, fadd(get(dot), fmul(get(wc), get(s2)))),
    ];
    sums = fb.loop(f.ch, i32(0), i32(f.per), 1, channelSums, true);
    const channelWrite = [
      setWeight,
      ...assign(scale, fmul(get(inv), get(wc))),
      ...plane,
      set(pdx, f.plane(dx)),
      ...overRun(
        fb,
        a.S,
        [px, pdy, pdx],
        (o) => [gradient(VECTOR, o, read(VECTOR, scale))],
        (o) => [gradient(SCALAR, o, read(SCALAR, scale))],
      ),
    ];
    write = fb.loop(f.ch, i32(0), i32(f.per), 1, channelWrite, true);
  }
  const M = f32(f.M);
  const group = [
    f.setFirst,
    ...assign(mu, loadF(at(mean, get(f.t), F32))),
    set(inv, loadF(at(invstd, get(f.t), F32))),
    set(sum, f32(0)),
    set(dot, f32(0)),
    ...sums,
    // Σĝ·x̂ = invstd·Σĝ·(x − μ)
    set(dot, fmul(get(dot), get(inv))),
    ...assign(b, fdiv(fmul(fmul(get(inv), get(inv)), fsub(f32(0), get(dot))), M)),
    ...assign(e, fdiv(fmul(get(inv), fsub(f32(0), get(sum))), M)),
    ...(a.S === 1 ? assign(scale, get(inv)) : []),
    ...write,
  ];
  const real = s.part(mul(count, i32(a.G)));
  const body = fb.loop(f.t, real.lo, real.hi, 1, group);
  if (acc) return body;
  // The padding samples' gradient: zero, split between threads like a flat range.
  const padding = s.part(mul(sub(N, count), i32(a.C * a.S)), 4);
  const start = at(at(dx, count, a.C * a.S * F32), padding.lo, F32);
  return [...body, ...zeroFill(fb, start, sub(padding.hi, padding.lo))];
};

/**
 * Inputs x, mean, invstd, dy; outputs dweight, dbias: each channel's Σdy·x̂ and Σdy over the real
 * samples. Threads split the channels, each summing its own over the batch: channel by channel
 * along its positions, or with one position per channel (S = 1, LayerNorm) sample by sample
 * along the thread's run of channels, group by group.
 */
export const groupNormGradParams: WasmKernel<"group_norm_grad_params"> = (s) =>
  s.a.S === 1 ? paramsAlongChannels(s) : paramsAlongPositions(s);

function paramsAlongPositions(s: WasmStep<"group_norm_grad_params">): Expr[] {
  const { fb, count, a } = s;
  const [x, mean, invstd, dy] = s.ins as [Expr, Expr, Expr, Expr];
  const [dweight, dbias] = s.outs as [Expr, Expr];
  const per = a.C / a.G;
  const [c, n, k, px, pdy] = fb.locals("i32", 5);
  const mu = uniform(fb);
  const [sw, sb, s1, s2] = fb.locals("f32", 4);
  const plane = (base: Expr) => at(base, add(mul(get(n), i32(a.C)), get(c)), a.S * F32);
  const sample = [
    set(k, add(mul(get(n), i32(a.G)), { op: "i32.div_u", a: get(c), b: i32(per) })),
    ...assign(mu, loadF(at(mean, get(k), F32))),
    set(px, plane(x)),
    set(pdy, plane(dy)),
    ...planeSums(fb, a.S, px, pdy, mu, [s1, s2]),
    set(sb, fadd(get(sb), get(s1))),
    set(sw, fadd(get(sw), fmul(get(s2), loadF(at(invstd, get(k), F32))))),
  ];
  const channel = [
    set(sw, f32(0)),
    set(sb, f32(0)),
    ...fb.loop(n, i32(0), count, 1, sample),
    storeF(at(dweight, get(c), F32), get(sw)),
    storeF(at(dbias, get(c), F32), get(sb)),
  ];
  const { lo, hi } = s.part(a.C);
  return fb.loop(c, lo, hi, 1, channel);
}

function paramsAlongChannels(s: WasmStep<"group_norm_grad_params">): Expr[] {
  const { fb, count, a } = s;
  const [x, mean, invstd, dy] = s.ins as [Expr, Expr, Expr, Expr];
  const [dweight, dbias] = s.outs as [Expr, Expr];
  const per = a.C / a.G;
  const [n, g, k, from, to, px, pdy, pw, pb] = fb.locals("i32", 9);
  const [mu, inv] = [uniform(fb), uniform(fb)];
  const { lo, hi } = s.part(a.C, 4);
  const max = (p: Expr, q: Expr): Expr => ({
    op: "select",
    a: p,
    b: q,
    c: { op: "i32.gt_s", a: p, b: q },
  });
  const min = (p: Expr, q: Expr): Expr => ({
    op: "select",
    a: p,
    b: q,
    c: { op: "i32.lt_s", a: p, b: q },
  });
  const update = (L: Lanes, o: number): Expr[] => {
    const g = L.load(get(pdy), o);
    const xhat = L.mul(L.sub(L.load(get(px), o), read(L, mu)), read(L, inv));
    return [L.store(get(pw), L.mul(g, xhat), o, true), L.store(get(pb), g, o, true)];
  };
  // The thread's channels [from, to) in group g of sample n.
  const group = [
    set(from, max(lo, mul(get(g), i32(per)))),
    set(to, min(hi, mul(add(get(g), i32(1)), i32(per)))),
    {
      op: "if",
      cond: { op: "i32.lt_s", a: get(from), b: get(to) },
      then: [
        set(k, add(mul(get(n), i32(a.G)), get(g))),
        ...assign(mu, loadF(at(mean, get(k), F32))),
        ...assign(inv, loadF(at(invstd, get(k), F32))),
        set(px, at(at(x, get(n), a.C * F32), get(from), F32)),
        set(pdy, at(at(dy, get(n), a.C * F32), get(from), F32)),
        set(pw, at(dweight, get(from), F32)),
        set(pb, at(dbias, get(from), F32)),
        ...overRun(
          fb,
          sub(get(to), get(from)),
          [px, pdy, pw, pb],
          (o) => update(VECTOR, o),
          (o) => update(SCALAR, o),
        ),
      ],
    } as Expr,
  ];
  return [
    ...zeroFill(fb, at(dweight, lo, F32), sub(hi, lo)),
    ...zeroFill(fb, at(dbias, lo, F32), sub(hi, lo)),
    ...fb.loop(n, i32(0), count, 1, fb.loop(g, i32(0), i32(a.G), 1, group)),
  ];
}
