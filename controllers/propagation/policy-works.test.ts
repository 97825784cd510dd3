import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BosunPolicyWorkLabels, BosunWorkAnnotations, BosunWorkLabels } from "../../api/constants.ts";
import type { Policy, PolicyTemplate, RemediationAction } from "../../api/types/policy.ts";
import type { Manifest, ManifestWork } from "../../api/types/work.ts";
import type { Gate } from "./dependencies.ts";
import { policyResource, policyWorks, type PolicyWorks } from "./policy-works.ts";

const C = "cluster1";

type Definition = PolicyTemplate["objectDefinition"];

const cp = (
  name: string,
  spec: Record<string, unknown> = { remediationAction: "inform" },
  extra = {},
): Definition => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "ConfigurationPolicy",
  metadata: { name },
  spec,
  ...extra,
});

const replica = (definitions: Definition[], remediationAction?: RemediationAction): Policy => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "Policy",
  metadata: {
    name: "default.p",
    namespace: C,
    labels: { "policy.open-cluster-management.io/cluster-name": C },
  },
  spec: {
    disabled: false,
    ...(remediationAction ? { remediationAction } : {}),
    "policy-templates": definitions.map((objectDefinition) => ({ objectDefinition })),
  },
});

function ok(result: PolicyWorks) {
  assert.ok(result.ok, result.ok ? "" : result.error);
  return result;
}

const manifests = (result: PolicyWorks): Manifest[] =>
  ok(result).works.flatMap((work) => work.spec.workload?.manifests ?? []);

const only = (result: PolicyWorks): Record<string, unknown> => {
  const all = manifests(result);
  assert.equal(all.length, 1);
  return all[0] as Record<string, unknown>;
};

const spec = (manifest: Record<string, unknown>) => manifest.spec as Record<string, unknown>;

describe("policyWorks: one template", () => {
  it("becomes one work named after the replica, with the template in the cluster namespace", () => {
    const result = ok(policyWorks(replica([cp("cm-check")]), []));
    assert.equal(result.works.length, 1);
    const [work] = result.works;
    assert.equal(work!.name, "policy.default.p");
    assert.deepEqual(work!.labels, { [BosunPolicyWorkLabels.replica]: "default.p" });
    assert.deepEqual(work!.annotations, {});
    assert.deepEqual(result.problems, []);
    assert.deepEqual(work!.spec.workload?.manifests, [
      {
        apiVersion: "policy.open-cluster-management.io/v1",
        kind: "ConfigurationPolicy",
        metadata: {
          name: "cm-check",
          namespace: C,
          labels: {
            "policy.open-cluster-management.io/policy": "default.p",
            "cluster-name": C,
            "policy.open-cluster-management.io/cluster-name": C,
            "cluster-namespace": C,
            "policy.open-cluster-management.io/cluster-namespace": C,
          },
        },
        spec: { remediationAction: "inform" },
      },
    ]);
    assert.deepEqual(work!.spec.manifestConfigs, [
      {
        resourceIdentifier: {
          group: "policy.open-cluster-management.io",
          resource: "configurationpolicies",
          name: "cm-check",
          namespace: C,
        },
        feedbackRules: [
          {
            type: "JSONPaths",
            jsonPaths: [
              { name: "compliant", path: ".status.compliant" },
              { name: "message", path: ".status.history[0].message" },
              { name: "lastTimestamp", path: ".status.history[0].lastTimestamp" },
            ],
          },
        ],
        feedbackScrapeType: "Poll",
      },
    ]);
    assert.equal(work!.spec.deleteOption, undefined, "Foreground, the default");
  });

  it("replaces a namespace the template names and keeps its own labels", () => {
    const definition = cp("x");
    definition.metadata = { name: "x", namespace: "other", labels: { team: "a", "cluster-name": "wrong" } };
    const manifest = only(policyWorks(replica([definition]), []));
    const metadata = manifest.metadata as { namespace: string; labels: Record<string, string> };
    assert.equal(metadata.namespace, C);
    assert.equal(metadata.labels.team, "a");
    assert.equal(metadata.labels["cluster-name"], C);
  });

  it("takes the cluster name from the replica's label", () => {
    const policy = replica([cp("x")]);
    policy.metadata.labels = { "policy.open-cluster-management.io/cluster-name": "named" };
    const labels = (only(policyWorks(policy, [])).metadata as { labels: Record<string, string> }).labels;
    assert.equal(labels["cluster-name"], "named");
    assert.equal(labels["policy.open-cluster-management.io/cluster-name"], "named");
    assert.equal(labels["cluster-namespace"], C);
  });

  it("does not change the replica", () => {
    const policy = replica([cp("x", { remediationAction: "informOnly" })], "enforce");
    const before = structuredClone(policy);
    policyWorks(policy, []);
    assert.deepEqual(policy, before);
  });
});

