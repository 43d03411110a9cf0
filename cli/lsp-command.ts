// `netc lsp --stdio`: the language server, speaking LSP over standard input and output.
import { createConnection } from "vscode-languageserver/node";
import { startServer } from "../editor/server/server.js";
import { UsageError } from "./usage-error.js";

export interface LspOptions {
  stdio?: boolean;
  debounce: number;
}

export function runLsp(options: LspOptions): void {
  // Stdio is the one transport; the flag is required because editors pass it by convention.
  if (!options.stdio) throw new UsageError("netc lsp needs --stdio (the only transport)");
  // Anything else written to stdout would corrupt the protocol stream.
  startServer(createConnection(process.stdin, process.stdout), { debounceMs: options.debounce });
}
