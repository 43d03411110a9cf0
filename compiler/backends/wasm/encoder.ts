// The one place that writes WebAssembly binaries: a small typed instruction tree, encoded to bytes
// or dumped as folded WAT. Browser-safe (no Node imports); see docs/wasm-backend.md for why we
// own this instead of using binaryen.js.
import type {} from "../../../runtime/webassembly.js";

export type ValType = "i32" | "f32" | "v128";

/** Opcodes of every instruction the tree can hold; SIMD ones sit behind the 0xfd prefix. */
const OPCODES = {
  "local.get": [0x20],
  "local.set": [0x21],
  "local.tee": [0x22],
  "i32.const": [0x41],
  "i64.const": [0x42],
  drop: [0x1a],
  "f32.const": [0x43],
  "i32.eqz": [0x45],
  "i32.eq": [0x46],
  "i32.ne": [0x47],
  "i32.lt_s": [0x48],
  "i32.lt_u": [0x49],
  "i32.gt_s": [0x4a],
  "i32.le_s": [0x4c],
  "i32.ge_s": [0x4e],
  "f32.eq": [0x5b],
  "f32.ne": [0x5c],
  "f32.lt": [0x5d],
  "f32.gt": [0x5e],
  "f32.le": [0x5f],
  "f32.ge": [0x60],
  "i32.add": [0x6a],
  "i32.sub": [0x6b],
  "i32.mul": [0x6c],
  "i32.div_u": [0x6e],
  "i32.and": [0x71],
  "i32.or": [0x72],
  "i32.xor": [0x73],
  "i32.shl": [0x74],
  "i32.shr_s": [0x75],
  "i32.shr_u": [0x76],
  "f32.neg": [0x8c],
  "f32.nearest": [0x90],
  "f32.sqrt": [0x91],
  "f32.add": [0x92],
  "f32.sub": [0x93],
  "f32.mul": [0x94],
  "f32.div": [0x95],
  "f32.min": [0x96],
  "f32.max": [0x97],
  "f32.abs": [0x8b],
  "i32.trunc_sat_f32_s": [0xfc, 0x00],
  "f32.convert_i32_s": [0xb2],
  "i32.reinterpret_f32": [0xbc],
  "f32.reinterpret_i32": [0xbe],
  "i32.load": [0x28],
  "f32.load": [0x2a],
  "i32.store": [0x36],
  "f32.store": [0x38],
  select: [0x1b],
  "v128.load": [0xfd, 0x00],
  "v128.load32_splat": [0xfd, 0x09],
  "v128.store": [0xfd, 0x0b],
  "v128.const": [0xfd, 0x0c],
  "i8x16.shuffle": [0xfd, 0x0d],
  "i32x4.splat": [0xfd, 0x11],
  "f32x4.splat": [0xfd, 0x13],
  "f32x4.extract_lane": [0xfd, 0x1f],
  "f32x4.eq": [0xfd, 0x41],
  "f32x4.lt": [0xfd, 0x43],
  "f32x4.gt": [0xfd, 0x44],
  "f32x4.ge": [0xfd, 0x46],
  "f32x4.le": [0xfd, 0x45],
  "v128.and": [0xfd, 0x4e],
  "v128.andnot": [0xfd, 0x4f],
  "v128.or": [0xfd, 0x50],
  "v128.xor": [0xfd, 0x51],
  "v128.bitselect": [0xfd, 0x52],
  "i32x4.lt_s": [0xfd, 0x39],
  "i32x4.shl": [0xfd, 0xab],
  "i32x4.shr_s": [0xfd, 0xac],
  "i32x4.shr_u": [0xfd, 0xad],
  "i32x4.add": [0xfd, 0xae],
  "i32x4.sub": [0xfd, 0xb1],
  "i32x4.mul": [0xfd, 0xb5],
  "f32x4.abs": [0xfd, 0xe0],
  "v128.any_true": [0xfd, 0x53],
  "f32x4.neg": [0xfd, 0xe1],
  "f32x4.sqrt": [0xfd, 0xe3],
  "f32x4.add": [0xfd, 0xe4],
  "f32x4.sub": [0xfd, 0xe5],
  "f32x4.mul": [0xfd, 0xe6],
  "f32x4.div": [0xfd, 0xe7],
  "f32x4.min": [0xfd, 0xe8],
  "f32x4.max": [0xfd, 0xe9],
  "f32x4.pmin": [0xfd, 0xea],
  "f32x4.pmax": [0xfd, 0xeb],
  "f32x4.convert_i32x4_s": [0xfd, 0xfa],
  "f32x4.relaxed_madd": [0xfd, 0x105],
  "memory.atomic.notify": [0xfe, 0x00],
  "memory.atomic.wait32": [0xfe, 0x01],
  "i32.atomic.load": [0xfe, 0x10],
  "i32.atomic.store": [0xfe, 0x17],
  "i32.atomic.rmw.add": [0xfe, 0x1e],
  block: [0x02],
  loop: [0x03],
  if: [0x04],
  br: [0x0c],
  br_if: [0x0d],
  call: [0x10],
} as const;

