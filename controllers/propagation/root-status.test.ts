import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ComplianceState, PolicyStatus } from "../../api/types/policy.ts";
import type { PropagationPlan } from "./replicas.ts";
import { rootCompliance, rootStatus, statusDiffers } from "./root-status.ts";

describe("rootCompliance", () => {
  const C = "Compliant";
  const P = "Pending";
  const N = "NonCompliant";
  const cases: [name: string, values: (ComplianceState | undefined)[], want: ComplianceState | undefined][] =
    [
      ["no clusters: no compliance", [], undefined],
      ["all compliant", [C, C, C], C],
      ["one noncompliant", [C, N, C], N],
      ["compliant and pending clusters: pending", [C, P], P],
      ["one cluster not reported yet: unknown", [C, undefined], undefined],
      ["pending beats unknown", [C, P, undefined], P],
      ["noncompliant beats pending and unknown", [undefined, P, N, C], N],
      ["only unknown", [undefined, undefined], undefined],
      ["only pending", [P], P],
    ];
  for (const [name, values, want] of cases)
    it(name, () => {
      assert.equal(rootCompliance(values), want);
    });
});

describe("rootStatus", () => {
  const plan = (
    clusters: PropagationPlan["clusters"],
    placement = [{ placementBinding: "pb", placement: "pl" }],
  ) => ({
    replicas: [],
    placement,
    clusters,
  });
  const cases: {
    name: string;
    plan: PropagationPlan;
    compliance: [string, ComplianceState | undefined][];
    disabled?: boolean;
    want: PolicyStatus;
  }[] = [
    {
      name: "per-cluster status sorted by cluster, with the aggregate",
      plan: plan([{ cluster: "m2" }, { cluster: "m1" }]),
      compliance: [
        ["m1", "Compliant"],
        ["m2", "Pending"],
      ],
      want: {
        placement: [{ placementBinding: "pb", placement: "pl" }],
        status: [
          { compliant: "Compliant", clustername: "m1", clusternamespace: "m1" },
          { compliant: "Pending", clustername: "m2", clusternamespace: "m2" },
        ],
        compliant: "Pending",
      },
    },
    {
      name: "a replica that has not reported has no compliant, and the root has none",
      plan: plan([{ cluster: "m1" }, { cluster: "m2" }]),
      compliance: [["m1", "Compliant"]],
      want: {
        placement: [{ placementBinding: "pb", placement: "pl" }],
        status: [
          { compliant: "Compliant", clustername: "m1", clusternamespace: "m1" },
          { clustername: "m2", clusternamespace: "m2" },
        ],
      },
    },
    {
      name: "remaining bindings are listed per cluster",
      plan: plan([{ cluster: "m1", remainingBindings: ["a", "b"] }, { cluster: "m2" }]),
      compliance: [
        ["m1", "NonCompliant"],
        ["m2", "Compliant"],
      ],
      want: {
        placement: [{ placementBinding: "pb", placement: "pl" }],
        status: [
          {
            compliant: "NonCompliant",
            clustername: "m1",
            clusternamespace: "m1",
            remainingBindings: [{ placementBinding: "a" }, { placementBinding: "b" }],
          },
          { compliant: "Compliant", clustername: "m2", clusternamespace: "m2" },
        ],
        compliant: "NonCompliant",
      },
    },
    {
      name: "disabled: the placement only",
      plan: plan([{ cluster: "m1" }]),
      compliance: [["m1", "Compliant"]],
      disabled: true,
      want: { placement: [{ placementBinding: "pb", placement: "pl" }] },
    },
    {
      name: "nothing placed: an empty status",
      plan: plan([], []),
      compliance: [],
      want: {},
    },
    {
      name: "compliance of clusters no longer placed is ignored",
      plan: plan([{ cluster: "m1" }]),
      compliance: [
        ["m1", "Compliant"],
        ["gone", "NonCompliant"],
      ],
      want: {
        placement: [{ placementBinding: "pb", placement: "pl" }],
        status: [{ compliant: "Compliant", clustername: "m1", clusternamespace: "m1" }],
        compliant: "Compliant",
      },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.deepEqual(rootStatus(c.plan, new Map(c.compliance), c.disabled ?? false), c.want);
    });
});

describe("statusDiffers", () => {
  const status: PolicyStatus = {
    placement: [{ placementBinding: "pb", placement: "pl" }],
    status: [
      { compliant: "Compliant", clustername: "m1", clusternamespace: "m1" },
      { clustername: "m2", clusternamespace: "m2" },
    ],
    compliant: "Compliant",
  };
  const cases: [name: string, a: PolicyStatus | undefined, b: PolicyStatus, differs: boolean][] = [
    ["no status and an empty one", undefined, {}, false],
    ["empty lists are absent", { placement: [], status: [] }, {}, false],
    ["the same status", structuredClone(status), status, false],
    [
      "keys in another order",
      { compliant: "Compliant", status: status.status, placement: status.placement },
      status,
      false,
    ],
    ["a different compliance", { ...status, compliant: "NonCompliant" }, status, true],
    ["no compliance yet", { placement: status.placement, status: status.status }, status, true],
    ["a cluster more", { ...status, status: [...status.status!, { clustername: "m3" }] }, status, true],
    ["clusters in another order", { ...status, status: [...status.status!].reverse() }, status, true],
    ["another placement", { ...status, placement: [{ placementBinding: "other" }] }, status, true],
    [
      "replica details are not root fields",
      { ...structuredClone(status), details: [{ compliant: "Pending" }] },
      status,
      false,
    ],
  ];
  for (const [name, a, b, differs] of cases)
    it(name, () => {
      assert.equal(statusDiffers(a, b), differs);
    });
});
