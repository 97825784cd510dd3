// Reading the related objects (and their diffs) of a replica's policy templates from the hub,
// as pure functions: the read-only ManifestWork that asks the cluster's agent for them, and
// what its status answers. The agent reads each delivered ConfigurationPolicy (or other policy
// kind) in the cluster namespace without applying or owning it, and reports the fields of its
// first related objects as String feedback values.
import {
  BosunRelatedObjects,
  ConditionStatus,
  ManifestWorkConditions,
  bosunRelatedObjectPath,
  type RelatedObjectField,
} from "../../api/constants.ts";
import type { Policy } from "../../api/types/policy.ts";
import type {
  FeedbackValue,
  ManifestCondition,
  ManifestConfigOption,
  ManifestWork,
} from "../../api/types/work.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { isPolicyKind } from "./dependencies.ts";
import { policyResource } from "./policy-works.ts";

/** One related object as its policy reports it; fields the policy leaves out are absent. */
export type RelatedObjectView = Partial<Record<RelatedObjectField, string>>;

export type TemplateRelatedObjects =
  | {
      template: string;
      state: "read";
      objects: RelatedObjectView[];
      /** More objects are related than were read (BosunRelatedObjects.limit). */
      more: boolean;
    }
  /** The cluster has no such policy (not delivered yet, or removed). */
  | { template: string; state: "missing" }
  /** The agent could not read it, in its words. */
  | { template: string; state: "error"; message: string }
  /** The agent has not answered for it yet. */
  | { template: string; state: "waiting" };

interface ReadableTemplate {
  apiVersion: string;
  kind: string;
  group: string;
  name: string;
}

function readableTemplates(replica: Policy): ReadableTemplate[] {
  const templates: ReadableTemplate[] = [];
  for (const template of replica.spec?.["policy-templates"] ?? []) {
    const definition = template?.objectDefinition as
      { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | undefined;
    const { apiVersion, kind } = definition ?? {};
    const name = definition?.metadata?.name;
    if (typeof apiVersion !== "string" || typeof kind !== "string" || typeof name !== "string" || !name)
      continue;
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
    if (isPolicyKind(group, kind)) templates.push({ apiVersion, kind, group, name });
  }
  return templates;
}

function readConfig(template: ReadableTemplate, namespace: string): ManifestConfigOption {
  const paths: { name: string; path: string }[] = [];
  const fields = Object.keys(BosunRelatedObjects.fields) as RelatedObjectField[];
  for (let index = 0; index < BosunRelatedObjects.limit; index++)
    for (const field of fields) paths.push(bosunRelatedObjectPath(index, field));
  paths.push({ ...BosunRelatedObjects.more });
  return {
    resourceIdentifier: {
      group: template.group,
      resource: policyResource(template.kind),
      name: template.name,
      namespace,
    },
    updateStrategy: { type: "ReadOnly" },
    feedbackRules: [{ type: "JSONPaths", jsonPaths: paths }],
    // Read when the policy changes, not on the agent's polling period.
    feedbackScrapeType: "Watch",
  };
}

/**
 * The read-only ManifestWork named `name` that asks the replica's cluster for the related
 * objects of each of its policy templates (which the hub delivers to the cluster namespace);
 * undefined when the replica has no policy template to read.
 */
export function relatedObjectsWork(replica: Policy, name: string): ManifestWork | undefined {
  const namespace = replica.metadata.namespace ?? "";
  const templates = readableTemplates(replica);
  if (templates.length === 0 || namespace === "") return undefined;
  return {
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "ManifestWork",
    metadata: {
      name,
      namespace,
      labels: { [BosunRelatedObjects.replicaLabel]: replica.metadata.name ?? "" },
    },
    spec: {
      workload: {
        manifests: templates.map((template) => ({
          apiVersion: template.apiVersion,
          kind: template.kind,
          metadata: { name: template.name, namespace },
        })),
      },
      manifestConfigs: templates.map((template) => readConfig(template, namespace)),
      // Nothing is owned, and nothing may go with the work.
      deleteOption: { propagationPolicy: "Orphan" },
    },
  };
}

function stringValue(values: readonly FeedbackValue[], name: string): string | undefined {
  const found = values.find((value) => value.name === name);
  return found?.fieldValue.type === "String" ? found.fieldValue.string : undefined;
}

function objectsOf(values: readonly FeedbackValue[]): RelatedObjectView[] {
  const objects: RelatedObjectView[] = [];
  const fields = Object.keys(BosunRelatedObjects.fields) as RelatedObjectField[];
  for (let index = 0; index < BosunRelatedObjects.limit; index++) {
    const view: RelatedObjectView = {};
    for (const field of fields) {
      const value = stringValue(values, bosunRelatedObjectPath(index, field).name);
      if (value !== undefined) view[field] = value;
    }
    // relatedObjects is a list: the first index with nothing ends it.
    if (Object.keys(view).length === 0) break;
    objects.push(view);
  }
  return objects;
}

function templateAnswer(template: string, manifest: ManifestCondition | undefined): TemplateRelatedObjects {
  const available = findCondition(manifest?.conditions, ManifestWorkConditions.available);
  const synced = findCondition(manifest?.conditions, ManifestWorkConditions.statusFeedbackSynced);
  if (available?.status === ConditionStatus.False) return { template, state: "missing" };
  if (available?.status === ConditionStatus.Unknown)
    return { template, state: "error", message: available.message ?? available.reason ?? "" };
  if (available?.status !== ConditionStatus.True || !synced) return { template, state: "waiting" };
  const values = manifest?.statusFeedback?.values ?? [];
  return {
    template,
    state: "read",
    objects: objectsOf(values),
    more: stringValue(values, BosunRelatedObjects.more.name) !== undefined,
  };
}

/**
 * What a related-objects work's status answers, one entry per template it asked about (in its
 * manifests' order); complete once the agent has answered for every one of them.
 */
export function relatedObjectsAnswer(work: ManifestWork): {
  complete: boolean;
  templates: TemplateRelatedObjects[];
} {
  const manifests = work.spec?.workload?.manifests ?? [];
  const statuses = work.status?.resourceStatus?.manifests ?? [];
  const templates = manifests.map((manifest, ordinal) => {
    const name = (manifest as { metadata?: { name?: string } }).metadata?.name ?? "";
    return templateAnswer(
      name,
      statuses.find((status) => status.resourceMeta.ordinal === ordinal),
    );
  });
  return { complete: templates.every((entry) => entry.state !== "waiting"), templates };
}