const ELSE = 0x05;
const END = 0x0b;
const BLOCK_VOID = 0x40;
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };
const SECTION = { type: 1, import: 2, function: 3, export: 7, code: 10, data: 11 } as const;
const FUNC_TYPE = 0x60;
const EXTERN_FUNC = 0x00;
const EXTERN_MEMORY = 0x02;
const LIMITS_MIN_MAX = 0x01;
export const LIMITS_SHARED = 0x03;
const MAX_PAGES = 65536;

/** log2 of each access's natural alignment: the hint we always give, since V8 ignores it. */
const ALIGN = {
  "i32.atomic.load": 2,
  "i32.atomic.store": 2,
  "i32.atomic.rmw.add": 2,
  "memory.atomic.notify": 2,
  "memory.atomic.wait32": 2,
  "i32.load": 2,
  "f32.load": 2,
  "i32.store": 2,
  "f32.store": 2,
  "v128.load": 4,
  "v128.load32_splat": 2,
  "v128.store": 4,
};

type Load = "i32.load" | "f32.load" | "v128.load" | "v128.load32_splat" | "i32.atomic.load";
/** Stores, and the atomics of the same shape (address, value) that return the old value. */
type Store =
  | "i32.store"
  | "f32.store"
  | "v128.store"
  | "i32.atomic.store"
  | "i32.atomic.rmw.add"
  | "memory.atomic.notify";
type Unary =
  | "i32.eqz"
  | "f32.abs"
  | "f32.neg"
  | "f32.nearest"
  | "i32.trunc_sat_f32_s"
  | "i32.reinterpret_f32"
  | "f32.reinterpret_i32"
  | "f32.sqrt"
  | "f32.convert_i32_s"
  | "i32x4.splat"
  | "f32x4.splat"
  | "f32x4.abs"
  | "f32x4.convert_i32x4_s"
  | "f32x4.neg"
  | "f32x4.sqrt"
  | "v128.any_true"
  | "drop";
type Binary =
  | "i32.eq"
  | "i32.ne"
  | "i32.lt_s"
  | "i32.lt_u"
  | "i32.gt_s"
  | "i32.le_s"
  | "i32.ge_s"
  | "i32.add"
  | "i32.sub"
  | "i32.mul"
  | "i32.div_u"
  | "i32.and"
  | "i32.or"
  | "i32.xor"
  | "i32.shl"
  | "i32.shr_s"
  | "i32.shr_u"
  | "f32.eq"
  | "f32.ne"
  | "f32.lt"
  | "f32.gt"
  | "f32.le"
  | "f32.ge"
  | "f32.add"
  | "f32.sub"
  | "f32.mul"
  | "f32.div"
  | "f32.min"
  | "f32.max"
  | "f32x4.eq"
  | "f32x4.lt"
  | "f32x4.le"
  | "f32x4.gt"
  | "f32x4.ge"
  | "i32x4.add"
  | "i32x4.sub"
  | "i32x4.shl"
  | "i32x4.shr_s"
  | "i32x4.shr_u"
  | "i32x4.mul"
  | "i32x4.lt_s"
  | "v128.and"
  | "v128.andnot"
  | "v128.or"
  | "v128.xor"
  | "f32x4.add"
  | "f32x4.sub"
  | "f32x4.mul"
  | "f32x4.div"
  | "f32x4.min"
  | "f32x4.max"
  | "f32x4.pmin"
  | "f32x4.pmax";
type Ternary = "select" | "v128.bitselect" | "f32x4.relaxed_madd";

