import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Condition } from "../../api/types/meta.ts";
import type {
  ComplianceHistory,
  ComplianceState,
  DetailsPerTemplate,
  Policy,
  PolicyStatus,
  PolicyTemplate,
} from "../../api/types/policy.ts";
import type { FeedbackValue, Manifest, ManifestCondition, ManifestWork } from "../../api/types/work.ts";
import { manifestIdentity } from "../work/manifest.ts";
import { policyWorks, type TemplateProblem } from "./policy-works.ts";
import {
  applyErrorMessage,
  complianceEventName,
  complianceFromMessage,
  feedbackMessage,
  gatekeeperAudit,
  gatekeeperMessage,
  nothingToReport,
  policyCompliance,
  replicaStatus,
  replicaStatusDiffers,
  templateFeedback,
  type TemplateFeedback,
} from "./replica-status.ts";

const C = "cluster1";
const NOW = new Date("2024-01-01T01:00:00.000Z");

const cp = (name: string, pad = 0): PolicyTemplate["objectDefinition"] => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "ConfigurationPolicy",
  metadata: { name },
  spec: { remediationAction: "inform", ...(pad ? { pad: "x".repeat(pad) } : {}) },
});

const replica = (names: string[], status?: PolicyStatus, pad = 0): Policy => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "Policy",
  metadata: { name: "default.p", namespace: C },
  spec: { disabled: false, "policy-templates": names.map((name) => ({ objectDefinition: cp(name, pad) })) },
  ...(status ? { status } : {}),
});

const condition = (
  type: string,
  status: "True" | "False",
  reason: string,
  message = "",
  observedGeneration?: number,
): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: "2024-01-01T00:00:00Z",
  ...(observedGeneration !== undefined ? { observedGeneration } : {}),
});

const strings = (values: Record<string, string>): FeedbackValue[] =>
  Object.entries(values).map(([name, string]) => ({ name, fieldValue: { type: "String", string } }));

interface EntryStatus {
  applied?: boolean;
  applyMessage?: string;
  observedGeneration?: number;
  values?: FeedbackValue[];
}

/** A status entry for a manifest, as the agent writes one. */
function entry(
  manifest: Manifest | Record<string, unknown>,
  ordinal: number,
  status: EntryStatus,
): ManifestCondition {
  const id = manifestIdentity(manifest);
  const conditions: Condition[] = [];
  if (status.applied !== undefined) {
    conditions.push(
      status.applied
        ? condition(
            "Applied",
            "True",
            "AppliedManifestComplete",
            "Apply manifest complete",
            status.observedGeneration ?? 1,
          )
        : condition(
            "Applied",
            "False",
            "AppliedManifestFailed",
            status.applyMessage ?? "",
            status.observedGeneration ?? 1,
          ),
    );
  }
  return {
    resourceMeta: {
      ordinal,
      group: id.group,
      version: id.version,
      kind: id.kind,
      resource: "configurationpolicies",
      name: id.name,
      namespace: id.namespace,
    },
    ...(status.values ? { statusFeedback: { values: status.values } } : {}),
    conditions,
  };
}

const cpManifest = (name: string): Manifest => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "ConfigurationPolicy",
  metadata: { name, namespace: C },
});

function work(
  name: string,
  manifests: Manifest[],
  statuses: (EntryStatus & { of: Manifest })[],
  options: {
    generation?: number;
    waiting?: boolean;
    labels?: Record<string, string>;
    deleting?: boolean;
  } = {},
): ManifestWork {
  return {
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "ManifestWork",
    metadata: {
      name,
      namespace: C,
      generation: options.generation ?? 1,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}),
    },
    spec: { workload: { manifests } },
    status: {
      conditions: options.waiting
        ? [condition("Applied", "False", "EarlierPartsNotApplied", "waits", options.generation ?? 1)]
        : [],
      resourceStatus: { manifests: statuses.map((s, i) => entry(s.of, i, s)) },
    },
  };
}

const reported = (compliant: string, message: string, lastTimestamp: string) =>
  strings({ compliant, message, lastTimestamp });

