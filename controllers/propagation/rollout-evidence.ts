// What a cluster's policy works say about the content a progressive rollout releases. The hub
// stamps the content revision on the replica and on each of its templates; the agent feeds back,
// from one read of each delivered policy template, the revision it carries, its generation and
// the generation its compliance was evaluated for. A compliance counts for the current content
// only when that read carries the current revision and was evaluated at its own generation, so
// a verdict from before a change never passes for the new content, even when the message stays
// the same (the agent adds no history entry then) and whatever the agents' clocks say.
import {
  BosunPolicyRollout,
  BosunPolicyRolloutMessages,
  BosunPolicyWork,
  ConditionStatus,
  ManifestWorkConditions,
} from "../../api/constants.ts";
import { apiGroup } from "../../api/kind-rank.ts";
import type { Policy, PolicySpec } from "../../api/types/policy.ts";
import type { FeedbackValue, ManifestCondition, ManifestWork } from "../../api/types/work.ts";
import { effectiveRemediationAction } from "../../policies/policy.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { manifestIdentity } from "../work/manifest.ts";
import { isPolicyKind } from "./dependencies.ts";
import type { ClusterEvidence, TemplateEvidence } from "./policy-rollout.ts";
import { unnamedTemplate } from "./policy-works.ts";
import type { DesiredReplica } from "./replicas.ts";
import { complianceFromMessage, feedbackMessage } from "./replica-status.ts";

const messages = BosunPolicyRolloutMessages;
const revisionKey = BosunPolicyRollout.revisionAnnotation;

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The replica with the revision stamped on it and on every template's objectDefinition (the
 * template's annotation reaches the managed cluster with it; copies, the input is untouched).
 */
export function stampRevision(desired: DesiredReplica, revision: string): DesiredReplica {
  const templates = Array.isArray(desired.spec["policy-templates"]) ? desired.spec["policy-templates"] : [];
  const spec: PolicySpec = {
    ...desired.spec,
    "policy-templates": templates.map((template) => {
      const definition: unknown = template?.objectDefinition;
      if (!isRecord(definition)) return template;
      const metadata = isRecord(definition.metadata) ? definition.metadata : {};
      const annotations = isRecord(metadata.annotations) ? metadata.annotations : {};
      return {
        ...template,
        objectDefinition: {
          ...definition,
          metadata: { ...metadata, annotations: { ...annotations, [revisionKey]: revision } },
        },
      };
    }),
  };
  return { ...desired, annotations: { ...desired.annotations, [revisionKey]: revision }, spec };
}

function feedbackValue(values: readonly FeedbackValue[] | undefined, name: string) {
  return values?.find((value) => value.name === name)?.fieldValue;
}

function stringValue(values: readonly FeedbackValue[] | undefined, name: string): string | undefined {
  const value = feedbackValue(values, name);
  return value?.type === "String" && typeof value.string === "string" ? value.string : undefined;
}

function integerValue(values: readonly FeedbackValue[] | undefined, name: string): number | undefined {
  const value = feedbackValue(values, name);
  return value?.type === "Integer" && typeof value.integer === "number" ? value.integer : undefined;
}

interface Delivered {
  work: ManifestWork;
  manifest: Json;
  status: ManifestCondition | undefined;
}

/** Where the works carry a template (by group, kind and name), with its status entry. */
function findDelivered(
  works: readonly ManifestWork[],
  group: string,
  kind: string,
  name: string,
): Delivered | undefined {
  for (const work of works) {
    if (work.metadata.deletionTimestamp) continue;
    for (const manifest of work.spec?.workload?.manifests ?? []) {
      const id = manifestIdentity(manifest);
      if (id.group !== group || id.kind !== kind || id.name !== name) continue;
      const status = work.status?.resourceStatus?.manifests?.find(
        (entry) =>
          (entry.resourceMeta.group ?? "") === group &&
          entry.resourceMeta.kind === kind &&
          entry.resourceMeta.name === name,
      );
      return { work, manifest: manifest as unknown as Json, status };
    }
  }
  return undefined;
}

function carriedRevision(manifest: Json): unknown {
  const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
  return isRecord(metadata.annotations) ? metadata.annotations[revisionKey] : undefined;
}

function templateEvidence(
  spec: PolicySpec,
  index: number,
  works: readonly ManifestWork[],
  revision: string,
): TemplateEvidence {
  const definition: unknown = spec["policy-templates"][index]?.objectDefinition;
  const metadata = isRecord(definition) && isRecord(definition.metadata) ? definition.metadata : {};
  const template =
    typeof metadata.name === "string" && metadata.name !== "" ? metadata.name : unnamedTemplate(index);
  if (!isRecord(definition)) return { template, state: "waiting", reason: messages.notDelivered(template) };
  const kind = typeof definition.kind === "string" ? definition.kind : "";
  const group = apiGroup(typeof definition.apiVersion === "string" ? definition.apiVersion : "");
  const delivered = findDelivered(works, group, kind, template);
  if (!delivered || carriedRevision(delivered.manifest) !== revision)
    return { template, state: "waiting", reason: messages.notDelivered(template) };

  const generation = delivered.work.metadata.generation ?? 0;
  const applied = findCondition(delivered.status?.conditions, ManifestWorkConditions.applied);
  const appliedNow = applied !== undefined && (applied.observedGeneration ?? generation) === generation;
  if (appliedNow && applied.status === ConditionStatus.False)
    return { template, state: "waiting", reason: messages.applyFailed(template, applied.message ?? "") };
  if (!isPolicyKind(group, kind)) {
    return appliedNow && applied.status === ConditionStatus.True
      ? { template, state: "applied" }
      : { template, state: "waiting", reason: messages.notApplied(template) };
  }

  const values = delivered.status?.statusFeedback?.values;
  const feedback = BosunPolicyRollout.feedback;
  if (stringValue(values, feedback.revision.name) !== revision)
    return { template, state: "waiting", reason: messages.notReported(template) };
  const objectGeneration = integerValue(values, feedback.generation.name);
  if (
    objectGeneration === undefined ||
    integerValue(values, feedback.lastEvaluatedGeneration.name) !== objectGeneration
  )
    return { template, state: "waiting", reason: messages.notEvaluated(template) };
  const { compliant, message } = BosunPolicyWork.feedback;
  const reported = feedbackMessage(stringValue(values, compliant.name), stringValue(values, message.name));
  if (reported === undefined) return { template, state: "waiting", reason: messages.notReported(template) };
  const templateSpec = isRecord(definition.spec) ? definition.spec : {};
  const action = effectiveRemediationAction(templateSpec.remediationAction, spec.remediationAction);
  return {
    template,
    state: "reported",
    compliant: complianceFromMessage(reported),
    enforce: typeof action === "string" && action.toLowerCase() === "enforce",
  };
}

/**
 * What a cluster's replica and its works (those labelled with the replica) say about revision
 * `revision`: missing when there is no replica or it does not carry the revision, else the
 * evidence of each of its templates.
 */
export function clusterEvidence(
  replica: Policy | undefined,
  works: readonly ManifestWork[],
  revision: string,
): ClusterEvidence {
  if (!replica || replica.metadata.deletionTimestamp) return { missing: messages.noReplica };
  if (replica.metadata.annotations?.[revisionKey] !== revision)
    return { missing: messages.replicaNotCurrent };
  const templates = Array.isArray(replica.spec?.["policy-templates"]) ? replica.spec["policy-templates"] : [];
  return { templates: templates.map((_, index) => templateEvidence(replica.spec, index, works, revision)) };
}
