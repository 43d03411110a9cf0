// netc's language server (editor/server, as `netc lsp` runs it) in a Web Worker: the page's
// CodeMirror talks to it with JSON-RPC messages over postMessage.
import {
  BrowserMessageReader,
  BrowserMessageWriter,
  createConnection,
} from "vscode-languageserver/browser";
import { startServer } from "@netc/editor/server/server.js";

const scope = self as unknown as Worker;
const connection = createConnection(
  new BrowserMessageReader(scope),
  new BrowserMessageWriter(scope),
);
// A short pause after each keystroke: the diagnostics follow the typing closely.
startServer(connection, { debounceMs: 150 });
