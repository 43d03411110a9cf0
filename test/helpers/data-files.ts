// Writers for the data files users give netc, so that tests make small ones in a temporary
// directory: .npy and .npz (as NumPy lays them out), PNG (fast-png), JPEG (jpeg-js), and a tree.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { encode as encodePng } from "fast-png";
import { zipSync } from "fflate";
import jpeg from "jpeg-js";

/** NumPy type codes, little-endian, and how to write one value of each. */
const writers = {
  "|u1": [1, (v: DataView, at: number, x: number) => v.setUint8(at, x)],
  "|i1": [1, (v: DataView, at: number, x: number) => v.setInt8(at, x)],
  "|b1": [1, (v: DataView, at: number, x: number) => v.setUint8(at, x ? 1 : 0)],
  "<i4": [4, (v: DataView, at: number, x: number) => v.setInt32(at, x, true)],
  "<i8": [8, (v: DataView, at: number, x: number) => v.setBigInt64(at, BigInt(x), true)],
  "<f4": [4, (v: DataView, at: number, x: number) => v.setFloat32(at, x, true)],
  "<f8": [8, (v: DataView, at: number, x: number) => v.setFloat64(at, x, true)],
} as const;

export type NpyDtype = keyof typeof writers;

/** A .npy file (format 1.0, C order) of `values` (numbers, or strings as `<U`). */
export function npy(
  dtype: NpyDtype | "<U",
  shape: number[],
  values: ArrayLike<number> | string[],
): Uint8Array {
  let descr: string = dtype;
  let itemSize: number;
  let write: (v: DataView, at: number, i: number) => void;
  if (dtype === "<U") {
    const strings = values as string[];
    const width = Math.max(1, ...strings.map((s) => [...s].length));
    descr = `<U${width}`;
    itemSize = 4 * width;
    write = (v, at, i) =>
      [...strings[i]!].forEach((c, k) => v.setUint32(at + 4 * k, c.codePointAt(0)!, true));
  } else {
    const [size, set] = writers[dtype];
    itemSize = size;
    write = (v, at, i) => set(v, at, (values as ArrayLike<number>)[i]!);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // NumPy pads the header with spaces and a newline so that the data starts 64-byte aligned.
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(10 + header.length + count * itemSize);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const view = new DataView(bytes.buffer);
  view.setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  for (let i = 0; i < count; i++) write(view, 10 + header.length + i * itemSize, i);
  return bytes;
}

/** A .npz: each array a `<key>.npy` member, deflated as np.savez_compressed does. */
export function npz(arrays: Record<string, Uint8Array>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, v])));
}

/** An 8-bit PNG of `channels` (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA), samples interleaved. */
export function png(
  width: number,
  height: number,
  channels: number,
  data: ArrayLike<number>,
): Uint8Array {
  return encodePng({ width, height, channels, depth: 8, data: Uint8Array.from(data) });
}

/** A JPEG (quality 95) of interleaved RGBA samples. */
export function jpg(width: number, height: number, rgba: ArrayLike<number>): Uint8Array {
  return jpeg.encode({ width, height, data: Uint8Array.from(rgba) }, 95).data;
}

/** Writes `files` (paths relative to `root`), making directories as needed; returns `root`. */
export function writeTree(root: string, files: Record<string, string | Uint8Array>): string {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  mkdirSync(root, { recursive: true });
  return root;
}
