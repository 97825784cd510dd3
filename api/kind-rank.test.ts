import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApplyRank, SplitTier, apiGroup, apiVersionOnly, applyRank, splitTier } from "./kind-rank.ts";

const m = (apiVersion: string, kind: string) => ({ apiVersion, kind, metadata: { name: "x" } });

describe("kind ranks", () => {
  const table: [apiVersion: string, kind: string, rank: number, tier: number][] = [
    ["scheduling.k8s.io/v1", "PriorityClass", ApplyRank.foundation, SplitTier.foundation],
    ["v1", "Namespace", ApplyRank.foundation, SplitTier.foundation],
    ["apiextensions.k8s.io/v1", "CustomResourceDefinition", ApplyRank.foundation, SplitTier.foundation],
    ["storage.k8s.io/v1", "StorageClass", ApplyRank.foundation, SplitTier.foundation],
    ["v1", "PersistentVolume", ApplyRank.foundation, SplitTier.foundation],
    ["rbac.authorization.k8s.io/v1", "ClusterRole", ApplyRank.rbac, SplitTier.access],
    ["rbac.authorization.k8s.io/v1", "RoleBinding", ApplyRank.rbac, SplitTier.access],
    ["v1", "ServiceAccount", ApplyRank.policy, SplitTier.access],
    ["networking.k8s.io/v1", "NetworkPolicy", ApplyRank.policy, SplitTier.access],
    ["policy/v1", "PodDisruptionBudget", ApplyRank.policy, SplitTier.access],
    ["v1", "ConfigMap", ApplyRank.config, SplitTier.config],
    ["v1", "Secret", ApplyRank.config, SplitTier.config],
    ["v1", "PersistentVolumeClaim", ApplyRank.config, SplitTier.config],
    ["v1", "Service", ApplyRank.service, SplitTier.workload],
    ["apps/v1", "Deployment", ApplyRank.workload, SplitTier.workload],
    ["batch/v1", "CronJob", ApplyRank.workload, SplitTier.workload],
    ["v1", "Pod", ApplyRank.workload, SplitTier.workload],
    ["example.com/v1", "Widget", ApplyRank.other, SplitTier.workload],
    [
      "admissionregistration.k8s.io/v1",
      "ValidatingWebhookConfiguration",
      ApplyRank.admission,
      SplitTier.admission,
    ],
    [
      "admissionregistration.k8s.io/v1",
      "MutatingWebhookConfiguration",
      ApplyRank.admission,
      SplitTier.admission,
    ],
    ["apiregistration.k8s.io/v1", "APIService", ApplyRank.admission, SplitTier.admission],
    // A kind is ranked by group and kind: a Service of another group is not a core Service.
    ["serving.knative.dev/v1", "Service", ApplyRank.other, SplitTier.workload],
    ["example.com/v1", "Namespace", ApplyRank.other, SplitTier.workload],
  ];
  for (const [apiVersion, kind, rank, tier] of table) {
    it(`${apiVersion} ${kind}: rank ${rank}, tier ${tier}`, () => {
      assert.equal(applyRank(m(apiVersion, kind)), rank);
      assert.equal(splitTier(m(apiVersion, kind)), tier);
    });
  }

  it("ranks manifests without a type as unparseable, and splits them with the workloads", () => {
    for (const manifest of [
      null,
      "text",
      [],
      { kind: "ConfigMap" },
      { apiVersion: "v1" },
      { apiVersion: "", kind: "" },
    ]) {
      assert.equal(applyRank(manifest), ApplyRank.unparseable);
      assert.equal(splitTier(manifest), SplitTier.workload);
    }
  });

  it("puts admission after every other kind when splitting, unlike the apply rank", () => {
    const webhook = m("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration");
    const custom = m("example.com/v1", "Widget");
    assert.ok(applyRank(webhook) < applyRank(custom));
    assert.ok(splitTier(webhook) > splitTier(custom));
  });

  it("reads group and version from an apiVersion", () => {
    assert.equal(apiGroup("v1"), "");
    assert.equal(apiGroup("apps/v1"), "apps");
    assert.equal(apiVersionOnly("v1"), "v1");
    assert.equal(apiVersionOnly("apps/v1beta2"), "v1beta2");
  });
});
