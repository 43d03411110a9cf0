// exp and log in f32 for the WASM kernels (WebAssembly has neither): Cephes' expf and logf,
// range reduction by powers of two and a polynomial, within 2 ulp of the true value.
import { f32, FuncBuilder, get, i32, set } from "./builder.js";
import type { Expr } from "./encoder.js";

const fmul = (a: Expr, b: Expr): Expr => ({ op: "f32.mul", a, b });
const fadd = (a: Expr, b: Expr): Expr => ({ op: "f32.add", a, b });
const fsub = (a: Expr, b: Expr): Expr => ({ op: "f32.sub", a, b });

/** p(x) by Horner's rule, highest coefficient first. */
const horner = (x: Expr, coefficients: number[]): Expr =>
  coefficients.slice(1).reduce<Expr>((acc, c) => fadd(fmul(acc, x), f32(c)), f32(coefficients[0]!));

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

/** Statements that leave log(x) in `out`, for a finite x > 0 (the kernels' sums of exps ≥ 1). */
export function logInto(fb: FuncBuilder, x: Expr, out: number): Expr[] {
  const [m, z] = fb.locals("f32", 2);
  const [bits, e] = fb.locals("i32", 2);
  const SQRTHF = 0.707106781186547524;
  return [
    set(bits, { op: "i32.reinterpret_f32", a: x }),
    // x = m · 2^e with m in [0.5, 1).
    set(e, {
      op: "i32.sub",
      a: { op: "i32.and", a: { op: "i32.shr_s", a: get(bits), b: i32(23) }, b: i32(0xff) },
      b: i32(126),
    }),
    set(m, {
      op: "f32.reinterpret_i32",
      a: {
        op: "i32.or",
        a: { op: "i32.and", a: get(bits), b: i32(0x807fffff) },
        b: i32(0x3f000000),
      },
    }),
    // m < √½: take 2m − 1 and e − 1, else m − 1: the polynomial's argument stays in [√½ − 1, √2 − 1).
    {
      op: "if",
      cond: { op: "f32.lt", a: get(m), b: f32(SQRTHF) },
      then: [
        set(e, { op: "i32.sub", a: get(e), b: i32(1) }),
        set(m, fsub(fadd(get(m), get(m)), f32(1))),
      ],
      else: [set(m, fsub(get(m), f32(1)))],
    },
    set(z, fmul(get(m), get(m))),
    set(
      out,
      fmul(
        fmul(
          horner(
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
    set(z, { op: "f32.convert_i32_s", a: get(e) }),
    set(out, fadd(get(out), fmul(get(z), f32(-2.1219444e-4)))),
    set(out, fsub(get(out), fmul(fmul(get(m), get(m)), f32(0.5)))),
    set(out, fadd(fadd(get(m), get(out)), fmul(get(z), f32(0.693359375)))),
  ];
}
