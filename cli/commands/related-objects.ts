// Asking a cluster's agent, through the hub, for the related objects of a replica's policy
// templates: a read-only ManifestWork is created in the cluster namespace, its status read until
// the agent has answered for every template (or the time is up), and the work deleted again.
// A work left behind by a reader that was killed is removed by a later one. With --watch, one
// work serves the whole watch and its status is followed.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { BosunRelatedObjects, Resources } from "../../api/constants.ts";
import type { Policy } from "../../api/types/policy.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import {
  relatedObjectsAnswer,
  relatedObjectsWork,
  type TemplateRelatedObjects,
} from "../../controllers/propagation/related-objects.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { Informer } from "../../runtime/informer.ts";
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

function noAnswer(cluster: string, timeoutMs: number): string {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return `cluster ${cluster} did not answer within ${seconds} s (is its agent running and connected?)`;
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

/** Where a reader work is, for messages. */
function whereOf(work: ManifestWork): string {
  return `ManifestWork ${work.metadata.namespace ?? ""}/${work.metadata.name ?? ""}`;
}

/** Deletes a reader work; what to tell when it stays behind. */
async function deleteReader(client: KubeApi, work: ManifestWork): Promise<string | undefined> {
  try {
    await client.delete(refOf(work), { uid: work.metadata.uid });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.notFound))
      return `${whereOf(work)} could not be deleted (${describe(error)}); a later read removes it`;
  }
  return undefined;
}

/**
 * Creates a new reader work for `replica` (after removing stale ones), or says why there is none:
 * no policy template to read, or the hub refused it.
 */
async function createReader(
  client: KubeApi,
  replica: Policy,
  nowMs: number,
): Promise<{ created: ManifestWork } | { reading: RelatedObjectsReading }> {
  const work = relatedObjectsWork(
    replica,
    `${BosunRelatedObjects.namePrefix}${randomBytes(4).toString("hex")}`,
  );
  if (!work)
    return {
      reading: { state: "not-read", reason: "the policy has no policy template to read", templates: [] },
    };
  await removeStale(client, replica, nowMs).catch(() => undefined);
  try {
    return { created: await client.create<ManifestWork>(work) };
  } catch (error) {
    return {
      reading: {
        state: "not-read",
        reason: `the hub refused the read-only ${whereOf(work)}: ${describe(error)}`,
        templates: [],
      },
    };
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
  const reader = await createReader(client, replica, (options.now ?? Date.now)());
  if ("reading" in reader) return reader.reading;
  const { created } = reader;
  const where = whereOf(created);
  const reading = await awaitAnswer(client, created, where, options);
  const leftBehind = await deleteReader(client, created);
  return leftBehind ? { ...reading, leftBehind } : reading;
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
  return {
    state: "not-read",
    reason: options.signal?.aborted ? "interrupted" : noAnswer(cluster, options.timeoutMs),
    templates: answer.templates,
  };
}

/** The policies a related-objects work asks about, as one comparable string. */
function askedAbout(work: ManifestWork): string {
  return JSON.stringify(
    (work.spec?.workload?.manifests ?? []).map((manifest) => {
      const { apiVersion, kind, metadata } = manifest as {
        apiVersion?: string;
        kind?: string;
        metadata?: { name?: string; namespace?: string };
      };
      return [apiVersion, kind, metadata?.namespace, metadata?.name];
    }),
  );
}

/**
 * The related objects of a replica's templates, kept current for `--watch`: one read-only work
 * for the whole watch, its status followed through an informer, its manifests brought up to date
 * when the replica's templates change, and the work deleted when the watch ends.
 */
export class RelatedObjectsFollower {
  readonly #client: KubeApi;
  readonly #informer: Informer<ManifestWork>;
  readonly #name: string;
  readonly #namespace: string;
  #created: ManifestWork;
  #problem: string | undefined;

  private constructor(client: KubeApi, created: ManifestWork, logger: Logger) {
    this.#client = client;
    this.#created = created;
    this.#name = created.metadata.name ?? "";
    this.#namespace = created.metadata.namespace ?? "";
    this.#informer = new Informer<ManifestWork>({
      client,
      apiVersion: Resources.ManifestWork.apiVersion,
      kind: Resources.ManifestWork.kind,
      namespace: this.#namespace,
      fieldSelector: `metadata.name=${this.#name}`,
      logger,
    });
  }

  /** Creates the work and starts following it; a reading that says why when it cannot. */
  static async start(
    client: KubeApi,
    replica: Policy,
    logger: Logger,
  ): Promise<RelatedObjectsFollower | RelatedObjectsReading> {
    const reader = await createReader(client, replica, Date.now());
    if ("reading" in reader) return reader.reading;
    const follower = new RelatedObjectsFollower(client, reader.created, logger);
    follower.#informer.start();
    return follower;
  }

  /** Calls `handler` whenever the work (and so what the cluster reports) changes. */
  onChange(handler: () => void): void {
    this.#informer.addHandlers({ onAdd: handler, onUpdate: handler, onDelete: handler });
  }

  /** What the cluster reports now. */
  reading(): RelatedObjectsReading {
    const work = this.#informer.get(`${this.#namespace}/${this.#name}`) ?? this.#created;
    const answer = relatedObjectsAnswer(work);
    if (this.#problem) return { state: "not-read", reason: this.#problem, templates: answer.templates };
    return answer.complete
      ? { state: "read", templates: answer.templates }
      : {
          state: "not-read",
          reason: `waiting for cluster ${this.#namespace} to answer`,
          templates: answer.templates,
        };
  }

  /** Resolves once the cluster has answered for every template, or after `timeoutMs`. */
  async answered(timeoutMs: number, signal?: AbortSignal): Promise<RelatedObjectsReading> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !signal?.aborted) {
      const reading = this.reading();
      if (reading.state === "read") return reading;
      await sleep(100, undefined, { signal }).catch(() => undefined);
    }
    const reading = this.reading();
    if (reading.state === "read") return reading;
    return { ...reading, reason: noAnswer(this.#namespace, timeoutMs) };
  }

  /** Asks for the templates `replica` has now, when they are not the ones asked for. */
  async follow(replica: Policy): Promise<void> {
    const wanted = relatedObjectsWork(replica, this.#name);
    const current = this.#informer.get(`${this.#namespace}/${this.#name}`) ?? this.#created;
    // Compared by what is asked about: the stored spec has the server's key order and defaults.
    if (!wanted || askedAbout(wanted) === askedAbout(current)) return;
    try {
      this.#created = await this.#client.replace<ManifestWork>({ ...current, spec: wanted.spec });
      this.#problem = undefined;
    } catch (error) {
      this.#problem = `the read-only ManifestWork could not follow the policy's templates: ${describe(error)}`;
    }
  }

  /** Stops following and deletes the work. */
  async stop(): Promise<string | undefined> {
    await this.#informer.stop();
    return deleteReader(this.#client, this.#created);
  }
}
