// Prettier plugin for `.net` files: Prettier runs netc's own formatter, so both give the same text.
import type { Parser, Plugin, Printer, SupportLanguage } from "prettier";
import type { NetFile, Span } from "../grammar/ast.js";
import { format } from "../grammar/format.js";
import { parse } from "../compiler/check.js";
import { LineMap } from "../grammar/positions.js";

/**
 * The whole file as one node. The AST sits one level down so that Prettier does not find
 * `comments` on the root and try to place them itself: the formatter already keeps them.
 */
interface NetDocument {
  kind: "NetDocument";
  file: NetFile;
  range: Span;
}

export const languages: SupportLanguage[] = [
  { name: "netc", extensions: [".net"], parsers: ["netc"] },
];

const netcParser: Parser<NetDocument> = {
  astFormat: "netc",
  parse(text) {
    const { ast, diagnostics } = parse(text);
    const first = diagnostics[0];
    if (first) {
      // Prettier shows `loc` as a code frame under the message.
      const { line, column } = new LineMap(text).at(first.range.pos);
      throw Object.assign(new SyntaxError(`${first.message} (${line}:${column})`), {
        loc: { start: { line, column } },
      });
    }
    return { kind: "NetDocument", file: ast, range: ast.range };
  },
  locStart: (node) => node.range.pos,
  locEnd: (node) => node.range.end,
};

const netcPrinter: Printer<NetDocument> = {
  print(_path, options) {
    const result = format(options.originalText, {
      indent: options.tabWidth,
      printWidth: options.printWidth,
    });
    if ("error" in result) throw new Error(`netc: ${result.error}`);
    return result.text;
  },
};

export const parsers = { netc: netcParser };
export const printers = { netc: netcPrinter };

const plugin: Plugin<NetDocument> = { languages, parsers, printers };
export default plugin;