describe("templateFeedback", () => {
  it("reads the Applied condition and feedback values of every carried template", () => {
    const a = cpManifest("a");
    const b = cpManifest("b");
    const c = cpManifest("c");
    const result = templateFeedback([
      work(
        "policy.default.p",
        [a, b, c],
        [
          {
            of: a,
            applied: true,
            values: reported("Compliant", "Compliant; notification - ok", "2024-01-01T00:00:05.000001Z"),
          },
          { of: b, applied: false, applyMessage: "Failed to apply manifest: boom" },
        ],
      ),
    ]);
    assert.deepEqual(
      [...result],
      [
        [
          "ConfigurationPolicy/a",
          {
            name: "a",
            kind: "ConfigurationPolicy",
            group: "policy.open-cluster-management.io",
            applied: true,
            compliant: "Compliant",
            message: "Compliant; notification - ok",
            lastTimestamp: "2024-01-01T00:00:05.000001Z",
          },
        ],
        [
          "ConfigurationPolicy/b",
          {
            name: "b",
            kind: "ConfigurationPolicy",
            group: "policy.open-cluster-management.io",
            applied: false,
            applyMessage: "Failed to apply manifest: boom",
          },
        ],
        [
          "ConfigurationPolicy/c",
          {
            name: "c",
            kind: "ConfigurationPolicy",
            group: "policy.open-cluster-management.io",
            applied: undefined,
          },
        ],
      ],
    );
  });

  const appliedCases: {
    name: string;
    status: EntryStatus;
    options?: { generation?: number; waiting?: boolean };
    want: boolean | undefined;
  }[] = [
    {
      name: "Applied of the current generation",
      status: { applied: true, observedGeneration: 2 },
      options: { generation: 2 },
      want: true,
    },
    {
      name: "Applied of an older generation is not known yet",
      status: { applied: true, observedGeneration: 1 },
      options: { generation: 2 },
      want: undefined,
    },
    {
      name: "a failure of an older generation is not known yet",
      status: { applied: false, observedGeneration: 1 },
      options: { generation: 2 },
      want: undefined,
    },
    {
      name: "a part waiting for earlier parts is not a failure",
      status: { applied: false },
      options: { waiting: true },
      want: undefined,
    },
    { name: "no Applied condition yet", status: {}, want: undefined },
  ];
  for (const c of appliedCases) {
    it(c.name, () => {
      const a = cpManifest("a");
      const result = templateFeedback([work("w", [a], [{ of: a, ...c.status }], c.options)]);
      assert.equal(result.get("ConfigurationPolicy/a")?.applied, c.want);
    });
  }

  it("keeps feedback values of a stale generation (they come from the live object)", () => {
    const a = cpManifest("a");
    const result = templateFeedback([
      work(
        "w",
        [a],
        [{ of: a, applied: true, observedGeneration: 1, values: strings({ compliant: "NonCompliant" }) }],
        { generation: 3 },
      ),
    ]);
    assert.equal(result.get("ConfigurationPolicy/a")?.compliant, "NonCompliant");
  });

  it("ignores values that are not strings", () => {
    const a = cpManifest("a");
    const values: FeedbackValue[] = [
      { name: "compliant", fieldValue: { type: "Boolean", boolean: true } },
      { name: "message", fieldValue: { type: "JsonRaw", jsonRaw: '"x"' } },
    ];
    const result = templateFeedback([work("w", [a], [{ of: a, applied: true, values }])]);
    assert.deepEqual(result.get("ConfigurationPolicy/a"), {
      name: "a",
      kind: "ConfigurationPolicy",
      group: "policy.open-cluster-management.io",
      applied: true,
    });
  });

  it("reads a template from the part that carries it now, not a stale entry of its old part", () => {
    const a = cpManifest("a");
    const b = cpManifest("b");
    const old = work(
      "policy.default.p",
      [a],
      [
        { of: a, applied: true, values: strings({ compliant: "Compliant" }) },
        {
          of: b,
          applied: true,
          values: reported("NonCompliant", "NonCompliant; old", "2024-01-01T00:00:01Z"),
        },
      ],
    );
    const moved = work("policy.default.p-part-1", [b], [], { labels: { "work.bosun.dev/part-index": "1" } });
    const result = templateFeedback([moved, old]);
    assert.deepEqual(result.get("ConfigurationPolicy/b"), {
      name: "b",
      kind: "ConfigurationPolicy",
      group: "policy.open-cluster-management.io",
      applied: undefined,
    });
    assert.equal(result.get("ConfigurationPolicy/a")?.compliant, "Compliant");
  });

  it("prefers the work that reports a template carried twice (while a move settles)", () => {
    const a = cpManifest("a");
    const result = templateFeedback([
      work("one", [a], []),
      work("two", [a], [{ of: a, applied: true, values: strings({ compliant: "Compliant" }) }]),
    ]);
    assert.equal(result.get("ConfigurationPolicy/a")?.compliant, "Compliant");
  });

  it("ignores works being deleted", () => {
    const a = cpManifest("a");
    const result = templateFeedback([work("w", [a], [{ of: a, applied: true }], { deleting: true })]);
    assert.equal(result.size, 0);
  });
});

