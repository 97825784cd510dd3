import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  ComplianceState,
  PlacementBinding,
  Policy,
  PolicyPlacementStatus,
  PolicySet,
  PolicySetStatus,
} from "../../api/types/policy.ts";
import { policySetStatus, type PolicySetMember } from "./policyset-status.ts";
import type { BindingInput } from "./replicas.ts";

const NS = "policies";

function policySet(policies: string[], exclusions: [policy: string, clusters: string[]][] = []): PolicySet {
  return {
    apiVersion: "policy.open-cluster-management.io/v1beta1",
    kind: "PolicySet",
    metadata: { name: "set", namespace: NS },
    spec: {
      policies,
      ...(exclusions.length
        ? { exclusions: exclusions.map(([policyName, clusterNames]) => ({ policyName, clusterNames })) }
        : {}),
    },
  };
}

/** A root policy placed through `set-pb` (and any extra placements), with per-cluster compliance. */
function root(
  compliance: Record<string, ComplianceState | undefined>,
  options: { disabled?: boolean; placement?: PolicyPlacementStatus[] } = {},
): Policy {
  const status = Object.entries(compliance).map(([cluster, compliant]) => ({
    ...(compliant ? { compliant } : {}),
    clustername: cluster,
    clusternamespace: cluster,
  }));
  return {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "Policy",
    metadata: { name: "x", namespace: NS },
    spec: { disabled: options.disabled ?? false, "policy-templates": [] },
    status: {
      placement: options.placement ?? [{ placementBinding: "set-pb", placement: "set-pl", policySet: "set" }],
      status,
    },
  };
}

function bound(name: string, clusters: string[] | undefined): BindingInput {
  const binding = {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "PlacementBinding",
    metadata: { name, namespace: NS },
    placementRef: { apiGroup: "cluster.open-cluster-management.io", kind: "Placement", name: `${name}-pl` },
    subjects: [{ apiGroup: "policy.open-cluster-management.io", kind: "PolicySet", name: "set" }],
  } as PlacementBinding;
  return { binding, clusters };
}

const bindings = [bound("set-pb", ["m1", "m2"]), bound("direct-pb", ["m3"])];
const setPlacement = [{ placementBinding: "set-pb", placement: "set-pl" }];
const members = (entries: [string, Policy | undefined][]): PolicySetMember[] =>
  entries.map(([name, policy]) => ({ name, policy }));

