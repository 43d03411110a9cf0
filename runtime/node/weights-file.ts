// A weights file (safetensors) on disk, read only as far as a model's weights can reach.
import type { Layout } from "../api-types.js";
import { sizeOf } from "../data/dataset.js";
import { checkDataLength, checkFits, decodeHeader, MAX_HEADER_BYTES } from "../safetensors.js";
import { withRegularFile } from "./read-file.js";

/**
 * The bytes of the safetensors file at `path`, for `model.load`. The file says how long its
 * header is, and the data of `layout`'s tensors has a known size: a file longer than the two
 * together holds something else (another model's weights, or no weights at all), and is
 * refused from its header alone.
 */
export function readWeightsFile(path: string, layout: Layout): Uint8Array {
  const tensorBytes = layout.params.reduce((sum, p) => sum + 4 * sizeOf(p.shape), 0);
  return withRegularFile(path, "the weights", (file) => {
    const head = file.read(0, 8);
    // A file too short for the length, or with too long a header: the decoder says so.
    if (head.length < 8) return head;
    const declared = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
    if (declared > BigInt(MAX_HEADER_BYTES)) return head;
    const most = 8 + Number(declared) + tensorBytes;
    if (file.size > most) {
      // Too long for this model's weights: the header alone says what the file holds instead,
      // another model's tensors or bytes that belong to none (checkDataLength throws then).
      const { entries, dataStart } = decodeHeader(file.read(0, 8 + Number(declared)), path);
      checkFits(layout.params, new Map(entries.map((e) => [e.name, e])), path);
      checkDataLength(entries, file.size - dataStart, path);
    }
    return file.read(0, file.size);
  });
}

/**
 * The bytes of the safetensors file at `path` to fine-tune from (`model.loadMatching`): read
 * whole, since it may hold more than the model's tensors (another task's head, optimizer state).
 */
export function readInitialWeights(path: string): Uint8Array {
  return withRegularFile(path, "the initial weights", (file) => file.read(0, file.size));
}
