import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../../policies/gofmt.ts";
import {
  configurationPolicyErrors,
  effectiveRemediationAction,
  expandPolicy,
  policyErrors,
} from "../../../policies/policy.ts";
import { parseKubeYaml } from "../../../policies/yaml.ts";

const parse = (text: string) => parseKubeYaml(text)[0]!.value as JsonObject;

describe("a Policy's remediationAction on the managed cluster", () => {
  const cases: [templateAction: unknown, policyAction: unknown, effective: unknown][] = [
    ["inform", "enforce", "enforce"],
    ["enforce", "inform", "inform"],
    ["enforce", undefined, "enforce"],
    ["informOnly", "enforce", "inform"],
    ["InformOnly", undefined, "inform"],
    [undefined, "Enforce", "Enforce"],
  ];
  for (const [template, policy, effective] of cases) {
    it(`template ${String(template)} + Policy ${String(policy)} → ${String(effective)}`, () =>
      assert.equal(effectiveRemediationAction(template, policy), effective));
  }
});

describe("ConfigurationPolicy schema errors, as the API server words them", () => {
  const base = (templates: string) =>
    parse(
      `apiVersion: policy.open-cluster-management.io/v1\nkind: ConfigurationPolicy\nmetadata: {name: p}\nspec:\n  remediationAction: inform\n  object-templates:\n${templates}`,
    );
  const cases: [string, string[]][] = [
    ["  - objectDefinition: {kind: Pod}", ["spec.object-templates[0].complianceType: Required value"]],
    [
      "  - complianceType: sometimes\n    objectDefinition: {kind: Pod}",
      [
        'spec.object-templates[0].complianceType: Unsupported value: "sometimes": supported values: "MustHave", "Musthave", "musthave", "MustOnlyHave", "Mustonlyhave", "mustonlyhave", "MustNotHave", "Mustnothave", "mustnothave"',
      ],
    ],
    ["  - complianceType: musthave", ["spec.object-templates[0].objectDefinition: Required value"]],
    [
      "  - complianceType: musthave\n    objectDefinition: x",
      [
        'spec.object-templates[0].objectDefinition: Invalid value: "string": spec.object-templates[0].objectDefinition in body must be of type object: "string"',
      ],
    ],
    ["  - complianceType: MustHave\n    recordDiff: InStatus\n    objectDefinition: {kind: Pod}", []],
  ];
  for (const [templates, errors] of cases) {
    it(JSON.stringify(templates), () => assert.deepEqual(configurationPolicyErrors(base(templates)), errors));
  }
});

describe("expanding a Policy into the ConfigurationPolicies a managed cluster runs", () => {
  const policy = parse(`
apiVersion: policy.open-cluster-management.io/v1
kind: Policy
metadata: {name: root}
spec:
  disabled: false
  remediationAction: enforce
  policy-templates:
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata: {name: a}
        spec: {remediationAction: inform, object-templates: []}
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata: {name: b}
        spec: {remediationAction: informOnly, object-templates: []}
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata: {name: b}
        spec: {remediationAction: inform, object-templates: []}
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata: {name: c}
        spec: {remediationAction: inform, object-templates: [{objectDefinition: {kind: Pod}}]}
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1beta1
        kind: OperatorPolicy
        metadata: {name: op}
        spec: {}
`);
  const expanded = expandPolicy(policy);
  it("overrides remediationAction unless the template says informOnly", () => {
    const actions = expanded.templates.map(
      (template) => (template.policy?.spec as JsonObject | undefined)?.remediationAction,
    );
    assert.deepEqual(actions, ["enforce", "inform", undefined, undefined]);
  });
  it("reports duplicate template names and templates the API server refuses", () => {
    assert.equal(
      expanded.templates[2]!.templateError,
      "All policy-template names must be unique within a policy",
    );
    assert.equal(
      expanded.templates[3]!.templateError,
      'Failed to create policy template: ConfigurationPolicy.policy.open-cluster-management.io "c" is invalid: spec.object-templates[0].complianceType: Required value',
    );
  });
  it("leaves other policy kinds aside", () =>
    assert.deepEqual(expanded.skipped, [{ kind: "OperatorPolicy", name: "op" }]));
  it("refuses a Policy whose templates and itself both lack remediationAction", () => {
    const invalid = parse(`
apiVersion: policy.open-cluster-management.io/v1
kind: Policy
metadata: {name: root}
spec:
  disabled: false
  policy-templates:
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata: {name: a}
        spec: {object-templates: []}
`);
    assert.deepEqual(policyErrors(invalid), [
      "RemediationAction field of the policy and policy template cannot both be unset",
    ]);
    assert.deepEqual(policyErrors(parse("kind: Policy\nspec: {policy-templates: []}")), [
      "spec.disabled: Required value",
    ]);
  });
});
