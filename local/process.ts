// A child process in its own process group, with its output in a log file.
import { spawn, type ChildProcess } from "node:child_process";
import { open, readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  /** Survives the exit of this Node process (it is then stopped by pid, see stopProcessGroup). */
  persistent: boolean;
}

export class ManagedProcess {
  readonly options: ManagedProcessOptions;
  #child: ChildProcess | undefined;
  #exit: Promise<void> | undefined;
  #exitCode: number | null | undefined;
  readonly #killOnExit = () => {
    if (this.#child?.pid !== undefined && this.#exitCode === undefined)
      signalGroup(this.#child.pid, "SIGKILL");
  };

  constructor(options: ManagedProcessOptions) {
    this.options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** True once the process has exited; its exit code, or null when a signal ended it. */
  get exited(): { code: number | null } | undefined {
    return this.#exitCode === undefined ? undefined : { code: this.#exitCode };
  }

  get running(): boolean {
    return this.#child !== undefined && this.#exitCode === undefined;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const log = await open(this.options.logFile, "a");
    try {
      const child = spawn(this.options.command, this.options.args, {
        detached: true,
        stdio: ["ignore", log.fd, log.fd],
      });
      this.#exitCode = undefined;
      this.#child = child;
      this.#exit = new Promise((resolve) => {
        child.once("exit", (code) => {
          this.#exitCode = code;
          process.off("exit", this.#killOnExit);
          resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", resolve);
        child.once("error", (error) =>
          reject(new Error(`cannot start ${this.options.name} (${this.options.command})`, { cause: error })),
        );
      });
      if (this.options.persistent) child.unref();
      else process.once("exit", this.#killOnExit);
    } finally {
      await log.close();
    }
  }

  async stop(graceMs = 15_000): Promise<void> {
    const child = this.#child;
    if (!child?.pid || this.#exitCode !== undefined) return;
    signalGroup(child.pid, "SIGTERM");
    const grace = new AbortController();
    const exited = await Promise.race([
      this.#exit!.then(() => true),
      sleep(graceMs, false, { signal: grace.signal }).catch(() => false),
    ]);
    grace.abort();
    if (!exited) {
      signalGroup(child.pid, "SIGKILL");
      await this.#exit;
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process group that another Node process started (`bosun local down`). */
export async function stopProcessGroup(pid: number, graceMs = 15_000): Promise<void> {
  if (pid <= 0 || !alive(pid)) return;
  signalGroup(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    signalGroup(pid, "SIGKILL");
    while (alive(pid)) await sleep(50);
  }
}

export function processAlive(pid: number): boolean {
  return pid > 0 && alive(pid);
}

export async function tailOfFile(path: string, lines: number): Promise<string> {
  try {
    const text = await readFile(path, "utf8");
    return text
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  } catch {
    return "(no log)";
  }
}
