// The language server: wires the connection, the open documents and each feature's handler.
import {
  CodeActionKind,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
} from "vscode-languageserver";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { Analysis } from "./analysis.js";
import { codeActions } from "./code-actions.js";
import { completion } from "./completion.js";
import { definition } from "./definition.js";
import { lspDiagnostics } from "./diagnostics.js";
import { DocumentState } from "./document-state.js";
import { documentSymbols } from "./document-symbols.js";
import { formatting } from "./formatting.js";
import { hover } from "./hover.js";
import { inlayHints } from "./inlay-hints.js";
import { signatureHelp } from "./signature-help.js";

export interface ServerOptions {
  /** How long edits must pause before their diagnostics are published. */
  debounceMs: number;
}

export function startServer(connection: Connection, options: ServerOptions): void {
  const documents = new TextDocuments(TextDocument);
  const state = new DocumentState(
    (uri) => documents.get(uri),
    (analysis) =>
      void connection.sendDiagnostics({
        uri: analysis.uri,
        version: analysis.version,
        diagnostics: lspDiagnostics(analysis),
      }),
    options.debounceMs,
  );

  /** The analysis of an open document's newest version, for a request at a position. */
  const at = <T>(uri: string, handle: (analysis: Analysis, doc: TextDocument) => T): T | null => {
    const doc = documents.get(uri);
    return doc ? handle(state.analysis(doc), doc) : null;
  };

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      inlayHintProvider: true,
      completionProvider: { triggerCharacters: ["(", ",", ">", ":"] },
      signatureHelpProvider: { triggerCharacters: ["(", ","] },
      definitionProvider: true,
      documentSymbolProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      documentFormattingProvider: true,
    },
    serverInfo: { name: "netc" },
  }));

  documents.onDidOpen((e) => state.flush(e.document.uri));
  documents.onDidChangeContent((e) => state.changed(e.document.uri));
  documents.onDidClose((e) => {
    state.closed(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover((p) => at(p.textDocument.uri, (a, doc) => hover(a, doc.offsetAt(p.position))));
  connection.languages.inlayHint.on((p) => at(p.textDocument.uri, (a) => inlayHints(a, p.range)));
  connection.onCompletion((p) =>
    at(p.textDocument.uri, (a, doc) => completion(a, doc.offsetAt(p.position))),
  );
  connection.onSignatureHelp((p) =>
    at(p.textDocument.uri, (a, doc) => signatureHelp(a, doc.offsetAt(p.position))),
  );
  connection.onDefinition((p) =>
    at(p.textDocument.uri, (a, doc) => definition(a, doc.offsetAt(p.position))),
  );
  connection.onDocumentSymbol((p) => at(p.textDocument.uri, documentSymbols));
  connection.onCodeAction((p) => at(p.textDocument.uri, (a) => codeActions(a, p.range)));
  connection.onDocumentFormatting((p) => at(p.textDocument.uri, (a) => formatting(a, p.options)));

  documents.listen(connection);
  connection.listen();
}
