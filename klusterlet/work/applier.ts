// Applies one ManifestWork's manifests to the managed cluster, in OCM's order, one manifest at
// a time: a manifest the cluster refuses fails alone, with the API server's message, and the
// others are still applied. Every decision is made by the pure functions of this folder; this
// file reads the live objects and performs the writes they ask for.
import type {
  AppliedManifestResourceMeta,
  ManifestCondition,
  ManifestConfigOption,
  ManifestResourceMeta,
  ManifestWork,
  UpdateStrategyType,
} from "../../api/types/work.ts";
import { ConditionStatus, ManifestWorkConditions, Work } from "../../api/constants.ts";
import { findCondition, type Condition } from "../../runtime/conditions.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import type { KubeApi, KubeClient, ObjectRef } from "../../runtime/kube/client.ts";
import { UnknownKindError, type ResourceInfo } from "../../runtime/kube/discovery.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { findManifestConfiguration, ownedByTheWork, updateStrategyOf, type ResourceKey } from "./config.ts";
import { executorAccessReviews, executorCheck, notAllowedMessage } from "./executor.ts";
import {
  buildResourceMeta,
  findManifestCondition,
  type ApplyOutcome,
  type FetchOutcome,
} from "./manifest-conditions.ts";
import { ApplyCache } from "./apply-cache.ts";
import { applyOrder, awaitedCrd, crdEstablished, crdsInWork } from "./order.ts";
import { ownerReferencePatch, type AppliedManifestWorkOwner } from "./owner.ts";
import { planApply, type ApplyPlan } from "./strategy.ts";

/** An object the agent applied (or reads), to be watched for drift. */
export interface WatchTarget {
  apiVersion: string;
  kind: string;
  group: string;
  /** Undefined for cluster-scoped kinds. */
  namespace?: string;
  name: string;
}

/** What happened to one manifest. */
export type ManifestAction = ApplyPlan["action"] | "waiting" | "denied" | "failed" | "complete";

export interface ManifestResult {
  ordinal: number;
  resourceMeta: ManifestResourceMeta;
  outcome: ApplyOutcome;
  /** The live object after the apply, for Available, feedback and condition rules. */
  fetch: FetchOutcome;
  config?: ManifestConfigOption;
  strategy: UpdateStrategyType;
  action: ManifestAction;
  /** The resource as the AppliedManifestWork records it; absent when it cannot be named or does not exist. */
  applied?: AppliedManifestResourceMeta;
  watch?: WatchTarget;
  /** Apply again after this long: a CRD that is not Established yet, an executor denial. */
  retryAfterMs?: number;
}

export interface ApplyWorkInput {
  client: KubeClient;
  work: ManifestWork;
  owner: AppliedManifestWorkOwner;
  /** The AppliedManifestWork's current record, for the uids of resources not readable now. */
  previousApplied: readonly AppliedManifestResourceMeta[];
  /** How soon to look again at a custom resource whose CRD is not Established. */
  crdWaitMs: number;
  /** The agent's record of its Update writes; without it every pass compares and writes. */
  applyCache?: ApplyCache;
}

const crdApiVersion = "apiextensions.k8s.io/v1";
const crdKind = "CustomResourceDefinition";

/** The API server's own message, without the request line the client puts before it. */
export function serverMessage(error: unknown): string {
  if (error instanceof KubeApiError) return error.message.replace(/^(GET|POST|PUT|PATCH|DELETE) \S+: /, "");
  return error instanceof Error ? error.message : String(error);
}

/** Applies every manifest of the work; the results are in spec order (by ordinal). */
export async function applyWork(input: ApplyWorkInput): Promise<ManifestResult[]> {
  const manifests = input.work.spec?.workload?.manifests ?? [];
  const crds = crdsInWork(manifests);
  const results: ManifestResult[] = [];
  for (const { ordinal, manifest } of applyOrder(manifests)) {
    results[ordinal] = await applyManifest(input, manifest, ordinal, crds);
  }
  return results;
}

function typeOf(manifest: unknown): { apiVersion: string; kind: string } | undefined {
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) return undefined;
  const { apiVersion, kind } = manifest as Record<string, unknown>;
  if (typeof apiVersion !== "string" || !apiVersion || typeof kind !== "string" || !kind) return undefined;
  return { apiVersion, kind };
}

