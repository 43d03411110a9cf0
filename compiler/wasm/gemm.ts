// The packed f32 GEMM micro-kernel C[M×N] += A·B, specialised on constant M, N and K, with the
// 4×8 register tile of docs/wasm-backend.md; plus JS packing and a runner on a WebAssembly.Memory.
import { encodeModule, type Expr, type Func, type ModuleSpec, type ValType } from "./encoder.js";

const MR = 4; // rows per tile: 8 v128 accumulators + 2 B + 1 A + 1 product fit without spills
const NR = 8; // columns per tile: two f32x4 per row
const F32 = 4; // bytes per float
const PAGE = 65536;

// Locals: params a, b, c are byte pointers to packed A, packed B and row-major C.
const [A, B, C] = [0, 1, 2];
const [PB, PCJ, PA, PC, PAK, PBK, KEND, JEND] = [3, 4, 5, 6, 7, 8, 9, 10];
const ACC = 11; // 2·MR accumulators, then the two B vectors and the A broadcast
const VB = ACC + 2 * MR;
const VA = VB + 2;
const LOCALS: ValType[] = [
  ...Array<ValType>(8).fill("i32"),
  ...Array<ValType>(2 * MR + 3).fill("v128"),
];

const get = (local: number): Expr => ({ op: "local.get", local });
const set = (local: number, value: Expr): Expr => ({ op: "local.set", local, value });
const i32 = (value: number): Expr => ({ op: "i32.const", value });
const add = (a: Expr, b: Expr): Expr => ({ op: "i32.add", a, b });
const ne = (a: Expr, b: Expr): Expr => ({ op: "i32.ne", a, b });
const acc = (row: number, half: number): number => ACC + 2 * row + half;
const paddedN = (N: number): number => Math.ceil(N / NR) * NR;
const ZERO: Expr = { op: "v128.const", bytes: Array<number>(16).fill(0) };

/** A do-while loop: the body runs at least once, then repeats while `cond` is true. */
function loop(label: string, body: Expr[], cond: Expr): Expr {
  return { op: "loop", label, body: [...body, { op: "br_if", label, cond }] };
}

/**
 * One tile of h rows × w columns (w = 8, or the N mod 8 tail) at pointers PA, PB, PC. Full tiles
 * load and store C as vectors; a tail tile starts from zero and adds its first w lanes into C
 * one float at a time, so it never touches C beyond column N.
 */
function tile(h: number, w: number, N: number, K: number): Expr[] {
  const halves = w > 4 ? 2 : 1; // a tail of ≤ 4 columns needs only the first B vector
  const cOffset = (r: number, col: number): number => (r * N + col) * F32;
  const body: Expr[] = [];
  for (let r = 0; r < h; r++)
    for (let q = 0; q < halves; q++)
      body.push(
        set(
          acc(r, q),
          w === NR ? { op: "v128.load", addr: get(PC), offset: cOffset(r, 4 * q) } : ZERO,
        ),
      );
  body.push(set(PAK, get(PA)), set(PBK, get(PB)), set(KEND, add(get(PA), i32(K * h * F32))));
  // One k step per iteration: unrolling K was measured slower (docs/wasm-backend.md).
  const step: Expr[] = [];
  for (let q = 0; q < halves; q++)
    step.push(set(VB + q, { op: "v128.load", addr: get(PBK), offset: 16 * q }));
  for (let r = 0; r < h; r++) {
    step.push(set(VA, { op: "v128.load32_splat", addr: get(PAK), offset: r * F32 }));
    for (let q = 0; q < halves; q++) {
      const product: Expr = { op: "f32x4.mul", a: get(VA), b: get(VB + q) };
      step.push(set(acc(r, q), { op: "f32x4.add", a: get(acc(r, q)), b: product }));
    }
  }
  step.push(set(PAK, add(get(PAK), i32(h * F32))), set(PBK, add(get(PBK), i32(NR * F32))));
  body.push(loop("k", step, ne(get(PAK), get(KEND))));
  for (let r = 0; r < h; r++) {
    if (w === NR) {
      for (let q = 0; q < 2; q++)
        body.push({
          op: "v128.store",
          addr: get(PC),
          offset: cOffset(r, 4 * q),
          value: get(acc(r, q)),
        });
      continue;
    }
    for (let col = 0; col < w; col++) {
      const offset = cOffset(r, col);
      const lane: Expr = { op: "f32x4.extract_lane", lane: col % 4, vec: get(acc(r, col >> 2)) };
      const sum: Expr = { op: "f32.add", a: { op: "f32.load", addr: get(PC), offset }, b: lane };
      body.push({ op: "f32.store", addr: get(PC), offset, value: sum });
    }
  }
  return body;
}

