// Reads the files a run is given (weights, data) without trusting them: only regular files,
// since a device or a pipe could block or never end, and every failure a NetcError.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { allocating, NetcError } from "../errors.js";

const reasons: Record<string, string> = {
  ENOENT: "no such file",
  ENOTDIR: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "the name is too long",
  EIO: "input/output error",
};

/** readSync takes at most 2 GB at a time. */
const CHUNK = 1 << 30;

/** An open regular file: its size, and bytes read at a position. */
export interface RegularFile {
  readonly size: number;
  read(position: number, length: number): Uint8Array;
}

/**
 * Opens the regular file at `path`, lends it to `use` and closes it. Errors name `what` (the
 * weights, the data file) and the path: `cannot read the weights w.bin: no such file`.
 */
export function withRegularFile<T>(path: string, what: string, use: (file: RegularFile) => T): T {
  const fail = (reason: string) => new NetcError(`cannot read ${what} ${path}: ${reason}`);
  let fd: number;
  try {
    // Stat before opening: opening a pipe without a writer would wait forever.
    const stat = statSync(path);
    if (stat.isDirectory()) throw fail("is a directory");
    if (!stat.isFile()) throw fail("is not a regular file (a device, a pipe or a socket)");
    fd = openSync(path, "r");
  } catch (error) {
    throw error instanceof NetcError ? error : fail(reasonOf(error));
  }
  try {
    const size = fstatSync(fd).size;
    return use({
      size,
      read(position, length) {
        const bytes = allocating(`${what} ${path}`, length, () => Buffer.alloc(length));
        let done = 0;
        try {
          while (done < length) {
            const n = readSync(fd, bytes, done, Math.min(CHUNK, length - done), position + done);
            if (n === 0) break; // the file shrank since it was measured
            done += n;
          }
        } catch (error) {
          throw fail(reasonOf(error));
        }
        return bytes.subarray(0, done);
      },
    });
  } finally {
    closeSync(fd);
  }
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) throw error;
  return reasons[code] ?? code;
}
