// The one place that writes WebAssembly binaries: a small typed instruction tree, encoded to bytes
// or dumped as folded WAT. Browser-safe (no Node imports); see docs/wasm-backend.md for why we
// own this instead of using binaryen.js.
import "./webassembly.js";

export type ValType = "i32" | "f32" | "v128";

/** Opcodes of every instruction the tree can hold; SIMD ones sit behind the 0xfd prefix. */
const OPCODES = {
  "local.get": [0x20],
  "local.set": [0x21],
  "i32.const": [0x41],
  "i32.add": [0x6a],
  "i32.ne": [0x47],
  "f32.add": [0x92],
  "f32.load": [0x2a],
  "f32.store": [0x38],
  "v128.load": [0xfd, 0x00],
  "v128.load32_splat": [0xfd, 0x09],
  "v128.store": [0xfd, 0x0b],
  "v128.const": [0xfd, 0x0c],
  "f32x4.extract_lane": [0xfd, 0x1f],
  "f32x4.add": [0xfd, 0xe4],
  "f32x4.mul": [0xfd, 0xe6],
  block: [0x02],
  loop: [0x03],
  br_if: [0x0d],
} as const;

const END = 0x0b;
const BLOCK_VOID = 0x40;
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };
const SECTION = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;
const FUNC_TYPE = 0x60;
const EXTERN_FUNC = 0x00;
const EXTERN_MEMORY = 0x02;
const LIMITS_MIN_ONLY = 0x00;

/** log2 of each access's natural alignment: the hint we always give, since V8 ignores it. */
const ALIGN = {
  "f32.load": 2,
  "f32.store": 2,
  "v128.load": 4,
  "v128.load32_splat": 2,
  "v128.store": 4,
};

type Load = "f32.load" | "v128.load" | "v128.load32_splat";
type Store = "f32.store" | "v128.store";
type Binary = "i32.add" | "i32.ne" | "f32.add" | "f32x4.add" | "f32x4.mul";

/** An instruction with its operands as subtrees: encodes in post-order, prints as folded WAT. */
export type Expr =
  | { op: "local.get"; local: number }
  | { op: "local.set"; local: number; value: Expr }
  | { op: "i32.const"; value: number }
  | { op: "v128.const"; bytes: readonly number[] }
  | { op: Binary; a: Expr; b: Expr }
  | { op: Load; addr: Expr; offset: number }
  | { op: Store; addr: Expr; offset: number; value: Expr }
  | { op: "f32x4.extract_lane"; lane: number; vec: Expr }
  | { op: "block" | "loop"; label: string; body: Expr[] }
  | { op: "br_if"; label: string; cond: Expr };

/** A function with no results; locals are numbered after the params. */
export interface Func {
  name: string;
  params: ValType[];
  locals: ValType[];
  body: Expr[];
}

/** A module importing one memory as env.mem and exporting every function by name. */
export interface ModuleSpec {
  minPages: number;
  functions: Func[];
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

function encodeExpr(e: Expr, labels: string[], out: number[]): void {
  const emit = (...bytes: number[]): void => {
    for (const b of bytes) out.push(b);
  };
  const op = (): void => {
    const [first, ...rest] = OPCODES[e.op];
    // The SIMD sub-opcode is a u32 LEB128, so codes ≥ 0x80 take two bytes.
    emit(first, ...rest.flatMap(uleb128));
  };
  const sub = (x: Expr): void => encodeExpr(x, labels, out);
  switch (e.op) {
    case "local.get":
      op();
      return emit(...uleb128(e.local));
    case "local.set":
      sub(e.value);
      op();
      return emit(...uleb128(e.local));
    case "i32.const":
      op();
      return emit(...sleb128(e.value));
    case "v128.const":
      if (e.bytes.length !== 16) throw new Error("v128.const needs 16 bytes");
      op();
      return emit(...e.bytes);
    case "f32.load":
    case "v128.load":
    case "v128.load32_splat":
      sub(e.addr);
      op();
      return emit(...uleb128(ALIGN[e.op]), ...uleb128(e.offset));
    case "f32.store":
    case "v128.store":
      sub(e.addr);
      sub(e.value);
      op();
      return emit(...uleb128(ALIGN[e.op]), ...uleb128(e.offset));
    case "f32x4.extract_lane":
      sub(e.vec);
      op();
      return emit(e.lane);
    case "block":
    case "loop":
      op();
      emit(BLOCK_VOID);
      labels.push(e.label);
      for (const x of e.body) sub(x);
      labels.pop();
      return emit(END);
    case "br_if": {
      sub(e.cond);
      const index = labels.lastIndexOf(e.label);
      if (index < 0) throw new Error(`br_if to unknown label ${e.label}`);
      op();
      return emit(...uleb128(labels.length - 1 - index));
    }
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
  // One type per distinct signature; all functions return nothing.
  const signatures = [...new Set(fns.map((f) => f.params.join(",")))];
  const types = signatures.map((s) => {
    const params = s === "" ? [] : (s.split(",") as ValType[]);
    return [FUNC_TYPE, ...vector(params.map((p) => [VALTYPE[p]])), ...vector([])];
  });
  const memory = [...name("env"), ...name("mem"), EXTERN_MEMORY, LIMITS_MIN_ONLY];
  const bodies = fns.map((f) => {
    const code: number[] = [];
    for (const e of f.body) encodeExpr(e, [], code);
    const body = [...vector(localRuns(f.locals)), ...code, END];
    return [...uleb128(body.length), ...body];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(SECTION.type, vector(types)),
    ...section(SECTION.import, vector([[...memory, ...uleb128(spec.minPages)]])),
    ...section(
      SECTION.function,
      vector(fns.map((f) => uleb128(signatures.indexOf(f.params.join(","))))),
    ),
    ...section(
      SECTION.export,
      vector(fns.map((f, i) => [...name(f.name), EXTERN_FUNC, ...uleb128(i)])),
    ),
    ...section(SECTION.code, vector(bodies)),
  ]);
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
      return `${indent}(local.set ${e.local}${args(e.value)})`;
    case "i32.const":
      return `${indent}(i32.const ${e.value})`;
    case "v128.const":
      return `${indent}(v128.const i8x16 ${e.bytes.join(" ")})`;
    case "f32.load":
    case "v128.load":
    case "v128.load32_splat":
      return `${indent}(${e.op}${mem(e.offset)}${args(e.addr)})`;
    case "f32.store":
    case "v128.store":
      return `${indent}(${e.op}${mem(e.offset)}${args(e.addr, e.value)})`;
    case "f32x4.extract_lane":
      return `${indent}(f32x4.extract_lane ${e.lane}${args(e.vec)})`;
    case "block":
    case "loop":
      return `${indent}(${e.op} $${e.label}${args(...e.body)})`;
    case "br_if":
      return `${indent}(br_if $${e.label}${args(e.cond)})`;
    default:
      return `${indent}(${e.op}${args(e.a, e.b)})`;
  }
}

/** Folded WAT for debugging; locals print by index, as the binary numbers them. */
export function toWat(spec: ModuleSpec): string {
  const fns = spec.functions.map((f) => {
    const params = f.params.map((p) => ` (param ${p})`).join("");
    const locals = f.locals.length > 0 ? `\n    (local ${f.locals.join(" ")})` : "";
    const body = f.body.map((e) => "\n" + watExpr(e, "    ")).join("");
    return `  (func (export "${f.name}")${params}${locals}${body})`;
  });
  return `(module\n  (import "env" "mem" (memory ${spec.minPages}))\n${fns.join("\n")})\n`;
}
