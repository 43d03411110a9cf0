// NumPy's .npy format (and .npz, a zip of them): bytes in, a shape and typed values out (no Node imports).
import { unzipSync } from "fflate";
import { allocating, NetcError } from "../errors.js";
import { formatShape } from "./dataset.js";

/** Numbers as JavaScript holds them; 64-bit integers become Float64Array (checked exact). */
export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** One array: NumPy's dtype name (`uint8`, `float32`, `str`), its shape and its values. */
export type NdArray = { shape: number[]; name: string } & (
  | { kind: "integer" | "float" | "bool"; dtype: string; data: NumericArray }
  | { kind: "string"; dtype: "str"; data: string[] }
);

interface DtypeReader {
  name: string;
  kind: "integer" | "float" | "bool";
  /** Bytes per value in the file. */
  size: number;
  /** The values read one by one from the bytes, in either byte order, aligned or not. */
  read(view: DataView, count: number, little: boolean): NumericArray;
  /** The values without a copy, for little-endian bytes aligned to `size`, where JS has the type. */
  view?: (buffer: ArrayBufferLike, at: number, count: number) => NumericArray;
}

type TypedArrayOf = new (...args: [number] | [ArrayBufferLike, number, number]) => NumericArray;

/**
 * A dtype held in a `Type` array, read by `get`; `viewable` when its bytes are that array's (so
 * little-endian aligned bytes need no copy), not for 64-bit integers and halves, which convert.
 */
function dtype(
  name: string,
  kind: DtypeReader["kind"],
  size: number,
  Type: TypedArrayOf,
  get: (view: DataView, at: number, little: boolean) => number,
  viewable = true,
): DtypeReader {
  const read = (view: DataView, count: number, little: boolean) => {
    const out = new Type(count);
    for (let i = 0; i < count; i++) out[i] = get(view, i * size, little);
    return out;
  };
  if (!viewable) return { name, kind, size, read };
  return { name, kind, size, read, view: (buffer, at, count) => new Type(buffer, at, count) };
}

/** A 64-bit integer as a number, refused when a double cannot hold it exactly. */
function exact(value: bigint): number {
  const n = Number(value);
  if (BigInt(n) !== value) {
    throw new NetcError(`the value ${value} is too large to be held exactly (above 2^53)`);
  }
  return n;
}

/** IEEE half precision, for `float16` arrays. */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** NumPy's type codes (`u1`, `f4`, ...) and how to read each. */
const dtypes: Record<string, DtypeReader> = {
  b1: dtype("bool", "bool", 1, Uint8Array, (v, i) => (v.getUint8(i) ? 1 : 0), false),
  u1: dtype("uint8", "integer", 1, Uint8Array, (v, i) => v.getUint8(i)),
  i1: dtype("int8", "integer", 1, Int8Array, (v, i) => v.getInt8(i)),
  u2: dtype("uint16", "integer", 2, Uint16Array, (v, i, l) => v.getUint16(i, l)),
  i2: dtype("int16", "integer", 2, Int16Array, (v, i, l) => v.getInt16(i, l)),
  u4: dtype("uint32", "integer", 4, Uint32Array, (v, i, l) => v.getUint32(i, l)),
  i4: dtype("int32", "integer", 4, Int32Array, (v, i, l) => v.getInt32(i, l)),
  u8: dtype("uint64", "integer", 8, Float64Array, (v, i, l) => exact(v.getBigUint64(i, l)), false),
  i8: dtype("int64", "integer", 8, Float64Array, (v, i, l) => exact(v.getBigInt64(i, l)), false),
  f2: dtype("float16", "float", 2, Float32Array, (v, i, l) => half(v.getUint16(i, l)), false),
  f4: dtype("float32", "float", 4, Float32Array, (v, i, l) => v.getFloat32(i, l)),
  f8: dtype("float64", "float", 8, Float64Array, (v, i, l) => v.getFloat64(i, l)),
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const supported = "bool, (u)int8/16/32/64, float16/32/64 and strings (<U, |S)";

/** The header's Python dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`. */
function parseHeader(text: string, name: string) {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const order = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined) {
    if (/'descr'\s*:\s*\[/.test(text)) {
      throw new NetcError(
        `${name} holds a structured array (fields with names); netc reads plain arrays of ${supported}`,
      );
    }
    throw new NetcError(`${name} has a .npy header without a dtype ('descr'): ${text.trim()}`);
  }
  if (order === undefined || shapeText === undefined) {
    throw new NetcError(`${name} has a .npy header netc cannot read: ${text.trim()}`);
  }
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const n = Number(s.replace(/L$/, ""));
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new NetcError(`${name} declares shape (${shapeText}), which is not a shape`);
      }
      return n;
    });
  return { descr, fortran: order === "True", shape };
}

