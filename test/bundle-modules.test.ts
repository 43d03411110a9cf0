// The tiny bundler behind `netc compile --standalone`: scopes, renamed imports, and refusals.
import { describe, expect, test } from "vitest";
import { bundleModules } from "../cli/bundle-modules.js";

function reader(files: Record<string, string>) {
  return (path: string) => {
    const text = files[path];
    if (text === undefined) throw new Error(`no module ${path}`);
    return text;
  };
}

/** Runs a bundle and returns the entry's exports named in `names`. */
function evaluate(code: string, names: string[]): Record<string, unknown> {
  return new Function(`${code}\nreturn { ${names.join(", ")} };`)() as Record<string, unknown>;
}

// Written in two parts, or vite would take it for this file's own source map.
const sourceMap = "//# source" + "MappingURL=main.js.map";

describe("bundleModules", () => {
  test("dependencies first, private names kept apart, renamed imports bound", () => {
    const files = {
      "main.js": `import { twice as double } from "./util/math.js";
import { label } from "./label.js";
const local = "main";
export function run(x) { return label(double(x)) + " " + local; }
${sourceMap}
`,
      "util/math.js": `const local = 2;
export const twice = (x) => x * local;
`,
      "label.js": `import { twice } from "./util/math.js";
const local = "=";
export function label(x) { return local + twice(x / 2); }
`,
    };
    const bundle = bundleModules("main.js", reader(files));
    expect(bundle.modules).toEqual(["util/math.js", "label.js", "main.js"]);
    expect(bundle.code).not.toMatch(/^(import|export)\b|sourceMappingURL/m);
    const { run } = evaluate(bundle.code, ["run"]) as { run: (x: number) => string };
    expect(run(5)).toBe("=10 main");
  });

  test("refuses what it does not understand, names that collide, and cycles", () => {
    expect(() => bundleModules("a.js", reader({ "a.js": "export default 1;\n" }))).toThrow(
      "unsupported syntax in a.js: export default 1;",
    );
    expect(() =>
      bundleModules("a.js", reader({ "a.js": 'import * as b from "./b.js";\n' })),
    ).toThrow("unsupported syntax in a.js");
    expect(() => bundleModules("a.js", reader({ "a.js": 'import "node:fs";\n' }))).toThrow(
      "unsupported syntax",
    );
    const collide = {
      "a.js": 'import { x } from "./b.js";\nexport const x2 = x;\nexport function f() {}\n',
      "b.js": "export const x = 1;\nexport function f() {}\n",
    };
    expect(() => bundleModules("a.js", reader(collide))).toThrow("both b.js and a.js export 'f'");
    const cycle = {
      "a.js": 'import { b } from "./b.js";\nexport const a = 1;\n',
      "b.js": 'import { a } from "./a.js";\nexport const b = 2;\n',
    };
    expect(() => bundleModules("a.js", reader(cycle))).toThrow("b.js imports a.js in a cycle");
    const absent = { "a.js": 'import { y } from "./b.js";\n', "b.js": "export const x = 1;\n" };
    expect(() => bundleModules("a.js", reader(absent))).toThrow(
      "a.js imports y, which b.js does not export",
    );
    expect(() =>
      bundleModules("a.js", reader({ "a.js": 'import { x } from "../outside.js";\n' })),
    ).toThrow("a.js imports ../outside.js");
  });
});
