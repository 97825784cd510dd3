import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BosunPolicyRollout } from "../../api/constants.ts";
import type { Policy, PolicyTemplate, RemediationAction } from "../../api/types/policy.ts";
import type { FeedbackValue, ManifestCondition, ManifestWork } from "../../api/types/work.ts";
import { clusterOutcome, type ClusterEvidence } from "./policy-rollout.ts";
import { policyWorks } from "./policy-works.ts";
import type { DesiredReplica } from "./replicas.ts";
import { clusterEvidence, stampRevision } from "./rollout-evidence.ts";

const cluster = "east";
const revision = "rev-2";
const revisionKey = BosunPolicyRollout.revisionAnnotation;
type Definition = PolicyTemplate["objectDefinition"];

const configurationPolicy = (name: string, remediationAction = "inform"): Definition => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "ConfigurationPolicy",
  metadata: { name },
  spec: { remediationAction, "object-templates": [] },
});

const constraint: Definition = {
  apiVersion: "constraints.gatekeeper.sh/v1beta1",
  kind: "K8sRequiredLabels",
  metadata: { name: "needs-owner" },
  spec: {},
};

function desired(definitions: Definition[], remediationAction?: RemediationAction): DesiredReplica {
  return {
    cluster,
    namespace: cluster,
    name: "policies.p",
    labels: { "policy.open-cluster-management.io/cluster-name": cluster },
    annotations: { "policy.open-cluster-management.io/standards": "NIST" },
    spec: {
      disabled: false,
      ...(remediationAction ? { remediationAction } : {}),
      "policy-templates": definitions.map((objectDefinition) => ({ objectDefinition })),
    },
  };
}

/** The replica the propagator writes for `revision`. */
function replicaAt(at: string, definitions: Definition[], remediationAction?: RemediationAction): Policy {
  const stamped = stampRevision(desired(definitions, remediationAction), at);
  return {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "Policy",
    metadata: {
      name: stamped.name,
      namespace: stamped.namespace,
      labels: stamped.labels,
      annotations: stamped.annotations,
    },
    spec: stamped.spec,
  };
}

/** The works the replica controller writes for the replica, at `generation`. */
function worksOf(replica: Policy, generation = 3): ManifestWork[] {
  const planned = policyWorks(replica, []);
  assert.ok(planned.ok);
  return planned.works.map((part) => ({
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "ManifestWork",
    metadata: { name: part.name, namespace: cluster, labels: part.labels, generation },
    spec: part.spec,
  }));
}

interface Report {
  name: string;
  kind?: string;
  group?: string;
  applied?: { status: "True" | "False"; observedGeneration?: number; message?: string };
  revision?: string;
  generation?: number;
  lastEvaluatedGeneration?: number;
  compliant?: string;
  message?: string;
}

/** What the agents report in the work's status. */
function reported(work: ManifestWork, reports: Report[]): ManifestWork {
  const manifests: ManifestCondition[] = reports.map((report, ordinal) => {
    const values: FeedbackValue[] = [];
    const text = (name: string, value: string | undefined) => {
      if (value !== undefined) values.push({ name, fieldValue: { type: "String", string: value } });
    };
    const integer = (name: string, value: number | undefined) => {
      if (value !== undefined) values.push({ name, fieldValue: { type: "Integer", integer: value } });
    };
    text("compliant", report.compliant);
    text("message", report.message);
    text("rolloutRevision", report.revision);
    integer("generation", report.generation);
    integer("lastEvaluatedGeneration", report.lastEvaluatedGeneration);
    return {
      resourceMeta: {
        ordinal,
        group: report.group ?? "policy.open-cluster-management.io",
        version: "v1",
        kind: report.kind ?? "ConfigurationPolicy",
        resource: "configurationpolicies",
        name: report.name,
        namespace: cluster,
      },
      conditions: report.applied
        ? [
            {
              type: "Applied",
              status: report.applied.status,
              reason: "x",
              message: report.applied.message ?? "",
              observedGeneration: report.applied.observedGeneration ?? work.metadata.generation,
              lastTransitionTime: "2026-03-01T10:00:00Z",
            },
          ]
        : [],
      ...(values.length > 0 ? { statusFeedback: { values } } : {}),
    };
  });
  return { ...work, status: { conditions: [], resourceStatus: { manifests } } };
}

const current = (name: string, compliant: string, extra: Partial<Report> = {}): Report => ({
  name,
  applied: { status: "True" },
  revision,
  generation: 4,
  lastEvaluatedGeneration: 4,
  compliant,
  message: `${compliant}; notification - fine`,
  ...extra,
});

interface Case {
  name: string;
  replica: Policy | undefined;
  works?: (replica: Policy) => ManifestWork[];
  expected: ClusterEvidence;
  succeeded: boolean;
}

const enforced = replicaAt(revision, [configurationPolicy("cfg")], "enforce");
const informed = replicaAt(revision, [configurationPolicy("cfg")], "inform");

