// IDX files on disk, raw or gzip-compressed: read (detecting gzip by its magic bytes) and write.
import { writeFileSync } from "node:fs";
import { constants, gunzipSync, gzipSync } from "node:zlib";
import { NetcError } from "../errors.js";
import { encodeIdx, isGzip, parseIdx, type IdxArray } from "../data/idx.js";
import { withRegularFile } from "./read-file.js";

/** Reads an IDX file; gzip is recognised by content, not by the `.gz` in the name. */
export function readIdxFile(path: string): IdxArray {
  let bytes = withRegularFile(path, "the data file", (file) => file.read(0, file.size));
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      // A download cut short is the usual cause: say so rather than print zlib's terse code.
      throw new NetcError(`${path} is not valid gzip (truncated?): ${(e as Error).message}`);
    }
  }
  return parseIdx(bytes, path);
}

/** Writes an IDX file, gzip-compressed at level 9 when the name ends in `.gz`. */
export function writeIdxFile(path: string, array: IdxArray): void {
  const bytes = encodeIdx(array);
  const gzip = path.endsWith(".gz");
  writeFileSync(path, gzip ? gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }) : bytes);
}
