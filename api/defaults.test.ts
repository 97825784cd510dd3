import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  applyDefaults,
  clustersPerDecisionGroup,
  copyPolicyMetadata,
  evaluationInterval,
  fieldManager,
  leaseDurationSeconds,
  leaseGracePeriodSeconds,
  prioritizerMode,
  prioritizerWeight,
  propagationPolicy,
  rolloutStrategy,
  spreadConstraintDefaults,
  tolerationOperator,
  updateStrategyType,
} from "./defaults.ts";
import type { ManagedCluster } from "./types/cluster.ts";
import type { Placement } from "./types/placement.ts";
import type { ManifestWorkReplicaSet } from "./types/work.ts";
import type { ConfigurationPolicy } from "./types/policy.ts";

describe("applyDefaults", () => {
  it("fills the CRD defaults of a ManagedCluster without touching the input", () => {
    const cluster: ManagedCluster = {
      apiVersion: "cluster.open-cluster-management.io/v1",
      kind: "ManagedCluster",
      metadata: { name: "c1" },
      spec: { hubAcceptsClient: true },
    };
    const defaulted = applyDefaults("ManagedCluster", cluster);
    assert.equal(defaulted.spec?.leaseDurationSeconds, 60);
    assert.equal(cluster.spec?.leaseDurationSeconds, undefined);
  });

  it("defaults nested objects and list items, keeping what is set", () => {
    const placement: Placement = {
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: { name: "p", namespace: "ns" },
      spec: {
        prioritizerPolicy: {
          configurations: [
            { scoreCoordinate: { type: "AddOn", addOn: { resourceName: "r", scoreName: "s" } } },
          ],
        },
        tolerations: [{ key: "a" }, { key: "b", operator: "Exists" }],
      },
    };
    const d = applyDefaults("Placement", placement);
    assert.equal(d.spec.prioritizerPolicy?.mode, "Additive");
    assert.equal(d.spec.prioritizerPolicy?.configurations?.[0]?.weight, 1);
    assert.equal(d.spec.prioritizerPolicy?.configurations?.[0]?.scoreCoordinate.type, "AddOn");
    assert.deepEqual(
      d.spec.tolerations?.map((t) => t.operator),
      ["Equal", "Exists"],
    );
    assert.equal(d.spec.sortBy, "ClusterName");
    assert.equal(d.spec.scoreRateLimit, "1m");
    assert.equal(d.spec.decisionStrategy, undefined, "objects without a default stay absent");
  });

  it("fills defaults inside a defaulted object", () => {
    const set = applyDefaults("ManifestWorkReplicaSet", {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "m", namespace: "ns" },
      spec: { placementRefs: [{ name: "p" }] },
    } as ManifestWorkReplicaSet);
    assert.deepEqual(set.spec?.placementRefs[0]?.rolloutStrategy, {
      type: "All",
      all: { progressDeadline: "None", minSuccessTime: "0", maxFailures: 0 },
    });
    assert.equal(set.spec?.cascadeDeletionPolicy, "Background");
  });

  it("defaults a ConfigurationPolicy's remediationAction to inform", () => {
    const cp = applyDefaults("ConfigurationPolicy", {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "ConfigurationPolicy",
      metadata: { name: "cp" },
      spec: { "object-templates": [{ complianceType: "musthave", objectDefinition: {} }] },
    } as unknown as ConfigurationPolicy);
    assert.equal(cp.spec.remediationAction, "inform");
    assert.equal(cp.spec.pruneObjectBehavior, "None");
    assert.equal(cp.spec["object-templates"]?.[0]?.recreateOption, "None");
  });
});

describe("default helpers", () => {
  it("treat a lease duration of 0 or none as 60 seconds, with a grace of five", () => {
    assert.equal(leaseDurationSeconds({}), 60);
    assert.equal(leaseDurationSeconds({ spec: { leaseDurationSeconds: 0 } }), 60);
    assert.equal(leaseDurationSeconds({ spec: { leaseDurationSeconds: 20 } }), 20);
    assert.equal(leaseGracePeriodSeconds({ spec: { leaseDurationSeconds: 20 } }), 100);
    assert.equal(leaseGracePeriodSeconds({}), 300);
  });

  it("resolve placement defaults", () => {
    assert.equal(prioritizerMode({}), "Additive");
    assert.equal(prioritizerMode({ prioritizerPolicy: { mode: "" } }), "Additive");
    assert.equal(prioritizerMode({ prioritizerPolicy: { mode: "Exact" } }), "Exact");
    assert.equal(prioritizerWeight({ scoreCoordinate: { type: "BuiltIn", builtIn: "Steady" } }), 1);
    assert.equal(
      prioritizerWeight({ scoreCoordinate: { type: "BuiltIn", builtIn: "Steady" }, weight: 0 }),
      0,
    );
    assert.equal(tolerationOperator({}), "Equal");
    assert.equal(tolerationOperator({ operator: "" }), "Equal");
    assert.equal(tolerationOperator({ operator: "Exists" }), "Exists");
    assert.equal(clustersPerDecisionGroup({}), "100%");
    assert.equal(
      clustersPerDecisionGroup({ decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: 3 } } }),
      3,
    );
    assert.deepEqual(spreadConstraintDefaults({ topologyKey: "zone", topologyKeyType: "Label" }), {
      topologyKey: "zone",
      topologyKeyType: "Label",
      maxSkew: 1,
      whenUnsatisfiable: "ScheduleAnyway",
    });
  });

  it("resolve work defaults", () => {
    assert.equal(propagationPolicy({}), "Foreground");
    assert.equal(propagationPolicy({ deleteOption: { propagationPolicy: "Orphan" } }), "Orphan");
    assert.equal(updateStrategyType(undefined), "Update");
    assert.equal(
      fieldManager({
        resourceIdentifier: { resource: "r", name: "n" },
        updateStrategy: { type: "ServerSideApply" },
      }),
      "work-agent",
    );
    assert.deepEqual(rolloutStrategy({ name: "p" }), {
      type: "All",
      all: { minSuccessTime: "0", progressDeadline: "None", maxFailures: 0 },
    });
    assert.deepEqual(
      rolloutStrategy({
        name: "p",
        rolloutStrategy: { type: "Progressive", progressive: { maxConcurrency: 2 } },
      }),
      {
        type: "Progressive",
        progressive: { minSuccessTime: "0", progressDeadline: "None", maxFailures: 0, maxConcurrency: 2 },
      },
    );
  });

  it("resolve policy defaults", () => {
    assert.equal(copyPolicyMetadata({}), true);
    assert.equal(copyPolicyMetadata({ copyPolicyMetadata: false }), false);
    assert.equal(evaluationInterval(undefined), "watch");
    assert.equal(evaluationInterval(""), "watch");
    assert.equal(evaluationInterval("10s"), "10s");
  });
});