describe("policySetStatus", () => {
  const cases: {
    name: string;
    set: PolicySet;
    members: PolicySetMember[];
    bindings?: BindingInput[];
    want: PolicySetStatus;
  }[] = [
    {
      name: "a set without policies has an empty status",
      set: policySet([]),
      members: [],
      want: {},
    },
    {
      name: "all members compliant",
      set: policySet(["a", "b"]),
      members: members([
        ["a", root({ m1: "Compliant", m2: "Compliant" })],
        ["b", root({ m1: "Compliant" })],
      ]),
      want: {
        placement: setPlacement,
        compliant: "Compliant",
        statusMessage: "All policies are reporting status",
      },
    },
    {
      name: "one noncompliant member makes the set noncompliant",
      set: policySet(["a", "b"]),
      members: members([
        ["a", root({ m1: "NonCompliant" })],
        ["b", root({ m1: "Pending" })],
      ]),
      want: {
        placement: setPlacement,
        compliant: "NonCompliant",
        statusMessage: "Policies awaiting pending dependencies: b",
      },
    },
    {
      name: "compliant and pending members: pending",
      set: policySet(["a", "b", "c"]),
      members: members([
        ["a", root({ m1: "Compliant" })],
        ["b", root({ m1: "Compliant", m2: "Pending" })],
        ["c", root({ m2: "Pending" })],
      ]),
      want: {
        placement: setPlacement,
        compliant: "Pending",
        statusMessage: "Policies awaiting pending dependencies: b, c",
      },
    },
    {
      name: "a member without status keeps the set from reporting compliance",
      set: policySet(["a", "b"]),
      members: members([
        ["a", root({ m1: "NonCompliant" })],
        ["b", root({ m1: undefined })],
      ]),
      want: { placement: setPlacement, statusMessage: "No status provided while awaiting policy status: b" },
    },
    {
      name: "a disabled member is named and left out of the compliance",
      set: policySet(["a", "b"]),
      members: members([
        ["a", root({ m1: "Compliant" })],
        ["b", root({ m1: "NonCompliant" }, { disabled: true })],
      ]),
      want: { placement: setPlacement, compliant: "Compliant", statusMessage: "Disabled policies: b" },
    },
    {
      name: "a deleted member is named and left out of the compliance",
      set: policySet(["a", "gone"]),
      members: members([
        ["a", root({ m1: "Compliant" })],
        ["gone", undefined],
      ]),
      want: { placement: setPlacement, compliant: "Compliant", statusMessage: "Deleted policies: gone" },
    },
    {
      name: "only deleted members: no compliance",
      set: policySet(["gone"]),
      members: members([["gone", undefined]]),
      want: { statusMessage: "Deleted policies: gone" },
    },
    {
      name: "every kind of trouble, in OCM's order",
      set: policySet(["d", "c", "b", "a", "e"]),
      members: members([
        ["d", undefined],
        ["c", root({ m1: undefined })],
        ["b", root({}, { disabled: true })],
        ["a", root({ m1: "Pending" })],
        ["e", root({ m2: "Compliant" })],
      ]),
      want: {
        placement: setPlacement,
        statusMessage:
          "Policies awaiting pending dependencies: a; Disabled policies: b; " +
          "No status provided while awaiting policy status: c; Deleted policies: d",
      },
    },
    {
      name: "clusters the set's bindings do not select are ignored",
      set: policySet(["a"]),
      members: members([
        [
          "a",
          root(
            { m1: "Compliant", m3: "NonCompliant" },
            {
              placement: [
                { placementBinding: "direct-pb", placement: "direct-pb-pl" },
                { placementBinding: "set-pb", placement: "set-pl", policySet: "set" },
              ],
            },
          ),
        ],
      ]),
      want: {
        placement: setPlacement,
        compliant: "Compliant",
        statusMessage: "All policies are reporting status",
      },
    },
    {
      name: "a member reporting only outside the set's clusters has no status for the set",
      set: policySet(["a"]),
      members: members([["a", root({ m3: "Compliant" })]]),
      want: { placement: setPlacement, statusMessage: "No status provided while awaiting policy status: a" },
    },
    {
      name: "excluded clusters do not count for that member; exclusions are reported",
      set: policySet(
        ["a", "b"],
        [
          ["a", ["m2", "m9"]],
          ["a", ["m1"]],
        ],
      ),
      members: members([
        ["a", root({ m1: "NonCompliant", m2: "NonCompliant" })],
        ["b", root({ m1: "Compliant", m2: "Compliant" })],
      ]),
      want: {
        placement: setPlacement,
        statusMessage:
          "No status provided while awaiting policy status: a; Exclusions: a (excluded from m1, m2, m9)",
        exclusions: [{ policyName: "a", clusters: ["m1", "m2", "m9"] }],
      },
    },
    {
      name: "an exclusion of one cluster leaves the member's others",
      set: policySet(["a"], [["a", ["m2"]]]),
      members: members([["a", root({ m1: "Compliant", m2: "NonCompliant" })]]),
      want: {
        placement: setPlacement,
        compliant: "Compliant",
        statusMessage: "All policies are reporting status; Exclusions: a (excluded from m2)",
        exclusions: [{ policyName: "a", clusters: ["m2"] }],
      },
    },
    {
      name: "exclusions naming policies outside the set are named, not applied",
      set: policySet(["a"], [["stranger", ["m1"]]]),
      members: members([["a", root({ m1: "Compliant" })]]),
      want: {
        placement: setPlacement,
        compliant: "Compliant",
        statusMessage: "All policies are reporting status; Exclusions name policies not in the set: stranger",
      },
    },
    {
      name: "placements are gathered across members, once per binding, sorted, other sets' left out",
      set: policySet(["a", "b"]),
      members: members([
        [
          "a",
          root(
            { m1: "Compliant", m3: "Compliant" },
            {
              placement: [
                { placementBinding: "z-pb", placement: "z-pl", policySet: "set" },
                { placementBinding: "other-pb", placement: "o-pl", policySet: "other-set" },
              ],
            },
          ),
        ],
        ["b", root({ m1: "Compliant" })],
      ]),
      bindings: [...bindings, bound("z-pb", ["m3"]), bound("other-pb", ["m1"])],
      want: {
        placement: [
          { placementBinding: "set-pb", placement: "set-pl" },
          { placementBinding: "z-pb", placement: "z-pl" },
        ],
        compliant: "Compliant",
        statusMessage: "All policies are reporting status",
      },
    },
    {
      name: "a binding whose placement is gone selects no clusters",
      set: policySet(["a"]),
      members: members([["a", root({ m1: "Compliant" })]]),
      bindings: [bound("set-pb", undefined)],
      want: { placement: setPlacement, statusMessage: "No status provided while awaiting policy status: a" },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.deepEqual(policySetStatus(c.set, c.members, c.bindings ?? bindings), c.want);
    });
});
