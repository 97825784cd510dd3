import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BosunRelatedObjects, bosunRelatedObjectPath } from "../../api/constants.ts";
import type { Policy } from "../../api/types/policy.ts";
import type { FeedbackValue, ManifestCondition, ManifestWork } from "../../api/types/work.ts";
import { relatedObjectsAnswer, relatedObjectsWork } from "./related-objects.ts";

const policyApi = "policy.open-cluster-management.io/v1";

function replica(templates: unknown[]): Policy {
  return {
    apiVersion: policyApi,
    kind: "Policy",
    metadata: { name: "default.governed", namespace: "east" },
    spec: {
      disabled: false,
      "policy-templates": templates.map((objectDefinition) => ({ objectDefinition })),
    },
  } as Policy;
}

const configurationPolicy = (name: string) => ({
  apiVersion: policyApi,
  kind: "ConfigurationPolicy",
  metadata: { name, labels: { team: "a" } },
  spec: { remediationAction: "inform", "object-templates": [] },
});

describe("relatedObjectsWork", () => {
  it("reads each policy template in the cluster namespace, only reading, owning and deleting nothing", () => {
    const work = relatedObjectsWork(
      replica([
        configurationPolicy("objects"),
        {
          apiVersion: "constraints.gatekeeper.sh/v1beta1",
          kind: "K8sRequiredLabels",
          metadata: { name: "labels" },
        },
        { apiVersion: policyApi, kind: "OperatorPolicy", metadata: { name: "operator" } },
        { apiVersion: policyApi, kind: "ConfigurationPolicy", metadata: {} },
      ]),
      "bosun-related-objects-abc",
    )!;
    assert.deepEqual(work.metadata, {
      name: "bosun-related-objects-abc",
      namespace: "east",
      labels: { [BosunRelatedObjects.replicaLabel]: "default.governed" },
    });
    assert.deepEqual(work.spec?.workload?.manifests, [
      {
        apiVersion: policyApi,
        kind: "ConfigurationPolicy",
        metadata: { name: "objects", namespace: "east" },
      },
      { apiVersion: policyApi, kind: "OperatorPolicy", metadata: { name: "operator", namespace: "east" } },
    ]);
    assert.deepEqual(work.spec?.deleteOption, { propagationPolicy: "Orphan" });
    const [first, second] = work.spec?.manifestConfigs ?? [];
    assert.deepEqual(first?.resourceIdentifier, {
      group: "policy.open-cluster-management.io",
      resource: "configurationpolicies",
      name: "objects",
      namespace: "east",
    });
    assert.equal(second?.resourceIdentifier.resource, "operatorpolicies");
    assert.deepEqual(first?.updateStrategy, { type: "ReadOnly" });
    assert.equal(first?.feedbackScrapeType, "Watch");
    const paths = first?.feedbackRules?.[0]?.jsonPaths ?? [];
    const fields = Object.keys(BosunRelatedObjects.fields).length;
    assert.equal(paths.length, BosunRelatedObjects.limit * fields + 1);
    assert.deepEqual(paths[0], { name: "related-0-compliant", path: ".status.relatedObjects[0].compliant" });
    assert.deepEqual(paths.at(-2), {
      name: `related-${BosunRelatedObjects.limit - 1}-diff`,
      path: `.status.relatedObjects[${BosunRelatedObjects.limit - 1}].properties.diff`,
    });
    assert.deepEqual(paths.at(-1), BosunRelatedObjects.more);
  });

  const nothing: { name: string; policy: Policy }[] = [
    { name: "no template", policy: replica([]) },
    {
      name: "only a Gatekeeper constraint",
      policy: replica([
        {
          apiVersion: "constraints.gatekeeper.sh/v1beta1",
          kind: "K8sRequiredLabels",
          metadata: { name: "l" },
        },
      ]),
    },
    {
      name: "a template without a name",
      policy: replica([{ apiVersion: policyApi, kind: "ConfigurationPolicy" }]),
    },
    {
      name: "no namespace",
      policy: { ...replica([configurationPolicy("a")]), metadata: { name: "default.governed" } },
    },
  ];
  for (const c of nothing)
    it(`asks nothing: ${c.name}`, () => assert.equal(relatedObjectsWork(c.policy, "w"), undefined));
});

