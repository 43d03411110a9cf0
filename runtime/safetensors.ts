// Checkpoints in the safetensors format (float32 only), readable by safetensors.torch.load_file.
import { firstNonFinite, formatPosition } from "./arguments.js";
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
/** The reference implementation refuses a longer header (its MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;
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

/** A tensor as the header describes it: its dtype, shape and where its bytes lie in the data. */
export interface HeaderEntry {
  name: string;
  dtype: string;
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
  return decodeSafetensorsFile(bytes, source).tensors;
}

/** `decodeSafetensors`, with the header's `__metadata__` (empty when it has none). */
export function decodeSafetensorsFile(
  bytes: Uint8Array,
  source: string,
): { tensors: Map<string, StoredTensor>; metadata: Record<string, string> } {
  const { entries, dataStart, metadata } = decodeHeader(bytes, source);
  checkDataLength(entries, bytes.length - dataStart, source);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors = new Map<string, StoredTensor>();
  for (const { name, shape, begin, end } of entries) {
    const data = new Float32Array((end - begin) / F32_BYTES);
    for (let i = 0, at = dataStart + begin; i < data.length; i++, at += F32_BYTES) {
      data[i] = view.getFloat32(at, true);
    }
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}

/** Bytes per value of every dtype the safetensors format has. */
export const dtypeBytes: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/**
 * The tensors a file's header describes, from the file's start (`bytes`: at least the 8-byte
 * length and the header), in the order of their data, which they tile from byte 0: the header
 * says what a file holds before its data is read. `dtypes` "F32" refuses a tensor of any other
 * dtype; "any" takes every dtype of the format (for a reader that picks its tensors).
 */
export function decodeHeader(
  bytes: Uint8Array,
  source: string,
  dtypes: "F32" | "any" = "F32",
): { entries: HeaderEntry[]; dataStart: number; metadata: Record<string, string> } {
  const fail = failure(source);
  if (bytes.length < 8) {
    fail(`not a safetensors file: ${bytes.length} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(
      `not a safetensors file: the header length says ${declared} bytes, ` +
        `more than the ${MAX_HEADER_BYTES} a header may have`,
    );
  }
  if (declared > BigInt(bytes.length - 8)) {
    fail(
      `not a safetensors file, or truncated: the header length says ${declared} bytes ` +
        `but only ${bytes.length - 8} follow it`,
    );
  }
  const dataStart = 8 + Number(declared);
  const header = parseHeader(bytes.subarray(8, dataStart), fail);
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA) metadata = checkMetadata(value, fail);
    else entries.push(parseEntry(name, value, dtypes, fail));
  }

  // As the reference implementation: the tensors must tile the data exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of entries) {
    const where = `tensor '${entry.name}' (data_offsets [${entry.begin}, ${entry.end}])`;
    if (entry.begin < expected) {
      fail(`${where} overlaps tensor '${previous!.name}', which ends at byte ${expected}`);
    }
    if (entry.begin > expected) {
      fail(`${where} leaves bytes ${expected} to ${entry.begin} of the data unused`);
    }
    expected = entry.end;
    previous = entry;
  }
  return { entries, dataStart, metadata };
}

/** Refuses data of `dataLength` bytes that the header's tensors (in data order) do not fill. */
export function checkDataLength(
  entries: readonly HeaderEntry[],
  dataLength: number,
  source: string,
): void {
  const fail = failure(source);
  const cut = entries.find((entry) => entry.end > dataLength);
  if (cut) {
    fail(
      `tensor '${cut.name}' (data_offsets [${cut.begin}, ${cut.end}]) ends beyond the ` +
        `${dataLength} bytes of data: the file is truncated`,
    );
  }
  const end = entries.at(-1)?.end ?? 0;
  if (end < dataLength) {
    fail(`${dataLength - end} bytes after the last tensor's data belong to no tensor`);
  }
}

/** A NetcError about `source`: every reason a file is refused names the file. */
function failure(source: string): (reason: string) => never {
  return (reason) => {
    throw new NetcError(`${source}: ${reason}`);
  };
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

function checkMetadata(value: unknown, fail: (reason: string) => never): Record<string, string> {
  const ok =
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string");
  if (!ok) fail(`${METADATA} must map names to strings`);
  return value as Record<string, string>;
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function parseEntry(
  name: string,
  value: unknown,
  dtypes: "F32" | "any",
  fail: (reason: string) => never,
): HeaderEntry {
  const at = `tensor '${name}'`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(`${at}: expected an object with dtype, shape and data_offsets`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string") return fail(`${at}: missing dtype`);
  if (dtypes === "any" && !Object.hasOwn(dtypeBytes, dtype)) {
    return fail(`${at} has dtype ${dtype}, which the safetensors format does not have`);
  }
  if (dtypes === "F32" && dtype !== "F32") {
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
  const needed = elementCount(shape) * dtypeBytes[dtype]!;
  if (end - begin !== needed) {
    return fail(
      `${at}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape ` +
        `${formatShape(shape)} of ${dtype} takes ${needed}`,
    );
  }
  return { name, dtype, shape, begin, end };
}

/**
 * Copies the file's tensors into the model's, after checking that the two hold the same names
 * with the same shapes, and that every value is finite: a failed load changes nothing.
 */
export function loadInto(
  model: readonly NamedTensor[],
  file: ReadonlyMap<string, StoredTensor>,
  source: string,
): void {
  checkFits(model, file, source);
  const problems: string[] = [];
  for (const { name } of model) {
    const problem = nonFinite(name, file.get(name)!);
    if (problem) problems.push(problem);
  }
  refuse(`${source}: the weights hold values that are not finite numbers`, problems);
  for (const { name, data } of model) data.set(file.get(name)!.data);
}

/** Throws unless the file holds the model's tensors (names and shapes), and only them. */
export function checkFits(
  model: readonly { name: string; shape: readonly number[] }[],
  file: ReadonlyMap<string, { shape: readonly number[] }>,
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
  refuse(`${source}: the weights do not fit the model (saved from another model?)`, problems);
}

/** Throws `what` with the first of `problems` on lines of their own, if there are any. */
export function refuse(what: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, MAX_PROBLEMS).map((p) => `\n  ${p}`);
  const more = problems.length - shown.length;
  throw new NetcError(what + shown.join("") + (more > 0 ? `\n  and ${more} more` : ""));
}

/** What is wrong with a tensor holding NaN or ±Infinity: a model would compute NaN from it. */
export function nonFinite(name: string, { shape, data }: StoredTensor): string | undefined {
  const first = firstNonFinite(data);
  if (first < 0) return undefined;
  let count = 0;
  for (let i = first; i < data.length; i++) if (!Number.isFinite(data[i])) count++;
  return `${name}: ${count} of ${data.length} values are not finite, the first ${data[first]} at ${formatPosition(shape, first)}`;
}
