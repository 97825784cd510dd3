// What simulated agents report of a ManifestWork: the work agent's Applied and Available
// conditions and, for a policy work, each ConfigurationPolicy's compliance as the policy agent
// would feed it back (inform: NonCompliant, enforce: Compliant).
import {
  BosunPolicyWork,
  ConditionStatus,
  ManifestWorkConditions,
  ManifestWorkMessages,
  ManifestWorkReasons,
  Resources,
} from "../api/constants.ts";
import type { ManifestCondition, ManifestWork, ManifestWorkStatus } from "../api/types/work.ts";
import { findCondition, type Condition } from "../runtime/conditions.ts";
import { formatTime } from "../runtime/time.ts";

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
export function appliedConditions(work: ManifestWork, nowMs: number): Condition[] {
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
