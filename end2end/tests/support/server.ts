// A Confab server of the suite's own, for tests that must stop and start it or give it
// settings of its own. It runs the release binary that scripts/test.sh built
// (CONFAB_SERVER_BIN, CONFAB_SITE_ROOT) on a free port with a fresh data directory, which
// survives restarts.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

export class OwnServer {
  private child?: ChildProcess;
  private log = "";
  readonly dataDir = mkdtempSync(join(tmpdir(), "confab-e2e-"));

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<OwnServer> {
    const server = new OwnServer(await freePort(), env);
    await server.up();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process and waits until /healthz answers. */
  async up(): Promise<void> {
    const bin = process.env.CONFAB_SERVER_BIN;
    const site = process.env.CONFAB_SITE_ROOT;
    if (!bin || !site) {
      throw new Error("CONFAB_SERVER_BIN and CONFAB_SITE_ROOT must be set (scripts/test.sh sets them)");
    }
    this.child = spawn(bin, [], {
      env: {
        ...process.env,
        LEPTOS_SITE_ROOT: site,
        CONFAB_BIND: `127.0.0.1:${this.port}`,
        CONFAB_DATA_DIR: this.dataDir,
        CONFAB_LOG: "warn",
        CONFAB_SIGNUP_BURST: "1000",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (d) => (this.log += d));
    this.child.stderr?.on("data", (d) => (this.log += d));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the server did not come up:\n${this.log}`);
  }

  /** Stops the process gracefully (SIGTERM) and waits for it to exit. */
  async down(): Promise<void> {
    await this.stop("SIGTERM");
  }

  /** Kills the process at once (SIGKILL), as a crash would, and waits for it to exit. */
  async kill(): Promise<void> {
    await this.stop("SIGKILL");
  }

  private async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  output(): string {
    return this.log;
  }
}
