// What `bosun unjoin` does to the AppliedManifestWorks of a cluster whose agent is stopped: it
// either deletes what they applied (the work agent's own cleanup rules: only what a record owns,
// shared resources only lose the reference) or keeps all of it (each resource loses only the
// records' owner references), then removes the records. The agent must be stopped first, or it
// would apply the works again. A record whose resources are still going (a Namespace being
// emptied) is left in place with its finalizer, so running the command again carries on.
import { Finalizers, Resources } from "../../api/constants.ts";
import type { AppliedManifestWork } from "../../api/types/work.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { deleteAppliedResources } from "./cleanup.ts";

export type ReleaseMode = "delete" | "orphan";

export interface ReleaseResult {
  /** Records removed, with what became of their resources. */
  released: { name: string; deleted: number; orphaned: number }[];
  /** Records left in place, and why. */
  remaining: { name: string; reason: string }[];
}

export interface ReleaseOptions {
  mode: ReleaseMode;
  /** How long to wait for deleted resources to be gone. Default 60 s. */
  timeoutMs?: number;
  /** Between checks while waiting. Default 1 s. */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const appliedRef = (name: string) => ({
  apiVersion: Resources.AppliedManifestWork.apiVersion,
  kind: Resources.AppliedManifestWork.kind,
  name,
});

async function removeRecord(client: KubeApi, name: string): Promise<void> {
  try {
    const fresh = await client.get<AppliedManifestWork>(appliedRef(name));
    const finalizers = (fresh.metadata.finalizers ?? []).filter(
      (finalizer) => finalizer !== Finalizers.appliedManifestWorkCleanup,
    );
    if (finalizers.length !== (fresh.metadata.finalizers ?? []).length) {
      await client.patch(appliedRef(name), "merge", {
        metadata: { resourceVersion: fresh.metadata.resourceVersion, finalizers },
      });
    }
    await client.delete(appliedRef(name), { uid: fresh.metadata.uid });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.notFound)) throw error;
  }
}

export async function releaseAppliedWorks(client: KubeApi, options: ReleaseOptions): Promise<ReleaseResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? 60_000);
  const orphan = options.mode === "orphan";
  const result: ReleaseResult = { released: [], remaining: [] };
  const records = (
    await client.listAll<AppliedManifestWork>(Resources.AppliedManifestWork.apiVersion, "AppliedManifestWork")
  ).items;
  for (const record of records) {
    const name = record.metadata.name ?? "";
    let resources = record.status?.appliedResources ?? [];
    const counts = { deleted: 0, orphaned: 0 };
    let problem: string | undefined;
    for (;;) {
      const cleanup = await deleteAppliedResources(client, resources, record.metadata.uid ?? "", { orphan });
      for (const { step } of cleanup.steps) {
        if (step === "delete") counts.deleted++;
        if (step === "remove-owner") counts.orphaned++;
      }
      resources = cleanup.pending;
      if (resources.length === 0) break;
      if (now() >= deadline) {
        const errors = cleanup.errors.map((error) => error.message);
        problem = `${resources.length} resources still going${errors.length ? `: ${errors.join("; ")}` : ""}`;
        break;
      }
      await sleep(options.pollMs ?? 1000);
    }
    if (problem) {
      result.remaining.push({ name, reason: problem });
      continue;
    }
    await removeRecord(client, name);
    result.released.push({ name, ...counts });
  }
  return result;
}
