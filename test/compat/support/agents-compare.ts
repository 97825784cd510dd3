// Field-by-field comparison of what two work agents wrote for the same ManifestWork: the work's
// status, its AppliedManifestWork and the applied objects' metadata. Values that identify an
// instance (timestamps, uids, resourceVersions, the hub hash, the agent id) are left out or
// normalized; conditions are keyed by type, since their order carries no meaning. Pure.
import type { AppliedManifestWork, AppliedManifestWorkSpec, ManifestWork } from "../../../api/types/work.ts";
import type { ManagedCluster } from "../../../api/types/cluster.ts";
import type { Unstructured } from "../../../runtime/kube/types.ts";

export interface Difference {
  /** Where, e.g. `status.resourceStatus.manifests[0].conditions.Applied.reason`. */
  path: string;
  bosun: unknown;
  ocm: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Every leaf where `bosun` and `ocm` differ; absent and undefined count as the same. */
export function differences(bosun: unknown, ocm: unknown, path = ""): Difference[] {
  if (isRecord(bosun) && isRecord(ocm)) {
    const keys = [...new Set([...Object.keys(bosun), ...Object.keys(ocm)])].sort();
    return keys.flatMap((key) => differences(bosun[key], ocm[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(bosun) && Array.isArray(ocm)) {
    const length = Math.max(bosun.length, ocm.length);
    return Array.from({ length }, (_, i) => differences(bosun[i], ocm[i], `${path}[${i}]`)).flat();
  }
  if (JSON.stringify(bosun) === JSON.stringify(ocm)) return [];
  return [{ path, bosun, ocm }];
}

const hubHashPrefix = /^[0-9a-f]{64}-/;
const uidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Conditions as a map from type to the condition without its transition time. */
export function conditionsByType(
  conditions: readonly { type: string; lastTransitionTime?: string }[] | undefined,
): Record<string, unknown> | undefined {
  if (!conditions) return undefined;
  const byType: Record<string, unknown> = {};
  for (const { lastTransitionTime: _time, ...condition } of conditions) byType[condition.type] = condition;
  return byType;
}

/** What a work agent writes into a ManifestWork: its finalizers and its status. */
export function workView(work: ManifestWork): unknown {
  const status = work.status ?? {};
  return {
    finalizers: work.metadata.finalizers,
    status: {
      conditions: conditionsByType(status.conditions),
      resourceStatus: status.resourceStatus && {
        manifests: status.resourceStatus.manifests?.map((manifest) => ({
          ...manifest,
          conditions: conditionsByType(manifest.conditions),
        })),
      },
    },
  };
}

/**
 * An AppliedManifestWork without the hub hash (part of its name and spec) and with the agent id
 * replaced by whether it is the agent's own (`agentID: "<own>"`).
 */
export function appliedView(applied: AppliedManifestWork | undefined, agentId: string): unknown {
  if (!applied) return undefined;
  const spec: Partial<AppliedManifestWorkSpec> = applied.spec ?? {};
  return {
    name: (applied.metadata.name ?? "").replace(hubHashPrefix, "<hub-hash>-"),
    labels: applied.metadata.labels,
    finalizers: applied.metadata.finalizers,
    spec: {
      manifestWorkName: spec.manifestWorkName,
      hubHash: spec.hubHash && /^[0-9a-f]{64}$/.test(spec.hubHash) ? "<hub-hash>" : spec.hubHash,
      agentID: spec.agentID === agentId ? "<own>" : spec.agentID,
    },
    status: {
      ...applied.status,
      appliedResources: applied.status?.appliedResources?.map(({ uid, ...resource }) => ({
        ...resource,
        uid: uid ? "<uid>" : uid,
      })),
      evictionStartTime: applied.status?.evictionStartTime ? "<time>" : undefined,
    },
  };
}

/**
 * An applied object's metadata as a work agent leaves it (owner references without uids), and
 * a ConfigMap's data.
 */
export function appliedObjectView(object: Unstructured | undefined): unknown {
  if (!object) return undefined;
  const metadata = object.metadata;
  return {
    data: object.data,
    // The API server labels a Job's pods with the Job's uid.
    labels:
      metadata.labels &&
      Object.fromEntries(
        Object.entries(metadata.labels).map(([key, value]) => [
          key,
          uidPattern.test(value) ? "<uid>" : value,
        ]),
      ),
    annotations: metadata.annotations,
    finalizers: metadata.finalizers,
    ownerReferences: metadata.ownerReferences?.map(({ uid: _uid, ...reference }) => ({
      ...reference,
      name: reference.name.replace(hubHashPrefix, "<hub-hash>-"),
    })),
  };
}

/** What a registration agent writes into its ManagedCluster (the hub's own fields left out). */
export function managedClusterView(cluster: ManagedCluster): unknown {
  const status = cluster.status ?? {};
  return {
    spec: {
      managedClusterClientConfigs: cluster.spec?.managedClusterClientConfigs?.map(({ url }) => ({ url })),
    },
    status: {
      ...status,
      conditions: conditionsByType(status.conditions),
    },
  };
}

/** A difference bosun makes on purpose, with the reason. */
export interface KnownDifference {
  /** "newer OCM": bosun does what OCM does after v1.0.0; "bosun": bosun's own choice. */
  origin: "newer OCM" | "bosun";
  reason: string;
  matches(difference: Difference): boolean;
}

/**
 * Where bosun follows OCM after v1.0.0 (the release whose agents are the oracle here), as its
 * API reference describes the current code, and where bosun chose to differ.
 */
export const knownDifferences: readonly KnownDifference[] = [
  {
    origin: "newer OCM",
    reason: "a manifest's Applied condition carries observedGeneration",
    matches: (d) =>
      /^work\.status\.resourceStatus\.manifests\[\d+\]\.conditions\.Applied\.observedGeneration$/.test(
        d.path,
      ) &&
      typeof d.bosun === "number" &&
      d.ocm === undefined,
  },
  {
    origin: "newer OCM",
    reason: "an incomplete resourceMeta is IncompleteResourceMeta, 'Resource meta is incomplete'",
    matches: (d) =>
      /^work\.status\.resourceStatus\.manifests\[\d+\]\.conditions\.Available\.(reason|message)$/.test(
        d.path,
      ) &&
      ((d.bosun === "IncompleteResourceMeta" && d.ocm === "IncompletedResourceMeta") ||
        (d.bosun === "Resource meta is incomplete" && d.ocm === "Resource meta is incompleted")),
  },
  {
    origin: "newer OCM",
    reason: "the AppliedManifestWork carries the ManifestWork's labels",
    matches: (d) => /^applied\.labels(\.|$)/.test(d.path) && d.ocm === undefined,
  },
  {
    origin: "newer OCM",
    reason: "condition rules are aggregated into work-level conditions (reason ConditionRulesAggregated)",
    matches: (d) =>
      /^work\.status\.conditions\.[^.]+$/.test(d.path) &&
      d.ocm === undefined &&
      isRecord(d.bosun) &&
      d.bosun.reason === "ConditionRulesAggregated",
  },
  {
    origin: "bosun",
    reason:
      "a condition-rule condition carries observedGeneration, so that the condition of a rule removed from the work is dropped (OCM v1.0.0 keeps it)",
    matches: (d) =>
      /^work\.status\.resourceStatus\.manifests\[\d+\]\.conditions\.(?!(Applied|Available|StatusFeedbackSynced)\.)[^.]+\.observedGeneration$/.test(
        d.path,
      ) &&
      typeof d.bosun === "number" &&
      d.ocm === undefined,
  },
];

export interface Verdict {
  explained: { difference: Difference; known: KnownDifference }[];
  unexplained: Difference[];
}

export function judge(found: readonly Difference[], known: readonly KnownDifference[]): Verdict {
  const verdict: Verdict = { explained: [], unexplained: [] };
  for (const difference of found) {
    const match = known.find((k) => k.matches(difference));
    if (match) verdict.explained.push({ difference, known: match });
    else verdict.unexplained.push(difference);
  }
  return verdict;
}

/** One line per difference, for a failure message or the test log. */
export function describeDifference(d: Difference): string {
  return `${d.path}: bosun=${JSON.stringify(d.bosun)} ocm=${JSON.stringify(d.ocm)}`;
}