describe("compliance messages", () => {
  const fromMessage: [string, ComplianceState][] = [
    ["Compliant; notification - ok", "Compliant"],
    ["compliant; lower case", "Compliant"],
    ["NonCompliant; violation - x", "NonCompliant"],
    ["Pending; Dependencies were not satisfied: 1 is still pending (Policy p)", "Pending"],
    ["(combined from similar events): Compliant; ok", "Compliant"],
    ["  Pending; spaced", "Pending"],
    ["Terminating; deleting", "NonCompliant"],
    ["anything else", "NonCompliant"],
    ["", "NonCompliant"],
  ];
  for (const [message, want] of fromMessage) {
    it(`complianceFromMessage(${JSON.stringify(message)}) is ${want}`, () =>
      assert.equal(complianceFromMessage(message), want));
  }

  const feedbackCases: [string | undefined, string | undefined, string | undefined][] = [
    ["NonCompliant", "NonCompliant; violation - x", "NonCompliant; violation - x"],
    ["Compliant", "compliant; already prefixed", "compliant; already prefixed"],
    ["Compliant", "notification - ok", "Compliant; notification - ok"],
    [undefined, "Pending; prefixed without a state", "Pending; prefixed without a state"],
    ["NonCompliant", undefined, "NonCompliant"],
    [undefined, "ComplianceState is still unknown", undefined],
    [undefined, undefined, undefined],
    ["", "no state", undefined],
  ];
  for (const [compliant, message, want] of feedbackCases) {
    it(`feedbackMessage(${compliant}, ${message}) is ${want}`, () =>
      assert.equal(feedbackMessage(compliant, message), want));
  }

  const applyCases: [string, string][] = [
    [
      'Failed to apply manifest: the server doesn\'t have a resource type "ConfigurationPolicy"',
      'template-error; Mapping not found, check if you have the CRD deployed: the server doesn\'t have a resource type "ConfigurationPolicy"',
    ],
    [
      'no matches for kind "OperatorPolicy" in version "policy.open-cluster-management.io/v1beta1"',
      'template-error; Mapping not found, check if you have the CRD deployed: no matches for kind "OperatorPolicy" in version "policy.open-cluster-management.io/v1beta1"',
    ],
    [
      "Failed to apply manifest: admission webhook denied the request",
      "template-error; Failed to create policy template: admission webhook denied the request",
    ],
    ["", "template-error; Failed to create policy template: "],
  ];
  for (const [message, want] of applyCases) {
    it(`applyErrorMessage(${JSON.stringify(message)})`, () => assert.equal(applyErrorMessage(message), want));
  }

  it("names events as OCM does", () => {
    assert.equal(complianceEventName("default.p", 255n), "default.p.ff");
    assert.equal(complianceEventName("default.p", 1704067205123456000n), "default.p.17a6101832c6bc00");
  });
});

describe("policyCompliance", () => {
  const d = (...states: (ComplianceState | undefined)[]): DetailsPerTemplate[] =>
    states.map((compliant, i) => ({ templateMeta: { name: `t${i}` }, ...(compliant ? { compliant } : {}) }));
  const cases: {
    name: string;
    details: DetailsPerTemplate[];
    previous?: ComplianceState;
    want: ComplianceState | undefined;
  }[] = [
    { name: "all Compliant", details: d("Compliant", "Compliant"), want: "Compliant" },
    {
      name: "one NonCompliant beats Pending and unknown",
      details: d("Pending", undefined, "NonCompliant"),
      want: "NonCompliant",
    },
    { name: "Pending beats Compliant", details: d("Compliant", "Pending"), want: "Pending" },
    {
      name: "Pending beats unknown",
      details: d(undefined, "Pending"),
      previous: "Compliant",
      want: "Pending",
    },
    {
      name: "some without status keep the previous value",
      details: d("Compliant", undefined),
      previous: "NonCompliant",
      want: "NonCompliant",
    },
    { name: "nothing known and no previous value", details: d(undefined), want: undefined },
    { name: "no templates", details: [], want: "Compliant" },
  ];
  for (const c of cases) it(c.name, () => assert.equal(policyCompliance(c.details, c.previous), c.want));
});

const T5 = "2024-01-01T00:00:05.123456Z";
const T5_NANOS = 1704067205123456000n;

function feedbackOf(entries: Record<string, Partial<TemplateFeedback>>): Map<string, TemplateFeedback> {
  return new Map(
    Object.entries(entries).map(([name, fb]) => [
      `ConfigurationPolicy/${name}`,
      { name, kind: "ConfigurationPolicy", applied: true, ...fb },
    ]),
  );
}

const history = (message: string, lastTimestamp: string, nanos?: bigint): ComplianceHistory => ({
  lastTimestamp,
  message,
  ...(nanos !== undefined ? { eventName: complianceEventName("default.p", nanos) } : {}),
});

