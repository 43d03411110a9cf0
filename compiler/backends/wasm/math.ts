// Elementary functions in f32 for the WASM kernels (WebAssembly has none): exp and log after
// Cephes' expf and logf (range reduction by powers of two and a polynomial), tanh after Eigen's
// rational approximation, erf after Eigen's too, and expm1 and log1p built on exp and log. Each is
// written once over `Lanes`, so the scalar and the f32x4 code are the same arithmetic; each returns
// a valued block usable as an operand.
import { FuncBuilder, get, SCALAR, set, type Lanes } from "./builder.js";
import type { Expr, ValType } from "./encoder.js";

/** p(x) by Horner's rule, highest coefficient first. */
const horner = (L: Lanes, x: Expr, coefficients: readonly number[]): Expr =>
  coefficients
    .slice(1)
    .reduce<Expr>((acc, c) => L.add(L.mul(acc, x), L.const(c)), L.const(coefficients[0]!));

/** Statements, then the value they leave: one operand. */
export const valued = (fb: FuncBuilder, type: ValType, body: Expr[], value: Expr): Expr => ({
  op: "block",
  label: fb.label(),
  result: type,
  body: [...body, value],
});

/** 2^e as the float with that exponent, for integer lanes e in [−126, 127]. */
const power = (L: Lanes, e: Expr): Expr => L.float(L.shl(L.iadd(e, L.int(127)), 23));

const EXP_HI = 88.72283;
const MAGIC = 12582912;
const EXP_LO = -87.33655;

/** exp(x): 0 below −87.3, ∞ above 88.7, NaN for NaN; within 2 ulp (test/wasm-math.test.ts). */
export function exp(fb: FuncBuilder, L: Lanes, x: Expr): Expr {
  const [raw, v, n, r, out] = fb.locals(L.type, 5);
  const [k, h] = fb.locals(L.intType, 2);
  const LOG2E = 1.44269504088896341;
  return valued(
    fb,
    L.type,
    [
      set(raw, x),
      set(v, L.max(L.min(get(raw), L.const(EXP_HI)), L.const(EXP_LO))),
      // n = v·log2(e) rounded to an integer, by adding 1.5·2^23: the sum's low bits are n (the
      // integer k), without a rounding or a float-to-int instruction (both slow in SIMD on x64).
      set(n, L.add(L.mul(get(v), L.const(LOG2E)), L.const(MAGIC))),
      set(k, L.isub(L.bits(get(n)), L.bits(L.const(MAGIC)))),
      set(n, L.sub(get(n), L.const(MAGIC))),
      // r = v − n·ln 2, with ln 2 split in two so that n·C1 is exact.
      set(
        r,
        L.sub(
          L.sub(get(v), L.mul(get(n), L.const(0.693359375))),
          L.mul(get(n), L.const(-2.1219444e-4)),
        ),
      ),
      set(
        out,
        L.add(
          L.add(
            L.mul(
              horner(
                L,
                get(r),
                [
                  1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
                  5.0000001201e-1,
                ],
              ),
              L.mul(get(r), get(r)),
            ),
            get(r),
          ),
          L.const(1),
        ),
      ),
      // × 2^n as two factors 2^h · 2^(n − h), h = n/2: each a normal float even for n = 128.
      set(h, L.shr(get(k), 1)),
      set(out, L.mul(L.mul(get(out), power(L, get(h))), power(L, L.isub(get(k), get(h))))),
      // Past the clamp exp underflows to 0 or overflows to ∞, as Math.exp rounded to f32.
      set(out, L.select(L.const(0), get(out), L.lt(get(raw), L.const(EXP_LO)))),
    ],
    L.select(L.const(Infinity), get(out), L.gt(get(raw), L.const(EXP_HI))),
  );
}

/** log(x) for x > 0 (the kernels' sums of exps ≥ 1, 1 + u ≥ 1); +∞ for +∞. Within 2 ulp. */
export function log(fb: FuncBuilder, L: Lanes, x: Expr): Expr {
  const [raw, m, z, out] = fb.locals(L.type, 4);
  const [e, small] = fb.locals(L.intType, 2);
  const SQRTHF = 0.707106781186547524;
  return valued(
    fb,
    L.type,
    [
      set(raw, x),
      // x = m · 2^e with m in [0.5, 1).
      set(e, L.isub(L.iand(L.shr(L.bits(get(raw)), 23), L.int(0xff)), L.int(126))),
      set(m, L.float(L.ior(L.iand(L.bits(get(raw)), L.int(0x807fffff)), L.int(0x3f000000)))),
      // m < √½: take 2m − 1 and e − 1, else m − 1: the polynomial's argument stays in
      // [√½ − 1, √2 − 1).
      set(small, L.lt(get(m), L.const(SQRTHF))),
      set(e, L.select(L.isub(get(e), L.int(1)), get(e), get(small))),
      set(
        m,
        L.select(L.sub(L.add(get(m), get(m)), L.const(1)), L.sub(get(m), L.const(1)), get(small)),
      ),
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
      set(z, L.convert(get(e))),
      set(out, L.add(get(out), L.mul(get(z), L.const(-2.1219444e-4)))),
      set(out, L.sub(get(out), L.mul(L.mul(get(m), get(m)), L.const(0.5)))),
      set(out, L.add(L.add(get(m), get(out)), L.mul(get(z), L.const(0.693359375)))),
    ],
    L.select(L.const(Infinity), get(out), L.eq(get(raw), L.const(Infinity))),
  );
}

