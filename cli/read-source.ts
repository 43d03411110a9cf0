// Reads one `.net` file, turning each way it can fail to be a source into a one-line reason.
import { readFileSync, statSync } from "node:fs";
import { formatBytes } from "../compiler/units.js";

const LIMIT_MB = 4;
// Far beyond any hand-written model; refusing early keeps a stray log or dataset from hanging netc.
const MAX_SOURCE_BYTES = LIMIT_MB * 1024 * 1024;

/** The text, without the byte order mark a file may start with (`bom` says whether it did). */
export type SourceText = { ok: true; text: string; bom: boolean } | { ok: false; reason: string };

const fsReasons: Record<string, string> = {
  ENOENT: "no such file",
  ENOTDIR: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
};

export function readSource(path: string): SourceText {
  let bytes: Buffer;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) return failed("is a directory");
    // Devices and pipes could block or never end.
    if (!stat.isFile()) return failed("is not a regular file");
    if (stat.size > MAX_SOURCE_BYTES) {
      return failed(`file is too large (${formatBytes(stat.size)}, limit ${LIMIT_MB} MB)`);
    }
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    return failed(fsReasons[code] ?? `cannot read the file (${code})`);
  }
  // UTF-8 allows NUL, but no text source contains one; UTF-16 text is caught here too.
  if (bytes.includes(0)) return failed("binary file (contains NUL bytes), not a .net source");
  try {
    // The decoder drops the mark: positions count from the first character, as editors do.
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return { ok: true, text, bom: bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf };
  } catch {
    return failed("not a text file (invalid UTF-8)");
  }
}

function failed(reason: string): SourceText {
  return { ok: false, reason };
}