describe("replicaStatus", () => {
  it("records the first feedback of a template, stamped by the agent", () => {
    const result = replicaStatus(
      replica(["a"]),
      feedbackOf({
        a: { compliant: "Compliant", message: "Compliant; notification - ok", lastTimestamp: T5 },
      }),
      [],
      NOW,
    );
    const entry = {
      lastTimestamp: "2024-01-01T00:00:05Z",
      message: "Compliant; notification - ok",
      eventName: complianceEventName("default.p", T5_NANOS),
    };
    assert.deepEqual(result.status, {
      compliant: "Compliant",
      details: [{ templateMeta: { name: "a" }, compliant: "Compliant", history: [entry] }],
    });
    assert.deepEqual(result.added, [
      {
        template: "a",
        compliant: "Compliant",
        message: "Compliant; notification - ok",
        timestamp: entry.lastTimestamp,
        eventName: entry.eventName,
      },
    ]);
  });

  it("adds nothing when the feedback is already recorded", () => {
    const feedback = feedbackOf({
      a: { compliant: "Compliant", message: "Compliant; ok", lastTimestamp: T5 },
    });
    const first = replicaStatus(replica(["a"]), feedback, [], NOW);
    const second = replicaStatus(
      replica(["a"], first.status),
      feedback,
      [],
      new Date(NOW.getTime() + 60_000),
    );
    assert.deepEqual(second.added, []);
    assert.deepEqual(second.status, first.status);
    assert.equal(replicaStatusDiffers(first.status, second.status), false);
  });

  it("puts a new message first and takes the template's compliance from it", () => {
    const previous: PolicyStatus = {
      compliant: "Compliant",
      details: [
        {
          templateMeta: { name: "a" },
          compliant: "Compliant",
          history: [history("Compliant; ok", "2024-01-01T00:00:01Z", 1704067201000000000n)],
        },
      ],
    };
    const result = replicaStatus(
      replica(["a"], previous),
      feedbackOf({
        a: { compliant: "NonCompliant", message: "NonCompliant; violation - gone", lastTimestamp: T5 },
      }),
      [],
      NOW,
    );
    const detail = result.status.details![0]!;
    assert.equal(detail.compliant, "NonCompliant");
    assert.deepEqual(
      detail.history!.map((h) => h.message),
      ["NonCompliant; violation - gone", "Compliant; ok"],
    );
    assert.equal(result.status.compliant, "NonCompliant");
    assert.equal(result.added.length, 1);
  });

  it("records a return to an earlier message at a new time", () => {
    const previous: PolicyStatus = {
      details: [
        {
          templateMeta: { name: "a" },
          history: [
            history("NonCompliant; bad", "2024-01-01T00:00:03Z", 1704067203000000000n),
            history("Compliant; ok", "2024-01-01T00:00:01Z", 1704067201000000000n),
          ],
        },
      ],
    };
    const result = replicaStatus(
      replica(["a"], previous),
      feedbackOf({ a: { message: "Compliant; ok", lastTimestamp: T5 } }),
      [],
      NOW,
    );
    assert.deepEqual(
      result.status.details![0]!.history!.map((h) => h.lastTimestamp),
      ["2024-01-01T00:00:05Z", "2024-01-01T00:00:03Z", "2024-01-01T00:00:01Z"],
    );
  });

  it("records a return to an earlier message within the same second", () => {
    // Compliant, NonCompliant, Compliant again, all within one second: the last report is news,
    // though the history has the same message stamped in that second.
    const previous: PolicyStatus = {
      details: [
        {
          templateMeta: { name: "a" },
          history: [
            history("NonCompliant; bad", "2024-01-01T00:00:05Z", 1704067205500000000n),
            history("Compliant; ok", "2024-01-01T00:00:05Z", 1704067205200000000n),
          ],
        },
      ],
    };
    const result = replicaStatus(
      replica(["a"], previous),
      feedbackOf({ a: { message: "Compliant; ok", lastTimestamp: "2024-01-01T00:00:05.900000Z" } }),
      [],
      NOW,
    );
    const detail = result.status.details![0]!;
    assert.deepEqual(
      detail.history!.map((h) => h.message),
      ["Compliant; ok", "NonCompliant; bad", "Compliant; ok"],
    );
    assert.equal(detail.compliant, "Compliant");
    assert.equal(result.status.compliant, "Compliant");
    assert.equal(result.added.length, 1);
  });

  it("does not record again an agent report already recorded, though newer entries came since", () => {
    const previous: PolicyStatus = {
      details: [
        {
          templateMeta: { name: "a" },
          history: [
            history("NonCompliant; template-error; bad", "2024-01-01T00:00:07Z", 1704067207000000000n),
            history("Compliant; ok", "2024-01-01T00:00:05Z", 1704067205900000000n),
          ],
        },
      ],
    };
    const result = replicaStatus(
      replica(["a"], previous),
      feedbackOf({ a: { message: "Compliant; ok", lastTimestamp: "2024-01-01T00:00:05.900000Z" } }),
      [],
      NOW,
    );
    assert.deepEqual(result.added, []);
    assert.equal(result.status.details![0]!.compliant, "NonCompliant");
  });

  it("keeps at most ten entries, dropping the oldest", () => {
    const old = Array.from({ length: 10 }, (_, i) =>
      history(
        `NonCompliant; ${i}`,
        `2024-01-01T00:00:0${i}Z`,
        1704067200000000000n + BigInt(i) * 1_000_000_000n,
      ),
    );
    const previous: PolicyStatus = {
      details: [{ templateMeta: { name: "a" }, history: [...old].reverse() }],
    };
    const result = replicaStatus(
      replica(["a"], previous),
      feedbackOf({ a: { message: "Compliant; new", lastTimestamp: "2024-01-01T00:00:30Z" } }),
      [],
      NOW,
    );
    const messages = result.status.details![0]!.history!.map((h) => h.message);
    assert.equal(messages.length, 10);
    assert.equal(messages[0], "Compliant; new");
    assert.equal(messages.at(-1), "NonCompliant; 1");
  });

  it("sorts a previous history that is out of order, newest first", () => {
    const previous: PolicyStatus = {
      details: [
        {
          templateMeta: { name: "a" },
          history: [
            history("Compliant; old", "2024-01-01T00:00:01Z"),
            history("NonCompliant; newer", "2024-01-01T00:00:02Z"),
          ],
        },
      ],
    };
    const result = replicaStatus(replica(["a"], previous), new Map(), [], NOW);
    assert.deepEqual(
      result.status.details![0]!.history!.map((h) => h.message),
      ["NonCompliant; newer", "Compliant; old"],
    );
    assert.equal(result.status.details![0]!.compliant, "NonCompliant");
  });

  const candidateCases: { name: string; feedback: Partial<TemplateFeedback>; message: string | undefined }[] =
    [
      {
        name: "prefixes the agent's message when it lacks the state",
        feedback: { compliant: "Compliant", message: "notification - ok" },
        message: "Compliant; notification - ok",
      },
      {
        name: "uses the state alone without a message",
        feedback: { compliant: "NonCompliant" },
        message: "NonCompliant",
      },
      {
        name: "records nothing while the state is unknown",
        feedback: { message: "ComplianceState is still unknown" },
        message: undefined,
      },
      { name: "records nothing before any status", feedback: { applied: undefined }, message: undefined },
      {
        name: "reports a manifest the agent could not apply as a template error",
        feedback: {
          applied: false,
          applyMessage:
            'Failed to apply manifest: the server doesn\'t have a resource type "ConfigurationPolicy"',
          compliant: "Compliant",
          message: "Compliant; stale",
        },
        message:
          'NonCompliant; template-error; Mapping not found, check if you have the CRD deployed: the server doesn\'t have a resource type "ConfigurationPolicy"',
      },
    ];
  for (const c of candidateCases) {
    it(c.name, () => {
      const result = replicaStatus(replica(["a"]), feedbackOf({ a: c.feedback }), [], NOW);
      const detail = result.status.details![0]!;
      assert.equal(detail.history?.[0]?.message, c.message);
      if (c.message === undefined) {
        assert.deepEqual(detail, { templateMeta: { name: "a" } });
        assert.deepEqual(result.added, []);
        assert.equal(result.status.compliant, undefined);
      }
    });
  }

  it("stamps the hub's verdicts with now, once", () => {
    const problems: TemplateProblem[] = [
      {
        index: 0,
        name: "a",
        compliant: "Pending",
        message: "Dependencies were not satisfied: 1 is still pending (Policy default.o)",
      },
    ];
    const first = replicaStatus(replica(["a"]), new Map(), problems, NOW);
    assert.deepEqual(first.status.details![0]!.history, [
      {
        lastTimestamp: "2024-01-01T01:00:00Z",
        message: "Pending; Dependencies were not satisfied: 1 is still pending (Policy default.o)",
        eventName: complianceEventName("default.p", BigInt(NOW.getTime()) * 1_000_000n),
      },
    ]);
    assert.equal(first.status.compliant, "Pending");
    const later = replicaStatus(
      replica(["a"], first.status),
      new Map(),
      problems,
      new Date(NOW.getTime() + 5000),
    );
    assert.deepEqual(later.added, []);
    assert.equal(replicaStatusDiffers(first.status, later.status), false);
  });

  it("a problem wins over what the works still say of the template", () => {
    const problems: TemplateProblem[] = [
      { index: 0, name: "a", compliant: "NonCompliant", message: "template-error; x" },
    ];
    const result = replicaStatus(
      replica(["a"]),
      feedbackOf({ a: { compliant: "Compliant", message: "Compliant; ok" } }),
      problems,
      NOW,
    );
    assert.equal(result.status.details![0]!.history![0]!.message, "NonCompliant; template-error; x");
  });

  it("an ignorePending template counts as Compliant", () => {
    const problems: TemplateProblem[] = [
      {
        index: 1,
        name: "b",
        compliant: "Compliant",
        message: "Dependencies were not satisfied: 1 is still pending (Policy o) but ignorePending is true",
      },
    ];
    const result = replicaStatus(
      replica(["a", "b"]),
      feedbackOf({ a: { message: "Compliant; ok", lastTimestamp: T5 } }),
      problems,
      NOW,
    );
    assert.equal(result.status.compliant, "Compliant");
  });

  it("places what a template reports now first, even when the agent's clock is behind", () => {
    const previous: PolicyStatus = {
      details: [
        {
          templateMeta: { name: "a" },
          history: [history("Pending; waiting", "2024-01-01T01:00:00Z", BigInt(NOW.getTime()) * 1_000_000n)],
        },
      ],
    };
    const result = replicaStatus(
      replica(["a"], previous),
      feedbackOf({ a: { message: "Compliant; ok", lastTimestamp: "2024-01-01T00:59:50.000000Z" } }),
      [],
      new Date(NOW.getTime() + 1000),
    );
    const detail = result.status.details![0]!;
    assert.deepEqual(
      detail.history!.map((h) => h.message),
      ["Compliant; ok", "Pending; waiting"],
    );
    assert.equal(detail.compliant, "Compliant");
    // Once recorded it stays recorded.
    const again = replicaStatus(
      replica(["a"], result.status),
      feedbackOf({ a: { message: "Compliant; ok", lastTimestamp: "2024-01-01T00:59:50.000000Z" } }),
      [],
      new Date(NOW.getTime() + 2000),
    );
    assert.deepEqual(again.added, []);
  });

  it("finds previous details by name when templates are reordered, and drops removed ones", () => {
    const previous: PolicyStatus = {
      compliant: "NonCompliant",
      details: [
        {
          templateMeta: { name: "a" },
          compliant: "Compliant",
          history: [history("Compliant; a", "2024-01-01T00:00:01Z")],
        },
        {
          templateMeta: { name: "gone" },
          compliant: "NonCompliant",
          history: [history("NonCompliant; g", "2024-01-01T00:00:01Z")],
        },
        {
          templateMeta: { name: "b" },
          compliant: "Compliant",
          history: [history("Compliant; b", "2024-01-01T00:00:01Z")],
        },
      ],
    };
    const result = replicaStatus(replica(["b", "a"], previous), new Map(), [], NOW);
    assert.deepEqual(
      result.status.details!.map((d) => [d.templateMeta?.name, d.history?.[0]?.message]),
      [
        ["b", "Compliant; b"],
        ["a", "Compliant; a"],
      ],
    );
    assert.equal(result.status.compliant, "Compliant");
  });

  it("keeps the previous policy compliance while a new template has no status", () => {
    const previous: PolicyStatus = {
      compliant: "NonCompliant",
      details: [
        {
          templateMeta: { name: "a" },
          compliant: "Compliant",
          history: [history("Compliant; a", "2024-01-01T00:00:01Z")],
        },
      ],
    };
    const result = replicaStatus(replica(["a", "new"], previous), new Map(), [], NOW);
    assert.equal(result.status.compliant, "NonCompliant");
    assert.deepEqual(result.status.details![1], { templateMeta: { name: "new" } });
  });

  it("names a template without a name as OCM does", () => {
    const policy = replica(["a"]);
    policy.spec["policy-templates"][0]!.objectDefinition = { kind: "ConfigurationPolicy" };
    const problems: TemplateProblem[] = [
      { index: 0, name: "template-0", compliant: "NonCompliant", message: "template-error; m" },
    ];
    const result = replicaStatus(policy, new Map(), problems, NOW);
    assert.equal(result.status.details![0]!.templateMeta?.name, "template-0");
    assert.equal(result.status.compliant, "NonCompliant");
  });

  it("lists the added entries oldest first across templates", () => {
    const result = replicaStatus(
      replica(["a", "b", "c"]),
      feedbackOf({
        a: { message: "Compliant; a", lastTimestamp: "2024-01-01T00:00:09Z" },
        b: { message: "Compliant; b", lastTimestamp: "2024-01-01T00:00:02Z" },
      }),
      [{ index: 2, name: "c", compliant: "Pending", message: "p" }],
      NOW,
    );
    assert.deepEqual(
      result.added.map((a) => a.template),
      ["b", "a", "c"],
    );
  });

  it("does not change the replica", () => {
    const previous: PolicyStatus = {
      details: [{ templateMeta: { name: "a" }, history: [history("Compliant; a", "2024-01-01T00:00:01Z")] }],
    };
    const policy = replica(["a"], previous);
    const before = structuredClone(policy);
    replicaStatus(policy, feedbackOf({ a: { message: "NonCompliant; b", lastTimestamp: T5 } }), [], NOW);
    assert.deepEqual(policy, before);
  });
});