describe("relatedObjectsAnswer", () => {
  const work = relatedObjectsWork(
    replica([configurationPolicy("objects"), configurationPolicy("other")]),
    "w",
  )!;
  const value = (index: number, field: Parameters<typeof bosunRelatedObjectPath>[1], text: string) => ({
    name: bosunRelatedObjectPath(index, field).name,
    fieldValue: { type: "String" as const, string: text },
  });
  const entry = (
    ordinal: number,
    conditions: { type: string; status: "True" | "False" | "Unknown"; message?: string }[],
    values: FeedbackValue[] = [],
  ): ManifestCondition => ({
    resourceMeta: { ordinal, name: ordinal === 0 ? "objects" : "other" },
    statusFeedback: { values },
    conditions: conditions.map((condition) => ({
      reason: "R",
      message: "",
      lastTransitionTime: "2024-01-01T00:00:00Z",
      ...condition,
    })),
  });
  const available = { type: "Available", status: "True" as const };
  const synced = { type: "StatusFeedbackSynced", status: "True" as const };
  const withStatus = (manifests: ManifestCondition[]): ManifestWork => ({
    ...work,
    status: { resourceStatus: { manifests } },
  });

  it("is not complete before the agent answers for every template", () => {
    assert.deepEqual(relatedObjectsAnswer(work), {
      complete: false,
      templates: [
        { template: "objects", state: "waiting" },
        { template: "other", state: "waiting" },
      ],
    });
    const half = relatedObjectsAnswer(withStatus([entry(0, [available, synced]), entry(1, [available])]));
    assert.equal(half.complete, false);
    assert.deepEqual(half.templates[1], { template: "other", state: "waiting" });
  });

  it("reads each related object's fields until the list ends, and whether more were left out", () => {
    const answer = relatedObjectsAnswer(
      withStatus([
        entry(
          0,
          [available, synced],
          [
            value(0, "compliant", "NonCompliant"),
            value(0, "reason", "Resource found but does not match"),
            value(0, "apiVersion", "v1"),
            value(0, "kind", "ConfigMap"),
            value(0, "name", "settings"),
            value(0, "namespace", "governed"),
            value(0, "diff", "--- governed/settings : existing\n+++ governed/settings : updated\n"),
            value(1, "compliant", "Compliant"),
            value(1, "kind", "Namespace"),
            value(1, "name", "governed"),
            // Index 2 is missing: what follows is not read.
            value(3, "kind", "Secret"),
            { name: BosunRelatedObjects.more.name, fieldValue: { type: "String", string: "Secret" } },
          ],
        ),
        entry(1, [{ type: "Available", status: "False" }]),
      ]),
    );
    assert.equal(answer.complete, true);
    assert.deepEqual(answer.templates, [
      {
        template: "objects",
        state: "read",
        objects: [
          {
            compliant: "NonCompliant",
            reason: "Resource found but does not match",
            apiVersion: "v1",
            kind: "ConfigMap",
            name: "settings",
            namespace: "governed",
            diff: "--- governed/settings : existing\n+++ governed/settings : updated\n",
          },
          { compliant: "Compliant", kind: "Namespace", name: "governed" },
        ],
        more: true,
      },
      { template: "other", state: "missing" },
    ]);
  });

  it("reports a policy without related objects as read and empty, and a failed read in the agent's words", () => {
    const answer = relatedObjectsAnswer(
      withStatus([
        entry(0, [available, synced]),
        entry(1, [{ type: "Available", status: "Unknown", message: "Fetching resource failed: forbidden" }]),
      ]),
    );
    assert.deepEqual(answer, {
      complete: true,
      templates: [
        { template: "objects", state: "read", objects: [], more: false },
        { template: "other", state: "error", message: "Fetching resource failed: forbidden" },
      ],
    });
  });
});
