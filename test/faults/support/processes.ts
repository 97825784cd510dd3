// bosun's hub controllers and agents as separate processes (`bosun hub`, `bosun agent`), so that
// a fault test can SIGKILL one mid-flight and start a fresh one: nothing survives in memory,
// only what the API servers hold.
import { join } from "node:path";
import { longRunningNodeFlags } from "../../../cli/background.ts";
import { ManagedProcess, tailOfFile } from "../../../local/process.ts";
import { eventually } from "../../support/wait.ts";

const cliEntry = join(import.meta.dirname, "..", "..", "..", "cli", "bosun.ts");

export class BosunProcess {
  readonly #process: ManagedProcess;
  readonly logFile: string;

  constructor(dir: string, name: string, args: string[]) {
    this.logFile = join(dir, `${name}.log`);
    this.#process = new ManagedProcess({
      name,
      command: process.execPath,
      args: [...longRunningNodeFlags, cliEntry, ...args],
      logFile: this.logFile,
      persistent: false,
    });
  }

  get running(): boolean {
    return this.#process.running;
  }

  start(): Promise<void> {
    return this.#process.start();
  }

  /** SIGKILL: no shutdown hook runs, no lease is released, nothing is flushed. */
  async kill(): Promise<void> {
    const pid = this.#process.pid;
    if (pid === undefined || !this.#process.running) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
    await eventually(() => {
      if (this.#process.running) throw new Error(`${this.#process.options.name} still running`);
    });
  }

  /** SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void> {
    return this.#process.stop();
  }

  logTail(lines = 40): Promise<string> {
    return tailOfFile(this.logFile, lines);
  }
}

/** `bosun hub` against the hub's admin kubeconfig, without the webhook and on a free metrics port. */
export function hubProcess(
  dir: string,
  name: string,
  kubeconfigPath: string,
  extra: string[] = [],
): BosunProcess {
  return new BosunProcess(dir, name, [
    "hub",
    "--kubeconfig",
    kubeconfigPath,
    "--metrics-bind-address",
    "127.0.0.1:0",
    "--no-webhook",
    "--log-level",
    "warn",
    ...extra,
  ]);
}

/** `bosun agent` against a managed cluster's admin kubeconfig (its bootstrap secret written beforehand). */
export function agentProcess(
  dir: string,
  name: string,
  clusterName: string,
  kubeconfigPath: string,
  extra: string[] = [],
): BosunProcess {
  return new BosunProcess(dir, name, [
    "agent",
    "--kubeconfig",
    kubeconfigPath,
    "--cluster-name",
    clusterName,
    "--client-cert-expiration-seconds",
    "3600",
    "--log-level",
    "warn",
    ...extra,
  ]);
}