describe("from works to status", () => {
  /** The works policyWorks writes, with the status an agent reports for each template. */
  function reportedWorks(
    policy: Policy,
    limit: number,
    report: (name: string) => EntryStatus,
  ): ManifestWork[] {
    const result = policyWorks(policy, [], limit);
    assert.ok(result.ok);
    return result.works.map((part) => {
      const manifests = part.spec.workload?.manifests ?? [];
      return work(
        part.name,
        manifests,
        manifests.map((m) => ({ of: m, ...report(m.metadata.name!) })),
        { labels: part.labels },
      );
    });
  }

  it("reads every template of a split replica from its parts", () => {
    const names = ["a", "b", "c", "d", "e", "f"];
    const policy = replica(names, undefined, 400);
    const works = reportedWorks(policy, 2000, (name) => ({
      applied: true,
      values: reported(
        name === "d" ? "NonCompliant" : "Compliant",
        `${name === "d" ? "NonCompliant" : "Compliant"}; ${name}`,
        T5,
      ),
    }));
    assert.ok(works.length > 1);
    const result = replicaStatus(policy, templateFeedback(works), [], NOW);
    assert.deepEqual(
      result.status.details!.map((d) => [d.templateMeta?.name, d.compliant]),
      [
        ["a", "Compliant"],
        ["b", "Compliant"],
        ["c", "Compliant"],
        ["d", "NonCompliant"],
        ["e", "Compliant"],
        ["f", "Compliant"],
      ],
    );
    assert.equal(result.status.compliant, "NonCompliant");
    assert.equal(result.added.length, 6);
  });

  it("a template moved to another part keeps its history until the new part reports it", () => {
    const a = cpManifest("a");
    const b = cpManifest("b");
    const before = [
      work(
        "policy.default.p",
        [a, b],
        [
          { of: a, applied: true, values: reported("Compliant", "Compliant; a", T5) },
          { of: b, applied: true, values: reported("Compliant", "Compliant; b", T5) },
        ],
      ),
    ];
    const first = replicaStatus(replica(["a", "b"]), templateFeedback(before), [], NOW);
    assert.equal(first.status.compliant, "Compliant");

    // b moves to part 1: part 0's status still lists it, part 1 has not reported yet.
    const moving = [
      work(
        "policy.default.p",
        [a],
        [
          { of: a, applied: true, values: reported("Compliant", "Compliant; a", T5) },
          {
            of: b,
            applied: true,
            values: reported("NonCompliant", "NonCompliant; stale", "2024-01-01T00:00:07Z"),
          },
        ],
      ),
      work("policy.default.p-part-1", [b], [], { labels: { "work.bosun.dev/part-index": "1" } }),
    ];
    const during = replicaStatus(replica(["a", "b"], first.status), templateFeedback(moving), [], NOW);
    assert.deepEqual(during.added, []);
    assert.equal(during.status.compliant, "Compliant");

    const settled = [
      moving[0]!,
      work(
        "policy.default.p-part-1",
        [b],
        [
          {
            of: b,
            applied: true,
            values: reported("NonCompliant", "NonCompliant; violation - b", "2024-01-01T00:00:08Z"),
          },
        ],
        { labels: { "work.bosun.dev/part-index": "1" } },
      ),
    ];
    const after = replicaStatus(replica(["a", "b"], during.status), templateFeedback(settled), [], NOW);
    assert.deepEqual(
      after.added.map((a) => [a.template, a.message]),
      [["b", "NonCompliant; violation - b"]],
    );
    assert.equal(after.status.compliant, "NonCompliant");
  });
});

