// The benchmarks' simulated agents (bench/agents-worker.ts) seen from the main thread: a worker
// started with its options, asked for its figures, and stopped.
import { Worker } from "node:worker_threads";
import type { AgentOptions, AgentStats } from "./agents-worker.ts";

export type { AgentOptions, AgentStats };

/** The agents' worker thread, and requests to it. */
export class SimulatedAgents {
  readonly #worker: Worker;
  #waiters: ((message: { type: string }) => void)[] = [];

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (message: { type: string }) => this.#waiters.shift()?.(message));
  }

  static async start(options: AgentOptions): Promise<SimulatedAgents> {
    const worker = new Worker(new URL("./agents-worker.ts", import.meta.url), { workerData: options });
    const failed = new Promise<never>((_, reject) =>
      worker.once("error", (error) => reject(new Error("the simulated agents failed", { cause: error }))),
    );
    const agents = new SimulatedAgents(worker);
    await Promise.race([agents.#next(), failed]);
    return agents;
  }

  #next(): Promise<{ type: string }> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async stats(): Promise<AgentStats> {
    const answer = this.#next();
    this.#worker.postMessage({ type: "stats" });
    return (await answer) as AgentStats;
  }

  async stop(): Promise<void> {
    const answer = this.#next();
    this.#worker.postMessage({ type: "stop" });
    await answer;
    await this.#worker.terminate();
  }
}
