// exp and log in f32 for the WASM kernels (WebAssembly has neither), the log also in f32x4:
// Cephes' expf and logf, range reduction by powers of two and a polynomial, within 2 ulp.
import { f32, FuncBuilder, get, i32, SCALAR, set, type Lanes } from "./builder.js";
import type { Expr } from "./encoder.js";

const fmul = (a: Expr, b: Expr): Expr => ({ op: "f32.mul", a, b });
const fadd = (a: Expr, b: Expr): Expr => ({ op: "f32.add", a, b });
const fsub = (a: Expr, b: Expr): Expr => ({ op: "f32.sub", a, b });

/** p(x) by Horner's rule, highest coefficient first. */
const horner = (L: Lanes, x: Expr, coefficients: number[]): Expr =>
  coefficients
    .slice(1)
    .reduce<Expr>((acc, c) => L.add(L.mul(acc, x), L.const(c)), L.const(coefficients[0]!));

/** 2^e as the float with that exponent, for e in [−126, 127]. */
const power = (e: Expr): Expr => ({
  op: "f32.reinterpret_i32",
  a: { op: "i32.shl", a: { op: "i32.add", a: e, b: i32(127) }, b: i32(23) },
});

/** Statements that leave exp(x) in the f32 local `out` (0 below −87.3, ∞ above 88.7). */
export function expInto(fb: FuncBuilder, x: Expr, out: number): Expr[] {
  const [raw, v, n, r] = fb.locals("f32", 4);
  const [k, h] = fb.locals("i32", 2);
  const LOG2E = 1.44269504088896341;
  return [
    set(raw, x),
    set(v, {
      op: "f32.max",
      a: { op: "f32.min", a: get(raw), b: f32(88.72283) },
      b: f32(-87.33655),
    }),
    set(n, { op: "f32.nearest", a: fmul(get(v), f32(LOG2E)) }),
    // r = v − n·ln 2, with ln 2 split in two so that n·C1 is exact.
    set(r, fsub(fsub(get(v), fmul(get(n), f32(0.693359375))), fmul(get(n), f32(-2.1219444e-4)))),
    set(
      out,
      fadd(
        fadd(
          fmul(
            horner(
              SCALAR,
              get(r),
              [
                1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
                5.0000001201e-1,
              ],
            ),
            fmul(get(r), get(r)),
          ),
          get(r),
        ),
        f32(1),
      ),
    ),
    // × 2^n as two factors 2^h · 2^(n − h), h = n/2: each a normal float even for n = 128.
    // Saturating: a NaN x gives k = 0 and stays NaN, where a trapping truncation would throw.
    set(k, { op: "i32.trunc_sat_f32_s", a: get(n) }),
    set(h, { op: "i32.shr_s", a: get(k), b: i32(1) }),
    set(out, fmul(fmul(get(out), power(get(h))), power({ op: "i32.sub", a: get(k), b: get(h) }))),
    // Past the clamp exp underflows to 0 or overflows to ∞, as Math.exp rounded to f32.
    set(out, {
      op: "select",
      a: f32(0),
      b: get(out),
      c: { op: "f32.lt", a: get(raw), b: f32(-87.33655) },
    }),
    set(out, {
      op: "select",
      a: f32(Infinity),
      b: get(out),
      c: { op: "f32.gt", a: get(raw), b: f32(88.72283) },
    }),
  ];
}

/** The i32 operations logInto needs, on one i32 or on the four lanes of a v128. */
function integers(vector: boolean) {
  const op =
    (scalar: string, lanes: string) =>
    (a: Expr, b: Expr): Expr =>
      ({ op: vector ? lanes : scalar, a, b }) as Expr;
  return {
    type: vector ? ("v128" as const) : ("i32" as const),
    const: (value: number): Expr => (vector ? { op: "i32x4.splat", a: i32(value) } : i32(value)),
    /** The bits of a float, and the float of bits. */
    bits: (x: Expr): Expr => (vector ? x : { op: "i32.reinterpret_f32", a: x }),
    float: (b: Expr): Expr => (vector ? b : { op: "f32.reinterpret_i32", a: b }),
    convert: (a: Expr): Expr => ({ op: vector ? "f32x4.convert_i32x4_s" : "f32.convert_i32_s", a }),
    shr: op("i32.shr_s", "i32x4.shr_s"),
    and: op("i32.and", "v128.and"),
    or: op("i32.or", "v128.or"),
    sub: op("i32.sub", "i32x4.sub"),
  };
}

/**
 * Statements that leave log(x) in `out`, for a finite x > 0 (the kernels' sums of exps ≥ 1), on
 * one float or on each lane of a f32x4 (`out` then a v128 local).
 */
export function logInto(fb: FuncBuilder, x: Expr, out: number, L: Lanes = SCALAR): Expr[] {
  const I = integers(L.type === "v128");
  const [m, z] = fb.locals(L.type, 2);
  const [bits, e, low] = fb.locals(I.type, 3);
  const c = L.const;
  const SQRTHF = 0.707106781186547524;
  return [
    set(bits, I.bits(x)),
    // x = m · 2^e with m in [0.5, 1).
    set(e, I.sub(I.and(I.shr(get(bits), i32(23)), I.const(0xff)), I.const(126))),
    set(m, I.float(I.or(I.and(get(bits), I.const(0x807fffff)), I.const(0x3f000000)))),
    // m < √½: take 2m − 1 and e − 1, else m − 1: the polynomial's argument stays in
    // [√½ − 1, √2 − 1). Selects, not a branch: inputs fall on either side at random.
    set(low, L.lt(get(m), c(SQRTHF))),
    set(e, I.sub(get(e), I.and(get(low), I.const(1)))),
    set(m, L.sub(L.select(L.add(get(m), get(m)), get(m), get(low)), c(1))),
    set(z, L.mul(get(m), get(m))),
    set(
      out,
      L.mul(
        L.mul(
          horner(
            L,
            get(m),
            [
              7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1,
              -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
            ],
          ),
          get(m),
        ),
        get(z),
      ),
    ),
    set(z, I.convert(get(e))),
    set(out, L.add(get(out), L.mul(get(z), c(-2.1219444e-4)))),
    set(out, L.sub(get(out), L.mul(L.mul(get(m), get(m)), c(0.5)))),
    set(out, L.add(L.add(get(m), get(out)), L.mul(get(z), c(0.693359375)))),
  ];
}
