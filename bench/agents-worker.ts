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
import {
  BosunPolicyWork,
  BosunPolicyWorkLabels,
  ConditionStatus,
  Finalizers,
  ManifestWorkConditions,
  ManifestWorkMessages,
  ManifestWorkReasons,
  Resources,
} from "../api/constants.ts";
import type { ManifestCondition, ManifestWork, ManifestWorkStatus } from "../api/types/work.ts";
import { HubInformers } from "../controllers/informers.ts";
import { findCondition, type Condition } from "../runtime/conditions.ts";
import { InformerFactory } from "../runtime/informer-factory.ts";
import { KubeClient } from "../runtime/kube/client.ts";
import { objectKey } from "../runtime/kube/types.ts";
import { formatTime } from "../runtime/time.ts";

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

type Json = Record<string, unknown>;

interface PolicyManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { remediationAction?: string; "object-templates"?: { objectDefinition?: Json }[] };
}

/** What the policy agent would say of a template: violated while informing, fixed when enforcing. */
function compliance(manifest: PolicyManifest): { compliant: string; message: string } {
  const object = manifest.spec?.["object-templates"]?.[0]?.objectDefinition ?? {};
  const kind = typeof object.kind === "string" ? object.kind.toLowerCase() : "object";
  const metadata = object.metadata as { name?: unknown } | undefined;
  const name = typeof metadata?.name === "string" ? metadata.name : "";
  return manifest.spec?.remediationAction?.toLowerCase() === "enforce"
    ? { compliant: "Compliant", message: `Compliant; notification - ${kind}s [${name}] found as specified` }
    : { compliant: "NonCompliant", message: `NonCompliant; violation - ${kind}s [${name}] not found` };
}

function condition(
  previous: readonly Condition[] | undefined,
  type: string,
  reason: string,
  message: string,
  generation: number,
  now: string,
): Condition {
  const before = findCondition(previous, type);
  return {
    type,
    status: ConditionStatus.True,
    reason,
    message,
    observedGeneration: generation,
    lastTransitionTime: before?.status === ConditionStatus.True ? before.lastTransitionTime : now,
  };
}

/** The work agent's conditions for a work applied at its current generation. */
function appliedConditions(work: ManifestWork, nowMs: number): Condition[] {
  const generation = work.metadata.generation ?? 0;
  const now = formatTime(nowMs);
  const conditions = work.status?.conditions;
  return [
    condition(
      conditions,
      ManifestWorkConditions.applied,
      ManifestWorkReasons.appliedManifestWorkComplete,
      ManifestWorkMessages.appliedManifestWorkComplete,
      generation,
      now,
    ),
    condition(
      conditions,
      ManifestWorkConditions.available,
      ManifestWorkReasons.resourcesAvailable,
      ManifestWorkMessages.resourcesAvailable,
      generation,
      now,
    ),
  ];
}

/** The status both agents would have written for a policy work's current generation. */
export function reportedPolicyStatus(work: ManifestWork, nowMs: number): ManifestWorkStatus {
  const generation = work.metadata.generation ?? 0;
  const now = formatTime(nowMs);
  // The policy agent's history timestamps carry microseconds.
  const evaluated = new Date(nowMs).toISOString().replace("Z", "000Z");
  const previous = work.status?.resourceStatus?.manifests ?? [];
  const manifests: ManifestCondition[] = (work.spec?.workload?.manifests ?? []).map((raw, ordinal) => {
    const manifest = raw as unknown as PolicyManifest;
    const slash = manifest.apiVersion.indexOf("/");
    const before = previous.find((entry) => entry.resourceMeta.ordinal === ordinal)?.conditions;
    const { compliant, message } = compliance(manifest);
    const { feedback } = BosunPolicyWork;
    const text = (value: string) => ({ type: "String" as const, string: value });
    return {
      resourceMeta: {
        ordinal,
        group: manifest.apiVersion.slice(0, slash),
        version: manifest.apiVersion.slice(slash + 1),
        kind: manifest.kind,
        resource: Resources.ConfigurationPolicy.plural,
        name: manifest.metadata.name,
        namespace: manifest.metadata.namespace ?? "",
      },
      conditions: [
        condition(
          before,
          ManifestWorkConditions.applied,
          ManifestWorkReasons.appliedManifestComplete,
          ManifestWorkMessages.appliedManifestComplete,
          generation,
          now,
        ),
        condition(
          before,
          ManifestWorkConditions.available,
          ManifestWorkReasons.resourceAvailable,
          ManifestWorkMessages.resourceAvailable,
          generation,
          now,
        ),
      ],
      statusFeedback: {
        values: [
          { name: feedback.compliant.name, fieldValue: text(compliant) },
          { name: feedback.message.name, fieldValue: text(message) },
          { name: feedback.lastTimestamp.name, fieldValue: text(evaluated) },
        ],
      },
    };
  });
  return { conditions: appliedConditions(work, nowMs), resourceStatus: { manifests } };
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