describe("replicaStatusDiffers", () => {
  const base: PolicyStatus = {
    compliant: "Compliant",
    details: [
      {
        templateMeta: { name: "a" },
        compliant: "Compliant",
        history: [history("Compliant; a", "2024-01-01T00:00:01Z")],
      },
    ],
  };
  const cases: { name: string; a: PolicyStatus | undefined; b: PolicyStatus | undefined; want: boolean }[] = [
    { name: "equal", a: base, b: structuredClone(base), want: false },
    {
      name: "key order does not matter",
      a: base,
      b: {
        details: [
          {
            history: [{ message: "Compliant; a", lastTimestamp: "2024-01-01T00:00:01Z" }],
            compliant: "Compliant",
            templateMeta: { name: "a" },
          },
        ],
        compliant: "Compliant",
      },
      want: false,
    },
    { name: "compliance differs", a: base, b: { ...base, compliant: "NonCompliant" }, want: true },
    {
      name: "history differs",
      a: base,
      b: { ...base, details: [{ ...base.details![0]!, history: [] }] },
      want: true,
    },
    { name: "no status and an empty one", a: undefined, b: {}, want: false },
    { name: "no status and some", a: undefined, b: base, want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(replicaStatusDiffers(c.a, c.b), c.want));
});

describe("nothingToReport", () => {
  const names: PolicyStatus = { details: [{ templateMeta: { name: "a" } }, { templateMeta: { name: "b" } }] };
  const reported: PolicyStatus = {
    compliant: "NonCompliant",
    details: [
      {
        templateMeta: { name: "a" },
        compliant: "NonCompliant",
        history: [history("NonCompliant; violation - a", "2024-01-01T00:00:01Z")],
      },
      { templateMeta: { name: "b" } },
    ],
  };
  const cases: { name: string; previous: PolicyStatus | undefined; next: PolicyStatus; want: boolean }[] = [
    { name: "a new replica whose templates only have names", previous: undefined, next: names, want: true },
    { name: "an empty status before", previous: {}, next: names, want: true },
    { name: "a first report", previous: undefined, next: reported, want: false },
    {
      name: "a compliance without history",
      previous: undefined,
      next: { compliant: "Pending", details: [] },
      want: false,
    },
    { name: "names written before (kept up to date)", previous: names, next: names, want: false },
    { name: "a report before, names now", previous: reported, next: names, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(nothingToReport(c.previous, c.next), c.want));
});

describe("Gatekeeper constraints", () => {
  const constraint: Manifest = {
    apiVersion: "constraints.gatekeeper.sh/v1beta1",
    kind: "K8sRequiredLabels",
    metadata: { name: "ns-must-have-owner" },
  };
  const integer = (name: string, value: number): FeedbackValue => ({
    name,
    fieldValue: { type: "Integer", integer: value },
  });
  const violation = (index: number, fields: Record<string, string>) =>
    strings(
      Object.fromEntries(
        Object.entries(fields).map(([field, value]) => [`violation-${index}-${field}`, value]),
      ),
    );

  const cases: { name: string; values: FeedbackValue[]; message: string | undefined }[] = [
    { name: "no audit posted yet: nothing to say", values: [], message: undefined },
    {
      name: "an audit without violations",
      values: [integer("totalViolations", 0)],
      message: "Compliant; The constraint has no violations",
    },
    {
      name: "a namespaced and a cluster-scoped violation, in the audit's order",
      values: [
        integer("totalViolations", 2),
        ...violation(0, {
          enforcementAction: "warn",
          message: 'you must provide labels: {"owner"}',
          kind: "ConfigMap",
          namespace: "shop",
          name: "settings",
        }),
        ...violation(1, {
          enforcementAction: "warn",
          message: 'you must provide labels: {"owner"}',
          kind: "Namespace",
          name: "shop",
        }),
      ],
      message:
        'NonCompliant; warn - you must provide labels: {"owner"} (on ConfigMap shop/settings); ' +
        'warn - you must provide labels: {"owner"} (on Namespace shop)',
    },
    {
      // As OCM: the listed violations decide, not the count.
      name: "violations counted but none listed",
      values: [integer("totalViolations", 3)],
      message: "Compliant; The constraint has no violations",
    },
  ];
  for (const { name, values, message } of cases) {
    it(`words the compliance as OCM's gatekeeper sync: ${name}`, () => {
      const audit = gatekeeperAudit(values);
      assert.equal(audit && gatekeeperMessage(audit), message);
      const feedback = templateFeedback([
        work("policy.default.p", [constraint], [{ of: constraint, applied: true, values }]),
      ]).get("K8sRequiredLabels/ns-must-have-owner");
      assert.deepEqual(feedback?.audit, audit);
    });
  }

  it("records the constraint's compliance in the replica's history", () => {
    const audit = gatekeeperAudit([
      integer("totalViolations", 1),
      ...violation(0, { enforcementAction: "deny", message: "no", kind: "Pod", namespace: "a", name: "b" }),
    ])!;
    const feedback = new Map<string, TemplateFeedback>([
      [
        "K8sRequiredLabels/ns-must-have-owner",
        { name: "ns-must-have-owner", kind: "K8sRequiredLabels", applied: true, audit },
      ],
    ]);
    const templates = [{ objectDefinition: { ...constraint, spec: {} } }] as unknown as PolicyTemplate[];
    const root = replica([]);
    const withConstraint = { ...root, spec: { ...root.spec, "policy-templates": templates } };
    const result = replicaStatus(withConstraint, feedback, [], NOW);
    assert.equal(result.status.compliant, "NonCompliant");
    assert.equal(result.status.details?.[0]?.history?.[0]?.message, "NonCompliant; deny - no (on Pod a/b)");
  });
});

describe("Gatekeeper templates the cluster applied or could not", () => {
  const cases: { name: string; feedback: Partial<TemplateFeedback>; message: string }[] = [
    {
      name: "a ConstraintTemplate applied",
      feedback: { kind: "ConstraintTemplate", group: "templates.gatekeeper.sh", applied: true },
      message: "Compliant; ConstraintTemplate t was created successfully",
    },
    {
      name: "a ConstraintTemplate on a cluster without Gatekeeper",
      feedback: {
        kind: "ConstraintTemplate",
        group: "templates.gatekeeper.sh",
        applied: false,
        applyMessage:
          'Failed to apply manifest: the server doesn\'t have a resource type "constrainttemplates"',
      },
      message:
        'NonCompliant; template-error; Mapping not found, check if Gatekeeper is installed: the server doesn\'t have a resource type "constrainttemplates"',
    },
    {
      name: "a constraint whose ConstraintTemplate is not there",
      feedback: {
        kind: "K8sRequiredLabels",
        group: "constraints.gatekeeper.sh",
        applied: false,
        applyMessage: 'Failed to apply manifest: no matches for kind "K8sRequiredLabels"',
      },
      message:
        'NonCompliant; template-error; Mapping not found, check if the required ConstraintTemplate has been deployed: no matches for kind "K8sRequiredLabels"',
    },
  ];
  for (const { name, feedback, message } of cases) {
    it(name, () => {
      const kind = feedback.kind!;
      const definition = { apiVersion: `${feedback.group}/v1`, kind, metadata: { name: "t" }, spec: {} };
      const root = replica([]);
      const withTemplate = {
        ...root,
        spec: { ...root.spec, "policy-templates": [{ objectDefinition: definition }] },
      } as unknown as typeof root;
      const result = replicaStatus(
        withTemplate,
        new Map([[`${kind}/t`, { name: "t", applied: undefined, ...feedback } as TemplateFeedback]]),
        [],
        NOW,
      );
      assert.equal(result.status.details?.[0]?.history?.[0]?.message, message);
    });
  }
});
