import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ComplianceState, Policy, PolicyDependency, PolicyTemplate } from "../../api/types/policy.ts";
import {
  clusterCompliance,
  effectiveDependencies,
  gateTemplate,
  gateTemplates,
  type ClusterCompliance,
  type Gate,
} from "./dependencies.ts";

const C = "cluster1";

const cp = (name: string, extra: Partial<PolicyTemplate> = {}): PolicyTemplate => ({
  objectDefinition: {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "ConfigurationPolicy",
    metadata: { name },
    spec: { remediationAction: "inform" },
  },
  ...extra,
});

const replica = (templates: PolicyTemplate[], dependencies?: PolicyDependency[]): Policy => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "Policy",
  metadata: { name: "default.p", namespace: C },
  spec: { disabled: false, "policy-templates": templates, ...(dependencies ? { dependencies } : {}) },
});

const policyDep = (name: string, compliance: ComplianceState, namespace?: string): PolicyDependency => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "Policy",
  name,
  compliance,
  ...(namespace !== undefined ? { namespace } : {}),
});

const dep = (
  apiVersion: string,
  kind: string,
  name: string,
  compliance: ComplianceState,
): PolicyDependency => ({
  apiVersion,
  kind,
  name,
  compliance,
});

const cluster = (
  policies: Record<string, ComplianceState | undefined> = {},
  templates: Record<string, ComplianceState | undefined> = {},
): ClusterCompliance => ({
  policies: new Map(Object.entries(policies)),
  templates: new Map(Object.entries(templates)),
});

const pending = (message: string): Gate => ({ open: false, compliant: "Pending", message });

