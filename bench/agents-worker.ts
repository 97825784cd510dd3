// The simulated agents of the hub benchmarks, in a worker thread of their own so that their CPU
// time is measured apart from the hub controllers'. One watch on every ManifestWork of the hub
// stands for every cluster's agent: for each work at a generation not reported yet, it writes in
// one status merge patch what the agents would end up reporting, with a bounded number of writes
// in flight.
// - "policy" works (bench/governance.ts): only the works of replicated Policies; the work and each
//   ConfigurationPolicy Applied, and each template's compliance fed back (inform: NonCompliant,
//   enforce: Compliant), as the work agent and the policy agent together report it.
// - "all" works (bench/work.ts): every work, given the cleanup finalizer once as the work agent
//   does, and reported Applied and Available.
import { parentPort, workerData } from "node:worker_threads";
import { pino } from "pino";
import { BosunPolicyWorkLabels, Finalizers, Resources } from "../api/constants.ts";
import type { ManifestWork } from "../api/types/work.ts";
import { HubInformers } from "../controllers/informers.ts";
import { InformerFactory } from "../runtime/informer-factory.ts";
import { KubeClient } from "../runtime/kube/client.ts";
import { objectKey } from "../runtime/kube/types.ts";
import { appliedConditions, reportedPolicyStatus } from "./reported-status.ts";

export interface AgentOptions {
  kubeconfigPath: string;
  /** Status writes in flight at once. */
  concurrency: number;
  /** Which works the agents report, and what they report of them. */
  works: "policy" | "all";
}

/** What the worker answers to `{ type: "stats" }`. */
export interface AgentStats {
  type: "stats";
  writes: number;
  failures: number;
  /** The worker thread's CPU time, in microseconds. */
  cpu: { user: number; system: number };
}

/** Runs the agents until told to stop; answers stats requests. */
async function run(options: AgentOptions): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("agents-worker.ts runs as a worker thread");
  const logger = pino({ level: "warn" }, pino.destination(2));
  const client = await KubeClient.fromFile(options.kubeconfigPath);
  const informers = new InformerFactory({ client, logger });
  const works = informers.informer<ManifestWork>(
    HubInformers.manifestWorks.resource,
    HubInformers.manifestWorks.scope,
  );
  const stats = { writes: 0, failures: 0 };
  /** The generation each work was last reported for, so that a write is not repeated while its echo is on the way. */
  const reported = new Map<string, number>();
  const queue: string[] = [];
  const queued = new Set<string>();
  let inFlight = 0;

  const policyWorks = options.works === "policy";
  const due = (work: ManifestWork) =>
    (!policyWorks || work.metadata.labels?.[BosunPolicyWorkLabels.replica] !== undefined) &&
    !work.metadata.deletionTimestamp &&
    reported.get(objectKey(work)) !== work.metadata.generation;

  const pump = () => {
    while (inFlight < options.concurrency && queue.length > 0) {
      const key = queue.shift()!;
      queued.delete(key);
      const work = works.get(key);
      if (!work || !due(work)) continue;
      inFlight++;
      void report(work).finally(() => {
        inFlight--;
        pump();
      });
    }
  };
  const enqueue = (work: ManifestWork) => {
    const key = objectKey(work);
    if (!due(work) || queued.has(key)) return;
    queued.add(key);
    queue.push(key);
    pump();
  };
  const report = async (work: ManifestWork) => {
    const key = objectKey(work);
    const generation = work.metadata.generation ?? 0;
    const ref = {
      apiVersion: Resources.ManifestWork.apiVersion,
      kind: Resources.ManifestWork.kind,
      namespace: work.metadata.namespace,
      name: work.metadata.name!,
    };
    try {
      if (!policyWorks && !(work.metadata.finalizers ?? []).includes(Finalizers.manifestWorkCleanup)) {
        const finalizers = [...(work.metadata.finalizers ?? []), Finalizers.manifestWorkCleanup];
        await client.patch(ref, "merge", { metadata: { finalizers } });
        stats.writes++;
      }
      const status = policyWorks
        ? reportedPolicyStatus(work, Date.now())
        : { conditions: appliedConditions(work, Date.now()) };
      await client.patch(ref, "merge", { status }, { subresource: "status" });
      stats.writes++;
      reported.set(key, generation);
    } catch (error) {
      stats.failures++;
      logger.warn({ err: error, key }, "simulated agent status write failed");
    }
    // The work may have moved on while this write was in flight (or the write failed).
    const latest = works.get(key);
    if (latest) enqueue(latest);
  };

  works.addHandlers({
    onAdd: enqueue,
    onUpdate: (_previous, current) => enqueue(current),
    onDelete: (work) => reported.delete(objectKey(work)),
  });
  informers.start();
  await works.waitForSync();

  port.on("message", (message: { type: string }) => {
    if (message.type === "stats") {
      port.postMessage({ type: "stats", ...stats, cpu: process.threadCpuUsage() } satisfies AgentStats);
    } else if (message.type === "stop") {
      void informers.stop().then(() => {
        client.close();
        port.postMessage({ type: "stopped" });
        port.close();
      });
    }
  });
  port.postMessage({ type: "ready" });
}

if (parentPort) await run(workerData as AgentOptions);