function failure(
  base: Pick<ManifestResult, "ordinal" | "resourceMeta" | "strategy"> & Partial<ManifestResult>,
  error: string,
  fetch: FetchOutcome = { found: false },
): ManifestResult {
  return { action: "failed", ...base, outcome: { ok: false, error }, fetch };
}

async function applyManifest(
  input: ApplyWorkInput,
  manifest: unknown,
  ordinal: number,
  crds: ReadonlyMap<string, string>,
): Promise<ManifestResult> {
  const { client, work } = input;
  const type = typeOf(manifest);
  const unresolved = buildResourceMeta(ordinal, manifest, () => undefined).resourceMeta;
  if (!type) {
    const meta = buildResourceMeta(ordinal, manifest, () => undefined);
    return failure({ ordinal, resourceMeta: meta.resourceMeta, strategy: "Update" }, meta.error ?? "");
  }

  const awaited = awaitedCrd(manifest, crds);
  if (awaited) {
    let established: boolean;
    try {
      const crd = await client.getOrUndefined<Unstructured>({
        apiVersion: crdApiVersion,
        kind: crdKind,
        name: awaited,
      });
      established = crd !== undefined && crdEstablished(crd as { status?: { conditions?: Condition[] } });
    } catch (error) {
      return failure({ ordinal, resourceMeta: unresolved, strategy: "Update" }, serverMessage(error), {
        error: serverMessage(error),
      });
    }
    if (!established) {
      return {
        ...failure(
          { ordinal, resourceMeta: unresolved, strategy: "Update" },
          `waiting for the CustomResourceDefinition ${awaited} to be established`,
        ),
        action: "waiting",
        retryAfterMs: input.crdWaitMs,
      };
    }
  }

  let info: ResourceInfo | undefined;
  try {
    info = await client.discovery.resolve(type.apiVersion, type.kind);
  } catch (error) {
    if (!(error instanceof UnknownKindError)) {
      return failure({ ordinal, resourceMeta: unresolved, strategy: "Update" }, serverMessage(error), {
        error: serverMessage(error),
      });
    }
  }
  const built = buildResourceMeta(ordinal, manifest, () => info?.resource);
  const meta = built.resourceMeta;
  if (built.error || !info) {
    return failure({ ordinal, resourceMeta: meta, strategy: "Update" }, built.error ?? "unknown resource");
  }

  const namespace = info.namespaced ? meta.namespace || undefined : undefined;
  const key: ResourceKey = {
    group: meta.group,
    resource: meta.resource,
    namespace: meta.namespace,
    name: meta.name,
  };
  const config = findManifestConfiguration(key, work.spec?.manifestConfigs);
  const strategy = updateStrategyOf(config);
  const owned = ownedByTheWork(work.spec?.deleteOption, key);
  const ref: ObjectRef = { apiVersion: type.apiVersion, kind: type.kind, name: meta.name ?? "", namespace };
  const previousUid = input.previousApplied.find(
    (resource) =>
      (resource.group ?? "") === (meta.group ?? "") &&
      resource.resource === meta.resource &&
      (resource.namespace ?? "") === (namespace ?? "") &&
      resource.name === meta.name,
  )?.uid;
  const base = {
    ordinal,
    resourceMeta: meta,
    strategy: strategy.type,
    ...(config ? { config } : {}),
    watch: {
      apiVersion: type.apiVersion,
      kind: type.kind,
      group: meta.group ?? "",
      namespace,
      name: meta.name ?? "",
    },
  };
  // Only what exists is recorded (with its uid), as OCM's agent records it: a manifest that
  // failed to create leaves nothing behind to record or to delete later.
  const recorded = (uid: string | undefined): AppliedManifestResourceMeta | undefined =>
    uid
      ? {
          group: meta.group ?? "",
          version: meta.version ?? "",
          resource: meta.resource ?? "",
          namespace: namespace ?? "",
          name: meta.name ?? "",
          uid,
        }
      : undefined;

  if (strategy.type !== "ReadOnly") {
    const check = executorCheck(work.spec?.executor);
    if ("error" in check && check.error) {
      return failure({ ...base, applied: recorded(previousUid) }, check.error);
    }
    if (check.check) {
      const target = {
        group: meta.group,
        version: meta.version,
        resource: meta.resource ?? "",
        namespace,
        name: meta.name ?? "",
      };
      try {
        for (const review of executorAccessReviews(check.serviceAccount, target, owned)) {
          const answer = await client.create<Unstructured & { status?: { allowed?: boolean } }>({
            ...review,
            metadata: {},
          });
          if (!answer.status?.allowed) {
            return {
              ...failure({ ...base, applied: recorded(previousUid) }, notAllowedMessage(target)),
              action: "denied",
              retryAfterMs: Work.executorDeniedRequeueSeconds * 1000,
            };
          }
        }
      } catch (error) {
        return failure({ ...base, applied: recorded(previousUid) }, serverMessage(error));
      }
    }
  }

  let live: Unstructured | undefined;
  try {
    live = await client.getOrUndefined<Unstructured>(ref);
  } catch (error) {
    return failure({ ...base, applied: recorded(previousUid) }, serverMessage(error), {
      error: serverMessage(error),
    });
  }

  // A manifest whose rules made it Complete is not applied any more.
  const previousEntry: ManifestCondition | undefined = findManifestCondition(
    meta,
    work.status?.resourceStatus?.manifests,
  );
  if (
    findCondition(previousEntry?.conditions, ManifestWorkConditions.complete)?.status === ConditionStatus.True
  ) {
    return {
      ...base,
      action: "complete",
      applied: recorded(live?.metadata.uid ?? previousUid),
      outcome: { ok: true },
      fetch: live ? { found: true, object: live } : { found: false },
    };
  }

  // Update writes are remembered: an object left as the agent wrote it is not compared again.
  const cache = strategy.type === "Update" ? input.applyCache : undefined;
  const cacheKey = ApplyCache.key(ref);
  const hash = cache ? ApplyCache.hash(manifest, input.owner, owned) : "";
  let plan: ApplyPlan =
    live && cache?.unchanged(cacheKey, hash, live.metadata.resourceVersion)
      ? { action: "none", reason: "unchanged" }
      : planApply({ required: manifest as Unstructured, live, strategy, owned, owner: input.owner });
  try {
    let after: Unstructured | undefined;
    try {
      after = await perform(client, ref, plan, live, input.owner, owned);
    } catch (error) {
      // Someone else wrote the object between the read and the write (its own controller's
      // status, often): planned again on a fresh read, once, rather than reported as failed.
      if (!(error instanceof KubeApiError && error.conflict)) throw error;
      live = await client.getOrUndefined<Unstructured>(ref);
      plan = planApply({ required: manifest as Unstructured, live, strategy, owned, owner: input.owner });
      after = await perform(client, ref, plan, live, input.owner, owned);
    }
    if (cache && (plan.action === "create" || plan.action === "update"))
      cache.record(cacheKey, hash, after?.metadata.resourceVersion);
    if (plan.action === "error") {
      return {
        ...base,
        action: "error",
        applied: recorded(live?.metadata.uid ?? previousUid),
        outcome: { ok: false, error: plan.message, ignoreFields: true },
        fetch: live ? { found: true, object: live } : { found: false },
      };
    }
    return {
      ...base,
      action: plan.action,
      applied: recorded(after?.metadata.uid ?? previousUid),
      outcome: { ok: true },
      fetch: after ? { found: true, object: after } : { found: false },
    };
  } catch (error) {
    cache?.forget(cacheKey);
    return failure(
      { ...base, applied: recorded(live?.metadata.uid ?? previousUid) },
      serverMessage(error),
      live ? { found: true, object: live } : { found: false },
    );
  }
}

/** Performs a plan; returns the live object afterwards (undefined when there is none). */
async function perform(
  client: KubeApi,
  ref: ObjectRef,
  plan: ApplyPlan,
  live: Unstructured | undefined,
  owner: AppliedManifestWorkOwner,
  owned: boolean,
): Promise<Unstructured | undefined> {
  switch (plan.action) {
    // OCM's work agent writes as the field manager "work-agent", whatever client it runs with.
    case "create":
      return client.create<Unstructured>(plan.object, { fieldManager: Work.defaultFieldManager });
    case "update":
      return client.replace<Unstructured>(plan.object, { fieldManager: Work.defaultFieldManager });
    case "apply": {
      const applied = await client.patch<Unstructured>(ref, "apply", plan.body, {
        fieldManager: plan.fieldManager,
        force: plan.force,
      });
      const patch = ownerReferencePatch(applied, owner, owned);
      return patch
        ? client.patch<Unstructured>(ref, "merge", patch, { fieldManager: Work.defaultFieldManager })
        : applied;
    }
    case "patch-owner":
      return client.patch<Unstructured>(ref, "merge", plan.patch, { fieldManager: Work.defaultFieldManager });
    case "none":
    case "error":
      return live;
  }
}