/** Fixed-width strings: `<U5` (UTF-32, 5 characters) or `|S5` (5 bytes), NUL-padded. */
function readStrings(
  bytes: Uint8Array,
  count: number,
  width: number,
  unicode: boolean,
  little: boolean,
): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  const size = unicode ? 4 * width : width;
  for (let i = 0; i < count; i++) {
    let s = "";
    for (let c = 0; c < width; c++) {
      const code = unicode ? view.getUint32(i * size + 4 * c, little) : bytes[i * size + c]!;
      if (code === 0) break;
      s += String.fromCodePoint(code);
    }
    out.push(s);
  }
  return out;
}

/**
 * Parses a .npy file (format versions 1 to 3); `name` names it in errors. Numbers are viewed
 * in place when the bytes allow it, else copied; C order only.
 */
export function parseNpy(bytes: Uint8Array, name: string): NdArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NetcError(`${name} is not a .npy file: it does not start with \\x93NUMPY`);
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) {
    throw new NetcError(
      `${name} is .npy format version ${major}.${bytes[7]}; netc reads versions 1 to 3`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes + headerLength;
  if (bytes.length < start) {
    throw new NetcError(
      `${name} is truncated: its header needs ${start} bytes, the file has ${bytes.length}`,
    );
  }
  const headerBytes = bytes.subarray(8 + lengthBytes, start);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes);
  const { descr, fortran, shape } = parseHeader(text, name);
  if (fortran) {
    throw new NetcError(
      `${name} is in Fortran (column-major) order; save it in C order: np.save(path, np.ascontiguousarray(x))`,
    );
  }
  const order = descr[0]!;
  const little = order !== ">";
  const code = "<>|=".includes(order) ? descr.slice(1) : descr;
  const count = shape.reduce((a, b) => a * b, 1);
  const rest = bytes.subarray(start);
  const sizeError = (itemSize: number) => {
    const need = count * itemSize;
    if (rest.length === need) return;
    throw new NetcError(
      rest.length < need
        ? `${name} is truncated: shape ${formatShape(shape)} of ${descr} needs ${need} data bytes, the file has ${rest.length}`
        : `${name} has ${rest.length - need} bytes after its data (shape ${formatShape(shape)} of ${descr})`,
    );
  };
  const strings = /^([US])(\d+)$/.exec(code);
  if (strings) {
    const width = Number(strings[2]);
    const unicode = strings[1] === "U";
    sizeError(unicode ? 4 * width : width);
    return {
      name,
      shape,
      kind: "string",
      dtype: "str",
      data: readStrings(rest, count, width, unicode, little),
    };
  }
  const reader = dtypes[code];
  if (!reader) {
    const what = code === "O" ? " (Python objects, stored pickled)" : "";
    throw new NetcError(`${name} holds dtype '${descr}'${what}; netc reads ${supported}`);
  }
  sizeError(reader.size);
  const bytesNeeded = count * reader.size;
  const at = rest.byteOffset;
  let data: NumericArray;
  if (reader.view && (little || reader.size === 1) && at % reader.size === 0) {
    data = reader.view(rest.buffer, at, count);
  } else {
    data = allocating(name, bytesNeeded, () =>
      reader.read(new DataView(rest.buffer, at, bytesNeeded), count, little),
    );
  }
  return { name, shape, kind: reader.kind, dtype: reader.name, data };
}

/** The arrays of a .npz file (a zip of .npy files), by key (the member name without `.npy`). */
export function parseNpz(bytes: Uint8Array, name: string): Map<string, () => NdArray> {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (error) {
    throw new NetcError(`${name} is not a readable .npz (zip) file: ${(error as Error).message}`);
  }
  const arrays = new Map<string, () => NdArray>();
  for (const [member, content] of Object.entries(members)) {
    if (!member.endsWith(".npy")) continue;
    const key = member.slice(0, -4);
    arrays.set(key, () => parseNpy(content, `${key} in ${name}`));
  }
  return arrays;
}
