// Hostile Placements, Policies, PlacementBindings and ConfigurationPolicies: the scheduler,
// the propagation planner, the replica status and the ConfigurationPolicy evaluation return
// (a misconfiguration names the field) and never throw.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Placement } from "../../api/types/placement.ts";
import type { Policy, PlacementBinding } from "../../api/types/policy.ts";
import { schedule } from "../../controllers/placement/scheduler/scheduler.ts";
import { replicaStatus } from "../../controllers/propagation/replica-status.ts";
import { planPropagation } from "../../controllers/propagation/replicas.ts";
import { MemoryCluster } from "../../policies/cluster.ts";
import { evaluateConfigurationPolicy } from "../../policies/evaluate.ts";
import type { JsonObject } from "../../policies/gofmt.ts";
import { cluster, fleet, now } from "../support/placement-fixtures.ts";
import { fuzzRuns, mutated, type MutationOptions } from "./hostile.ts";

// The API server checks the types of these kinds' fields (CRD schemas); templates are free-form.
// Both CRDs require spec.
const required = ["apiVersion", "kind", "metadata.name", "metadata.namespace", "spec"];
const policyFreeForm: MutationOptions = {
  fixed: required,
  freeForm: [/^spec\.policy-templates\.\d+\.objectDefinition(\.|$)/],
};
const schemaTyped: MutationOptions = { fixed: required, freeForm: [] };

const validPlacement = {
  apiVersion: "cluster.open-cluster-management.io/v1beta1",
  kind: "Placement",
  metadata: { name: "p1", namespace: "default", uid: "uid-1" },
  spec: {
    clusterSets: ["default"],
    numberOfClusters: 2,
    predicates: [
      {
        requiredClusterSelector: {
          labelSelector: {
            matchLabels: { env: "prod" },
            matchExpressions: [{ key: "gpu", operator: "Exists" }],
          },
          claimSelector: { matchExpressions: [{ key: "region", operator: "In", values: ["eu"] }] },
          celSelector: { celExpressions: ['managedCluster.metadata.labels["env"] == "prod"'] },
        },
      },
    ],
    prioritizerPolicy: {
      mode: "Additive",
      configurations: [
        { scoreCoordinate: { type: "BuiltIn", builtIn: "Steady" }, weight: 2 },
        { scoreCoordinate: { type: "AddOn", addOn: { resourceName: "r", scoreName: "s" } }, weight: 1 },
      ],
    },
    spreadPolicy: { spreadConstraints: [{ topologyKey: "region", topologyKeyType: "Claim", maxSkew: 1 }] },
    tolerations: [
      { key: "gpu", operator: "Equal", value: "true", effect: "NoSelect", tolerationSeconds: 60 },
    ],
    decisionStrategy: {
      groupStrategy: {
        clustersPerDecisionGroup: "50%",
        decisionGroups: [
          { groupName: "a", groupClusterSelector: { labelSelector: { matchLabels: { env: "prod" } } } },
        ],
      },
    },
  },
} as unknown as Placement;

const hubFleet = () =>
  fleet({
    clusters: [
      cluster("c1", { labels: { env: "prod", gpu: "true" }, claims: { region: "eu" } }),
      cluster("c2", {
        labels: { env: "prod", gpu: "true" },
        claims: { region: "eu" },
        taints: [{ key: "gpu", value: "true", effect: "NoSelect", timeAdded: "2026-06-01T11:00:00Z" }],
      }),
      cluster("c3", { labels: { env: "dev" } }),
    ],
  });

test("a hostile Placement gets decisions or a misconfiguration, never an exception", () => {
  const valid = schedule(validPlacement, hubFleet(), { now });
  assert.equal(valid.misconfigured, undefined, "the valid Placement is not misconfigured");
  fc.assert(
    fc.property(mutated(validPlacement, schemaTyped), (placement) => {
      const result = schedule(placement, hubFleet(), { now, explain: true });
      assert.ok(Array.isArray(result.placementDecisions));
      if (result.misconfigured) {
        assert.match(result.misconfigured.plugin, /\S/);
        assert.match(result.misconfigured.message, /\S/);
      }
      for (const decision of result.placementDecisions) {
        for (const entry of decision.status?.decisions ?? []) assert.match(entry.clusterName, /^c[123]$/);
      }
    }),
    { numRuns: fuzzRuns },
  );
});

