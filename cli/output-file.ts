// Files that train writes after minutes of work: their directory is checked before training starts.
import { appendFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { NetcError } from "../runtime/errors.js";
import { printable } from "./printable.js";

/** Throws a NetcError unless `path` could be written: its directory exists, it is no directory. */
export function checkOutputPath(path: string, flag: string): void {
  const fail = (reason: string) => {
    throw new NetcError(`${flag} ${printable(path)}: ${reason}`);
  };
  const directory = dirname(path);
  const stat = (p: string) => statSync(p, { throwIfNoEntry: false });
  const dir = stat(directory);
  if (!dir) fail(`the directory ${printable(directory)} does not exist`);
  else if (!dir.isDirectory()) fail(`${printable(directory)} is not a directory`);
  if (stat(path)?.isDirectory()) fail("is a directory");
}

/**
 * JSON lines written as they come; the file is replaced only when the first line is ready, or
 * appended to (`append`: a resumed run goes on with the file of the run it continues).
 */
export class JsonLinesFile {
  private started: boolean;

  constructor(
    readonly path: string,
    append = false,
  ) {
    this.started = append;
  }

  append(record: unknown): void {
    const line = JSON.stringify(record) + "\n";
    try {
      if (this.started) appendFileSync(this.path, line);
      else writeFileSync(this.path, line);
      this.started = true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new NetcError(`cannot write ${printable(this.path)}: ${code}`);
    }
  }
}