describe("policyWorks: remediationAction override", () => {
  const cases: { name: string; template?: string; policy?: RemediationAction; want: string | undefined }[] = [
    {
      name: "the Policy's action replaces the template's",
      template: "inform",
      policy: "enforce",
      want: "enforce",
    },
    { name: "verbatim, in the Policy's case", template: "inform", policy: "Enforce", want: "Enforce" },
    {
      name: "informOnly becomes inform whatever the Policy says",
      template: "informOnly",
      policy: "enforce",
      want: "inform",
    },
    { name: "informOnly in any case", template: "InformOnly", want: "inform" },
    { name: "the template keeps its own without a Policy action", template: "enforce", want: "enforce" },
    { name: "set when the template has none", policy: "inform", want: "inform" },
    { name: "left unset when neither has one", want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const templateSpec = c.template ? { remediationAction: c.template } : {};
      const manifest = only(policyWorks(replica([cp("x", templateSpec)], c.policy), []));
      assert.equal(spec(manifest).remediationAction, c.want);
    });
  }

  const constraint = (): Definition => ({
    apiVersion: "constraints.gatekeeper.sh/v1beta1",
    kind: "K8sRequiredLabels",
    metadata: { name: "ns-owner", namespace: "ignored" },
    spec: { enforcementAction: "dryrun", match: {} },
  });
  const gatekeeperCases: { policy?: RemediationAction; want: string }[] = [
    { policy: "inform", want: "warn" },
    { policy: "Inform", want: "warn" },
    { policy: "enforce", want: "deny" },
    { policy: "Enforce", want: "deny" },
    { want: "dryrun" },
  ];
  for (const c of gatekeeperCases) {
    it(`a Gatekeeper constraint under ${c.policy ?? "no action"} gets enforcementAction ${c.want}`, () => {
      const manifest = only(policyWorks(replica([constraint()], c.policy), []));
      assert.equal(spec(manifest).enforcementAction, c.want);
      assert.equal(spec(manifest).remediationAction, undefined);
      assert.equal((manifest.metadata as { namespace?: string }).namespace, undefined, "cluster-scoped");
    });
  }

  it("a Gatekeeper constraint is read back by its audit: the count and each listed violation's fields", () => {
    const result = ok(policyWorks(replica([constraint()], "inform"), []));
    const [config] = result.works[0]!.spec.manifestConfigs ?? [];
    assert.deepEqual(config?.resourceIdentifier, {
      group: "constraints.gatekeeper.sh",
      resource: "k8srequiredlabels",
      name: "ns-owner",
      namespace: "",
    });
    const paths = config?.feedbackRules?.[0]?.jsonPaths ?? [];
    assert.deepEqual(paths[0], { name: "totalViolations", path: ".status.totalViolations" });
    assert.deepEqual(paths[1], {
      name: "violation-0-enforcementAction",
      path: ".status.violations[0].enforcementAction",
    });
    assert.equal(paths.length, 1 + 20 * 5, "Gatekeeper's default audit lists at most 20 violations");
  });

  it("a ConstraintTemplate is left alone, cluster-scoped and without feedback rules", () => {
    const template: Definition = {
      apiVersion: "templates.gatekeeper.sh/v1",
      kind: "ConstraintTemplate",
      metadata: { name: "k8srequiredlabels" },
      spec: { crd: {} },
    };
    const result = ok(policyWorks(replica([template], "enforce"), []));
    const manifest = only(result);
    assert.deepEqual(spec(manifest), { crd: {} });
    assert.equal((manifest.metadata as { namespace?: string }).namespace, undefined);
    assert.deepEqual(result.works[0]!.spec.manifestConfigs, []);
  });
});

