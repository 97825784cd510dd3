import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterClaim, ManagedClusterStatus } from "../../api/types/cluster.ts";
import {
  AvailabilityTracker,
  availabilityRecheckMs,
  desiredClusterStatus,
  mergeCapacity,
  sumNodeResources,
  syncedClaims,
  type Node,
  type Observation,
} from "./cluster-status.ts";

function node(
  name: string,
  capacity: Record<string, string>,
  allocatable = capacity,
  unschedulable = false,
): Node {
  return { metadata: { name }, spec: { unschedulable }, status: { capacity, allocatable } };
}

describe("sumNodeResources", () => {
  it("sums capacity over all nodes and allocatable over schedulable nodes only", () => {
    const result = sumNodeResources([
      node(
        "a",
        { cpu: "4", memory: "8Gi", "nvidia.com/gpu": "2" },
        { cpu: "3800m", memory: "7Gi", "nvidia.com/gpu": "2" },
      ),
      node("b", { cpu: "2", memory: "4Gi" }, { cpu: "2", memory: "4Gi" }, true),
      node("c", { cpu: "500m", memory: "512Mi" }),
    ]);
    assert.deepEqual(result.capacity, { cpu: "6500m", memory: "12800Mi", "nvidia.com/gpu": "2" });
    assert.deepEqual(result.allocatable, { cpu: "4300m", memory: "7680Mi", "nvidia.com/gpu": "2" });
    assert.deepEqual(result.problems, []);
  });

  it("gives empty lists without nodes", () => {
    assert.deepEqual(sumNodeResources([]), { capacity: {}, allocatable: {}, problems: [] });
  });

  it("skips a value that is not a quantity and names it", () => {
    const result = sumNodeResources([node("a", { cpu: "lots", memory: "1Gi" }), node("b", { cpu: "1" })]);
    assert.deepEqual(result.capacity, { cpu: "1", memory: "1Gi" });
    assert.equal(result.problems.length, 2);
    assert.match(result.problems[0]!, /node a: capacity\["cpu"\]: "lots" is not a resource quantity/);
  });
});

describe("mergeCapacity", () => {
  const cases: [
    string,
    Record<string, string> | undefined,
    Record<string, string>,
    Record<string, string>,
  ][] = [
    ["no current capacity", undefined, { cpu: "2" }, { cpu: "2" }],
    ["observed values win", { cpu: "1" }, { cpu: "2" }, { cpu: "2" }],
    [
      "keys others placed are kept",
      { "socket.example.com": "3", cpu: "1" },
      { cpu: "2" },
      { cpu: "2", "socket.example.com": "3" },
    ],
  ];
  for (const [name, current, observed, expected] of cases) {
    it(name, () => assert.deepEqual(mergeCapacity(current, observed), expected));
  }
});

function claim(name: string, value: string, labels?: Record<string, string>): ClusterClaim {
  return {
    apiVersion: "cluster.open-cluster-management.io/v1alpha1",
    kind: "ClusterClaim",
    metadata: { name, labels },
    spec: { value },
  };
}

describe("syncedClaims", () => {
  const names = (result: ReturnType<typeof syncedClaims>) => result.claims.map((c) => `${c.name}=${c.value}`);

  it("sorts claims by name", () => {
    assert.deepEqual(names(syncedClaims([claim("name", "test"), claim("a", "b")])), ["a=b", "name=test"]);
  });

  it("keeps reserved claims first and cuts custom claims to the limit", () => {
    const result = syncedClaims(
      [
        claim("a", "b"),
        claim("e", "f"),
        claim("id.k8s.io", "cluster1"),
        claim("id-test.k8s.io", "cluster1"),
        claim("c", "d"),
      ],
      { maxCustomClaims: 2 },
    );
    assert.deepEqual(names(result), ["id.k8s.io=cluster1", "a=b", "c=d"]);
    assert.deepEqual(result.truncated, ["e", "id-test.k8s.io"]);
  });

  it("counts claims with a reserved suffix as reserved", () => {
    const result = syncedClaims(
      [
        claim("a", "1"),
        claim("e", "2"),
        claim("id.k8s.io", "3"),
        claim("c", "4"),
        claim("test.reserved.io", "5"),
      ],
      { maxCustomClaims: 2, reservedSuffixes: ["reserved.io"] },
    );
    assert.deepEqual(names(result), ["id.k8s.io=3", "test.reserved.io=5", "a=1", "c=4"]);
  });

  it("skips claims labelled spoke-only, whatever the label's value", () => {
    const result = syncedClaims([
      claim("kept", "1"),
      claim("hidden", "2", { "open-cluster-management.io/spoke-only": "" }),
      claim("also-hidden", "3", { "open-cluster-management.io/spoke-only": "true" }),
    ]);
    assert.deepEqual(names(result), ["kept=1"]);
  });

  it("keeps 20 custom claims by default and never cuts reserved ones", () => {
    const many = Array.from({ length: 25 }, (_, i) => claim(`custom-${String(i).padStart(2, "0")}`, "v"));
    const reserved = [
      "product.open-cluster-management.io",
      "platform.open-cluster-management.io",
      "kubeversion.open-cluster-management.io",
      "id.k8s.io",
    ];
    const result = syncedClaims([...many, ...reserved.map((name) => claim(name, "r"))]);
    assert.equal(result.claims.length, 24);
    assert.deepEqual(
      result.claims.slice(0, 4).map((c) => c.name),
      [...reserved].sort(),
    );
    assert.equal(result.truncated.length, 5);
  });
});