const cases: Case[] = [
  { name: "no replica", replica: undefined, expected: { missing: "no replica yet" }, succeeded: false },
  {
    name: "a replica still at the previous revision",
    replica: replicaAt("rev-1", [configurationPolicy("cfg")]),
    expected: { missing: "its replica does not carry the current content yet" },
    succeeded: false,
  },
  {
    name: "no work yet",
    replica: enforced,
    works: () => [],
    expected: {
      templates: [
        { template: "cfg", state: "waiting", reason: "template cfg is not delivered to the cluster" },
      ],
    },
    succeeded: false,
  },
  {
    name: "the work still carries the previous revision",
    replica: enforced,
    works: () => worksOf(replicaAt("rev-1", [configurationPolicy("cfg")], "enforce")),
    expected: {
      templates: [
        { template: "cfg", state: "waiting", reason: "template cfg is not delivered to the cluster" },
      ],
    },
    succeeded: false,
  },
  {
    name: "Compliant fed back from the object of the previous revision does not count",
    replica: enforced,
    works: (replica) =>
      worksOf(replica).map((w) => reported(w, [current("cfg", "Compliant", { revision: "rev-1" })])),
    expected: {
      templates: [
        { template: "cfg", state: "waiting", reason: "template cfg has not reported on the current content" },
      ],
    },
    succeeded: false,
  },
  {
    name: "Compliant of an object not evaluated since its change does not count",
    replica: enforced,
    works: (replica) =>
      worksOf(replica).map((w) => reported(w, [current("cfg", "Compliant", { lastEvaluatedGeneration: 3 })])),
    expected: {
      templates: [{ template: "cfg", state: "waiting", reason: "template cfg is not evaluated yet" }],
    },
    succeeded: false,
  },
  {
    name: "no generation fed back counts as not evaluated",
    replica: enforced,
    works: (replica) =>
      worksOf(replica).map((w) =>
        reported(w, [
          current("cfg", "Compliant", { generation: undefined, lastEvaluatedGeneration: undefined }),
        ]),
      ),
    expected: {
      templates: [{ template: "cfg", state: "waiting", reason: "template cfg is not evaluated yet" }],
    },
    succeeded: false,
  },
  {
    name: "evaluated at the current revision, the same message as before: Compliant counts for enforce",
    replica: enforced,
    works: (replica) => worksOf(replica).map((w) => reported(w, [current("cfg", "Compliant")])),
    expected: { templates: [{ template: "cfg", state: "reported", compliant: "Compliant", enforce: true }] },
    succeeded: true,
  },
  {
    name: "enforce, NonCompliant at the current revision: reported but not a success",
    replica: enforced,
    works: (replica) => worksOf(replica).map((w) => reported(w, [current("cfg", "NonCompliant")])),
    expected: {
      templates: [{ template: "cfg", state: "reported", compliant: "NonCompliant", enforce: true }],
    },
    succeeded: false,
  },
  {
    name: "inform, NonCompliant at the current revision: a success",
    replica: informed,
    works: (replica) => worksOf(replica).map((w) => reported(w, [current("cfg", "NonCompliant")])),
    expected: {
      templates: [{ template: "cfg", state: "reported", compliant: "NonCompliant", enforce: false }],
    },
    succeeded: true,
  },
  {
    name: "an informOnly template of an enforced policy only informs",
    replica: replicaAt(revision, [configurationPolicy("cfg", "informOnly")], "enforce"),
    works: (replica) => worksOf(replica).map((w) => reported(w, [current("cfg", "NonCompliant")])),
    expected: {
      templates: [{ template: "cfg", state: "reported", compliant: "NonCompliant", enforce: false }],
    },
    succeeded: true,
  },
  {
    name: "without a policy remediationAction the template's own action counts",
    replica: replicaAt(revision, [configurationPolicy("cfg", "enforce")]),
    works: (replica) => worksOf(replica).map((w) => reported(w, [current("cfg", "Compliant")])),
    expected: { templates: [{ template: "cfg", state: "reported", compliant: "Compliant", enforce: true }] },
    succeeded: true,
  },
  {
    name: "a template the agent could not apply says why",
    replica: informed,
    works: (replica) =>
      worksOf(replica).map((w) =>
        reported(w, [
          {
            name: "cfg",
            applied: { status: "False", message: "no matches for kind ConfigurationPolicy" },
            revision: "rev-1",
          },
        ]),
      ),
    expected: {
      templates: [
        {
          template: "cfg",
          state: "waiting",
          reason: "template cfg could not be applied: no matches for kind ConfigurationPolicy",
        },
      ],
    },
    succeeded: false,
  },
  {
    name: "an apply failure of an older generation is history",
    replica: informed,
    works: (replica) =>
      worksOf(replica).map((w) =>
        reported(w, [current("cfg", "Compliant", { applied: { status: "False", observedGeneration: 2 } })]),
      ),
    expected: { templates: [{ template: "cfg", state: "reported", compliant: "Compliant", enforce: false }] },
    succeeded: true,
  },
  {
    name: "a kind without compliance feedback counts once applied at the work's generation",
    replica: replicaAt(revision, [configurationPolicy("cfg"), constraint], "enforce"),
    works: (replica) =>
      worksOf(replica).map((w) =>
        reported(w, [
          current("cfg", "Compliant"),
          {
            name: "needs-owner",
            kind: "K8sRequiredLabels",
            group: "constraints.gatekeeper.sh",
            applied: { status: "True" },
          },
        ]),
      ),
    expected: {
      templates: [
        { template: "cfg", state: "reported", compliant: "Compliant", enforce: true },
        { template: "needs-owner", state: "applied" },
      ],
    },
    succeeded: true,
  },
  {
    name: "a kind without compliance feedback applied at an older generation is waited for",
    replica: replicaAt(revision, [constraint], "enforce"),
    works: (replica) =>
      worksOf(replica).map((w) =>
        reported(w, [
          {
            name: "needs-owner",
            kind: "K8sRequiredLabels",
            group: "constraints.gatekeeper.sh",
            applied: { status: "True", observedGeneration: 2 },
          },
        ]),
      ),
    expected: {
      templates: [
        { template: "needs-owner", state: "waiting", reason: "template needs-owner is not applied yet" },
      ],
    },
    succeeded: false,
  },
  {
    name: "a work being deleted carries nothing",
    replica: enforced,
    works: (replica) =>
      worksOf(replica).map((w) => ({
        ...reported(w, [current("cfg", "Compliant")]),
        metadata: { ...w.metadata, deletionTimestamp: "2026-03-01T10:00:00Z" },
      })),
    expected: {
      templates: [
        { template: "cfg", state: "waiting", reason: "template cfg is not delivered to the cluster" },
      ],
    },
    succeeded: false,
  },
  {
    name: "every template must have reported",
    replica: replicaAt(revision, [configurationPolicy("a"), configurationPolicy("b")], "inform"),
    works: (replica) => worksOf(replica).map((w) => reported(w, [current("a", "Compliant")])),
    expected: {
      templates: [
        { template: "a", state: "reported", compliant: "Compliant", enforce: false },
        { template: "b", state: "waiting", reason: "template b has not reported on the current content" },
      ],
    },
    succeeded: false,
  },
];

