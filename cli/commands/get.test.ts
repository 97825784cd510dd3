import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Condition } from "../../api/types/meta.ts";
import type { ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import type { Policy } from "../../api/types/policy.ts";
import { humanAge, policiesTable, replicaSetsTable, worksTable } from "./get.ts";

const condition = (type: string, status: "True" | "False" | "Unknown", reason = ""): Condition => ({
  type,
  status,
  reason,
  message: "",
  lastTransitionTime: "2026-12-06T20:00:00Z",
});

describe("get works", () => {
  it("shows each work's cluster, replica set, part, manifest count and conditions", () => {
    const works: ManifestWork[] = [
      {
        apiVersion: "work.open-cluster-management.io/v1",
        kind: "ManifestWork",
        metadata: {
          name: "bundle-part-1",
          namespace: "cluster1",
          labels: {
            "work.open-cluster-management.io/manifestworkreplicaset": "default.bundle",
            "work.bosun.dev/part-index": "1",
            "work.bosun.dev/part-count": "3",
          },
        },
        spec: { workload: { manifests: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }] } },
        status: { conditions: [condition("Applied", "True"), condition("Available", "False")] },
      },
      {
        apiVersion: "work.open-cluster-management.io/v1",
        kind: "ManifestWork",
        metadata: { name: "plain", namespace: "cluster2", deletionTimestamp: "2026-12-06T20:00:00Z" },
        spec: {},
      },
    ];
    assert.deepEqual(worksTable(works).split("\n"), [
      "CLUSTER    NAME            REPLICASET       PART   MANIFESTS   APPLIED   AVAILABLE   STATE",
      "cluster1   bundle-part-1   default.bundle   2/3    1           True      False",
      "cluster2   plain                                   0                                 Deleting",
    ]);
  });
});

describe("get replicasets", () => {
  it("shows the placements, the summary and the rollout", () => {
    const sets: ManifestWorkReplicaSet[] = [
      {
        apiVersion: "work.open-cluster-management.io/v1alpha1",
        kind: "ManifestWorkReplicaSet",
        metadata: { name: "bundle", namespace: "default" },
        spec: { placementRefs: [{ name: "eu" }, { name: "us" }], cascadeDeletionPolicy: "Background" },
        status: {
          summary: { total: 3, applied: 2, available: 1, progressing: 1, degraded: 0 },
          conditions: [
            condition("PlacementRolledOut", "False", "Progressing"),
            condition("ManifestworkApplied", "False", "Processing"),
          ],
        },
      },
    ];
    assert.deepEqual(replicaSetsTable(sets).split("\n"), [
      "NAMESPACE   NAME     PLACEMENTS   TOTAL   APPLIED   AVAILABLE   PROGRESSING   DEGRADED   ROLLOUT       WORKS",
      "default     bundle   eu,us        3       2         1           1             0          Progressing   Processing",
    ]);
  });
});

describe("get policies", () => {
  it("shows OCM's print columns: remediation action, compliance state and age", () => {
    const now = Date.parse("2026-12-06T20:00:00Z");
    const policy = (namespace: string, name: string, extra: Partial<Policy>): Policy => ({
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "Policy",
      metadata: { namespace, name, creationTimestamp: "2026-12-06T19:00:00Z" },
      spec: { disabled: false, "policy-templates": [] },
      ...extra,
    });
    const policies = [
      policy("default", "policy-pod", {
        spec: { disabled: false, remediationAction: "inform", "policy-templates": [] },
        status: { compliant: "NonCompliant" },
      }),
      policy("cluster1", "default.policy-pod", { status: { compliant: "Compliant" } }),
      { ...policy("default", "fresh", {}), metadata: { namespace: "default", name: "fresh" } },
    ];
    assert.deepEqual(policiesTable(policies, now).split("\n"), [
      "NAMESPACE   NAME                 REMEDIATION ACTION   COMPLIANCE STATE   AGE",
      "default     policy-pod           inform               NonCompliant       60m",
      "cluster1    default.policy-pod                        Compliant          60m",
      "default     fresh                                                        <unknown>",
    ]);
  });

  const ages: { seconds: number; expected: string }[] = [
    { seconds: -5, expected: "<invalid>" },
    { seconds: -0.5, expected: "0s" },
    { seconds: 0, expected: "0s" },
    { seconds: 119, expected: "119s" },
    { seconds: 120, expected: "2m" },
    { seconds: 200, expected: "3m20s" },
    { seconds: 3 * 3600 - 1, expected: "179m" },
    { seconds: 3 * 3600, expected: "3h" },
    { seconds: 5 * 3600 + 60 * 7, expected: "5h7m" },
    { seconds: 30 * 3600, expected: "30h" },
    { seconds: 2 * 86400 + 3 * 3600, expected: "2d3h" },
    { seconds: 400 * 86400, expected: "400d" },
    { seconds: (3 * 365 + 20) * 86400, expected: "3y20d" },
    { seconds: 9 * 365 * 86400, expected: "9y" },
  ];
  for (const { seconds, expected } of ages) {
    it(`an age of ${seconds}s prints as ${expected}`, () =>
      assert.equal(humanAge(0, seconds * 1000), expected));
  }
});
