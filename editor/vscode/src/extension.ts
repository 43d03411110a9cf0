// The VS Code client: starts `netc lsp --stdio` (or the configured command) for .net files.
import { commands, window, workspace, type ExtensionContext } from "vscode";
import {
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function serverOptions(): ServerOptions {
  const config = workspace.getConfiguration("netc.server");
  return {
    command: config.get<string>("path", "netc"),
    args: config.get<string[]>("args", ["lsp", "--stdio"]),
    // No `transport`: the client would append its own `--stdio`, which the default args already
    // hold, and a user's own command may not accept. On Windows npm installs `netc` as a .cmd
    // shim, which only a shell can run.
    options: { shell: process.platform === "win32" },
  };
}

const clientOptions: LanguageClientOptions = {
  documentSelector: [
    { scheme: "file", language: "netc" },
    { scheme: "untitled", language: "netc" },
  ],
};

async function start(): Promise<void> {
  client = new LanguageClient("netc", "netc language server", serverOptions(), clientOptions);
  try {
    await client.start();
  } catch (e) {
    // A missing `netc` is the usual cause; say what to set instead of failing silently.
    const detail = e instanceof Error ? e.message : String(e);
    void window.showErrorMessage(
      `netc: the language server did not start (${detail}). Set "netc.server.path" to the netc executable.`,
    );
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running?.isRunning()) await running.stop();
}

export async function activate(context: ExtensionContext): Promise<void> {
  context.subscriptions.push(
    commands.registerCommand("netc.restartServer", restart),
    // A changed server command only takes effect in a new server process.
    workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("netc.server")) void restart();
    }),
  );
  await start();
}

export function deactivate(): Promise<void> {
  return stop();
}
