// Writes a file all at once or not at all: checkpoints survive a crash in the middle of a save.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  lstatSync,
  openSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
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
  ELOOP: "too many levels of symbolic links",
};

/** Symbolic links followed before giving up, as the kernel does (Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * Writes `bytes` to a temporary file beside `path`, flushes it to the disk, then renames it
 * over `path`: readers, and a crash at any moment, see the old file or the new one, never a
 * part. (The directory itself is not fsynced, which Windows cannot do: after a power cut the
 * rename may be lost, leaving the old file, still whole.) On failure the temporary file is
 * removed and a NetcError names `path`.
 *
 * Replacing a file keeps what it was: a symbolic link stays a link and the file it points to
 * is the one replaced, and the new file gets the old one's permissions (a 0600 file stays
 * private, a script keeps its execute bit).
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  writeFilesAtomic([{ path, bytes }]);
}

/**
 * Writes files that belong together (a module and its declarations) all or none: each to its
 * temporary file first, as `writeFileAtomic` does, and only once every one is on the disk are
 * they renamed into place. What fails while writing (a full disk, a directory without write
 * permission) leaves every file as it was.
 */
export function writeFilesAtomic(files: readonly { path: string; bytes: Uint8Array }[]): void {
  const staged: Staged[] = [];
  try {
    for (const file of files) staged.push(stage(file.path, file.bytes));
    // The one rename that could fail once all is written: a directory in the way.
    for (const s of staged) {
      if (statSync(s.target, { throwIfNoEntry: false })?.isDirectory())
        throw new NetcError(`cannot write ${s.path}: ${reasons["EISDIR"]}`);
    }
    while (staged.length > 0) {
      const s = staged[0]!;
      renameSync(s.temp, s.target);
      staged.shift();
    }
  } catch (error) {
    for (const s of staged) removeTemp(undefined, s.temp);
    if (error instanceof NetcError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new NetcError(
      `cannot write ${staged[0]?.path ?? files[0]?.path}: ${reasons[code] ?? code}`,
    );
  }
}

/** A file written to its temporary name, to be renamed over `target` (where `path` leads). */
interface Staged {
  path: string;
  target: string;
  temp: string;
}

/** Writes and flushes the temporary file for `path`; on failure, removes it and says why. */
function stage(path: string, bytes: Uint8Array): Staged {
  let temp: string | undefined;
  let fd: number | undefined;
  try {
    const target = followLinks(path);
    const mode = statSync(target, { throwIfNoEntry: false })?.mode;
    // Same directory: a rename across file systems would not be atomic, or would fail.
    temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
    fd = openSync(temp, "wx");
    // Set after opening: the mode given to open would be narrowed by the umask.
    if (mode !== undefined) fchmodSync(fd, mode & 0o7777);
    for (let done = 0; done < bytes.length;) {
      done += writeSync(fd, bytes, done, bytes.length - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    return { path, target, temp };
  } catch (error) {
    if (temp !== undefined) removeTemp(fd, temp);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    throw new NetcError(`cannot write ${path}: ${reasons[code] ?? code}`);
  }
}

/** Where `path` leads through symbolic links, also to a file not there yet (a dangling link). */
function followLinks(path: string): string {
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    if (!lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) return path;
    path = resolve(dirname(path), readlinkSync(path));
  }
  throw Object.assign(new Error(`${path}: too many levels of symbolic links`), { code: "ELOOP" });
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
