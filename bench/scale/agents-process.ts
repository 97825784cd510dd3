// The scale harness's simulated agents, in a process of their own (forked with an IPC channel) so
// that their CPU, memory and sockets are measured apart from the hub's and the harness's. The
// parent asks it to join clusters, for its counters, and to stop.
//   { type: "start", options }  → { type: "ready" }
//   { type: "join", names }  → { type: "joined", joined, failed }
//   { type: "stats" }        → { type: "stats", ...AgentProcessStats }
//   { type: "stop" }         → { type: "stopped" }, then the process exits
import { pino } from "pino";
import type { CertificateSigningRequest } from "../../klusterlet/bootstrap/identity.ts";
import { systemClock } from "../../runtime/clock.ts";
import { Informer } from "../../runtime/informer.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { SimulatedAgent, type AgentCounters, type FleetContext } from "./sim-agent.ts";

export interface AgentProcessOptions {
  hubServer: string;
  caPem: string;
  /** The bootstrap kubeconfig every agent starts from (a bootstrap token's). */
  bootstrapKubeconfig: string;
  /** Hub writes in flight at once, over all agents of the process. */
  writeConcurrency: number;
  /** Agents joining at once. */
  joinConcurrency: number;
  kubernetesVersion: string;
  idleSocketTimeoutMs: number;
  hubReconnectWindowMs: number;
  leaseDurationSeconds?: number;
}

export interface AgentProcessStats extends AgentCounters {
  agents: number;
  /** Work watch (re)starts over all agents. */
  watchRestarts: number;
  rssBytes: number;
  heapUsedBytes: number;
  cpu: { user: number; system: number };
}

type Request = { type: "join"; names: string[] } | { type: "stats" } | { type: "stop" };

/** A counting semaphore: at most `size` calls of `run` at once. */
function limiter(size: number): <T>(run: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (active >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

async function main(options: AgentProcessOptions): Promise<void> {
  const send = (message: unknown) => process.send?.(message);
  const logger = pino({ level: process.argv.includes("--debug") ? "debug" : "warn" }, pino.destination(2));
  const bootstrap = await KubeClient.fromString(options.bootstrapKubeconfig);
  const csrs = new Informer<CertificateSigningRequest>({
    client: bootstrap,
    apiVersion: "certificates.k8s.io/v1",
    kind: "CertificateSigningRequest",
    logger,
  });
  const waiting = new Map<string, (certPem: string) => void>();
  const settle = (csr: CertificateSigningRequest) => {
    const certificate = csr.status?.certificate;
    const resolve = csr.metadata.name ? waiting.get(csr.metadata.name) : undefined;
    if (!certificate || !resolve) return;
    waiting.delete(csr.metadata.name!);
    resolve(Buffer.from(certificate, "base64").toString("utf8"));
  };
  csrs.addHandlers({ onAdd: settle, onUpdate: (_previous, current) => settle(current) });
  csrs.start();
  await csrs.waitForSync();

  const counters: AgentCounters = { joined: 0, writes: 0, failures: 0, workReports: 0 };
  const regions = ["us-east-1", "us-west-2", "eu-west-1", "ap-south-1"];
  const fleet: FleetContext = {
    bootstrap,
    hubServer: options.hubServer,
    caPem: options.caPem,
    clock: systemClock(),
    logger,
    random: Math.random,
    certificateOf: (csrName, signal) =>
      new Promise<string>((resolve, reject) => {
        waiting.set(csrName, resolve);
        signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
        const known = csrs.get(csrName);
        if (known) settle(known);
      }),
    limit: limiter(options.writeConcurrency),
    counters,
    claims: (cluster) => {
      const index = Number(/(\d+)$/.exec(cluster)?.[1] ?? 0);
      return [
        { name: "id.k8s.io", value: cluster },
        { name: "region.open-cluster-management.io", value: regions[index % regions.length]! },
        { name: "platform.open-cluster-management.io", value: index % 10 === 0 ? "GPU" : "Other" },
      ];
    },
    kubernetesVersion: options.kubernetesVersion,
    idleSocketTimeoutMs: options.idleSocketTimeoutMs,
    hubReconnectWindowMs: options.hubReconnectWindowMs,
    leaseDurationSeconds: options.leaseDurationSeconds,
  };
  const agents = new Map<string, SimulatedAgent>();
  const joining = limiter(options.joinConcurrency);

  process.on("message", (message: Request) => {
    if (message.type === "join") {
      void (async () => {
        let failed = 0;
        await Promise.all(
          message.names.map((name) =>
            joining(async () => {
              const agent = agents.get(name) ?? new SimulatedAgent(name, fleet);
              agents.set(name, agent);
              for (let attempt = 1; !agent.joined; attempt++) {
                try {
                  await agent.join();
                } catch (error) {
                  logger.warn({ err: error, cluster: name, attempt }, "a simulated agent's join failed");
                  if (attempt >= 5) {
                    failed++;
                    logger.warn({ err: error, cluster: name }, "a simulated agent did not join");
                    return;
                  }
                }
              }
            }),
          ),
        );
        send({ type: "joined", joined: counters.joined, failed });
      })();
    } else if (message.type === "stats") {
      const memory = process.memoryUsage();
      send({
        type: "stats",
        ...counters,
        agents: agents.size,
        watchRestarts: [...agents.values()].reduce((sum, agent) => sum + agent.watchStarts, 0),
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        cpu: process.cpuUsage(),
      } satisfies AgentProcessStats & { type: string });
    } else if (message.type === "stop") {
      void Promise.all([...[...agents.values()].map((agent) => agent.stop()), csrs.stop()]).then(() => {
        bootstrap.close();
        send({ type: "stopped" });
        process.exit(0);
      });
    }
  });
  send({ type: "ready" });
}

// The options come over the IPC channel: they carry the bootstrap token, which argv would show.
process.once("message", (message: { type: string; options: AgentProcessOptions }) => {
  void main(message.options);
});