/** An instruction with its operands as subtrees: encodes in post-order, prints as folded WAT. */
export type Expr =
  | { op: "local.get"; local: number }
  | { op: "local.set" | "local.tee"; local: number; value: Expr }
  | { op: "i32.const" | "i64.const"; value: number }
  /** An i32 known only once the whole module is laid out: written 5 bytes wide, then patched. */
  | { op: "i32.const"; value: number; late: true }
  | { op: "f32.const"; value: number }
  | { op: "v128.const"; bytes: readonly number[] }
  | { op: Unary; a: Expr }
  | { op: Binary; a: Expr; b: Expr }
  | { op: Ternary; a: Expr; b: Expr; c: Expr }
  | { op: Load; addr: Expr; offset: number }
  | { op: Store; addr: Expr; offset: number; value: Expr }
  | { op: "memory.atomic.wait32"; addr: Expr; offset: number; expected: Expr; timeout: Expr }
  | { op: "f32x4.extract_lane"; lane: number; vec: Expr }
  /** Bytes of a and b (0–15 from a, 16–31 from b) picked by 16 constant lane indices. */
  | { op: "i8x16.shuffle"; a: Expr; b: Expr; lanes: readonly number[] }
  /** With `result`, the block's last instruction leaves its value: a computation as an operand. */
  | { op: "block" | "loop"; label: string; body: Expr[]; result?: ValType }
  | { op: "if"; cond: Expr; then: Expr[]; else?: Expr[] }
  | { op: "br"; label: string }
  | { op: "br_if"; label: string; cond: Expr }
  | { op: "call"; func: string; args: Expr[] };

/** A function with no results; locals are numbered after the params. */
export interface Func {
  name: string;
  params: ValType[];
  locals: ValType[];
  body: Expr[];
  /** Exported under its name (default true). */
  export?: boolean;
}

/**
 * A module importing one memory as env.mem, and `imports` as functions env.<name> of type
 * () → (); exporting functions by name; `data` initialises memory at constant byte offsets.
 * The memory import declares a maximum, so one byte (see `sharedFlagOffset`) turns it into a
 * shared memory for threads without re-encoding.
 */
/**
 * A function encoded as soon as it was built (see `encodeFunction`): its bytes, and where its
 * `late` constants are, which the module's encoding fills in with their values by then.
 */
export interface EncodedFunc {
  name: string;
  params: ValType[];
  code: Uint8Array;
  late: { at: number; node: { value: number } }[];
  export?: boolean;
}

export interface ModuleSpec {
  minPages: number;
  functions: (Func | EncodedFunc)[];
  imports?: string[];
  data?: { offset: number; bytes: Uint8Array }[];
}

export function uleb128(value: number): number[] {
  const out: number[] = [];
  let x = value >>> 0;
  do {
    const byte = x & 0x7f;
    x >>>= 7;
    out.push(x !== 0 ? byte | 0x80 : byte);
  } while (x !== 0);
  return out;
}

