// Fine-tuning's start: the tensors of a safetensors file that match a model's by name and shape,
// taken as PyTorch's load_state_dict(strict=False) takes them, with a report of the rest.
import type { LoadReport } from "./api-types.js";
import { NetcError } from "./errors.js";
import {
  checkDataLength,
  decodeHeader,
  dtypeBytes,
  nonFinite,
  refuse,
  type HeaderEntry,
  type NamedTensor,
} from "./safetensors.js";

/** The float dtypes a model's float32 tensors take, converted as PyTorch's copy_ converts them. */
const floatReaders: Readonly<Record<string, (view: DataView, at: number) => number>> = {
  F32: (view, at) => view.getFloat32(at, true),
  // Rounded to float32 when stored, to nearest even as PyTorch's .float().
  F64: (view, at) => view.getFloat64(at, true),
  F16: (view, at) => halfToFloat(view.getUint16(at, true)),
  // bfloat16 is the upper half of a float32.
  BF16: (view, at) => {
    const bits = new DataView(new ArrayBuffer(4));
    bits.setUint32(0, view.getUint16(at, true) << 16);
    return bits.getFloat32(0);
  },
};

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Sets each of `model`'s tensors that the file holds under its name with its shape (in a float
 * dtype), and reports what it set, what it skipped and why, and what either side lacks. Nothing
 * is set when the file is malformed, when no tensor matches, or when a matching one holds NaN
 * or infinities: each is a NetcError that names `source`.
 */
export function loadMatching(
  model: readonly NamedTensor[],
  bytes: Uint8Array,
  source: string,
): LoadReport {
  const { entries, dataStart } = decodeHeader(bytes, source, "any");
  checkDataLength(entries, bytes.length - dataStart, source);
  const inFile = new Map(entries.map((e) => [e.name, e]));
  const report: LoadReport = { loaded: [], skipped: [], missing: [], unexpected: [] };
  const matched: { tensor: NamedTensor; entry: HeaderEntry }[] = [];
  for (const tensor of model) {
    const entry = inFile.get(tensor.name);
    if (!entry) {
      report.missing.push(tensor.name);
      continue;
    }
    const float = Object.hasOwn(floatReaders, entry.dtype);
    if (float && sameShape(entry.shape, tensor.shape)) {
      report.loaded.push(tensor.name);
      matched.push({ tensor, entry });
    } else {
      report.skipped.push({
        name: tensor.name,
        reason: float ? "shape" : "dtype",
        shape: [...tensor.shape],
        file: { shape: entry.shape, dtype: entry.dtype },
      });
    }
  }
  const names = new Set(model.map((t) => t.name));
  // By name: the order of a file's data is its writer's (safetensors sorts by dtype first).
  report.unexpected = entries
    .filter((e) => !names.has(e.name))
    .map((e) => e.name)
    .sort();
  if (matched.length === 0) {
    const held = entries.length === 0 ? "holds no tensor" : `holds ${listNames(entries)}`;
    throw new NetcError(
      `${source}: no tensor of the file matches one of the model's by name and shape: the file ${held}; the model has ${listNames(model)}`,
    );
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = matched.map(({ tensor, entry }) => {
    const read = floatReaders[entry.dtype]!;
    const size = dtypeBytes[entry.dtype]!;
    const data = new Float32Array(tensor.data.length);
    for (let i = 0, at = dataStart + entry.begin; i < data.length; i++, at += size) {
      data[i] = read(view, at);
    }
    return data;
  });
  const problems = matched.flatMap(({ tensor }, i) => {
    const problem = nonFinite(tensor.name, { shape: [...tensor.shape], data: values[i]! });
    return problem ? [problem] : [];
  });
  refuse(`${source}: the weights hold values that are not finite numbers`, problems);
  matched.forEach(({ tensor }, i) => tensor.data.set(values[i]!));
  return report;
}

/** The first few names, and how many more: a large model's list would bury the message. */
function listNames(tensors: readonly { name: string }[]): string {
  const shown = tensors.slice(0, 6).map((t) => t.name);
  const more = tensors.length - shown.length;
  return shown.join(", ") + (more > 0 ? ` and ${more} more` : "");
}

/** An IEEE half-precision value's bits as a number (exact: every half is a float32). */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
