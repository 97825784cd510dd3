// Asking a cluster's agent, through the hub, for the related objects of a replica's policy
// templates: a read-only ManifestWork is created in the cluster namespace, its status read until
// the agent has answered for every template (or the time is up), and the work deleted again.
// A work left behind by a reader that was killed is removed by a later one.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { BosunRelatedObjects, Resources } from "../../api/constants.ts";
import type { Policy } from "../../api/types/policy.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import {
  relatedObjectsAnswer,
  relatedObjectsWork,
  type TemplateRelatedObjects,
} from "../../controllers/propagation/related-objects.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { refOf, type KubeApi } from "../../runtime/kube/client.ts";

export type RelatedObjectsReading = (
  | { state: "read"; templates: TemplateRelatedObjects[] }
  /** Nothing or not everything could be read; `templates` holds what was. */
  | { state: "not-read"; reason: string; templates: TemplateRelatedObjects[] }
) & {
  /** Set when the read-only work could not be deleted afterwards. */
  leftBehind?: string;
};

export interface ReadRelatedObjectsOptions {
  /** How long the agent has to answer. */
  timeoutMs: number;
  /** Between two reads of the work's status. Default 250 ms. */
  pollMs?: number;
  signal?: AbortSignal;
  now?: () => number;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Removes related-objects works of `replica` older than BosunRelatedObjects.staleAfterSeconds. */
async function removeStale(client: KubeApi, replica: Policy, now: number): Promise<void> {
  const { apiVersion, kind } = Resources.ManifestWork;
  const { items } = await client.listAll<ManifestWork>(apiVersion, kind, {
    namespace: replica.metadata.namespace,
    labelSelector: `${BosunRelatedObjects.replicaLabel}=${replica.metadata.name ?? ""}`,
  });
  for (const work of items) {
    const created = Date.parse(work.metadata.creationTimestamp ?? "");
    if (work.metadata.deletionTimestamp || !(now - created > BosunRelatedObjects.staleAfterSeconds * 1000))
      continue;
    await client.delete(refOf(work), { uid: work.metadata.uid }).catch(() => undefined);
  }
}

/**
 * The related objects of each policy template of `replica`, as its cluster's agent reports
 * them. Never throws for what the hub or the cluster refuse or leave unanswered: the reading
 * says why instead.
 */
export async function readRelatedObjects(
  client: KubeApi,
  replica: Policy,
  options: ReadRelatedObjectsOptions,
): Promise<RelatedObjectsReading> {
  const now = options.now ?? Date.now;
  const cluster = replica.metadata.namespace ?? "";
  const work = relatedObjectsWork(
    replica,
    `${BosunRelatedObjects.namePrefix}${randomBytes(4).toString("hex")}`,
  );
  if (!work) return { state: "not-read", reason: "the policy has no policy template to read", templates: [] };
  const where = `ManifestWork ${cluster}/${work.metadata.name ?? ""}`;
  await removeStale(client, replica, now()).catch(() => undefined);
  let created: ManifestWork;
  try {
    created = await client.create<ManifestWork>(work);
  } catch (error) {
    return {
      state: "not-read",
      reason: `the hub refused the read-only ${where}: ${describe(error)}`,
      templates: [],
    };
  }
  const reading = await awaitAnswer(client, created, where, options);
  try {
    await client.delete(refOf(created), { uid: created.metadata.uid });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.notFound))
      reading.leftBehind = `${where} could not be deleted (${describe(error)}); a later read removes it`;
  }
  return reading;
}

async function awaitAnswer(
  client: KubeApi,
  created: ManifestWork,
  where: string,
  options: ReadRelatedObjectsOptions,
): Promise<RelatedObjectsReading> {
  const now = options.now ?? Date.now;
  const cluster = created.metadata.namespace ?? "";
  const deadline = now() + options.timeoutMs;
  let answer = relatedObjectsAnswer(created);
  for (;;) {
    if (answer.complete) return { state: "read", templates: answer.templates };
    if (now() >= deadline || options.signal?.aborted) break;
    await sleep(options.pollMs ?? 250, undefined, { signal: options.signal }).catch(() => undefined);
    try {
      answer = relatedObjectsAnswer(await client.get<ManifestWork>(refOf(created)));
    } catch (error) {
      return {
        state: "not-read",
        reason: `reading ${where} failed: ${describe(error)}`,
        templates: answer.templates,
      };
    }
  }
  const seconds = Math.round(options.timeoutMs / 100) / 10;
  return {
    state: "not-read",
    reason: options.signal?.aborted
      ? "interrupted"
      : `cluster ${cluster} did not answer within ${seconds} s (is its agent running and connected?)`,
    templates: answer.templates,
  };
}