/** All row panels against the B panel at PB, writing the C columns starting at PCJ. */
function columnPanel(w: number, M: number, N: number, K: number): Expr[] {
  const mFull = M - (M % MR);
  const body: Expr[] = [];
  if (mFull > 0) {
    body.push(set(PA, get(A)), set(PC, get(PCJ)));
    const next = [
      set(PA, add(get(PA), i32(MR * K * F32))),
      set(PC, add(get(PC), i32(MR * N * F32))),
    ];
    const end = add(get(PCJ), i32(mFull * N * F32));
    body.push(loop("i", [...tile(MR, w, N, K), ...next], ne(get(PC), end)));
  }
  if (M > mFull) {
    body.push(
      set(PA, add(get(A), i32(mFull * K * F32))),
      set(PC, add(get(PCJ), i32(mFull * N * F32))),
    );
    body.push(...tile(M - mFull, w, N, K));
  }
  return body;
}

/** The kernel function `name(a, b, c)`; loop order j panel, i panel, k (docs/wasm-backend.md). */
export function gemmFunc(M: number, N: number, K: number, name = "gemm"): Func {
  for (const n of [M, N, K])
    if (!Number.isInteger(n) || n < 1) throw new Error(`bad GEMM shape ${M}×${N}×${K}`);
  const nFull = Math.floor(N / NR);
  const body: Expr[] = [];
  if (nFull > 0) {
    body.push(set(PB, get(B)), set(PCJ, get(C)), set(JEND, add(get(C), i32(nFull * NR * F32))));
    const next = [set(PB, add(get(PB), i32(NR * K * F32))), set(PCJ, add(get(PCJ), i32(NR * F32)))];
    body.push(loop("j", [...columnPanel(NR, M, N, K), ...next], ne(get(PCJ), get(JEND))));
  }
  if (N % NR > 0) {
    body.push(
      set(PB, add(get(B), i32(nFull * NR * K * F32))),
      set(PCJ, add(get(C), i32(nFull * NR * F32))),
    );
    body.push(...columnPanel(N % NR, M, N, K));
  }
  return { name, params: ["i32", "i32", "i32"], locals: LOCALS, body };
}

/** Byte layout in memory: packed A, packed B (N padded to 8), C; each 16-byte aligned. */
export function gemmLayout(M: number, N: number, K: number) {
  const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;
  const a = 0;
  const b = align(M * K * F32);
  const c = b + align(paddedN(N) * K * F32);
  const pages = Math.max(1, Math.ceil((c + M * N * F32) / PAGE));
  return { a, b, c, pages };
}

export function gemmModuleSpec(M: number, N: number, K: number): ModuleSpec {
  return { minPages: gemmLayout(M, N, K).pages, functions: [gemmFunc(M, N, K)] };
}

export function buildGemmModule(M: number, N: number, K: number): WebAssembly.Module {
  return new WebAssembly.Module(encodeModule(gemmModuleSpec(M, N, K)));
}

/** Row-major A[M×K] into row panels of 4 laid out [K][4]; the last M mod 4 rows as [K][h]. */
export function packA(A: Float32Array, M: number, K: number, out: Float32Array): void {
  for (let i0 = 0; i0 < M; i0 += MR) {
    const h = Math.min(MR, M - i0);
    for (let k = 0; k < K; k++)
      for (let r = 0; r < h; r++) out[i0 * K + k * h + r] = A[(i0 + r) * K + k]!;
  }
}

/** Row-major B[K×N] into column panels of 8 laid out [K][8], zero-padded past column N. */
export function packB(B: Float32Array, K: number, N: number, out: Float32Array): void {
  for (let j0 = 0; j0 < N; j0 += NR)
    for (let k = 0; k < K; k++)
      for (let c = 0; c < NR; c++) out[j0 * K + k * NR + c] = j0 + c < N ? B[k * N + j0 + c]! : 0;
}

/** A kernel instantiated on its own memory, with views of its packed inputs and of C. */
export interface GemmKernel {
  readonly packedA: Float32Array;
  readonly packedB: Float32Array;
  readonly c: Float32Array;
  /** C += A·B on the packed inputs already in memory. */
  run(): void;
  /** Packs row-major A and B, then C += A·B on a copy of `C` written back into it. */
  multiply(A: Float32Array, B: Float32Array, C: Float32Array): void;
}

export function createGemm(M: number, N: number, K: number): GemmKernel {
  const layout = gemmLayout(M, N, K);
  const memory = new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages });
  const instance = new WebAssembly.Instance(buildGemmModule(M, N, K), { env: { mem: memory } });
  const fn = instance.exports["gemm"] as (a: number, b: number, c: number) => void;
  const view = (byteOffset: number, length: number): Float32Array =>
    new Float32Array(memory.buffer, byteOffset, length);
  const packedA = view(layout.a, M * K);
  const packedB = view(layout.b, paddedN(N) * K);
  const c = view(layout.c, M * N);
  const run = (): void => fn(layout.a, layout.b, layout.c);
  return {
    packedA,
    packedB,
    c,
    run,
    multiply(a, b, cIn) {
      packA(a, M, K, packedA);
      packB(b, K, N, packedB);
      c.set(cIn);
      run();
      cIn.set(c);
    },
  };
}