describe("AvailabilityTracker", () => {
  it("reports True at once for a healthy API server", () => {
    const verdict = new AvailabilityTracker().observe({ statusCode: 200, detail: "ok" }, 0);
    assert.equal(verdict.proceed, true);
    assert.equal(verdict.condition?.status, "True");
    assert.equal(verdict.condition?.reason, "ManagedClusterAvailable");
  });

  it("turns False only after failures lasted the threshold, rechecking meanwhile", () => {
    const tracker = new AvailabilityTracker(20_000);
    const first = tracker.observe({ statusCode: 500, detail: "etcd failed" }, 1_000);
    assert.deepEqual(first, { proceed: false, recheckMs: availabilityRecheckMs });
    assert.equal(tracker.observe({ statusCode: 500, detail: "etcd failed" }, 20_999).condition, undefined);
    const confirmed = tracker.observe({ statusCode: 500, detail: "etcd failed" }, 21_000);
    assert.equal(confirmed.condition?.status, "False");
    assert.equal(confirmed.condition?.reason, "ManagedClusterKubeAPIServerUnavailable");
    assert.equal(confirmed.condition?.message, "The kube-apiserver is not ok, status code: 500, etcd failed");
  });

  it("starts counting again after a success", () => {
    const tracker = new AvailabilityTracker(20_000);
    tracker.observe({ statusCode: 0, detail: "refused" }, 0);
    tracker.observe({ statusCode: 200, detail: "ok" }, 10_000);
    assert.equal(tracker.observe({ statusCode: 0, detail: "refused" }, 25_000).condition, undefined);
  });
});

describe("desiredClusterStatus", () => {
  const accepted: ManagedClusterStatus = {
    conditions: [
      {
        type: "HubAcceptedManagedCluster",
        status: "True",
        reason: "HubClusterAdminAccepted",
        message: "Accepted by hub cluster admin",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ],
  };
  const healthy: Observation = {
    availability: new AvailabilityTracker().observe({ statusCode: 200, detail: "ok" }, 0),
    kubernetesVersion: "v1.36.3",
    nodes: { capacity: { cpu: "2" }, allocatable: { cpu: "1" }, problems: [] },
    claims: [{ name: "a", value: "b" }],
  };
  const now = Date.parse("2026-02-01T00:00:00Z");

  it("writes nothing for a cluster that is not accepted", () => {
    assert.equal(desiredClusterStatus(undefined, healthy, now), undefined);
    const denied: ManagedClusterStatus = {
      conditions: [{ ...accepted.conditions![0]!, status: "False", reason: "HubClusterAdminDenied" }],
    };
    assert.equal(desiredClusterStatus(denied, healthy, now), undefined);
  });

  it("reports joined, available, version, resources and claims once accepted", () => {
    const status = desiredClusterStatus(accepted, healthy, now)!;
    const joined = status.conditions?.find((c) => c.type === "ManagedClusterJoined");
    assert.deepEqual(joined, {
      type: "ManagedClusterJoined",
      status: "True",
      reason: "ManagedClusterJoined",
      message: "Managed cluster joined",
      lastTransitionTime: "2026-02-01T00:00:00Z",
    });
    assert.equal(
      status.conditions?.find((c) => c.type === "ManagedClusterConditionAvailable")?.status,
      "True",
    );
    assert.deepEqual(status.version, { kubernetes: "v1.36.3" });
    assert.deepEqual(status.capacity, { cpu: "2" });
    assert.deepEqual(status.allocatable, { cpu: "1" });
    assert.deepEqual(status.clusterClaims, [{ name: "a", value: "b" }]);
  });

  it("leaves out empty resources and claims, as OCM's agent does, and clears them when they go", () => {
    const empty: Observation = {
      ...healthy,
      nodes: { capacity: {}, allocatable: {}, problems: [] },
      claims: [],
    };
    const fresh = desiredClusterStatus(accepted, empty, now)!;
    assert.equal("capacity" in fresh || "allocatable" in fresh || "clusterClaims" in fresh, false);
    const reported = desiredClusterStatus(accepted, healthy, now)!;
    const emptied = desiredClusterStatus(reported, empty, now)!;
    assert.equal("allocatable" in emptied || "clusterClaims" in emptied, false);
  });

  it("is stable: the status it produced gives itself again, later", () => {
    const once = desiredClusterStatus(accepted, healthy, now)!;
    assert.deepEqual(desiredClusterStatus(once, healthy, now + 60_000), once);
  });

  it("keeps claims while they are unknown, and resources while the API server is failing", () => {
    const once = desiredClusterStatus(accepted, healthy, now)!;
    const unknownClaims = desiredClusterStatus(
      once,
      { ...healthy, claims: undefined, nodes: { capacity: { cpu: "9" }, allocatable: {}, problems: [] } },
      now,
    )!;
    assert.deepEqual(unknownClaims.clusterClaims, [{ name: "a", value: "b" }]);
    assert.deepEqual(unknownClaims.capacity, { cpu: "9" });
    const failing = desiredClusterStatus(
      once,
      { ...healthy, availability: { proceed: false, recheckMs: 5000 }, kubernetesVersion: "v2" },
      now,
    )!;
    assert.deepEqual(failing.version, { kubernetes: "v1.36.3" });
    assert.equal(
      failing.conditions?.find((c) => c.type === "ManagedClusterConditionAvailable")?.status,
      "True",
    );
  });

  it("does not modify the status it was given", () => {
    const copy = structuredClone(accepted);
    desiredClusterStatus(accepted, healthy, now);
    assert.deepEqual(accepted, copy);
  });
});