describe("clusterEvidence", () => {
  for (const c of cases) {
    test(c.name, () => {
      const works = c.replica && c.works ? c.works(c.replica) : [];
      const evidence = clusterEvidence(c.replica, works, revision);
      assert.deepEqual(evidence, c.expected);
      assert.equal(clusterOutcome(evidence).succeeded, c.succeeded);
    });
  }
});

describe("stampRevision", () => {
  test("stamps the replica and every template, leaving the input as it was", () => {
    const input = desired([configurationPolicy("cfg"), constraint]);
    const before = structuredClone(input);
    const stamped = stampRevision(input, revision);
    assert.deepEqual(input, before);
    assert.equal(stamped.annotations[revisionKey], revision);
    assert.equal(stamped.annotations["policy.open-cluster-management.io/standards"], "NIST");
    for (const template of stamped.spec["policy-templates"])
      assert.equal(template.objectDefinition.metadata?.annotations?.[revisionKey], revision);
  });

  test("keeps a template's own annotations", () => {
    const definition = configurationPolicy("cfg");
    definition.metadata = { name: "cfg", annotations: { team: "a" } };
    const stamped = stampRevision(desired([definition]), revision);
    assert.deepEqual(stamped.spec["policy-templates"][0]!.objectDefinition.metadata?.annotations, {
      team: "a",
      [revisionKey]: revision,
    });
  });
});

describe("the works of a stamped replica", () => {
  const paths = (replica: Policy) => {
    const planned = policyWorks(replica, []);
    assert.ok(planned.ok);
    return planned.works[0]!.spec.manifestConfigs?.[0]?.feedbackRules?.[0]?.jsonPaths?.map(
      (path) => path.name,
    );
  };

  test("feed back the revision and generations the evidence reads", () => {
    assert.deepEqual(paths(enforced), [
      "compliant",
      "message",
      "lastTimestamp",
      "rolloutRevision",
      "generation",
      "lastEvaluatedGeneration",
    ]);
    const [work] = worksOf(enforced);
    const manifest = work!.spec!.workload!.manifests![0] as unknown as {
      metadata: { annotations: Record<string, string> };
    };
    assert.equal(manifest.metadata.annotations[revisionKey], revision, "the revision reaches the cluster");
  });

  test("of a replica without a rollout feed back what they always did", () => {
    const plain: Policy = { ...enforced, spec: desired([configurationPolicy("cfg")], "enforce").spec };
    assert.deepEqual(paths(plain), ["compliant", "message", "lastTimestamp"]);
  });
});