describe("gateTemplate", () => {
  const cases: { name: string; policy: Policy; index?: number; cluster: ClusterCompliance; want: Gate }[] = [
    { name: "no dependencies", policy: replica([cp("a")]), cluster: cluster(), want: { open: true } },
    {
      name: "a Policy dependency that is satisfied",
      policy: replica([cp("a")], [policyDep("default.other", "Compliant")]),
      cluster: cluster({ "default.other": "Compliant" }),
      want: { open: true },
    },
    {
      name: "a Policy dependency with the wrong compliance",
      policy: replica([cp("a")], [policyDep("default.other", "Compliant")]),
      cluster: cluster({ "default.other": "NonCompliant" }),
      want: pending("Dependencies were not satisfied: 1 is still pending (Policy default.other)"),
    },
    {
      name: "a Policy dependency on a policy that has no status",
      policy: replica([cp("a")], [policyDep("default.other", "Compliant")]),
      cluster: cluster({ "default.other": undefined }),
      want: pending("Dependencies were not satisfied: 1 is still pending (Policy default.other)"),
    },
    {
      name: "a Policy dependency on a policy that is not in the cluster",
      policy: replica([cp("a")], [policyDep("default.missing", "NonCompliant")]),
      cluster: cluster(),
      want: pending("Dependencies were not satisfied: 1 is still pending (Policy default.missing)"),
    },
    {
      name: "a dependency that requires Pending",
      policy: replica([cp("a")], [policyDep("default.other", "Pending")]),
      cluster: cluster({ "default.other": "Pending" }),
      want: { open: true },
    },
    {
      name: "several unmet dependencies, sorted by kind and name",
      policy: replica(
        [
          cp("a", {
            extraDependencies: [
              dep("policy.open-cluster-management.io/v1", "ConfigurationPolicy", "b-cp", "Compliant"),
            ],
          }),
        ],
        [policyDep("default.z", "Compliant"), policyDep("default.m", "Compliant")],
      ),
      cluster: cluster({ "default.z": "NonCompliant", "default.m": "Compliant" }),
      want: pending(
        "Dependencies were not satisfied: 2 are still pending (ConfigurationPolicy b-cp, Policy default.z)",
      ),
    },
    {
      name: "an extra dependency on a template, satisfied",
      policy: replica([
        cp("a", {
          extraDependencies: [
            dep("policy.open-cluster-management.io/v1", "ConfigurationPolicy", "b", "Compliant"),
          ],
        }),
        cp("b"),
      ]),
      cluster: cluster({}, { "ConfigurationPolicy/b": "Compliant" }),
      want: { open: true },
    },
    {
      name: "an extra dependency on a template that has no status yet",
      policy: replica([
        cp("a", {
          extraDependencies: [
            dep("policy.open-cluster-management.io/v1", "ConfigurationPolicy", "b", "Compliant"),
          ],
        }),
        cp("b"),
      ]),
      cluster: cluster({}, { "ConfigurationPolicy/b": undefined }),
      want: pending("Dependencies were not satisfied: 1 is still pending (ConfigurationPolicy b)"),
    },
    {
      name: "extra dependencies of one template do not gate another",
      policy: replica([
        cp("a", {
          extraDependencies: [
            dep("policy.open-cluster-management.io/v1", "ConfigurationPolicy", "x", "Compliant"),
          ],
        }),
        cp("b"),
      ]),
      index: 1,
      cluster: cluster(),
      want: { open: true },
    },
    {
      name: "ignorePending reports the template Compliant",
      policy: replica([cp("a", { ignorePending: true })], [policyDep("default.other", "Compliant")]),
      cluster: cluster({ "default.other": "NonCompliant" }),
      want: {
        open: false,
        compliant: "Compliant",
        message:
          "Dependencies were not satisfied: 1 is still pending (Policy default.other) but ignorePending is true",
      },
    },
    {
      name: "ignorePending does not matter when the dependencies are met",
      policy: replica([cp("a", { ignorePending: true })], [policyDep("default.other", "Compliant")]),
      cluster: cluster({ "default.other": "Compliant" }),
      want: { open: true },
    },
    {
      name: "an extra dependency that contradicts a policy dependency",
      policy: replica(
        [cp("a", { extraDependencies: [policyDep("default.other", "NonCompliant")] })],
        [policyDep("default.other", "Compliant")],
      ),
      cluster: cluster({ "default.other": "Compliant" }),
      want: {
        open: false,
        compliant: "NonCompliant",
        message: "template-error; dependency on default.other has conflicting compliance states",
      },
    },
    {
      name: "two policy dependencies that contradict each other",
      policy: replica([cp("a")], [policyDep("default.o", "Compliant"), policyDep("default.o", "Pending")]),
      cluster: cluster({ "default.o": "Compliant" }),
      want: {
        open: false,
        compliant: "NonCompliant",
        message: "template-error; dependency on default.o has conflicting compliance states",
      },
    },
    {
      name: "the cluster namespace written out is the same object as none",
      policy: replica(
        [cp("a", { extraDependencies: [policyDep("default.o", "NonCompliant", C)] })],
        [policyDep("default.o", "Compliant")],
      ),
      cluster: cluster({ "default.o": "Compliant" }),
      want: {
        open: false,
        compliant: "NonCompliant",
        message: "template-error; dependency on default.o has conflicting compliance states",
      },
    },
    {
      name: "the same dependency twice counts once",
      policy: replica(
        [cp("a", { extraDependencies: [policyDep("default.o", "Compliant")] })],
        [policyDep("default.o", "Compliant")],
      ),
      cluster: cluster(),
      want: pending("Dependencies were not satisfied: 1 is still pending (Policy default.o)"),
    },
    {
      name: "different versions are different objects, not a conflict",
      policy: replica([
        cp("a", {
          extraDependencies: [
            dep("policy.open-cluster-management.io/v1", "OperatorPolicy", "op", "Compliant"),
            dep("policy.open-cluster-management.io/v1beta1", "OperatorPolicy", "op", "NonCompliant"),
          ],
        }),
      ]),
      cluster: cluster({}, { "OperatorPolicy/op": "Compliant" }),
      want: pending("Dependencies were not satisfied: 1 is still pending (OperatorPolicy op)"),
    },
    {
      name: "a Policy in another namespace is out of the hub's sight",
      policy: replica([cp("a")], [policyDep("default.o", "Compliant", "elsewhere")]),
      cluster: cluster({ "default.o": "Compliant" }),
      want: pending("Dependencies were not satisfied: 1 is still pending (Policy default.o)"),
    },
    {
      name: "a Policy in the cluster namespace, written out",
      policy: replica([cp("a")], [policyDep("default.o", "Compliant", C)]),
      cluster: cluster({ "default.o": "Compliant" }),
      want: { open: true },
    },
    {
      name: "a ConstraintTemplate required NonCompliant is satisfied while it is absent",
      policy: replica(
        [cp("a")],
        [dep("templates.gatekeeper.sh/v1", "ConstraintTemplate", "ct", "NonCompliant")],
      ),
      cluster: cluster(),
      want: { open: true },
    },
    {
      name: "a ConstraintTemplate required NonCompliant is not satisfied once delivered",
      policy: replica(
        [cp("a")],
        [dep("templates.gatekeeper.sh/v1", "ConstraintTemplate", "ct", "NonCompliant")],
      ),
      cluster: cluster({}, { "ConstraintTemplate/ct": undefined }),
      want: pending("Dependencies were not satisfied: 1 is still pending (ConstraintTemplate ct)"),
    },
    {
      name: "a ConstraintTemplate required Compliant is satisfied once delivered",
      policy: replica(
        [cp("a")],
        [dep("templates.gatekeeper.sh/v1", "ConstraintTemplate", "ct", "Compliant")],
      ),
      cluster: cluster({}, { "ConstraintTemplate/ct": undefined }),
      want: { open: true },
    },
    {
      name: "a ConstraintTemplate held back by its own dependencies does not exist",
      policy: replica(
        [cp("a")],
        [dep("templates.gatekeeper.sh/v1", "ConstraintTemplate", "ct", "Compliant")],
      ),
      cluster: cluster({}, { "ConstraintTemplate/ct": "Pending" }),
      want: pending("Dependencies were not satisfied: 1 is still pending (ConstraintTemplate ct)"),
    },
    {
      name: "a Gatekeeper constraint by its reported compliance",
      policy: replica(
        [cp("a")],
        [dep("constraints.gatekeeper.sh/v1beta1", "K8sRequiredLabels", "ns-owner", "Compliant")],
      ),
      cluster: cluster({}, { "K8sRequiredLabels/ns-owner": "Compliant" }),
      want: { open: true },
    },
    {
      name: "an object the hub cannot see is never satisfied",
      policy: replica([cp("a")], [dep("v1", "Namespace", "prod", "Compliant")]),
      cluster: cluster({}, { "Namespace/prod": "Compliant" }),
      want: pending("Dependencies were not satisfied: 1 is still pending (Namespace prod)"),
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(gateTemplate(c.policy, c.index ?? 0, c.cluster), c.want));
  }

  it("refuses a template index the policy does not have", () => {
    assert.throws(() => gateTemplate(replica([cp("a")]), 1, cluster()), RangeError);
  });

  it("gates every template in order", () => {
    const policy = replica([cp("a", { extraDependencies: [policyDep("default.o", "Compliant")] }), cp("b")]);
    assert.deepEqual(gateTemplates(policy, cluster()), [
      pending("Dependencies were not satisfied: 1 is still pending (Policy default.o)"),
      { open: true },
    ]);
  });
});

