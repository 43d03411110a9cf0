// Joins our own small ES modules (tsc's output for the runtime) into one script body, so that
// `netc compile --standalone` can inline the runtime: no bundler dependency for a few files.

/** Reads a module's text by its path relative to the bundle's root (`model.js`, `data/x.js`). */
export type ReadModule = (path: string) => string;

export interface Bundle {
  /** Declares `const { ...exports } = ...;` for the entry's exports, and nothing else. */
  code: string;
  /** The modules included, dependencies first. */
  modules: string[];
}

interface Parsed {
  body: string;
  exports: string[];
  /** The modules imported (relative to the bundle's root), in order, with the names taken. */
  imports: { path: string; names: string[] }[];
}

const IMPORT = /^import\s*\{([^}]*)\}\s*from\s*(["'])(\.\.?\/[^"']+)\2;?[ \t]*\n?/gm;
const EXPORT = /^export\s+((?:async\s+)?function\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)/gm;
const SOURCE_MAP = /^\/\/# sourceMappingURL=.*\n?/gm;

const ROOT = "file:///bundle/";

/** `./x.js` seen from `data/y.js` is `data/x.js`; a path may not leave the bundle's root. */
function resolve(from: string, specifier: string): string {
  const href = new URL(specifier, ROOT + from).href;
  if (!href.startsWith(ROOT)) throw new Error(`bundleModules: ${from} imports ${specifier}`);
  return href.slice(ROOT.length);
}

/**
 * Only what tsc emits for our modules is accepted: named imports from relative paths and
 * `export` before a declaration. Anything else (default, namespace or side-effect imports,
 * `export { ... }`) throws, so a runtime change that needs more shows up in the tests.
 */
function parse(path: string, text: string): Parsed {
  const imports: Parsed["imports"] = [];
  const aliases: string[] = [];
  let body = text.replace(SOURCE_MAP, "");
  body = body.replace(IMPORT, (_all, list: string, _quote: string, specifier: string) => {
    const names: string[] = [];
    for (const item of list.split(",").map((n) => n.trim())) {
      if (item === "") continue;
      const [imported, local] = item.split(/\s+as\s+/) as [string, string | undefined];
      names.push(imported);
      if (local && local !== imported) aliases.push(`const ${local} = ${imported};`);
    }
    imports.push({ path: resolve(path, specifier), names });
    return "";
  });
  const exports: string[] = [];
  body = body.replace(EXPORT, (_all, keyword: string, name: string) => {
    exports.push(name);
    return `${keyword} ${name}`;
  });
  const left = /^(import|export)\b.*$/m.exec(body);
  if (left) throw new Error(`bundleModules: unsupported syntax in ${path}: ${left[0]}`);
  return { body: [...aliases, body.trim()].join("\n"), exports, imports };
}

/**
 * The modules reachable from `entry`, each wrapped in a function scope (their private names
 * cannot collide) whose exports become constants of the bundle's scope, in dependency order.
 * Exported names must be unique across the modules, and imports must not form a cycle.
 */
export function bundleModules(entry: string, read: ReadModule): Bundle {
  const parsed = new Map<string, Parsed>();
  const visiting = new Set<string>();
  const visit = (path: string, from?: string): Parsed => {
    const done = parsed.get(path);
    if (done) return done;
    if (visiting.has(path)) throw new Error(`bundleModules: ${from} imports ${path} in a cycle`);
    visiting.add(path);
    const module = parse(path, read(path));
    for (const { path: dependency, names } of module.imports) {
      const exported = visit(dependency, path).exports;
      const missing = names.filter((name) => !exported.includes(name));
      if (missing.length > 0) {
        throw new Error(
          `bundleModules: ${path} imports ${missing.join(", ")}, which ${dependency} does not export`,
        );
      }
    }
    visiting.delete(path);
    parsed.set(path, module); // after its dependencies: the map's order is the bundle's
    return module;
  };
  const main = visit(entry);

  const exporter = new Map<string, string>();
  for (const [path, module] of parsed) {
    for (const name of module.exports) {
      const other = exporter.get(name);
      if (other) throw new Error(`bundleModules: both ${other} and ${path} export '${name}'`);
      exporter.set(name, path);
    }
  }
  const exportsOf = (names: string[]) => `{ ${names.join(", ")} }`;
  const scopes = [...parsed].map(
    ([path, module]) =>
      `// ${path}\nconst ${exportsOf(module.exports)} = (() => {\n${module.body}\nreturn ${exportsOf(module.exports)};\n})();`,
  );
  const names = exportsOf(main.exports);
  return {
    code: `const ${names} = (() => {\n${scopes.join("\n")}\nreturn ${names};\n})();`,
    modules: [...parsed.keys()],
  };
}