describe("policyResource", () => {
  const cases: [string, string][] = [
    ["ConfigurationPolicy", "configurationpolicies"],
    ["CertificatePolicy", "certificatepolicies"],
    ["OperatorPolicy", "operatorpolicies"],
    ["IamPolicy", "iampolicies"],
    ["Policy", "policies"],
    ["PolicySet", "policysets"],
  ];
  for (const [kind, resource] of cases)
    it(`${kind} → ${resource}`, () => assert.equal(policyResource(kind), resource));

  it("identifies an OperatorPolicy by its own group", () => {
    const op: Definition = {
      apiVersion: "policy.open-cluster-management.io/v1beta1",
      kind: "OperatorPolicy",
      metadata: { name: "op" },
      spec: { remediationAction: "inform" },
    };
    const result = ok(policyWorks(replica([op]), []));
    assert.deepEqual(result.works[0]!.spec.manifestConfigs?.[0]?.resourceIdentifier, {
      group: "policy.open-cluster-management.io",
      resource: "operatorpolicies",
      name: "op",
      namespace: C,
    });
  });
});

describe("policyWorks: templates it does not deliver", () => {
  const missingCases: { name: string; definition: Definition; problemName: string; message: string }[] = [
    {
      name: "no kind",
      definition: { apiVersion: "policy.open-cluster-management.io/v1", metadata: { name: "x" } },
      problemName: "x",
      message: "template-error; spec.policy-templates[1].objectDefinition.kind: Required value",
    },
    {
      name: "no apiVersion and no name",
      definition: { kind: "ConfigurationPolicy", metadata: {} },
      problemName: "template-1",
      message:
        "template-error; spec.policy-templates[1].objectDefinition.apiVersion: Required value, " +
        "spec.policy-templates[1].objectDefinition.metadata.name: Required value",
    },
    {
      name: "no metadata",
      definition: { apiVersion: "policy.open-cluster-management.io/v1", kind: "ConfigurationPolicy" },
      problemName: "template-1",
      message: "template-error; spec.policy-templates[1].objectDefinition.metadata.name: Required value",
    },
    {
      name: "no objectDefinition at all",
      definition: null as unknown as Definition,
      problemName: "template-1",
      message: "template-error; spec.policy-templates[1].objectDefinition: Required value",
    },
  ];
  for (const c of missingCases) {
    it(`a template with ${c.name} is a template error; the others are delivered`, () => {
      const result = ok(policyWorks(replica([cp("good"), c.definition]), []));
      assert.deepEqual(result.problems, [
        { index: 1, name: c.problemName, compliant: "NonCompliant", message: c.message },
      ]);
      assert.deepEqual(
        manifests(result).map((m) => m.metadata.name),
        ["good"],
      );
    });
  }

  it("delivers nothing when two templates share a name, and says so for every template", () => {
    const result = ok(policyWorks(replica([cp("a"), cp("b"), cp("a")]), []));
    assert.deepEqual(result.works, []);
    const message = "template-error; All policy-template names must be unique within a policy";
    assert.deepEqual(result.problems, [
      { index: 0, name: "a", compliant: "NonCompliant", message },
      { index: 1, name: "b", compliant: "NonCompliant", message },
      { index: 2, name: "a", compliant: "NonCompliant", message },
    ]);
  });

  it("two templates of different kinds with one name share it too", () => {
    const op: Definition = {
      apiVersion: "policy.open-cluster-management.io/v1beta1",
      kind: "OperatorPolicy",
      metadata: { name: "a" },
    };
    const result = ok(policyWorks(replica([cp("a"), op]), []));
    assert.deepEqual(result.works, []);
    assert.equal(result.problems.length, 2);
  });

  it("a template whose hub templates failed reports the hub's error", () => {
    const broken = cp("broken");
    broken.metadata = {
      name: "broken",
      annotations: {
        "policy.open-cluster-management.io/hub-templates-error": "error calling lookup: not found",
      },
    };
    const result = ok(policyWorks(replica([broken, cp("fine")]), []));
    assert.deepEqual(result.problems, [
      {
        index: 0,
        name: "broken",
        compliant: "NonCompliant",
        message: "template-error; error calling lookup: not found",
      },
    ]);
    assert.deepEqual(
      manifests(result).map((m) => m.metadata.name),
      ["fine"],
    );
  });

  it("an empty hub-templates-error still fails the template", () => {
    const broken = cp("broken");
    broken.metadata = {
      name: "broken",
      annotations: { "policy.open-cluster-management.io/hub-templates-error": "" },
    };
    const result = ok(policyWorks(replica([broken]), []));
    assert.deepEqual(result.works, []);
    assert.deepEqual(result.problems, [
      {
        index: 0,
        name: "broken",
        compliant: "NonCompliant",
        message: "template-error; Hub template resolution failure",
      },
    ]);
  });

  const gateCases: { name: string; gate: Gate }[] = [
    {
      name: "Pending",
      gate: {
        open: false,
        compliant: "Pending",
        message: "Dependencies were not satisfied: 1 is still pending (Policy default.o)",
      },
    },
    {
      name: "Compliant (ignorePending)",
      gate: {
        open: false,
        compliant: "Compliant",
        message:
          "Dependencies were not satisfied: 1 is still pending (Policy default.o) but ignorePending is true",
      },
    },
    {
      name: "NonCompliant (conflict)",
      gate: {
        open: false,
        compliant: "NonCompliant",
        message: "template-error; dependency on default.o has conflicting compliance states",
      },
    },
  ];
  for (const c of gateCases) {
    it(`a closed gate keeps the template back and reports it ${c.name}`, () => {
      const gate = c.gate as Extract<Gate, { open: false }>;
      const result = ok(policyWorks(replica([cp("a"), cp("b")]), [{ open: true }, gate]));
      assert.deepEqual(result.problems, [
        { index: 1, name: "b", compliant: gate.compliant, message: gate.message },
      ]);
      assert.deepEqual(
        manifests(result).map((m) => m.metadata.name),
        ["a"],
      );
    });
  }

  it("a template without a gate is open", () => {
    const result = ok(policyWorks(replica([cp("a"), cp("b")]), [{ open: true }]));
    assert.deepEqual(
      manifests(result).map((m) => m.metadata.name),
      ["a", "b"],
    );
  });

  it("no work at all when every template is held back", () => {
    const gate: Gate = { open: false, compliant: "Pending", message: "m" };
    const result = ok(policyWorks(replica([cp("a")]), [gate]));
    assert.deepEqual(result.works, []);
    assert.equal(result.problems.length, 1);
  });

  it("a template bigger than any work may carry is an error naming it; the rest is delivered", () => {
    const big = cp("big", { remediationAction: "inform", pad: "x".repeat(3000) });
    const result = ok(policyWorks(replica([cp("a"), big, cp("b")]), [], 2000));
    assert.deepEqual(
      manifests(result).map((m) => m.metadata.name),
      ["a", "b"],
    );
    assert.equal(result.problems.length, 1);
    const [problem] = result.problems;
    assert.equal(problem!.index, 1);
    assert.equal(problem!.name, "big");
    assert.equal(problem!.compliant, "NonCompliant");
    assert.match(
      problem!.message,
      /^template-error; manifest policy.open-cluster-management.io\/v1 ConfigurationPolicy cluster1\/big is \d+ bytes, more than the 2000 bytes/,
    );
  });

  it("problems come in template order", () => {
    const big = cp("big", { pad: "x".repeat(3000) });
    const gate: Gate = { open: false, compliant: "Pending", message: "m" };
    const result = ok(policyWorks(replica([big, cp("b"), { kind: "X" }]), [{ open: true }, gate], 2000));
    assert.deepEqual(
      result.problems.map((p) => p.index),
      [0, 1, 2],
    );
  });

  it("fails without a namespace or with no room", () => {
    const policy = replica([cp("a")]);
    delete policy.metadata.namespace;
    assert.equal(policyWorks(policy, []).ok, false);
    const zero = policyWorks(replica([cp("a")]), [], 0);
    assert.ok(!zero.ok);
    assert.match(zero.error, /no room/);
  });
});

