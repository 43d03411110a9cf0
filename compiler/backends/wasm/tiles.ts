// Register-tiled matrix products on f32x4, the inner loops of every Linear and convolution kernel:
// the outer-product tile (4 rows × 8 columns, docs/wasm-backend.md) and the dot-product tile
// (4 rows × 2 columns, both operands contiguous along the reduction).
import {
  add,
  FuncBuilder,
  get,
  hsum,
  i32,
  laneMask,
  lane,
  loadF,
  loadI,
  loadV,
  mul,
  ne,
  set,
  splatLoad,
  storeF,
  storeV,
  vadd,
  vmul,
  ZERO_V,
  fadd,
  geS,
  sub,
} from "./builder.js";
import type { Expr } from "./encoder.js";

const F32 = 4;
const NR = 8; // columns of an outer-product tile

/** Row k of an operand starts every `k` bytes from `base`, or at base + table[k] (i32 bytes). */
export type RowStarts = { base: Expr; k: number } | { base: Expr; table: number };

export interface OuterProduct {
  /** Rows of C: a constant, or an expression of the batch (evaluated once). */
  M: number | Expr;
  /** Columns of C. */
  cols: number;
  /** The reduction length, ≥ 1 (the k loop runs at least once). */
  K: number | Expr;
  /** A(i, k) at base + i·row + k·k (bytes). */
  a: { base: Expr; row: number; k: number };
  /** B(k, j) at the start of row k + 4j. */
  b: RowStarts;
  /**
   * C(i, j) at base + i·row + 4j, overwritten ("set") or added to ("add"). `padded`: C has
   * room up to the next multiple of 8 columns, so a tail tile stores whole vectors.
   */
  c: { base: Expr; row: number; mode: "set" | "add"; padded: boolean };
  /**
   * Scratch of K·32 bytes: each column panel of B is first copied there as K rows of 8
   * contiguous floats, so the row tiles stream it from L1 instead of gathering B's rows again.
   */
  pack?: Expr;
}

/**
 * Runs `tile(h)` over rows in blocks of at most 4, calling `advance(h)` after each. A constant M
 * is cut into blocks of near-equal height (6 rows: 3 + 3, not 4 + 2: a short block wastes its
 * share of the B loads); a computed M takes blocks of 4, then one of 2 and one of 1 as needed.
 */
function rowBlocks(
  fb: FuncBuilder,
  M: number | Expr,
  tile: (h: number) => Expr[],
  advance: (h: number) => Expr[],
): Expr[] {
  const body: Expr[] = [];
  if (typeof M === "number") {
    if (M === 0) return [];
    const blocks = Math.ceil(M / 4);
    const base = Math.floor(M / blocks);
    const taller = M % blocks; // blocks of base + 1 rows, then the rest of base rows
    for (const [h, count] of [
      [base + 1, taller],
      [base, blocks - taller],
    ] as const) {
      if (count === 0 || h === 0) continue;
      const q = fb.local("i32");
      body.push(...fb.loop(q, i32(0), i32(count), 1, [...tile(h), ...advance(h)], true));
    }
    return body;
  }
  const left = fb.local("i32");
  body.push(set(left, M));
  body.push(
    fb.until({ op: "i32.lt_s", a: get(left), b: i32(4) }, [
      ...tile(4),
      ...advance(4),
      set(left, sub(get(left), i32(4))),
    ]),
  );
  for (const h of [2, 1])
    body.push({
      op: "if",
      cond: geS(get(left), i32(h)),
      then: [...tile(h), ...advance(h), set(left, sub(get(left), i32(h)))],
    });
  return body;
}