export function sleb128(value: number): number[] {
  const out: number[] = [];
  let x = value | 0;
  for (;;) {
    const byte = x & 0x7f;
    x >>= 7;
    // Done once the remaining bits are all copies of the sign bit just written.
    if ((x === 0 && (byte & 0x40) === 0) || (x === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function name(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  return [...uleb128(bytes.length), ...bytes];
}

export function section(id: number, content: number[]): number[] {
  return [id, ...uleb128(content.length), ...content];
}

/** Opcodes as bytes, the SIMD and atomic sub-opcodes already in LEB128 (codes ≥ 0x80 take two). */
const OPCODE_BYTES = Object.fromEntries(
  Object.entries(OPCODES).map(([op, [first, ...rest]]) => [op, [first, ...rest.flatMap(uleb128)]]),
) as Record<keyof typeof OPCODES, number[]>;

/** A growing byte buffer: the one output path, with no intermediate arrays per instruction. */
class Bytes {
  private buf = new Uint8Array(1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  all(bytes: ArrayLike<number>): void {
    this.reserve(bytes.length);
    for (let i = 0; i < bytes.length; i++) this.buf[this.length++] = bytes[i]!;
  }

  u32(value: number): void {
    let x = value >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.byte(x !== 0 ? b | 0x80 : b);
    } while (x !== 0);
  }

  s32(value: number): void {
    this.all(sleb128(value));
  }

  op(op: keyof typeof OPCODES): void {
    this.all(OPCODE_BYTES[op]);
  }

  /** A section or a function body: its byte length, then its bytes. */
  sized(content: Bytes | Uint8Array): void {
    const bytes = content instanceof Uint8Array ? content : content.bytes();
    this.u32(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  vector<T>(items: readonly T[], each: (item: T) => void): void {
    this.u32(items.length);
    for (const item of items) each(item);
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

interface Scope {
  labels: string[];
  funcs: ReadonlyMap<string, number>;
  /** Where `late` constants were written. */
  late: { at: number; node: { value: number } }[];
}

function depth(label: string, scope: Scope): number {
  const index = scope.labels.lastIndexOf(label);
  if (index < 0) throw new Error(`branch to unknown label ${label}`);
  return scope.labels.length - 1 - index;
}

function block(body: Expr[], label: string, scope: Scope, out: Bytes): void {
  scope.labels.push(label);
  for (const x of body) encodeExpr(x, scope, out);
  scope.labels.pop();
}

function memarg(op: keyof typeof ALIGN, offset: number, out: Bytes): void {
  out.op(op);
  out.u32(ALIGN[op]);
  out.u32(offset);
}

const F32_BYTES = new Uint8Array(4);
const F32_VIEW = new Float32Array(F32_BYTES.buffer);

function encodeExpr(e: Expr, scope: Scope, out: Bytes): void {
  switch (e.op) {
    case "local.get":
      out.op(e.op);
      return out.u32(e.local);
    case "local.set":
    case "local.tee":
      encodeExpr(e.value, scope, out);
      out.op(e.op);
      return out.u32(e.local);
    case "i32.const":
    case "i64.const":
      // Only small i64 values (timeouts) are needed: sleb128 of a 32-bit value is valid for i64.
      out.op(e.op);
      if ("late" in e) {
        scope.late.push({ at: out.length, node: e });
        return out.all(LATE_PLACEHOLDER);
      }
      return out.s32(e.value);
    case "f32.const":
      out.op(e.op);
      F32_VIEW[0] = e.value;
      return out.all(F32_BYTES);
    case "v128.const":
      if (e.bytes.length !== 16) throw new Error("v128.const needs 16 bytes");
      out.op(e.op);
      return out.all(e.bytes);
    case "i32.load":
    case "f32.load":
    case "v128.load":
    case "v128.load32_splat":
    case "i32.atomic.load":
      encodeExpr(e.addr, scope, out);
      return memarg(e.op, e.offset, out);
    case "i32.store":
    case "f32.store":
    case "v128.store":
    case "i32.atomic.store":
    case "i32.atomic.rmw.add":
    case "memory.atomic.notify":
      encodeExpr(e.addr, scope, out);
      encodeExpr(e.value, scope, out);
      return memarg(e.op, e.offset, out);
    case "memory.atomic.wait32":
      encodeExpr(e.addr, scope, out);
      encodeExpr(e.expected, scope, out);
      encodeExpr(e.timeout, scope, out);
      return memarg(e.op, e.offset, out);
    case "f32x4.extract_lane":
      encodeExpr(e.vec, scope, out);
      out.op(e.op);
      return out.byte(e.lane);
    case "i8x16.shuffle":
      if (e.lanes.length !== 16) throw new Error("i8x16.shuffle needs 16 lane indices");
      encodeExpr(e.a, scope, out);
      encodeExpr(e.b, scope, out);
      out.op(e.op);
      return out.all(e.lanes);
    case "block":
    case "loop":
      out.op(e.op);
      out.byte(e.result ? VALTYPE[e.result] : BLOCK_VOID);
      block(e.body, e.label, scope, out);
      return out.byte(END);
    case "if":
      encodeExpr(e.cond, scope, out);
      out.op(e.op);
      out.byte(BLOCK_VOID);
      block(e.then, "", scope, out);
      if (e.else) {
        out.byte(ELSE);
        block(e.else, "", scope, out);
      }
      return out.byte(END);
    case "br":
      out.op(e.op);
      return out.u32(depth(e.label, scope));
    case "br_if":
      encodeExpr(e.cond, scope, out);
      out.op(e.op);
      return out.u32(depth(e.label, scope));
    case "call": {
      const index = scope.funcs.get(e.func);
      if (index === undefined) throw new Error(`call to unknown function ${e.func}`);
      for (const x of e.args) encodeExpr(x, scope, out);
      out.op(e.op);
      return out.u32(index);
    }
    default:
      // Unary, binary and ternary operators alike: operands in order, then the opcode.
      encodeExpr(e.a, scope, out);
      if ("b" in e) encodeExpr(e.b, scope, out);
      if ("c" in e) encodeExpr(e.c, scope, out);
      return out.op(e.op);
  }
}

/** Five bytes, the widest LEB128 of an i32: room for any value a `late` constant gets. */
const LATE_PLACEHOLDER = [0x80, 0x80, 0x80, 0x80, 0x00];

/** Writes `value` as a five-byte signed LEB128 at `at`, over a placeholder. */
function patchLate(code: Uint8Array, at: number, value: number): void {
  const x = value | 0;
  for (let i = 0; i < 4; i++) code[at + i] = ((x >> (7 * i)) & 0x7f) | 0x80;
  code[at + 4] = (x >> 28) & 0x7f;
}

/**
 * Encodes a function that calls none (a step's kernel) right away, so that a model of
 * thousands of steps does not keep every instruction tree until the module is written: they
 * were most of the heap, and the collector's time grew faster than the steps.
 */
export function encodeFunction(f: Func): EncodedFunc {
  const scope: Scope = { labels: [], funcs: new Map(), late: [] };
  const functionBytes = new Bytes();
  encodeCode(f, scope, functionBytes);
  return {
    name: f.name,
    params: f.params,
    code: functionBytes.bytes(),
    late: scope.late,
    ...(f.export === false ? { export: false } : {}),
  };
}

/** A function's locals and instructions, as the code section holds them (without its size). */
function encodeCode(f: Func, scope: Scope, out: Bytes): void {
  out.vector(localRuns(f.locals), (run) => {
    out.u32(run.count);
    out.byte(VALTYPE[run.type]);
  });
  for (const e of f.body) encodeExpr(e, scope, out);
  out.byte(END);
}

/** Locals are declared as runs of equal types, so group consecutive ones. */
function localRuns(locals: ValType[]): { count: number; type: ValType }[] {
  const runs: { count: number; type: ValType }[] = [];
  for (const type of locals) {
    const last = runs[runs.length - 1];
    if (last?.type === type) last.count++;
    else runs.push({ count: 1, type });
  }
  return runs;
}

export function encodeModule(spec: ModuleSpec): Uint8Array {
  const fns = spec.functions;
  const imports = spec.imports ?? [];
  // One type per distinct signature; all functions return nothing. Imports take no params.
  const signatures = [...new Set(["", ...fns.map((f) => f.params.join(","))])];
  const funcs = new Map<string, number>();
  [...imports, ...fns.map((f) => f.name)].forEach((n, i) => {
    if (funcs.has(n)) throw new Error(`function ${n} defined twice`);
    funcs.set(n, i);
  });
  const out = new Bytes();
  out.all([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]); // "\0asm", version 1
  const section = (id: number, write: (content: Bytes) => void): void => {
    const content = new Bytes();
    write(content);
    out.byte(id);
    out.sized(content);
  };
  section(SECTION.type, (c) =>
    c.vector(signatures, (sig) => {
      const params = sig === "" ? [] : (sig.split(",") as ValType[]);
      c.byte(FUNC_TYPE);
      c.vector(params, (p) => c.byte(VALTYPE[p]));
      c.vector([], () => {});
    }),
  );
  section(SECTION.import, (c) => {
    c.u32(1 + imports.length);
    c.all([...name("env"), ...name("mem"), EXTERN_MEMORY, LIMITS_MIN_MAX]);
    c.u32(spec.minPages);
    c.u32(MAX_PAGES);
    for (const n of imports) {
      c.all([...name("env"), ...name(n), EXTERN_FUNC]);
      c.u32(0);
    }
  });
  section(SECTION.function, (c) =>
    c.vector(fns, (f) => c.u32(signatures.indexOf(f.params.join(",")))),
  );
  const exported = fns.flatMap((f, i) => (f.export === false ? [] : [{ f, i }]));
  section(SECTION.export, (c) =>
    c.vector(exported, ({ f, i }) => {
      c.all(name(f.name));
      c.byte(EXTERN_FUNC);
      c.u32(imports.length + i);
    }),
  );
  section(SECTION.code, (c) =>
    c.vector(fns, (f) => {
      let code: Uint8Array;
      let late: EncodedFunc["late"] = [];
      if ("code" in f) {
        ({ code, late } = f);
      } else {
        const body = new Bytes();
        encodeCode(f, { labels: [], funcs, late }, body);
        code = body.bytes();
      }
      for (const { at, node } of late) patchLate(code, at, node.value);
      c.sized(code);
    }),
  );
  if (spec.data && spec.data.length > 0)
    section(SECTION.data, (c) =>
      c.vector(spec.data!, (d) => {
        c.byte(0x00); // active, memory 0
        c.op("i32.const");
        c.s32(d.offset);
        c.byte(END);
        c.u32(d.bytes.length);
        c.all(d.bytes);
      }),
    );
  return out.bytes().slice();
}

/** Where the memory import's limits flag is: LIMITS_SHARED there makes the memory shared. */
export function sharedFlagOffset(bytes: Uint8Array): number {
  const pattern = [...name("env"), ...name("mem"), EXTERN_MEMORY];
  for (let i = 0; i + pattern.length < bytes.length; i++)
    if (pattern.every((b, k) => bytes[i + k] === b)) return i + pattern.length;
  throw new Error("the module imports no memory");
}

export function validate(bytes: Uint8Array): boolean {
  return WebAssembly.validate(bytes);
}

function watExpr(e: Expr, indent: string): string {
  const inner = indent + "  ";
  const args = (...xs: Expr[]): string => xs.map((x) => "\n" + watExpr(x, inner)).join("");
  const mem = (offset: number): string => (offset !== 0 ? ` offset=${offset}` : "");
  switch (e.op) {
    case "local.get":
      return `${indent}(local.get ${e.local})`;
    case "local.set":
    case "local.tee":
      return `${indent}(${e.op} ${e.local}${args(e.value)})`;
    case "i32.const":
    case "i64.const":
    case "f32.const":
      return `${indent}(${e.op} ${e.value})`;
    case "v128.const":
      return `${indent}(v128.const i8x16 ${e.bytes.join(" ")})`;
    case "i32.load":
    case "f32.load":
    case "v128.load":
    case "v128.load32_splat":
    case "i32.atomic.load":
      return `${indent}(${e.op}${mem(e.offset)}${args(e.addr)})`;
    case "i32.store":
    case "f32.store":
    case "v128.store":
    case "i32.atomic.store":
    case "i32.atomic.rmw.add":
    case "memory.atomic.notify":
      return `${indent}(${e.op}${mem(e.offset)}${args(e.addr, e.value)})`;
    case "memory.atomic.wait32":
      return `${indent}(${e.op}${mem(e.offset)}${args(e.addr, e.expected, e.timeout)})`;
    case "f32x4.extract_lane":
      return `${indent}(f32x4.extract_lane ${e.lane}${args(e.vec)})`;
    case "i8x16.shuffle":
      return `${indent}(i8x16.shuffle ${e.lanes.join(" ")}${args(e.a, e.b)})`;
    case "block":
    case "loop":
      return `${indent}(${e.op} $${e.label}${e.result ? ` (result ${e.result})` : ""}${args(...e.body)})`;
    case "if": {
      const otherwise = e.else ? `\n${inner}(else${args(...e.else)})` : "";
      return `${indent}(if${args(e.cond)}\n${inner}(then${args(...e.then)})${otherwise})`;
    }
    case "br":
      return `${indent}(br $${e.label})`;
    case "br_if":
      return `${indent}(br_if $${e.label}${args(e.cond)})`;
    case "call":
      return `${indent}(call $${e.func}${args(...e.args)})`;
    default:
      return `${indent}(${e.op}${args(e.a, ...("b" in e ? [e.b] : []), ...("c" in e ? [e.c] : []))})`;
  }
}

/** Folded WAT for debugging; locals print by index, as the binary numbers them. */
export function toWat(spec: ModuleSpec): string {
  const imports = (spec.imports ?? []).map((n) => `\n  (import "env" "${n}" (func $${n}))`);
  const fns = spec.functions.map((f) => {
    const params = f.params.map((p) => ` (param ${p})`).join("");
    if ("code" in f) return `  (func $${f.name}${params}) ;; ${f.code.length} bytes, encoded`;
    const locals = f.locals.length > 0 ? `\n    (local ${f.locals.join(" ")})` : "";
    const body = f.body.map((e) => "\n" + watExpr(e, "    ")).join("");
    const exported = f.export === false ? "" : ` (export "${f.name}")`;
    return `  (func $${f.name}${exported}${params}${locals}${body})`;
  });
  const data = (spec.data ?? []).map(
    (d) => `\n  (data (i32.const ${d.offset}) "…${d.bytes.length} bytes")`,
  );
  return `(module\n  (import "env" "mem" (memory ${spec.minPages} ${MAX_PAGES}))${imports.join("")}\n${fns.join("\n")}${data.join("")})\n`;
}
