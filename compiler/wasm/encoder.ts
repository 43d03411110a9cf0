// The one place that writes WebAssembly binaries: a small typed instruction tree, encoded to bytes
// or dumped as folded WAT. Browser-safe (no Node imports); see docs/wasm-backend.md for why we
// own this instead of using binaryen.js.
import type {} from "../../runtime/webassembly.js";

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
  "i32.add": [0x6a],
  "i32.sub": [0x6b],
  "i32.mul": [0x6c],
  "i32.div_u": [0x6e],
  "i32.and": [0x71],
  "i32.shl": [0x74],
  "f32.neg": [0x8c],
  "f32.sqrt": [0x91],
  "f32.add": [0x92],
  "f32.sub": [0x93],
  "f32.mul": [0x94],
  "f32.div": [0x95],
  "f32.min": [0x96],
  "f32.max": [0x97],
  "f32.convert_i32_s": [0xb2],
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
  "f32x4.splat": [0xfd, 0x13],
  "f32x4.extract_lane": [0xfd, 0x1f],
  "f32x4.eq": [0xfd, 0x41],
  "f32x4.gt": [0xfd, 0x44],
  "v128.and": [0xfd, 0x4e],
  "v128.andnot": [0xfd, 0x4f],
  "v128.or": [0xfd, 0x50],
  "v128.bitselect": [0xfd, 0x52],
  "f32x4.sqrt": [0xfd, 0xe3],
  "f32x4.add": [0xfd, 0xe4],
  "f32x4.sub": [0xfd, 0xe5],
  "f32x4.mul": [0xfd, 0xe6],
  "f32x4.div": [0xfd, 0xe7],
  "f32x4.min": [0xfd, 0xe8],
  "f32x4.max": [0xfd, 0xe9],
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
  "i32.eqz" | "f32.neg" | "f32.sqrt" | "f32.convert_i32_s" | "f32x4.splat" | "f32x4.sqrt" | "drop";
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
  | "i32.shl"
  | "f32.eq"
  | "f32.ne"
  | "f32.lt"
  | "f32.gt"
  | "f32.add"
  | "f32.sub"
  | "f32.mul"
  | "f32.div"
  | "f32.min"
  | "f32.max"
  | "f32x4.eq"
  | "f32x4.gt"
  | "v128.and"
  | "v128.andnot"
  | "v128.or"
  | "f32x4.add"
  | "f32x4.sub"
  | "f32x4.mul"
  | "f32x4.div"
  | "f32x4.min"
  | "f32x4.max";
type Ternary = "select" | "v128.bitselect" | "f32x4.relaxed_madd";