const configurationPolicy = {
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "ConfigurationPolicy",
  metadata: { name: "cp", namespace: "cluster1" },
  spec: {
    remediationAction: "inform",
    severity: "low",
    namespaceSelector: { include: ["default", "kube-*"], exclude: ["kube-system"] },
  },
};
delete (configurationPolicy.spec as Record<string, unknown>)["object-templates"];
(configurationPolicy.spec as Record<string, unknown>)["object-templates"] = [
  {
    complianceType: "musthave",
    recordDiff: "InStatus",
    objectDefinition: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "settings", labels: { app: "demo" } },
      data: { mode: '{{ fromConfigMap "default" "source" "mode" }}', replicas: "3" },
    },
  },
  {
    complianceType: "mustnothave",
    objectDefinition: { apiVersion: "v1", kind: "Pod", metadata: { name: "bad" } },
  },
];

const validPolicy = {
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "Policy",
  metadata: { name: "pol", namespace: "default", uid: "uid-p" },
  spec: {
    disabled: false,
    remediationAction: "inform",
    dependencies: [
      {
        apiVersion: "policy.open-cluster-management.io/v1",
        kind: "Policy",
        name: "other",
        compliance: "Compliant",
      },
    ],
    "policy-templates": [{ objectDefinition: configurationPolicy, extraDependencies: [] }],
  },
} as unknown as Policy;

const validBinding = {
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "PlacementBinding",
  metadata: { name: "b", namespace: "default" },
  placementRef: { apiGroup: "cluster.open-cluster-management.io", kind: "Placement", name: "p1" },
  subjects: [{ apiGroup: "policy.open-cluster-management.io", kind: "Policy", name: "pol" }],
  bindingOverrides: { remediationAction: "enforce" },
  subFilter: "restricted",
} as unknown as PlacementBinding;

test("hostile Policies and PlacementBindings are planned, never an exception", () => {
  fc.assert(
    fc.property(
      mutated(validPolicy, policyFreeForm),
      mutated(validBinding, schemaTyped),
      (policy, binding) => {
        const plan = planPropagation({
          policy,
          bindings: [
            { binding, clusters: ["c1", "c2"] },
            { binding: validBinding, clusters: ["c3"] },
          ],
          policySets: [],
        });
        assert.ok(plan);
      },
    ),
    { numRuns: fuzzRuns },
  );
});

test("a hostile replicated Policy gets a status, never an exception", () => {
  const replica = {
    ...validPolicy,
    metadata: { name: "default.pol", namespace: "cluster1" },
    status: {
      compliant: "NonCompliant",
      details: [
        {
          templateMeta: { name: "cp" },
          compliant: "NonCompliant",
          history: [
            {
              eventName: "default.pol.17a",
              lastTimestamp: "2026-06-01T11:00:00Z",
              message: "NonCompliant; x",
            },
          ],
        },
      ],
    },
  } as unknown as Policy;
  fc.assert(
    fc.property(mutated(replica, policyFreeForm), (hostile) => {
      const feedback = new Map([
        [
          "ConfigurationPolicy/cp",
          {
            name: "cp",
            kind: "ConfigurationPolicy",
            applied: true,
            compliant: "Compliant",
            message: "Compliant; ok",
            lastTimestamp: "2026-06-01T12:00:00Z",
          },
        ],
      ]);
      const result = replicaStatus(hostile, feedback, [], new Date(now));
      assert.ok(result);
    }),
    { numRuns: fuzzRuns },
  );
});

const clusterObjects = [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } },
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-public" } },
  {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "source", namespace: "default" },
    data: { mode: "on" },
  },
  {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace: "default" },
    data: { mode: "off" },
  },
] as JsonObject[];

test("a hostile ConfigurationPolicy is evaluated to a compliance state, never an exception", () => {
  fc.assert(
    fc.property(mutated(configurationPolicy as unknown as JsonObject), (policy) => {
      const result = evaluateConfigurationPolicy(policy, new MemoryCluster(structuredClone(clusterObjects)), {
        now: "2026-06-01T12:00:00Z",
      });
      assert.ok(Array.isArray(result.compliancyDetails));
      assert.ok(
        ["Compliant", "NonCompliant", "Pending", undefined].includes(result.compliant),
        String(result.compliant),
      );
    }),
    { numRuns: fuzzRuns },
  );
});
