// The IDX format of MNIST and Fashion-MNIST: bytes in, dims and unsigned-byte data out (no Node imports).
import { NetcError } from "../errors.js";

/** An IDX array: `dims` in file order (records first), `data` row-major. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** IDX type bytes, named in errors so a float or int file is recognised as such. */
const typeNames: Record<number, string> = {
  0x08: "unsigned bytes",
  0x09: "signed bytes",
  0x0b: "16-bit integers",
  0x0c: "32-bit integers",
  0x0d: "32-bit floats",
  0x0e: "64-bit floats",
};

const hex = (byte: number) => `0x${byte.toString(16).padStart(2, "0")}`;

/** True for gzip's magic bytes 1f 8b: such bytes must be decompressed before `parseIdx`. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses raw (already decompressed) IDX bytes; `file` names the source in errors. The data is a
 * view into `bytes`, not a copy.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (isGzip(bytes)) {
    throw new NetcError(`${file} is gzip-compressed: decompress it before reading it as IDX`);
  }
  if (bytes.length < 4) {
    throw new NetcError(
      `${file} is not an IDX file: it has ${bytes.length} bytes, fewer than the 4-byte header`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new NetcError(
      `${file} is not an IDX file: it starts with ${hex(bytes[0]!)} ${hex(bytes[1]!)}, expected 0x00 0x00`,
    );
  }
  const type = bytes[2]!;
  if (type !== 0x08) {
    const name = typeNames[type];
    const what = name ? `${hex(type)} (${name})` : `${hex(type)}, which is not an IDX type`;
    throw new NetcError(
      `${file} has data type ${what} at offset 2; only 0x08 (unsigned bytes) is supported`,
    );
  }
  const rank = bytes[3]!;
  if (rank === 0) throw new NetcError(`${file} declares rank 0 at offset 3; expected 1 or more`);
  const header = 4 + 4 * rank;
  if (bytes.length < header) {
    throw new NetcError(
      `${file} is truncated: its header declares ${rank} dimensions and needs ${header} bytes, but the file has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - header;
  if (actual < expected) {
    throw new NetcError(
      `${file} is truncated: dims [${dims.join(", ")}] need ${expected} data bytes after the ${header}-byte header, but there are ${actual}`,
    );
  }
  if (actual > expected) {
    throw new NetcError(
      `${file} has ${actual - expected} bytes after its data ends at offset ${header + expected} (dims [${dims.join(", ")}])`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** The IDX bytes of an unsigned-byte array: used to write the embedded sample and test files. */
export function encodeIdx(array: IdxArray): Uint8Array {
  const header = 4 + 4 * array.dims.length;
  const bytes = new Uint8Array(header + array.data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = 0x08;
  bytes[3] = array.dims.length;
  array.dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  bytes.set(array.data, header);
  return bytes;
}
