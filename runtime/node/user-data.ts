// The user's own data (`--data PATH`) on the file system: the files found and read here, the
// detection and assembly of sets shared with the browser in runtime/data/file-tree.ts.
import { readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ModelExpectation } from "../data/check-dataset.js";
import {
  loadTreeData,
  sourceKindIn,
  type FileTree,
  type SourceKind,
  type UserData,
  type UserDataOptions,
} from "../data/file-tree.js";
import { NetcError } from "../errors.js";
import { loadFashionMnist } from "./fashion-mnist.js";
import { withRegularFile } from "./read-file.js";

export type { SourceKind, UserData, UserDataOptions } from "../data/file-tree.js";

/** The file system as a tree: symbolic links followed, dangling ones left out. */
const fileSystem: FileTree = {
  kind(path) {
    try {
      const stats = statSync(path);
      return stats.isFile() ? "file" : stats.isDirectory() ? "directory" : "other";
    } catch {
      return undefined;
    }
  },
  list(dir) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (error) {
      throw new NetcError(`cannot read the data directory ${dir}: ${(error as Error).message}`);
    }
    return names
      .filter((name) => !name.startsWith("."))
      .flatMap((name) => {
        const path = join(dir, name);
        const kind = fileSystem.kind(path);
        return kind === "file" || kind === "directory" ? [{ name, path, kind }] : [];
      });
  },
  read: (path, what) => withRegularFile(path, what, (f) => f.read(0, f.size)),
  identity: (dir) => realpathSync(dir),
  join,
};

/** Decides what kind of source `path` is, from its name or its directory listing alone. */
export function sourceKind(path: string): SourceKind {
  return sourceKindIn(fileSystem, path);
}

/**
 * Reads `path` for `model`. `reconstruct`: the model reproduces its input (an autoencoder), so
 * sources without fitting targets give the inputs as targets (the caller makes them so).
 */
export function loadUserData(
  path: string,
  model: ModelExpectation,
  reconstruct: boolean,
  options: UserDataOptions = {},
): UserData {
  return loadTreeData(fileSystem, path, model, reconstruct, {
    ...options,
    idx: (dataDir) => loadFashionMnist({ dataDir }),
  });
}