/** An instruction with its operands as subtrees: encodes in post-order, prints as folded WAT. */
export type Expr =
  | { op: "local.get"; local: number }
  | { op: "local.set" | "local.tee"; local: number; value: Expr }
  | { op: "i32.const" | "i64.const"; value: number }
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
  | { op: "block" | "loop"; label: string; body: Expr[] }
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
export interface ModuleSpec {
  minPages: number;
  functions: Func[];
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

/** A vector: its element count, then the already-encoded elements. */
function vector(items: number[][]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

export function section(id: number, content: number[]): number[] {
  return [id, ...uleb128(content.length), ...content];
}

function f32Bytes(value: number): number[] {
  return [...new Uint8Array(new Float32Array([value]).buffer)];
}

interface Scope {
  labels: string[];
  funcs: Map<string, number>;
}

function encodeExpr(e: Expr, scope: Scope, out: number[]): void {
  const emit = (...bytes: number[]): void => {
    for (const b of bytes) out.push(b);
  };
  const op = (): void => {
    const [first, ...rest] = OPCODES[e.op];
    // The SIMD sub-opcode is a u32 LEB128, so codes ≥ 0x80 take two bytes.
    emit(first, ...rest.flatMap(uleb128));
  };
  const sub = (x: Expr): void => encodeExpr(x, scope, out);
  const depth = (label: string): number[] => {
    const index = scope.labels.lastIndexOf(label);
    if (index < 0) throw new Error(`branch to unknown label ${label}`);
    return uleb128(scope.labels.length - 1 - index);
  };
  const block = (label: string, body: Expr[]): void => {
    scope.labels.push(label);
    for (const x of body) sub(x);
    scope.labels.pop();
  };
  switch (e.op) {
    case "local.get":
      op();
      return emit(...uleb128(e.local));
    case "local.set":
    case "local.tee":
      sub(e.value);
      op();
      return emit(...uleb128(e.local));
    case "i32.const":
    case "i64.const":
      // Only small i64 values (timeouts) are needed: sleb128 of a 32-bit value is valid for i64.
      op();
      return emit(...sleb128(e.value));
    case "f32.const":
      op();
      return emit(...f32Bytes(e.value));
    case "v128.const":
      if (e.bytes.length !== 16) throw new Error("v128.const needs 16 bytes");
      op();
      return emit(...e.bytes);
    case "i32.load":
    case "f32.load":
    case "v128.load":
    case "v128.load32_splat":
    case "i32.atomic.load":
      sub(e.addr);
      op();
      return emit(...uleb128(ALIGN[e.op]), ...uleb128(e.offset));
    case "i32.store":
    case "f32.store":
    case "v128.store":
    case "i32.atomic.store":
    case "i32.atomic.rmw.add":
    case "memory.atomic.notify":
      sub(e.addr);
      sub(e.value);
      op();
      return emit(...uleb128(ALIGN[e.op]), ...uleb128(e.offset));
    case "memory.atomic.wait32":
      sub(e.addr);
      sub(e.expected);
      sub(e.timeout);
      op();
      return emit(...uleb128(ALIGN[e.op]), ...uleb128(e.offset));
    case "f32x4.extract_lane":
      sub(e.vec);
      op();
      return emit(e.lane);
    case "i8x16.shuffle":
      if (e.lanes.length !== 16) throw new Error("i8x16.shuffle needs 16 lane indices");
      sub(e.a);
      sub(e.b);
      op();
      return emit(...e.lanes);
    case "block":
    case "loop":
      op();
      emit(BLOCK_VOID);
      block(e.label, e.body);
      return emit(END);
    case "if":
      sub(e.cond);
      op();
      emit(BLOCK_VOID);
      block("", e.then);
      if (e.else) {
        emit(ELSE);
        block("", e.else);
      }
      return emit(END);
    case "br":
      op();
      return emit(...depth(e.label));
    case "br_if":
      sub(e.cond);
      op();
      return emit(...depth(e.label));
    case "call": {
      const index = scope.funcs.get(e.func);
      if (index === undefined) throw new Error(`call to unknown function ${e.func}`);
      for (const x of e.args) sub(x);
      op();
      return emit(...uleb128(index));
    }
    case "select":
    case "v128.bitselect":
    case "f32x4.relaxed_madd":
      sub(e.a);
      sub(e.b);
      sub(e.c);
      return op();
    case "i32.eqz":
    case "f32.neg":
    case "f32.sqrt":
    case "f32.convert_i32_s":
    case "f32x4.splat":
    case "f32x4.sqrt":
    case "drop":
      sub(e.a);
      return op();
    default:
      sub(e.a);
      sub(e.b);
      return op();
  }
}

/** Locals are declared as runs of equal types, so group consecutive ones. */
function localRuns(locals: ValType[]): number[][] {
  const runs: { count: number; type: ValType }[] = [];
  for (const type of locals) {
    const last = runs[runs.length - 1];
    if (last?.type === type) last.count++;
    else runs.push({ count: 1, type });
  }
  return runs.map((r) => [...uleb128(r.count), VALTYPE[r.type]]);
}

export function encodeModule(spec: ModuleSpec): Uint8Array {
  const fns = spec.functions;
  const imports = spec.imports ?? [];
  // One type per distinct signature; all functions return nothing. Imports take no params.
  const signatures = [...new Set(["", ...fns.map((f) => f.params.join(","))])];
  const types = signatures.map((s) => {
    const params = s === "" ? [] : (s.split(",") as ValType[]);
    return [FUNC_TYPE, ...vector(params.map((p) => [VALTYPE[p]])), ...vector([])];
  });
  const funcs = new Map<string, number>();
  [...imports, ...fns.map((f) => f.name)].forEach((n, i) => {
    if (funcs.has(n)) throw new Error(`function ${n} defined twice`);
    funcs.set(n, i);
  });
  const memory = [...name("env"), ...name("mem"), EXTERN_MEMORY, LIMITS_MIN_MAX];
  const importEntries = [
    [...memory, ...uleb128(spec.minPages), ...uleb128(MAX_PAGES)],
    ...imports.map((n) => [...name("env"), ...name(n), EXTERN_FUNC, ...uleb128(0)]),
  ];
  const bodies = fns.map((f) => {
    const code: number[] = [];
    for (const e of f.body) encodeExpr(e, { labels: [], funcs }, code);
    const body = [...vector(localRuns(f.locals)), ...code, END];
    return [...uleb128(body.length), ...body];
  });
  const exported = fns.flatMap((f, i) =>
    f.export === false ? [] : [[...name(f.name), EXTERN_FUNC, ...uleb128(imports.length + i)]],
  );
  const data = (spec.data ?? []).map((d) => [
    0x00, // active, memory 0
    ...OPCODES["i32.const"],
    ...sleb128(d.offset),
    END,
    ...uleb128(d.bytes.length),
    ...d.bytes,
  ]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(SECTION.type, vector(types)),
    ...section(SECTION.import, vector(importEntries)),
    ...section(
      SECTION.function,
      vector(fns.map((f) => uleb128(signatures.indexOf(f.params.join(","))))),
    ),
    ...section(SECTION.export, vector(exported)),
    ...section(SECTION.code, vector(bodies)),
    ...(data.length > 0 ? section(SECTION.data, vector(data)) : []),
  ]);
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
      return `${indent}(${e.op} $${e.label}${args(...e.body)})`;
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
    case "select":
    case "v128.bitselect":
    case "f32x4.relaxed_madd":
      return `${indent}(${e.op}${args(e.a, e.b, e.c)})`;
    case "i32.eqz":
    case "f32.neg":
    case "f32.sqrt":
    case "f32.convert_i32_s":
    case "f32x4.splat":
    case "f32x4.sqrt":
    case "drop":
      return `${indent}(${e.op}${args(e.a)})`;
    default:
      return `${indent}(${e.op}${args(e.a, e.b)})`;
  }
}

/** Folded WAT for debugging; locals print by index, as the binary numbers them. */
export function toWat(spec: ModuleSpec): string {
  const imports = (spec.imports ?? []).map((n) => `\n  (import "env" "${n}" (func $${n}))`);
  const fns = spec.functions.map((f) => {
    const params = f.params.map((p) => ` (param ${p})`).join("");
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