describe("policyWorks: split into parts", () => {
  const padded = (name: string) => cp(name, { remediationAction: "inform", pad: "x".repeat(400) });
  const many = (names: string[]) => replica(names.map(padded));
  const limit = 2000;

  it("spreads templates over parts under the limit, each a complete work", () => {
    const result = ok(policyWorks(many(["a", "b", "c", "d", "e", "f", "g", "h"]), [], limit));
    assert.ok(result.works.length > 1);
    assert.deepEqual(
      result.works.map((w) => w.name),
      result.works.map((_, i) => (i === 0 ? "policy.default.p" : `policy.default.p-part-${i}`)),
    );
    for (const [i, work] of result.works.entries()) {
      assert.ok(work.size <= limit);
      assert.equal(work.labels[BosunPolicyWorkLabels.replica], "default.p");
      assert.equal(work.labels[BosunWorkLabels.partIndex], String(i));
      assert.equal(work.labels[BosunWorkLabels.partCount], String(result.works.length));
      assert.equal(work.annotations[BosunWorkAnnotations.partOf], "policy.default.p");
      assert.equal(work.spec.manifestConfigs?.length, 8, "every part carries every config");
    }
    assert.deepEqual(
      manifests(result)
        .map((m) => m.metadata.name)
        .sort(),
      ["a", "b", "c", "d", "e", "f", "g", "h"],
    );
  });

  it("keeps templates in their parts when one is added", () => {
    // Room for four templates a part, three packed at first: an added one fits where it lands.
    const size = ok(policyWorks(many(["b"]), [])).works[0]!.size;
    const roomy = 4 * size + 10;
    const first = ok(policyWorks(many(["b", "d", "f", "h", "j", "l", "n", "p"]), [], roomy));
    assert.equal(first.works.length, 3);
    const previous: ManifestWork[] = first.works.map((part) => ({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name: part.name, namespace: C, labels: part.labels, annotations: part.annotations },
      spec: part.spec,
    }));
    const where = (result: PolicyWorks) =>
      new Map(
        ok(result).works.flatMap((w) =>
          (w.spec.workload?.manifests ?? []).map((m) => [m.metadata.name, w.name]),
        ),
      );
    const before = where(first);
    const second = policyWorks(many(["b", "d", "f", "h", "i", "j", "l", "n", "p"]), [], roomy, {
      previous: [...previous].reverse(),
    });
    const after = where(second);
    const moved = [...before].filter(([name, part]) => after.get(name) !== part).map(([name]) => name);
    assert.deepEqual(moved, []);
    assert.equal(after.get("i"), before.get("h"));
    // Without the previous parts the packing starts afresh and moves templates.
    const fresh = where(policyWorks(many(["b", "d", "f", "h", "i", "j", "l", "n", "p"]), [], roomy));
    assert.ok([...before].some(([name, part]) => fresh.get(name) !== part));
  });
});