/**
 * tanh(x) as Eigen's fast float tanh: a rational function (odd degree 13 over even degree 6) of
 * x clamped to ±7.905, where it reaches ±1; within 8 ulp (test/wasm-math.test.ts), a third of
 * the instructions of an exp-based form. ±1 at ±∞, NaN for NaN, −0 for −0.
 */
export function tanh(fb: FuncBuilder, L: Lanes, x: Expr): Expr {
  const [v, z] = fb.locals(L.type, 2);
  const CLAMP = 7.90531110763549805;
  const numerator = L.mul(
    horner(
      L,
      get(z),
      [
        -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-8,
        1.48572235717979e-5, 6.37261928875436e-4, 4.89352455891786e-3,
      ],
    ),
    get(v),
  );
  const denominator = horner(
    L,
    get(z),
    [1.19825839466702e-6, 1.18534705686654e-4, 2.268434632439e-3, 4.89352518554385e-3],
  );
  return valued(
    fb,
    L.type,
    [set(v, L.max(L.min(x, L.const(CLAMP)), L.const(-CLAMP))), set(z, L.mul(get(v), get(v)))],
    L.div(numerator, denominator),
  );
}

/**
 * erf(x) as Eigen's fast float erf: x · p(x²) / q(x²), odd degree 13 over even degree 8, with x
 * clamped to ±4, where erf rounds to ±1 in f32 (test/wasm-math.test.ts measures its ulps). NaN
 * for NaN, −0 for −0.
 */
export function erf(fb: FuncBuilder, L: Lanes, x: Expr): Expr {
  const [v, z] = fb.locals(L.type, 2);
  const numerator = L.mul(
    horner(
      L,
      get(z),
      [
        -2.72614225801306e-10, 2.77068142495902e-8, -2.10102402082508e-6, -5.69250639462346e-5,
        -7.34990630326855e-4, -2.95459980854025e-3, -1.60960333262415e-2,
      ],
    ),
    get(v),
  );
  const denominator = horner(
    L,
    get(z),
    [
      -1.45660718464996e-5, -2.13374055278905e-4, -1.68282697438203e-3, -7.37332916720468e-3,
      -1.42647390514189e-2,
    ],
  );
  return valued(
    fb,
    L.type,
    [set(v, L.max(L.min(x, L.const(4)), L.const(-4))), set(z, L.mul(get(v), get(v)))],
    L.div(numerator, denominator),
  );
}

/** exp(x) − 1 without the cancellation near 0: Taylor's series below |x| = ½. */
export function expm1(fb: FuncBuilder, L: Lanes, x: Expr): Expr {
  const v = fb.local(L.type);
  // Terms up to x⁸/8!: the first left out is below 6·10⁻⁹ of the result at |x| = ½.
  const series = L.mul(
    horner(L, get(v), [1 / 40320, 1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1]),
    get(v),
  );
  return valued(
    fb,
    L.type,
    [set(v, x)],
    L.select(series, L.sub(exp(fb, L, get(v)), L.const(1)), L.lt(L.abs(get(v)), L.const(0.5))),
  );
}

/**
 * log(1 + x) for x ≥ 0 (softplus's exp): log(w)·x/(w − 1) with w = 1 + x rounded, which cancels
 * w's rounding error (Goldberg); x itself where w rounds to 1, and where x is +∞.
 */
export function log1p(fb: FuncBuilder, L: Lanes, x: Expr): Expr {
  const [v, w] = fb.locals(L.type, 2);
  const corrected = L.div(L.mul(log(fb, L, get(w)), get(v)), L.sub(get(w), L.const(1)));
  return valued(
    fb,
    L.type,
    [set(v, x), set(w, L.add(get(v), L.const(1)))],
    L.select(get(v), corrected, L.or(L.eq(get(w), L.const(1)), L.eq(get(v), L.const(Infinity)))),
  );
}

/** Statements that leave exp(x) in the local `out` (an f32, or a v128 on VECTOR lanes). */
export const expInto = (fb: FuncBuilder, x: Expr, out: number, L: Lanes = SCALAR): Expr[] => [
  set(out, exp(fb, L, x)),
];

/** Statements that leave log(x) in the local `out`, for x > 0. */
export const logInto = (fb: FuncBuilder, x: Expr, out: number, L: Lanes = SCALAR): Expr[] => [
  set(out, log(fb, L, x)),
];
