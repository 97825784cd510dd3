import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Condition } from "../../api/types/meta.ts";
import type { ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import { replicaSetsTable, worksTable } from "./get.ts";

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