/** C (op)= A·B with the 4×8 outer-product tile: per k, 2 B vectors and a splat of A per row. */
export function outerProduct(fb: FuncBuilder, p: OuterProduct): Expr[] {
  // A computed M is evaluated once, before the column panels.
  const Mlocal = typeof p.M === "number" ? undefined : fb.local("i32");
  const M = Mlocal === undefined ? p.M : get(Mlocal);
  const [AB, BB, CB, PB, PCJ, PA, PC, PAK, PBK, KEND] = fb.locals("i32", 10);
  const PT = "table" in p.b ? fb.local("i32") : -1;
  const PACK = fb.local("i32");
  const acc = fb.locals("v128", 8);
  const VB = [fb.local("v128"), fb.local("v128")];
  const VA = fb.local("v128");
  const kLocal = typeof p.K === "number" ? undefined : fb.local("i32");
  const kBytes = kLocal === undefined ? i32((p.K as number) * p.a.k) : mul(get(kLocal), i32(p.a.k));

  const tile = (h: number, w: number): Expr[] => {
    const halves = w > 4 ? 2 : 1;
    const whole = w === NR || p.c.padded;
    const body: Expr[] = [];
    for (let r = 0; r < h; r++)
      for (let q = 0; q < halves; q++)
        body.push(
          set(
            acc[2 * r + q]!,
            p.c.mode === "add" && whole ? loadV(get(PC), r * p.c.row + 16 * q) : ZERO_V,
          ),
        );
    body.push(set(PAK, get(PA)), set(KEND, add(get(PA), kBytes)));
    const table = "table" in p.b && !p.pack;
    if (p.pack) body.push(set(PBK, get(PACK)));
    else body.push("table" in p.b ? set(PT, i32(p.b.table)) : set(PBK, get(PB)));
    const step: Expr[] = [];
    if (table) step.push(set(PBK, add(get(PB), loadI(get(PT)))));
    for (let q = 0; q < halves; q++) step.push(set(VB[q]!, loadV(get(PBK), 16 * q)));
    for (let r = 0; r < h; r++) {
      step.push(set(VA, splatLoad(get(PAK), r * p.a.row)));
      for (let q = 0; q < halves; q++)
        step.push(set(acc[2 * r + q]!, vadd(get(acc[2 * r + q]!), vmul(get(VA), get(VB[q]!)))));
    }
    step.push(set(PAK, add(get(PAK), i32(p.a.k))));
    if (table) step.push(set(PT, add(get(PT), i32(F32))));
    else step.push(set(PBK, add(get(PBK), i32(p.pack ? NR * F32 : (p.b as { k: number }).k))));
    body.push(fb.repeat(step, ne(get(PAK), get(KEND))));
    for (let r = 0; r < h; r++) {
      if (whole) {
        for (let q = 0; q < halves; q++)
          body.push(storeV(get(PC), get(acc[2 * r + q]!), r * p.c.row + 16 * q));
        continue;
      }
      for (let col = 0; col < w; col++) {
        const offset = r * p.c.row + col * F32;
        const value = lane(get(acc[2 * r + (col >> 2)]!), col % 4);
        body.push(
          storeF(get(PC), p.c.mode === "add" ? fadd(loadF(get(PC), offset), value) : value, offset),
        );
      }
    }
    return body;
  };

  // The panel's rows of B, 8 floats each, one after the other at PACK.
  const packPanel = (): Expr[] => {
    if (!p.pack) return [];
    const [dst, src, end] = [fb.local("i32"), fb.local("i32"), fb.local("i32")];
    const rowsEnd =
      kLocal === undefined ? i32((p.K as number) * NR * F32) : mul(get(kLocal), i32(NR * F32));
    const copy: Expr[] =
      "table" in p.b
        ? [set(src, add(get(PB), loadI(get(PT)))), set(PT, add(get(PT), i32(F32)))]
        : [];
    copy.push(
      storeV(get(dst), loadV(get(src))),
      storeV(get(dst), loadV(get(src), 16), 16),
      set(dst, add(get(dst), i32(NR * F32))),
    );
    if (!("table" in p.b)) copy.push(set(src, add(get(src), i32(p.b.k))));
    return [
      set(dst, get(PACK)),
      set(end, add(get(PACK), rowsEnd)),
      "table" in p.b ? set(PT, i32(p.b.table)) : set(src, get(PB)),
      fb.repeat(copy, ne(get(dst), get(end))),
    ];
  };

  const columnPanel = (w: number): Expr[] => [
    ...packPanel(),
    set(PA, get(AB)),
    set(PC, get(PCJ)),
    ...rowBlocks(
      fb,
      M,
      (h) => tile(h, w),
      (h) => [set(PA, add(get(PA), i32(h * p.a.row))), set(PC, add(get(PC), i32(h * p.c.row)))],
    ),
  ];

  const body: Expr[] = [set(AB, p.a.base), set(BB, p.b.base), set(CB, p.c.base)];
  if (Mlocal !== undefined) body.push(set(Mlocal, p.M as Expr));
  if (kLocal !== undefined) body.push(set(kLocal, p.K as Expr));
  if (p.pack) body.push(set(PACK, p.pack));
  const full = Math.floor(p.cols / NR);
  const rest = p.cols % NR;
  body.push(set(PB, get(BB)), set(PCJ, get(CB)));
  if (full > 0) {
    const j = fb.local("i32");
    const next = [set(PB, add(get(PB), i32(NR * F32))), set(PCJ, add(get(PCJ), i32(NR * F32)))];
    body.push(...fb.loop(j, i32(0), i32(full), 1, [...columnPanel(NR), ...next], true));
  }
  if (rest > 0) body.push(...columnPanel(rest));
  return body;
}

export interface DotProduct {
  M: number | Expr;
  cols: number;
  /** The reduction length; a tail of L mod 4 is masked. */
  L: number;
  /** A(i, l) at base + i·row + 4l. */
  a: { base: Expr; row: number };
  /** B(j, l) at the start of row j + 4l. */
  b: RowStarts;
  /** C(i, j) at base + i·row + j·col (bytes). */
  c: { base: Expr; row: number; col: number; mode: "set" | "add" };
  /**
   * The reduction runs over `count` (≥ 1) segments of L, each starting `a` (`b`) bytes after the
   * previous one in every row of A (B): several samples summed before one reduction across lanes.
   */
  segments?: { count: Expr; a: number; b: number };
  /** Added to every C(i, j) before `act`: a byte pointer to `cols` floats. */
  bias?: Expr;
  act?: (v: Expr) => Expr;
  /** Bytes from C to a matrix of its layout that gets each value before `act`. */
  keep?: Expr;
}

