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
import { textDocuments } from "./text-documents.js";

export interface ServerOptions {
  /** How long edits must pause before their diagnostics are published. */
  debounceMs: number;
}

export function startServer(connection: Connection, options: ServerOptions): void {
  const documents = new TextDocuments(textDocuments);
  /** A bug in netc, not in the document: logged for the user to report, and serving goes on. */
  const failed = (what: string, error: unknown) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    connection.console.error(
      `netc: internal error while ${what}; the server goes on. Please report it with the document that caused it.\n${detail}`,
    );
  };
  /**
   * Every handler runs through this: an exception becomes a log entry and `fallback` (no
   * result), never a failed request or, from a notification, the end of the server.
   */
  const guard =
    <P extends unknown[], R>(what: string, handler: (...params: P) => R, fallback: R) =>
    (...params: P): R => {
      try {
        return handler(...params);
      } catch (error) {
        failed(what, error);
        return fallback;
      }
    };
  const state = new DocumentState(
    (uri) => documents.get(uri),
    (analysis) =>
      void connection.sendDiagnostics({
        uri: analysis.uri,
        version: analysis.version,
        diagnostics: lspDiagnostics(analysis),
      }),
    options.debounceMs,
    failed,
  );

  /** A request at a position: the analysis of the document's newest version, guarded. */
  const on =
    <P extends { textDocument: { uri: string } }, T>(
      what: string,
      handle: (analysis: Analysis, doc: TextDocument, params: P) => T,
    ) =>
    (params: P): T | null =>
      guard(
        what,
        () => {
          const doc = documents.get(params.textDocument.uri);
          return doc ? handle(state.analysis(doc), doc, params) : null;
        },
        null,
      )();

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

  documents.onDidOpen(guard("opening a document", (e) => state.flush(e.document.uri), undefined));
  documents.onDidChangeContent(
    guard("taking a change", (e) => state.changed(e.document.uri), undefined),
  );
  documents.onDidClose(
    guard(
      "closing a document",
      (e) => {
        state.closed(e.document.uri);
        void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
      },
      undefined,
    ),
  );

  connection.onHover(on("hover", (a, doc, p) => hover(a, doc.offsetAt(p.position))));
  connection.languages.inlayHint.on(on("inlay hints", (a, _doc, p) => inlayHints(a, p.range)));
  connection.onCompletion(on("completion", (a, doc, p) => completion(a, doc.offsetAt(p.position))));
  connection.onSignatureHelp(
    on("signature help", (a, doc, p) => signatureHelp(a, doc.offsetAt(p.position))),
  );
  connection.onDefinition(
    on("go to definition", (a, doc, p) => definition(a, doc.offsetAt(p.position))),
  );
  connection.onDocumentSymbol(on("document symbols", (a) => documentSymbols(a)));
  connection.onCodeAction(on("code actions", (a, _doc, p) => codeActions(a, p.range)));
  connection.onDocumentFormatting(on("formatting", (a, _doc, p) => formatting(a, p.options)));

  documents.listen(connection);
  connection.listen();
}
