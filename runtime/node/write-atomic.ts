// Writes a file all at once or not at all: checkpoints survive a crash in the middle of a save.
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { NetcError } from "../errors.js";

const reasons: Record<string, string> = {
  ENOENT: "the directory does not exist",
  ENOTDIR: "a parent of it is not a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EIO: "input/output error",
};

/**
 * Writes `bytes` to a temporary file beside `path`, flushes it to the disk, then renames it
 * over `path`: readers, and a crash at any moment, see the old file or the new one, never a
 * part. (The directory itself is not fsynced, which Windows cannot do: after a power cut the
 * rename may be lost, leaving the old file, still whole.) On failure the temporary file is
 * removed and a NetcError names `path`.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  // Same directory: a rename across file systems would not be atomic, or would fail.
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, "wx");
    for (let done = 0; done < bytes.length;) {
      done += writeSync(fd, bytes, done, bytes.length - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    removeTemp(fd, temp);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new NetcError(`cannot write ${path}: ${reasons[code] ?? code}`);
  }
}

/** Best effort: the error that got us here is the one worth reporting, not a cleanup's. */
function removeTemp(fd: number | undefined, temp: string): void {
  try {
    if (fd !== undefined) closeSync(fd);
  } catch {
    // already failing; the descriptor is gone either way
  }
  try {
    rmSync(temp, { force: true });
  } catch {
    // e.g. the directory does not exist, so neither does the file
  }
}