describe("effectiveDependencies", () => {
  it("puts the cluster namespace on policy kinds and on nothing else", () => {
    const policy = replica(
      [cp("a", { extraDependencies: [dep("v1", "Namespace", "prod", "Compliant")] })],
      [policyDep("default.o", "Compliant")],
    );
    const result = effectiveDependencies(policy, 0);
    assert.ok(result.ok);
    assert.deepEqual(
      result.dependencies.map((d) => [d.kind, d.namespace, d.name]),
      [
        ["Policy", C, "default.o"],
        ["Namespace", "", "prod"],
      ],
    );
  });
});

describe("clusterCompliance", () => {
  const withStatus = (
    name: string,
    compliant: ComplianceState | undefined,
    templates: [string, ComplianceState?][],
  ) => {
    const policy = replica(templates.map(([template]) => cp(template)));
    policy.metadata.name = name;
    policy.status = {
      ...(compliant ? { compliant } : {}),
      details: templates.map(([template, state]) => ({
        templateMeta: { name: template },
        ...(state ? { compliant: state } : {}),
      })),
    };
    return policy;
  };

  it("reads each replica's compliance and its templates' by kind and name", () => {
    const deleting = withStatus("default.gone", "Compliant", [["g", "Compliant"]]);
    deleting.metadata.deletionTimestamp = "2024-01-01T00:00:00Z";
    const result = clusterCompliance([
      withStatus("default.a", "NonCompliant", [
        ["a1", "Compliant"],
        ["a2", "NonCompliant"],
      ]),
      withStatus("default.b", undefined, [["b1"]]),
      deleting,
    ]);
    assert.deepEqual(
      [...result.policies],
      [
        ["default.a", "NonCompliant"],
        ["default.b", undefined],
      ],
    );
    assert.deepEqual(
      [...result.templates],
      [
        ["ConfigurationPolicy/a1", "Compliant"],
        ["ConfigurationPolicy/a2", "NonCompliant"],
        ["ConfigurationPolicy/b1", undefined],
      ],
    );
  });

  it("feeds the gate: a template depending on another policy's template", () => {
    const other = withStatus("default.base", "Compliant", [["base-cp", "Compliant"]]);
    const policy = replica([
      cp("a", {
        extraDependencies: [
          dep("policy.open-cluster-management.io/v1", "ConfigurationPolicy", "base-cp", "Compliant"),
        ],
      }),
    ]);
    assert.deepEqual(gateTemplate(policy, 0, clusterCompliance([other, policy])), { open: true });
  });
});
