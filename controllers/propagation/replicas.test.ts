import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  PlacementBinding,
  Policy,
  PolicyDependency,
  PolicyPlacementStatus,
  PolicySet,
  PolicySpec,
} from "../../api/types/policy.ts";
import {
  bindingProblems,
  canonicalDependencies,
  planPropagation,
  replicaDiffers,
  rootKeyOfReplica,
  sameJson,
  type BindingInput,
  type PropagationInput,
} from "./replicas.ts";

const NS = "policies";

const template = (name: string, extra?: PolicyDependency[]) => ({
  objectDefinition: {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "ConfigurationPolicy",
    metadata: { name },
    spec: { remediationAction: "inform", "object-templates": [] },
  },
  ...(extra ? { extraDependencies: extra } : {}),
});

function policy(
  spec: Partial<PolicySpec> = {},
  metadata: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Policy {
  return {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "Policy",
    metadata: {
      name: metadata.name ?? "p",
      namespace: NS,
      labels: metadata.labels,
      annotations: metadata.annotations,
    },
    spec: { disabled: false, remediationAction: "inform", "policy-templates": [template("cp")], ...spec },
  };
}

type Subject = [kind: string, name: string, apiGroup?: string];

interface BindingOptions {
  subjects?: Subject[];
  placement?: string;
  ref?: { apiGroup: string; kind: string };
  restricted?: boolean;
  enforce?: "Enforce" | "enforce";
  namespace?: string;
}

/** A binding with the clusters its placement decides (undefined: the placement is missing). */
function bound(name: string, clusters: string[] | undefined, options: BindingOptions = {}): BindingInput {
  const binding = {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "PlacementBinding",
    metadata: { name, namespace: options.namespace ?? NS },
    placementRef: {
      apiGroup: options.ref?.apiGroup ?? "cluster.open-cluster-management.io",
      kind: options.ref?.kind ?? "Placement",
      name: options.placement ?? `${name}-pl`,
    },
    subjects: (options.subjects ?? [["Policy", "p"]]).map(([kind, subject, apiGroup]) => ({
      apiGroup: apiGroup ?? "policy.open-cluster-management.io",
      kind,
      name: subject,
    })),
    ...(options.restricted ? { subFilter: "restricted" } : {}),
    ...(options.enforce ? { bindingOverrides: { remediationAction: options.enforce } } : {}),
  } as PlacementBinding;
  return { binding, clusters };
}

function policySet(
  name: string,
  policies: string[],
  exclusions: [policy: string, clusters: string[]][] = [],
  namespace = NS,
): PolicySet {
  return {
    apiVersion: "policy.open-cluster-management.io/v1beta1",
    kind: "PolicySet",
    metadata: { name, namespace },
    spec: {
      policies,
      ...(exclusions.length
        ? { exclusions: exclusions.map(([policyName, clusterNames]) => ({ policyName, clusterNames })) }
        : {}),
    },
  };
}

const input = (
  bindings: BindingInput[],
  sets: PolicySet[] = [],
  root: Policy = policy(),
): PropagationInput => ({ policy: root, bindings, policySets: sets });

const entry = (binding: string, extra: Partial<PolicyPlacementStatus> = {}): PolicyPlacementStatus => ({
  placementBinding: binding,
  placement: `${binding}-pl`,
  ...extra,
});

describe("planPropagation: which clusters and placements", () => {
  const cases: {
    name: string;
    input: PropagationInput;
    clusters: string[];
    placement: PolicyPlacementStatus[];
    /** remediationAction of each replica, by cluster (default: the root's). */
    actions?: Record<string, string | undefined>;
    remaining?: Record<string, string[]>;
  }[] = [
    {
      name: "one binding places the policy on its placement's clusters, sorted",
      input: input([bound("pb", ["m2", "m1"])]),
      clusters: ["m1", "m2"],
      placement: [entry("pb")],
    },
    {
      name: "non-restricted bindings are unioned and clusters deduplicated",
      input: input([bound("pb-b", ["m2", "m3", "m3"]), bound("pb-a", ["m1", "m2"])]),
      clusters: ["m1", "m2", "m3"],
      placement: [entry("pb-a"), entry("pb-b")],
    },
    {
      name: "a binding whose placement decides nothing still shows in the placement",
      input: input([bound("pb", [])]),
      clusters: [],
      placement: [entry("pb")],
    },
    {
      name: "a restricted binding alone places nothing and is not reported",
      input: input([bound("pb", ["m1"], { restricted: true, enforce: "enforce" })]),
      clusters: [],
      placement: [],
    },
    {
      name: "restricted binding enforces only clusters others selected (selective enforcement)",
      input: input([
        bound("pb", ["m1", "m2"]),
        bound("pb-enforce", ["m1", "m2", "m3"], { restricted: true, enforce: "enforce" }),
      ]),
      clusters: ["m1", "m2"],
      placement: [entry("pb"), entry("pb-enforce")],
      actions: { m1: "enforce", m2: "enforce" },
    },
    {
      name: "a cluster leaving the restricted binding reverts to the root's action",
      input: input([
        bound("pb", ["m1", "m2"]),
        bound("pb-enforce", ["m2"], { restricted: true, enforce: "enforce" }),
      ]),
      clusters: ["m1", "m2"],
      placement: [entry("pb"), entry("pb-enforce")],
      actions: { m1: "inform", m2: "enforce" },
    },
    {
      name: "a restricted binding with no selected cluster leaves the placement",
      input: input([
        bound("pb", ["m1"]),
        bound("pb-enforce", ["m2"], { restricted: true, enforce: "enforce" }),
      ]),
      clusters: ["m1"],
      placement: [entry("pb")],
      actions: { m1: "inform" },
    },
    {
      name: "a non-restricted override enforces the clusters it selects",
      input: input([bound("pb", ["m1"]), bound("pb-enforce", ["m2"], { enforce: "Enforce" })]),
      clusters: ["m1", "m2"],
      placement: [entry("pb"), entry("pb-enforce")],
      actions: { m1: "inform", m2: "Enforce" },
    },
    {
      name: "an override never changes a root that already enforces",
      input: input(
        [bound("pb", ["m1"], { enforce: "enforce" })],
        [],
        policy({ remediationAction: "Enforce" }),
      ),
      clusters: ["m1"],
      placement: [entry("pb")],
      actions: { m1: "Enforce" },
    },
    {
      name: "an override sets the action of a root that has none",
      input: input(
        [bound("pb", ["m1"], { enforce: "enforce" })],
        [],
        policy({ remediationAction: undefined }),
      ),
      clusters: ["m1"],
      placement: [entry("pb")],
      actions: { m1: "enforce" },
    },
    {
      name: "disabled: no clusters, placements still reported (without exclusions)",
      input: input(
        [bound("pb", ["m1"]), bound("pb-set", ["m1", "m2"], { subjects: [["PolicySet", "s"]] })],
        [policySet("s", ["p"], [["p", ["m2"]]])],
        policy({ disabled: true }),
      ),
      clusters: [],
      placement: [entry("pb"), entry("pb-set", { policySet: "s" })],
    },
    {
      name: "a PolicySet subject places its members and names the set",
      input: input(
        [bound("pb", ["m1"], { subjects: [["PolicySet", "s"]] })],
        [policySet("s", ["other", "p"])],
      ),
      clusters: ["m1"],
      placement: [entry("pb", { policySet: "s" })],
    },
    {
      name: "a set exclusion takes the cluster off that path and is reported",
      input: input(
        [bound("pb", ["m1", "m2", "m3"], { subjects: [["PolicySet", "s"]] })],
        [policySet("s", ["p"], [["p", ["m3", "m2", "elsewhere"]]])],
      ),
      clusters: ["m1"],
      placement: [
        entry("pb", { policySet: "s", exclusions: [{ clusterName: "m2" }, { clusterName: "m3" }] }),
      ],
    },
    {
      name: "an excluded cluster another binding places lists that binding as remaining",
      input: input(
        [bound("set-pb", ["m1", "m2"], { subjects: [["PolicySet", "s"]] }), bound("direct-pb", ["m2"])],
        [policySet("s", ["p"], [["p", ["m2"]]])],
      ),
      clusters: ["m1", "m2"],
      placement: [
        entry("direct-pb"),
        entry("set-pb", { policySet: "s", exclusions: [{ clusterName: "m2" }] }),
      ],
      remaining: { m2: ["direct-pb"] },
    },
    {
      name: "two sets excluding the same cluster: no replica and no remaining binding",
      input: input(
        [
          bound("a-pb", ["m1", "m2"], { subjects: [["PolicySet", "a"]] }),
          bound("b-pb", ["m2"], { subjects: [["PolicySet", "b"]] }),
        ],
        [policySet("a", ["p"], [["p", ["m2"]]]), policySet("b", ["p"], [["p", ["m2"]]])],
      ),
      clusters: ["m1"],
      placement: [
        entry("a-pb", { policySet: "a", exclusions: [{ clusterName: "m2" }] }),
        entry("b-pb", { policySet: "b", exclusions: [{ clusterName: "m2" }] }),
      ],
    },
    {
      name: "a binding naming the policy and an excluding set still places it through the policy",
      input: input(
        [
          bound("shared", ["m1", "m2"], {
            subjects: [
              ["Policy", "p"],
              ["PolicySet", "s"],
            ],
          }),
        ],
        [policySet("s", ["p"], [["p", ["m2"]]])],
      ),
      clusters: ["m1", "m2"],
      placement: [entry("shared"), entry("shared", { policySet: "s", exclusions: [{ clusterName: "m2" }] })],
      remaining: { m2: ["shared"] },
    },
    {
      name: "one of two sets on a binding excluding a cluster does not take it off",
      input: input(
        [
          bound("pb", ["m1"], {
            subjects: [
              ["PolicySet", "a"],
              ["PolicySet", "b"],
            ],
          }),
        ],
        [policySet("a", ["p"], [["p", ["m1"]]]), policySet("b", ["p"])],
      ),
      clusters: ["m1"],
      placement: [
        entry("pb", { policySet: "a", exclusions: [{ clusterName: "m1" }] }),
        entry("pb", { policySet: "b" }),
      ],
      remaining: { m1: ["pb"] },
    },
    {
      name: "exclusions of other policies do not apply",
      input: input(
        [bound("pb", ["m1"], { subjects: [["PolicySet", "s"]] })],
        [policySet("s", ["p", "q"], [["q", ["m1"]]])],
      ),
      clusters: ["m1"],
      placement: [entry("pb", { policySet: "s" })],
    },
    {
      name: "a set that does not list the policy is ignored",
      input: input([bound("pb", ["m1"], { subjects: [["PolicySet", "s"]] })], [policySet("s", ["q"])]),
      clusters: [],
      placement: [],
    },
    {
      name: "a set that does not exist is ignored",
      input: input([bound("pb", ["m1"], { subjects: [["PolicySet", "missing"]] })]),
      clusters: [],
      placement: [],
    },
    {
      name: "a set subject named twice gives one entry",
      input: input(
        [
          bound("pb", ["m1"], {
            subjects: [
              ["PolicySet", "s"],
              ["PolicySet", "s"],
              ["Policy", "p"],
              ["Policy", "p"],
            ],
          }),
        ],
        [policySet("s", ["p"])],
      ),
      clusters: ["m1"],
      placement: [entry("pb"), entry("pb", { policySet: "s" })],
    },
    {
      name: "a binding naming another policy is ignored",
      input: input([bound("pb", ["m1"], { subjects: [["Policy", "q"]] })]),
      clusters: [],
      placement: [],
    },
    {
      name: "a subject with the wrong apiGroup is ignored",
      input: input([bound("pb", ["m1"], { subjects: [["Policy", "p", "apps.open-cluster-management.io"]] })]),
      clusters: [],
      placement: [],
    },
    {
      name: "a subject of another kind is ignored",
      input: input([bound("pb", ["m1"], { subjects: [["ConfigurationPolicy", "p"]] })]),
      clusters: [],
      placement: [],
    },
    {
      name: "an invalid placementRef is ignored entirely",
      input: input([
        bound("pb", ["m1"], { ref: { apiGroup: "apps.open-cluster-management.io", kind: "Placement" } }),
        bound("pb2", ["m1"], { ref: { apiGroup: "cluster.open-cluster-management.io", kind: "Deployment" } }),
      ]),
      clusters: [],
      placement: [],
    },
    {
      name: "a PlacementRule ref shows the binding but places nothing",
      input: input([
        bound("pb", undefined, {
          ref: { apiGroup: "apps.open-cluster-management.io", kind: "PlacementRule" },
        }),
      ]),
      clusters: [],
      placement: [{ placementBinding: "pb" }],
    },
    {
      name: "a binding to a missing placement shows without the placement and places nothing",
      input: input([bound("pb", undefined), bound("ok", ["m1"])]),
      clusters: ["m1"],
      placement: [entry("ok"), { placementBinding: "pb" }],
    },
    {
      name: "bindings of another namespace are ignored",
      input: input([bound("pb", ["m1"], { namespace: "elsewhere" })]),
      clusters: [],
      placement: [],
    },
  ];

  for (const c of cases)
    it(c.name, () => {
      const plan = planPropagation(c.input);
      assert.deepEqual(
        plan.replicas.map((replica) => replica.cluster),
        c.clusters,
      );
      assert.deepEqual(
        plan.clusters.map((cluster) => cluster.cluster),
        c.clusters,
      );
      assert.deepEqual(plan.placement, c.placement);
      const actions = Object.fromEntries(plan.replicas.map((r) => [r.cluster, r.spec.remediationAction]));
      const rootAction = c.input.policy.spec.remediationAction;
      const expected = Object.fromEntries(
        c.clusters.map((cluster) => [cluster, c.actions?.[cluster] ?? rootAction]),
      );
      assert.deepEqual(actions, expected);
      const remaining = Object.fromEntries(
        plan.clusters.filter((x) => x.remainingBindings).map((x) => [x.cluster, x.remainingBindings]),
      );
      assert.deepEqual(remaining, c.remaining ?? {});
    });

  it("does not depend on the order of the bindings it is given", () => {
    const bindings = [
      bound("pb-c", ["m3"]),
      bound("pb-a", ["m1"], { enforce: "Enforce" }),
      bound("pb-b", ["m1", "m2"], { enforce: "enforce" }),
    ];
    const forward = planPropagation(input(bindings));
    const backward = planPropagation(input([...bindings].reverse()));
    assert.deepEqual(backward, forward);
    assert.deepEqual(
      forward.placement.map((p) => p.placementBinding),
      ["pb-a", "pb-b", "pb-c"],
    );
    // The first binding by name that enforces the cluster decides its value.
    assert.equal(forward.replicas.find((r) => r.cluster === "m1")?.spec.remediationAction, "Enforce");
  });
});

describe("planPropagation: the replica", () => {
  const plan = (root: Policy, sets: PolicySet[] = []) =>
    planPropagation(input([bound("pb", ["m1"])], sets, root));

  it("is named <rootNs>.<rootName> in the cluster's namespace", () => {
    const root = policy({}, { name: "my.policy" });
    const [replica] = planPropagation(
      input([bound("pb", ["m1"], { subjects: [["Policy", "my.policy"]] })], [], root),
    ).replicas;
    assert.ok(replica);
    assert.equal(replica.name, "policies.my.policy");
    assert.equal(replica.namespace, "m1");
    assert.equal(replica.cluster, "m1");
  });

  const metadataCases: {
    name: string;
    root: Policy;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }[] = [
    {
      name: "copies the root's labels and annotations and adds the replica ones",
      root: policy(
        {},
        {
          labels: { team: "a", "policy.open-cluster-management.io/cluster-name": "stale" },
          annotations: {
            "policy.open-cluster-management.io/standards": "NIST",
            note: "x",
            "policy.open-cluster-management.io/trigger-update": "2",
          },
        },
      ),
      labels: {
        team: "a",
        "policy.open-cluster-management.io/cluster-name": "m1",
        "policy.open-cluster-management.io/cluster-namespace": "m1",
        "policy.open-cluster-management.io/root-policy": "policies.p",
      },
      annotations: {
        "policy.open-cluster-management.io/standards": "NIST",
        note: "x",
        "argocd.argoproj.io/compare-options": "IgnoreExtraneous",
      },
    },
    {
      name: "copyPolicyMetadata false keeps only policy.open-cluster-management.io/ keys",
      root: policy(
        { copyPolicyMetadata: false },
        {
          labels: { team: "a", "policy.open-cluster-management.io/extra": "y" },
          annotations: {
            "policy.open-cluster-management.io/categories": "CM",
            "policy.open-cluster-management.io/trigger-update": "2",
            "argocd.argoproj.io/sync-wave": "1",
            note: "x",
          },
        },
      ),
      labels: {
        "policy.open-cluster-management.io/extra": "y",
        "policy.open-cluster-management.io/cluster-name": "m1",
        "policy.open-cluster-management.io/cluster-namespace": "m1",
        "policy.open-cluster-management.io/root-policy": "policies.p",
      },
      annotations: {
        "policy.open-cluster-management.io/categories": "CM",
        "argocd.argoproj.io/compare-options": "IgnoreExtraneous",
      },
    },
    {
      name: "copyPolicyMetadata true behaves as absent",
      root: policy({ copyPolicyMetadata: true }, { labels: { team: "a" }, annotations: { note: "x" } }),
      labels: {
        team: "a",
        "policy.open-cluster-management.io/cluster-name": "m1",
        "policy.open-cluster-management.io/cluster-namespace": "m1",
        "policy.open-cluster-management.io/root-policy": "policies.p",
      },
      annotations: { note: "x", "argocd.argoproj.io/compare-options": "IgnoreExtraneous" },
    },
    {
      name: "a root without labels or annotations still gets the replica ones",
      root: policy(),
      labels: {
        "policy.open-cluster-management.io/cluster-name": "m1",
        "policy.open-cluster-management.io/cluster-namespace": "m1",
        "policy.open-cluster-management.io/root-policy": "policies.p",
      },
      annotations: { "argocd.argoproj.io/compare-options": "IgnoreExtraneous" },
    },
  ];
  for (const c of metadataCases)
    it(c.name, () => {
      const [replica] = plan(c.root).replicas;
      assert.ok(replica);
      assert.deepEqual(replica.labels, c.labels);
      assert.deepEqual(replica.annotations, c.annotations);
    });

  it("does not share objects with the root", () => {
    const root = policy({}, { labels: { team: "a" } });
    const [replica] = plan(root).replicas;
    assert.ok(replica);
    replica.labels.team = "b";
    (replica.spec["policy-templates"][0]!.objectDefinition.metadata as { name: string }).name = "changed";
    assert.equal(root.metadata.labels?.team, "a");
    assert.equal(root.spec["policy-templates"][0]!.objectDefinition.metadata?.name, "cp");
  });

  it("canonicalises spec.dependencies and every template's extraDependencies", () => {
    const root = policy({
      dependencies: [
        {
          apiVersion: "policy.open-cluster-management.io/v1",
          kind: "Policy",
          name: "base",
          compliance: "Compliant",
        },
      ],
      "policy-templates": [
        template("a", [
          {
            apiVersion: "policy.open-cluster-management.io/v1beta1",
            kind: "PolicySet",
            name: "s",
            compliance: "NonCompliant",
          },
        ]),
        template("b", []),
      ],
    });
    const [replica] = plan(root, [policySet("s", ["x", "y"])]).replicas;
    assert.ok(replica);
    assert.deepEqual(replica.spec.dependencies, [
      {
        apiVersion: "policy.open-cluster-management.io/v1",
        kind: "Policy",
        name: "policies.base",
        compliance: "Compliant",
      },
    ]);
    const [a, b] = replica.spec["policy-templates"];
    assert.deepEqual(
      a?.extraDependencies?.map((d) => d.name),
      ["policies.x", "policies.y"],
    );
    assert.equal(b && "extraDependencies" in b, false, "an empty list is left out");
    // The root keeps what the user wrote.
    assert.equal(root.spec.dependencies?.[0]?.name, "base");
  });
});

describe("canonicalDependencies", () => {
  const dep = (kind: string, name: string, extra: Partial<PolicyDependency> = {}): PolicyDependency => ({
    apiVersion:
      kind === "PolicySet"
        ? "policy.open-cluster-management.io/v1beta1"
        : "policy.open-cluster-management.io/v1",
    kind,
    name,
    compliance: "Compliant",
    ...extra,
  });
  const sets = [policySet("s", ["a", "b"]), policySet("t", ["c"], [], "other")];
  const cases: {
    name: string;
    input: PolicyDependency[] | undefined;
    want: PolicyDependency[] | undefined;
  }[] = [
    { name: "undefined stays undefined", input: undefined, want: undefined },
    { name: "empty stays empty", input: [], want: [] },
    {
      name: "a Policy gets the root's namespace as a prefix and no namespace",
      input: [dep("Policy", "p2")],
      want: [dep("Policy", "policies.p2")],
    },
    {
      name: "a Policy in another namespace is prefixed with that namespace",
      input: [dep("Policy", "p2", { namespace: "other" })],
      want: [dep("Policy", "other.p2")],
    },
    {
      name: "a Policy name with one dot is taken as canonical already",
      input: [dep("Policy", "ns.p2", { namespace: "kept" })],
      want: [dep("Policy", "ns.p2", { namespace: "kept" })],
    },
    {
      name: "a Policy name with several dots is prefixed",
      input: [dep("Policy", "a.b.c")],
      want: [dep("Policy", "policies.a.b.c")],
    },
    {
      name: "a PolicySet expands to its members with the dependency's compliance",
      input: [dep("PolicySet", "s", { compliance: "Pending" })],
      want: [
        dep("Policy", "policies.a", { compliance: "Pending" }),
        dep("Policy", "policies.b", { compliance: "Pending" }),
      ],
    },
    {
      name: "a PolicySet in another namespace expands with that namespace",
      input: [dep("PolicySet", "t", { namespace: "other" })],
      want: [dep("Policy", "other.c")],
    },
    {
      name: "a PolicySet that does not exist is kept with its namespace filled in",
      input: [dep("PolicySet", "missing")],
      want: [dep("PolicySet", "missing", { namespace: "policies" })],
    },
    {
      name: "a PolicySet of the wrong apiVersion is kept as is",
      input: [dep("PolicySet", "s", { apiVersion: "policy.open-cluster-management.io/v1" })],
      want: [dep("PolicySet", "s", { apiVersion: "policy.open-cluster-management.io/v1" })],
    },
    {
      name: "other kinds are kept as is, order preserved",
      input: [dep("ConfigurationPolicy", "cp"), dep("Policy", "p2")],
      want: [dep("ConfigurationPolicy", "cp"), dep("Policy", "policies.p2")],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.deepEqual(canonicalDependencies(c.input, NS, sets), c.want);
    });
});

describe("replicaDiffers", () => {
  const [desired] = planPropagation(
    input([bound("pb", ["m1"])], [], policy({}, { labels: { team: "a" } })),
  ).replicas;
  assert.ok(desired);
  const existing = (change: (replica: Policy) => void = () => {}): Policy => {
    const replica: Policy = {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "Policy",
      metadata: {
        name: desired.name,
        namespace: desired.namespace,
        uid: "u",
        resourceVersion: "7",
        labels: { ...desired.labels },
        annotations: { ...desired.annotations },
      },
      spec: structuredClone(desired.spec),
      status: { compliant: "Compliant" },
    };
    change(replica);
    return replica;
  };
  const cases: { name: string; existing: Policy; differs: boolean }[] = [
    { name: "the same replica (status and other metadata ignored)", existing: existing(), differs: false },
    {
      name: "a changed label",
      existing: existing((r) => (r.metadata.labels!.team = "b")),
      differs: true,
    },
    {
      name: "a missing replica label",
      existing: existing((r) => delete r.metadata.labels!["policy.open-cluster-management.io/root-policy"]),
      differs: true,
    },
    {
      name: "an extra annotation",
      existing: existing((r) => (r.metadata.annotations!.extra = "1")),
      differs: true,
    },
    {
      name: "no annotations at all",
      existing: existing((r) => delete r.metadata.annotations),
      differs: true,
    },
    {
      name: "a different remediationAction",
      existing: existing((r) => (r.spec.remediationAction = "enforce")),
      differs: true,
    },
    {
      name: "a changed template",
      existing: existing(
        (r) =>
          ((
            r.spec["policy-templates"][0]!.objectDefinition.spec as { remediationAction: string }
          ).remediationAction = "enforce"),
      ),
      differs: true,
    },
    {
      name: "a template with a null field where the desired has none",
      existing: existing((r) => (r.spec["policy-templates"][0]!.objectDefinition.extra = null)),
      differs: true,
    },
    {
      name: "empty dependency lists and false defaults read back from the server",
      existing: existing((r) => {
        r.spec.dependencies = [];
        r.spec["policy-templates"][0]!.extraDependencies = [];
        r.spec["policy-templates"][0]!.ignorePending = false;
      }),
      differs: false,
    },
    {
      name: "keys in another order",
      existing: existing((r) => {
        r.spec = Object.fromEntries(Object.entries(r.spec).reverse()) as PolicySpec;
      }),
      differs: false,
    },
    {
      name: "copyPolicyMetadata set where the desired leaves it out",
      existing: existing((r) => (r.spec.copyPolicyMetadata = false)),
      differs: true,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.equal(replicaDiffers(c.existing, desired), c.differs);
    });
});

describe("sameJson", () => {
  const cases: [unknown, unknown, boolean][] = [
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }, true],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: null }, {}, false],
    [[], {}, false],
    ["1", 1, false],
    [{ a: { b: 1 } }, { a: { b: 1, c: 2 } }, false],
  ];
  for (const [a, b, same] of cases)
    it(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`, () => {
      assert.equal(sameJson(a, b), same);
      assert.equal(sameJson(b, a), same);
    });
});

describe("rootKeyOfReplica", () => {
  const cases: [labels: Record<string, string> | undefined, key: string | undefined][] = [
    [{ "policy.open-cluster-management.io/root-policy": "policies.p" }, "policies/p"],
    [{ "policy.open-cluster-management.io/root-policy": "policies.my.policy" }, "policies/my.policy"],
    [{ "policy.open-cluster-management.io/root-policy": "nodot" }, undefined],
    [{ other: "policies.p" }, undefined],
    [undefined, undefined],
  ];
  for (const [labels, key] of cases)
    it(`${JSON.stringify(labels)} → ${key}`, () => {
      assert.equal(rootKeyOfReplica({ metadata: { labels } }), key);
    });
});

describe("bindingProblems", () => {
  const cases: { name: string; input: PropagationInput; problems: string[] }[] = [
    { name: "a working binding has none", input: input([bound("pb", ["m1"])]), problems: [] },
    {
      name: "a binding for another policy is not this policy's problem",
      input: input([bound("pb", undefined, { subjects: [["Policy", "q"]] })]),
      problems: [],
    },
    {
      name: "a PlacementRule is not supported",
      input: input([
        bound("pb", undefined, {
          ref: { apiGroup: "apps.open-cluster-management.io", kind: "PlacementRule" },
        }),
      ]),
      problems: [
        'PlacementBinding pb: placementRef.kind: "PlacementRule" is not supported; bind to a Placement',
      ],
    },
    {
      name: "a Placement ref with the wrong apiGroup",
      input: input([
        bound("pb", undefined, { ref: { apiGroup: "apps.open-cluster-management.io", kind: "Placement" } }),
      ]),
      problems: [
        'PlacementBinding pb: placementRef.apiGroup: "apps.open-cluster-management.io" is not cluster.open-cluster-management.io',
      ],
    },
    {
      name: "a missing placement",
      input: input([bound("pb", undefined, { placement: "x" })]),
      problems: ['PlacementBinding pb: placementRef.name: placement "x" not found in namespace "policies"'],
    },
    {
      name: "a missing placement of a binding through a PolicySet",
      input: input(
        [bound("pb", undefined, { placement: "x", subjects: [["PolicySet", "s"]] })],
        [policySet("s", ["p"])],
      ),
      problems: ['PlacementBinding pb: placementRef.name: placement "x" not found in namespace "policies"'],
    },
    {
      name: "a subject naming the policy with the wrong apiGroup",
      input: input([bound("pb", ["m1"], { subjects: [["Policy", "p", "apps.open-cluster-management.io"]] })]),
      problems: [
        'PlacementBinding pb: subjects[0].apiGroup: "apps.open-cluster-management.io" is not policy.open-cluster-management.io',
      ],
    },
    {
      name: "a subject naming the policy with the wrong kind, beside a good one",
      input: input([
        bound("pb", ["m1"], {
          subjects: [
            ["Policy", "p"],
            ["Polcy", "p"],
          ],
        }),
      ]),
      problems: ['PlacementBinding pb: subjects[1].kind: "Polcy" is not Policy or PolicySet'],
    },
    {
      name: "problems come sorted by binding",
      input: input([bound("b", undefined), bound("a", undefined)]),
      problems: [
        'PlacementBinding a: placementRef.name: placement "a-pl" not found in namespace "policies"',
        'PlacementBinding b: placementRef.name: placement "b-pl" not found in namespace "policies"',
      ],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.deepEqual(bindingProblems(c.input), c.problems);
    });
});
