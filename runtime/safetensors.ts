// Checkpoints in the safetensors format (float32 only), readable by safetensors.torch.load_file.
import { NetcError } from "./errors.js";

/** A model's tensor: PyTorch-style name, full shape, values in row-major order. */
export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface StoredTensor {
  shape: number[];
  data: Float32Array;
}

const METADATA = "__metadata__";
const F32_BYTES = 4;
/** A whole model's worth of mismatches would bury the first, most telling ones. */
const MAX_PROBLEMS = 8;

const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const formatShape = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/**
 * The file's bytes: an 8-byte little-endian header length, the JSON header padded with spaces
 * to a multiple of 8 bytes (so the data stays aligned), then each tensor's little-endian float32
 * values, in the order given. `metadata` lands in `__metadata__`, string values only.
 */
export function encodeSafetensors(
  tensors: readonly NamedTensor[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header[METADATA] = metadata;
  let offset = 0;
  for (const { name, shape, data } of tensors) {
    if (name === METADATA || Object.hasOwn(header, name)) {
      throw new RangeError(`encodeSafetensors: duplicate or reserved tensor name '${name}'`);
    }
    if (data.length !== elementCount(shape)) {
      throw new RangeError(
        `encodeSafetensors: ${name} has ${data.length} values for shape ${formatShape(shape)}`,
      );
    }
    const end = offset + data.length * F32_BYTES;
    header[name] = { dtype: "F32", shape, data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + headerLength);
  // DataView writes little-endian whatever the platform's byte order.
  let at = 8 + headerLength;
  for (const { data } of tensors) {
    for (let i = 0; i < data.length; i++, at += F32_BYTES) view.setFloat32(at, data[i], true);
  }
  return bytes;
}

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Reads a safetensors file, refusing with a NetcError that names `source` (and the tensor)
 * anything malformed: a short or truncated file, a header that is not JSON, a dtype other
 * than F32, offsets that leave gaps, overlap or disagree with the shape.
 */
export function decodeSafetensors(bytes: Uint8Array, source: string): Map<string, StoredTensor> {
  const fail = (reason: string): never => {
    throw new NetcError(`${source}: ${reason}`);
  };
  if (bytes.length < 8) {
    fail(`not a safetensors file: ${bytes.length} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    fail(
      `not a safetensors file, or truncated: the header length says ${declared} bytes ` +
        `but only ${bytes.length - 8} follow it`,
    );
  }
  const headerLength = Number(declared);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  const header = parseHeader(bytes.subarray(8, dataStart), fail);
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA) checkMetadata(value, fail);
    else entries.push(parseEntry(name, value, fail));
  }

  // As the reference implementation: the tensors must tile the data exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: Entry | undefined;
  for (const entry of entries) {
    const where = `tensor '${entry.name}' (data_offsets [${entry.begin}, ${entry.end}])`;
    if (entry.begin < expected) {
      fail(`${where} overlaps tensor '${previous!.name}', which ends at byte ${expected}`);
    }
    if (entry.begin > expected) {
      fail(`${where} leaves bytes ${expected} to ${entry.begin} of the data unused`);
    }
    if (entry.end > dataLength) {
      fail(`${where} ends beyond the ${dataLength} bytes of data: the file is truncated`);
    }
    expected = entry.end;
    previous = entry;
  }
  if (expected < dataLength) {
    fail(`${dataLength - expected} bytes after the last tensor's data belong to no tensor`);
  }

  const tensors = new Map<string, StoredTensor>();
  for (const { name, shape, begin, end } of entries) {
    const data = new Float32Array((end - begin) / F32_BYTES);
    for (let i = 0, at = dataStart + begin; i < data.length; i++, at += F32_BYTES) {
      data[i] = view.getFloat32(at, true);
    }
    tensors.set(name, { shape, data });
  }
  return tensors;
}

function parseHeader(json: Uint8Array, fail: (reason: string) => never): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(json);
  } catch {
    return fail("not a safetensors file: the header is not UTF-8 text");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    return fail(`not a safetensors file: the header is not valid JSON (${String(error)})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    return fail("not a safetensors file: the header is not a JSON object");
  }
  return header as Record<string, unknown>;
}

function checkMetadata(value: unknown, fail: (reason: string) => never): void {
  const ok =
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string");
  if (!ok) fail(`${METADATA} must map names to strings`);
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function parseEntry(name: string, value: unknown, fail: (reason: string) => never): Entry {
  const at = `tensor '${name}'`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(`${at}: expected an object with dtype, shape and data_offsets`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string") return fail(`${at}: missing dtype`);
  if (dtype !== "F32") {
    return fail(
      `${at} has dtype ${dtype}; netc reads only F32 (float32) tensors: ` +
        "convert them with tensor.float() before saving",
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    return fail(
      `${at}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    return fail(`${at}: data_offsets must be two byte offsets, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) return fail(`${at}: data_offsets [${begin}, ${end}] end before they begin`);
  const needed = elementCount(shape) * F32_BYTES;
  if (end - begin !== needed) {
    return fail(
      `${at}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape ` +
        `${formatShape(shape)} of F32 takes ${needed}`,
    );
  }
  return { name, shape, begin, end };
}

/**
 * Copies the file's tensors into the model's, after checking that the two hold the same names
 * with the same shapes: a failed load changes nothing.
 */
export function loadInto(
  model: readonly NamedTensor[],
  file: ReadonlyMap<string, StoredTensor>,
  source: string,
): void {
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const { name, shape } of model) {
    expected.add(name);
    const stored = file.get(name);
    if (!stored) problems.push(`${name}: missing from the file`);
    else if (formatShape(stored.shape) !== formatShape(shape)) {
      problems.push(
        `${name}: the model has shape ${formatShape(shape)}, the file ${formatShape(stored.shape)}`,
      );
    }
  }
  for (const name of file.keys()) {
    if (!expected.has(name)) problems.push(`${name}: in the file but not in the model`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_PROBLEMS).map((p) => `\n  ${p}`);
    const more = problems.length - shown.length;
    throw new NetcError(
      `${source}: the weights do not fit the model (saved from another model?)${shown.join("")}` +
        (more > 0 ? `\n  and ${more} more` : ""),
    );
  }
  for (const { name, data } of model) data.set(file.get(name)!.data);
}