/**
 * C(i, j) (op)= act(bias[j] + Σ_l A(i, l)·B(j, l)) with 4×2 tiles of f32x4 partial sums, reduced
 * across lanes once per tile: no packing when both operands are contiguous along l.
 */
export function dotProduct(fb: FuncBuilder, p: DotProduct): Expr[] {
  // A computed M is evaluated once, before the column panels.
  const Mlocal = typeof p.M === "number" ? undefined : fb.local("i32");
  const M = Mlocal === undefined ? p.M : get(Mlocal);
  const [AB, CB, PA, PC, PAL, LEND, PBJ, BIAS, KEEP] = fb.locals("i32", 9);
  const kept = fb.local("f32");
  const PBC = [fb.local("i32"), fb.local("i32")];
  const BB = fb.local("i32");
  const SEG = fb.local("i32");
  const acc = fb.locals("v128", 8);
  const VB = [fb.local("v128"), fb.local("v128")];
  const VA = fb.local("v128");
  const full = p.L >> 2;
  const tail = p.L & 3;

  const rowStart = (c: number): Expr =>
    "table" in p.b ? add(get(BB), loadI(get(PBJ), c * F32)) : add(get(PBJ), i32(c * p.b.k));

  const tile = (h: number, w: number): Expr[] => {
    const body: Expr[] = [];
    const ac = (r: number, c: number) => acc[2 * r + c]!;
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) body.push(set(ac(r, c), ZERO_V));
    for (let c = 0; c < w; c++) body.push(set(PBC[c]!, rowStart(c)));
    body.push(set(PAL, get(PA)));
    const step = (mask?: Expr): Expr[] => {
      const masked = (v: Expr): Expr => (mask ? { op: "v128.and", a: v, b: mask } : v);
      const s: Expr[] = [];
      for (let c = 0; c < w; c++) s.push(set(VB[c]!, masked(loadV(get(PBC[c]!)))));
      for (let r = 0; r < h; r++) {
        s.push(set(VA, masked(loadV(get(PAL), r * p.a.row))));
        for (let c = 0; c < w; c++)
          s.push(set(ac(r, c), vadd(get(ac(r, c)), vmul(get(VA), get(VB[c]!)))));
      }
      return s;
    };
    const advance = [
      set(PAL, add(get(PAL), i32(16))),
      ...Array.from({ length: w }, (_, c) => set(PBC[c]!, add(get(PBC[c]!), i32(16)))),
    ];
    const segment: Expr[] = [];
    if (full > 0) {
      segment.push(set(LEND, add(get(PAL), i32(full * 16))));
      segment.push(fb.repeat([...step(), ...advance], ne(get(PAL), get(LEND))));
    }
    if (tail > 0) segment.push(...step(laneMask(tail)));
    const seg = p.segments;
    if (seg) {
      // The loop left the pointers `full` vectors on: move them to the next segment's start.
      segment.push(
        set(PAL, add(get(PAL), i32(seg.a - full * 16))),
        ...Array.from({ length: w }, (_, c) =>
          set(PBC[c]!, add(get(PBC[c]!), i32(seg.b - full * 16))),
        ),
      );
      body.push(...fb.loop(SEG, i32(0), seg.count, 1, segment, true));
    } else body.push(...segment);
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        const offset = r * p.c.row + c * p.c.col;
        let v = hsum(get(ac(r, c)));
        if (p.bias) v = fadd(v, loadF(get(BIAS), c * F32));
        if (p.keep) {
          body.push(set(kept, v), storeF(add(get(PC), get(KEEP)), get(kept), offset));
          v = get(kept);
        }
        if (p.act) v = p.act(v);
        if (p.c.mode === "add") v = fadd(loadF(get(PC), offset), v);
        body.push(storeF(get(PC), v, offset));
      }
    return body;
  };

  const columns = (w: number): Expr[] => [
    set(PA, get(AB)),
    set(PC, get(CB)),
    ...rowBlocks(
      fb,
      M,
      (h) => tile(h, w),
      (h) => [set(PA, add(get(PA), i32(h * p.a.row))), set(PC, add(get(PC), i32(h * p.c.row)))],
    ),
    set(CB, add(get(CB), i32(w * p.c.col))),
    set(PBJ, add(get(PBJ), i32(w * ("table" in p.b ? F32 : p.b.k)))),
    ...(p.bias ? [set(BIAS, add(get(BIAS), i32(w * F32)))] : []),
  ];

  const body: Expr[] = [set(AB, p.a.base), set(CB, p.c.base), set(BB, p.b.base)];
  if (Mlocal !== undefined) body.push(set(Mlocal, p.M as Expr));
  body.push(set(PBJ, "table" in p.b ? i32(p.b.table) : get(BB)));
  if (p.bias) body.push(set(BIAS, p.bias));
  if (p.keep) body.push(set(KEEP, p.keep));
  const pairs = p.cols >> 1;
  if (pairs > 0) {
    const j = fb.local("i32");
    body.push(...fb.loop(j, i32(0), i32(pairs), 1, columns(2), true));
  }
  if (p.cols & 1) body.push(...columns(1));
  return body;
}
