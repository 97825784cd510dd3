import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ComplianceState, DetailsPerTemplate, Policy } from "../../api/types/policy.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { initialEventsEndAnnotation, type WatchEvent } from "../../runtime/kube/types.ts";
import {
  cellOf,
  complianceTable,
  explainCell,
  exitCodeOf,
  maxMatrixClusters,
  messageSummary,
  outputError,
  PolicyNotFoundError,
  renderFrame,
  reportOf,
  runCompliance,
  usageErrors,
  useColor,
  type ComplianceOptions,
} from "./compliance.ts";
import { formatTable } from "./get.ts";

const escape = "\x1b[";
const stripColour = (text: string) => text.replace(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, "g"), "");

interface RootShape {
  compliant?: ComplianceState;
  /** Cluster → its state in the root's status.status[] ("" = placed, nothing reported yet). */
  clusters?: Record<string, ComplianceState | "">;
  remediationAction?: "inform" | "enforce";
  disabled?: boolean;
}

function root(namespace: string, name: string, shape: RootShape = {}): Policy {
  return {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "Policy",
    metadata: { namespace, name, resourceVersion: "1" },
    spec: {
      disabled: shape.disabled ?? false,
      ...(shape.remediationAction ? { remediationAction: shape.remediationAction } : {}),
      "policy-templates": [],
    },
    status: {
      ...(shape.compliant ? { compliant: shape.compliant } : {}),
      status: Object.entries(shape.clusters ?? {}).map(([cluster, compliant]) => ({
        clustername: cluster,
        clusternamespace: cluster,
        ...(compliant ? { compliant } : {}),
      })),
    },
  };
}

function replica(
  rootNamespace: string,
  rootName: string,
  cluster: string,
  compliant: ComplianceState | undefined,
  details: DetailsPerTemplate[],
): Policy {
  return {
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "Policy",
    metadata: {
      namespace: cluster,
      name: `${rootNamespace}.${rootName}`,
      resourceVersion: "1",
      labels: {
        "policy.open-cluster-management.io/root-policy": `${rootNamespace}.${rootName}`,
        "policy.open-cluster-management.io/cluster-name": cluster,
        "policy.open-cluster-management.io/cluster-namespace": cluster,
      },
    },
    spec: { disabled: false, "policy-templates": [] },
    status: { ...(compliant ? { compliant } : {}), details },
  };
}

const template = (name: string, compliant: ComplianceState, ...history: [string, string][]) => ({
  templateMeta: { name },
  compliant,
  history: history.map(([lastTimestamp, message]) => ({ lastTimestamp, message })),
});

const fleet: Policy[] = [
  root("default", "policy-pod", {
    compliant: "NonCompliant",
    remediationAction: "inform",
    clusters: { cluster2: "NonCompliant", cluster1: "Compliant" },
  }),
  root("default", "policy-ns", {
    compliant: "Pending",
    remediationAction: "enforce",
    clusters: { cluster1: "Pending", cluster3: "" },
  }),
  replica("default", "policy-pod", "cluster2", "NonCompliant", [
    template(
      "pod-example",
      "NonCompliant",
      ["2026-12-06T20:00:00Z", "NonCompliant; violation - pods [nginx] not found in namespace default"],
      ["2026-12-06T19:00:00Z", "Compliant; notification - pods [nginx] found as specified"],
    ),
  ]),
];

describe("reportOf", () => {
  it("reports roots only, sorted, with each root's clusters sorted", () => {
    assert.deepEqual(reportOf(fleet), {
      policies: [
        {
          namespace: "default",
          name: "policy-ns",
          compliant: "Pending",
          remediationAction: "enforce",
          disabled: false,
          clusters: [{ cluster: "cluster1", compliant: "Pending" }, { cluster: "cluster3" }],
        },
        {
          namespace: "default",
          name: "policy-pod",
          compliant: "NonCompliant",
          remediationAction: "inform",
          disabled: false,
          clusters: [
            { cluster: "cluster1", compliant: "Compliant" },
            {
              cluster: "cluster2",
              compliant: "NonCompliant",
              message: "NonCompliant; violation - pods [nginx] not found in namespace default",
            },
          ],
        },
      ],
    });
  });

  const cases: { name: string; policy: Policy; expected: unknown }[] = [
    {
      name: "no status at all",
      policy: { ...root("ns", "p"), status: undefined },
      expected: { namespace: "ns", name: "p", disabled: false, clusters: [] },
    },
    {
      name: "disabled: no clusters, no aggregate",
      policy: root("ns", "p", { disabled: true }),
      expected: { namespace: "ns", name: "p", disabled: true, clusters: [] },
    },
    {
      name: "an entry without a cluster name is left out",
      policy: {
        ...root("ns", "p"),
        status: { status: [{ compliant: "Compliant" }, { clustername: "c1", compliant: "Compliant" }] },
      },
      expected: {
        namespace: "ns",
        name: "p",
        disabled: false,
        clusters: [{ cluster: "c1", compliant: "Compliant" }],
      },
    },
  ];
  for (const { name, policy, expected } of cases) {
    it(name, () => assert.deepEqual(reportOf([policy]).policies[0], expected));
  }
});

describe("messageSummary", () => {
  const cases: { name: string; details: DetailsPerTemplate[]; expected: string }[] = [
    { name: "no details", details: [], expected: "" },
    { name: "no history yet", details: [{ templateMeta: { name: "t" } }], expected: "" },
    {
      name: "one template: its newest message, whatever the stored order",
      details: [
        template(
          "t",
          "Compliant",
          ["2026-01-01T00:00:00Z", "NonCompliant; old"],
          ["2026-01-02T00:00:00Z", "Compliant; new"],
        ),
      ],
      expected: "Compliant; new",
    },
    {
      name: "several templates: each named, on one line",
      details: [
        template("a", "Compliant", ["2026-01-01T00:00:00Z", "Compliant; fine\nreally"]),
        template("b", "NonCompliant", ["2026-01-01T00:00:00Z", "NonCompliant; broken"]),
        { templateMeta: { name: "c" } },
      ],
      expected: "a: Compliant; fine really | b: NonCompliant; broken",
    },
  ];
  for (const { name, details, expected } of cases) {
    it(name, () => assert.equal(messageSummary(replica("ns", "p", "c1", undefined, details)), expected));
  }
});

describe("complianceTable", () => {
  it("prints a matrix of policies × clusters: state, '-' when unreported, blank when not placed", () => {
    assert.deepEqual(complianceTable(reportOf(fleet), { color: false }).split("\n"), [
      "NAMESPACE   POLICY       REMEDIATION   COMPLIANCE     cluster1    cluster2       cluster3",
      "default     policy-ns    enforce       Pending        Pending                    -",
      "default     policy-pod   inform        NonCompliant   Compliant   NonCompliant",
    ]);
  });

  it("adds DISABLED only when a listed policy is disabled", () => {
    const report = reportOf([
      root("ns", "off", { disabled: true }),
      root("ns", "on", { compliant: "Compliant", clusters: { c1: "Compliant" } }),
    ]);
    assert.deepEqual(complianceTable(report, { color: false }).split("\n"), [
      "NAMESPACE   POLICY   REMEDIATION   COMPLIANCE   DISABLED   c1",
      "ns          off                    -            true",
      "ns          on                     Compliant    false      Compliant",
    ]);
  });

  it("says so when there is nothing to list", () => {
    assert.equal(complianceTable({ policies: [] }, { color: false }), "No Policies found.");
  });

  const many = Object.fromEntries(
    Array.from({ length: maxMatrixClusters + 1 }, (_, i) => [
      `c${String(i).padStart(2, "0")}`,
      "Compliant" as const,
    ]),
  );
  const layouts: { name: string; policies: Policy[]; wide: boolean; header: string; rows: number }[] = [
    {
      name: `${maxMatrixClusters} clusters still fit a matrix`,
      policies: [root("ns", "p", { clusters: Object.fromEntries(Object.entries(many).slice(1)) })],
      wide: false,
      header: "NAMESPACE   POLICY   REMEDIATION   COMPLIANCE   c01",
      rows: 1,
    },
    {
      name: `${maxMatrixClusters + 1} clusters switch to one row per policy and cluster`,
      policies: [root("ns", "p", { clusters: many })],
      wide: false,
      header: "NAMESPACE   POLICY   CLUSTER   COMPLIANCE",
      rows: maxMatrixClusters + 1,
    },
    {
      name: "wide is always the long form, with messages",
      policies: [root("ns", "p", { clusters: { c1: "Compliant" } })],
      wide: true,
      header: "NAMESPACE   POLICY   CLUSTER   COMPLIANCE   MESSAGE",
      rows: 1,
    },
  ];
  for (const { name, policies, wide, header, rows } of layouts) {
    it(name, () => {
      const lines = complianceTable(reportOf(policies), { color: false, wide }).split("\n");
      assert.ok(lines[0]!.startsWith(header), lines[0]);
      assert.equal(lines.length, rows + 1);
    });
  }

  it("wide shows each cluster's messages and a row for an unplaced policy", () => {
    const report = reportOf([...fleet, root("other", "nowhere"), root("other", "off", { disabled: true })]);
    assert.deepEqual(complianceTable(report, { color: false, wide: true }).split("\n"), [
      "NAMESPACE   POLICY       CLUSTER    COMPLIANCE     MESSAGE",
      "default     policy-ns    cluster1   Pending",
      "default     policy-ns    cluster3   -",
      "default     policy-pod   cluster1   Compliant",
      "default     policy-pod   cluster2   NonCompliant   NonCompliant; violation - pods [nginx] not found in namespace default",
      "other       nowhere      <none>     -",
      "other       off          <none>     Disabled",
    ]);
  });

  for (const wide of [false, true]) {
    it(`piped output has no escape codes and coloured output keeps its alignment (wide=${wide})`, () => {
      const report = reportOf(fleet);
      const plain = complianceTable(report, { color: false, wide });
      const coloured = complianceTable(report, { color: true, wide });
      assert.ok(!plain.includes(escape));
      assert.ok(coloured.includes(`${escape}31mNonCompliant${escape}0m`));
      assert.ok(coloured.includes(`${escape}32mCompliant${escape}0m`));
      assert.ok(coloured.includes(`${escape}33mPending${escape}0m`));
      assert.equal(stripColour(coloured), plain);
    });
  }

  it("colours only compliance columns, not a policy that happens to be named like a state", () => {
    const coloured = complianceTable(reportOf([root("ns", "Compliant")]), { color: true });
    assert.ok(!coloured.includes(escape), coloured);
  });

  it("without colour it is exactly get's table layout", () => {
    const report = reportOf(fleet);
    assert.equal(
      complianceTable(report, { color: false }),
      formatTable(
        ["NAMESPACE", "POLICY", "REMEDIATION", "COMPLIANCE", "cluster1", "cluster2", "cluster3"],
        [
          ["default", "policy-ns", "enforce", "Pending", "Pending", "", "-"],
          ["default", "policy-pod", "inform", "NonCompliant", "Compliant", "NonCompliant", ""],
        ],
      ),
    );
  });
});

describe("exitCodeOf", () => {
  const cases: { states: (ComplianceState | undefined)[]; expected: number }[] = [
    { states: [], expected: 0 },
    { states: ["Compliant", "Compliant"], expected: 0 },
    { states: ["Compliant", "Pending", undefined], expected: 0 },
    { states: ["Compliant", "NonCompliant"], expected: 3 },
  ];
  for (const { states, expected } of cases) {
    it(`${JSON.stringify(states)} → ${expected}`, () => {
      const policies = states.map((compliant, i) => root("ns", `p${i}`, compliant ? { compliant } : {}));
      assert.equal(exitCodeOf(reportOf(policies)), expected);
    });
  }
});

describe("explainCell", () => {
  const podRoot = fleet[0]!;
  const podReplica = fleet[2]!;

  it("lists each template's state and history, newest first", () => {
    const shuffled = replica("default", "policy-pod", "cluster2", "NonCompliant", [
      template(
        "pod-example",
        "NonCompliant",
        ["2026-12-06T19:00:00Z", "Compliant; notification - pods [nginx] found as specified"],
        ["2026-12-06T20:00:00Z", "NonCompliant; violation - pods [nginx] not found in namespace default"],
      ),
      { templateMeta: { name: "quiet" } },
    ]);
    assert.deepEqual(explainCell(cellOf(podRoot, "cluster2", shuffled), { color: false }).split("\n"), [
      "Policy default/policy-pod on cluster cluster2: NonCompliant",
      "",
      "Template pod-example: NonCompliant",
      "  2026-12-06T20:00:00Z   NonCompliant; violation - pods [nginx] not found in namespace default",
      "  2026-12-06T19:00:00Z   Compliant; notification - pods [nginx] found as specified",
      "",
      "Template quiet: no status yet",
      "  no history yet",
    ]);
  });

  const cases: { name: string; cluster: string; policy: Policy; replica?: Policy; expected: string }[] = [
    {
      name: "no replica: not placed, and where it is",
      cluster: "cluster9",
      policy: podRoot,
      expected:
        "Policy default/policy-pod is not placed on cluster cluster9; it is placed on cluster1, cluster2.",
    },
    {
      name: "no replica and no placement",
      cluster: "cluster1",
      policy: root("ns", "lonely"),
      expected: "Policy ns/lonely is not placed on cluster cluster1; it is placed on no cluster.",
    },
    {
      name: "a replica that has reported nothing yet",
      cluster: "cluster3",
      policy: fleet[1]!,
      replica: replica("default", "policy-ns", "cluster3", undefined, []),
      expected:
        "Policy default/policy-ns on cluster cluster3: no status yet\n\nNo template has reported yet.",
    },
  ];
  for (const { name, cluster, policy, replica: copy, expected } of cases) {
    it(name, () => assert.equal(explainCell(cellOf(policy, cluster, copy), { color: false }), expected));
  }

  it("shows each template's related objects as the cluster reported them, diffs indented", () => {
    const withTwo = replica("default", "policy-pod", "cluster2", "NonCompliant", [
      template("pod-example", "NonCompliant", [
        "2026-12-06T20:00:00Z",
        "NonCompliant; violation - pods [nginx] found but not as specified in namespace default",
      ]),
      template("labels", "Compliant", [
        "2026-12-06T20:00:00Z",
        "Compliant; notification - namespaces [a] found as specified",
      ]),
      template("gone", "Compliant", ["2026-12-06T20:00:00Z", "Compliant; x"]),
      template("broken", "Compliant", ["2026-12-06T20:00:00Z", "Compliant; y"]),
    ]);
    const cell = cellOf(podRoot, "cluster2", withTwo, {
      state: "read",
      templates: [
        {
          template: "pod-example",
          state: "read",
          more: true,
          objects: [
            {
              compliant: "NonCompliant",
              kind: "Pod",
              name: "nginx",
              namespace: "default",
              reason: "Resource found but does not match",
              diff: "--- default/nginx : existing\n+++ default/nginx : updated\n@@ -1 +1 @@\n-image: a\n+image: b\n",
            },
            {
              compliant: "Compliant",
              kind: "Namespace",
              name: "default",
              reason: "Resource found as expected",
            },
          ],
        },
        { template: "labels", state: "read", more: false, objects: [] },
        { template: "gone", state: "missing" },
        { template: "broken", state: "error", message: "Fetching resource failed: forbidden" },
      ],
    });
    assert.deepEqual(explainCell(cell, { color: false }).split("\n"), [
      "Policy default/policy-pod on cluster cluster2: NonCompliant",
      "",
      "Template pod-example: NonCompliant",
      "  2026-12-06T20:00:00Z   NonCompliant; violation - pods [nginx] found but not as specified in namespace default",
      "  related objects:",
      "    NonCompliant  Pod default/nginx  Resource found but does not match",
      "        --- default/nginx : existing",
      "        +++ default/nginx : updated",
      "        @@ -1 +1 @@",
      "        -image: a",
      "        +image: b",
      "    Compliant     Namespace default  Resource found as expected",
      "    … and more: only the first 20 are read",
      "",
      "Template labels: Compliant",
      "  2026-12-06T20:00:00Z   Compliant; notification - namespaces [a] found as specified",
      "  related objects: none",
      "",
      "Template gone: Compliant",
      "  2026-12-06T20:00:00Z   Compliant; x",
      "  related objects: the cluster has no such policy (not delivered yet, or removed)",
      "",
      "Template broken: Compliant",
      "  2026-12-06T20:00:00Z   Compliant; y",
      "  related objects: not read: Fetching resource failed: forbidden",
    ]);
    const json = JSON.parse(JSON.stringify(cell)) as { templates: { relatedObjects?: unknown }[] };
    assert.equal((json.templates[0]?.relatedObjects as { objects: unknown[] }).objects.length, 2);
  });

  it("says why the related objects were not read, and what was left behind", () => {
    const cell = cellOf(podRoot, "cluster2", podReplica, {
      state: "not-read",
      reason: "cluster cluster2 did not answer within 15 s (is its agent running and connected?)",
      templates: [],
      leftBehind:
        "ManifestWork cluster2/bosun-related-objects-1 could not be deleted (forbidden); a later read removes it",
    });
    const lines = explainCell(cell, { color: false }).split("\n");
    assert.equal(
      lines.at(-1),
      "Related objects not read: cluster cluster2 did not answer within 15 s (is its agent running and connected?); ManifestWork cluster2/bosun-related-objects-1 could not be deleted (forbidden); a later read removes it",
    );
    assert.equal(
      cellOf(podRoot, "cluster2", podReplica, { state: "read", templates: [] }).relatedObjectsNotRead,
      undefined,
    );
  });

  it("colours states only when asked", () => {
    const cell = cellOf(podRoot, "cluster2", podReplica);
    assert.ok(!explainCell(cell, { color: false }).includes(escape));
    assert.ok(explainCell(cell, { color: true }).includes(`${escape}31mNonCompliant${escape}0m`));
  });
});

describe("usage", () => {
  const outputs: { value: string; ok: boolean }[] = [
    { value: "table", ok: true },
    { value: "wide", ok: true },
    { value: "json", ok: true },
    { value: "yaml", ok: true },
    { value: "xml", ok: false },
    { value: "", ok: false },
  ];
  for (const { value, ok } of outputs) {
    it(`-o ${JSON.stringify(value)} is ${ok ? "accepted" : "refused, naming the allowed values"}`, () => {
      const error = outputError(value);
      if (ok) assert.equal(error, undefined);
      else
        assert.equal(
          error,
          `-o/--output must be one of table, wide, json, yaml, not ${JSON.stringify(value)}`,
        );
    });
  }

  const combinations: { name: string; input: Parameters<typeof usageErrors>[0]; problems: number }[] = [
    { name: "nothing", input: { output: "table" }, problems: 0 },
    {
      name: "a policy in a namespace on a cluster",
      input: { output: "json", namespace: "ns", policy: "p", cluster: "c" },
      problems: 0,
    },
    { name: "-n with -A", input: { output: "table", namespace: "ns", allNamespaces: true }, problems: 1 },
    { name: "a policy with -A", input: { output: "table", policy: "p", allNamespaces: true }, problems: 1 },
    { name: "--cluster without a policy", input: { output: "table", cluster: "c" }, problems: 1 },
    {
      name: "everything wrong",
      input: { output: "x", cluster: "c", namespace: "n", allNamespaces: true },
      problems: 3,
    },
  ];
  for (const { name, input, problems } of combinations) {
    it(`${name}: ${problems} problem(s)`, () => assert.equal(usageErrors(input).length, problems));
  }
});

describe("useColor", () => {
  const cases: { isTTY: boolean | undefined; noColor: string | undefined; expected: boolean }[] = [
    { isTTY: true, noColor: undefined, expected: true },
    { isTTY: true, noColor: "", expected: true },
    { isTTY: true, noColor: "1", expected: false },
    { isTTY: false, noColor: undefined, expected: false },
    { isTTY: undefined, noColor: undefined, expected: false },
  ];
  for (const { isTTY, noColor, expected } of cases) {
    it(`isTTY=${isTTY} NO_COLOR=${JSON.stringify(noColor)} → ${expected}`, () =>
      assert.equal(useColor(isTTY, noColor), expected));
  }
});

describe("renderFrame", () => {
  const base: ComplianceOptions = { output: "table", color: false };

  it("lists the default namespace unless told otherwise", () => {
    const policies = [...fleet, root("elsewhere", "p", { compliant: "Compliant" })];
    assert.ok(!renderFrame(policies, base).text.includes("elsewhere"));
    assert.ok(renderFrame(policies, { ...base, allNamespaces: true }).text.includes("elsewhere"));
    assert.deepEqual(renderFrame(policies, { ...base, namespace: "elsewhere", output: "json" }), {
      text: JSON.stringify(
        {
          policies: [
            { namespace: "elsewhere", name: "p", compliant: "Compliant", disabled: false, clusters: [] },
          ],
        },
        null,
        2,
      ),
      exitCode: 0,
    });
  });

  it("exits 3 when a listed policy is NonCompliant, 0 when only the compliant one is listed", () => {
    assert.equal(renderFrame(fleet, base).exitCode, 3);
    assert.equal(renderFrame(fleet, { ...base, policy: "policy-ns" }).exitCode, 0);
  });

  it("prints the structured report as YAML", () => {
    const { text } = renderFrame(fleet, { ...base, policy: "policy-ns", output: "yaml" });
    assert.equal(
      text,
      [
        "policies:",
        "  - namespace: default",
        "    name: policy-ns",
        "    compliant: Pending",
        "    remediationAction: enforce",
        "    disabled: false",
        "    clusters:",
        "      - cluster: cluster1",
        "        compliant: Pending",
        "      - cluster: cluster3",
      ].join("\n"),
    );
  });

  it("a missing root names its namespace and name", () => {
    assert.throws(
      () => renderFrame(fleet, { ...base, policy: "absent", namespace: "prod" }),
      (error: unknown) =>
        error instanceof PolicyNotFoundError &&
        error.message === 'no Policy named "absent" in namespace "prod" on the hub',
    );
  });

  it("explains one cell, exiting 3 when it is NonCompliant", () => {
    const frame = renderFrame(fleet, { ...base, policy: "policy-pod", cluster: "cluster2" });
    assert.equal(frame.exitCode, 3);
    assert.ok(frame.text.startsWith("Policy default/policy-pod on cluster cluster2: NonCompliant\n"));
    const json = JSON.parse(
      renderFrame(fleet, { ...base, policy: "policy-pod", cluster: "cluster1", output: "json" }).text,
    ) as { placed: boolean; placedOn: string[] };
    assert.equal(json.placed, false);
    assert.deepEqual(json.placedOn, ["cluster1", "cluster2"]);
  });
});

/** A hub holding Policies in memory; watches see the changes made through `change`. */
function memoryHub(initial: Policy[]) {
  const objects = new Map(
    initial.map((policy) => [`${policy.metadata.namespace}/${policy.metadata.name}`, policy]),
  );
  const watchers = new Set<(event: WatchEvent<Policy>) => void>();
  const calls: string[] = [];
  const matches = (policy: Policy, selector: string | undefined) => {
    if (!selector) return true;
    const labels = policy.metadata.labels ?? {};
    if (selector.startsWith("!")) return labels[selector.slice(1)] === undefined;
    const [key, value] = selector.split("=");
    return value === undefined ? labels[key!] !== undefined : labels[key!] === value;
  };
  const selected = (policy: Policy, options: { namespace?: string; labelSelector?: string }) =>
    (options.namespace === undefined || policy.metadata.namespace === options.namespace) &&
    matches(policy, options.labelSelector);
  const client = {
    getOrUndefined(ref: { namespace?: string; name?: string }) {
      calls.push(`get ${ref.namespace}/${ref.name}`);
      return Promise.resolve(objects.get(`${ref.namespace}/${ref.name}`));
    },
    listAll(
      _apiVersion: string,
      _kind: string,
      options: { namespace?: string; labelSelector?: string } = {},
    ) {
      calls.push(`list ${options.namespace ?? "*"} ${options.labelSelector ?? ""}`);
      return Promise.resolve({
        items: [...objects.values()].filter((policy) => selected(policy, options)),
        resourceVersion: "1",
      });
    },
    async *watch(
      _apiVersion: string,
      _kind: string,
      options: {
        namespace?: string;
        labelSelector?: string;
        signal?: AbortSignal;
        sendInitialEvents?: boolean;
      } = {},
    ) {
      const queue: WatchEvent<Policy>[] = [];
      // A streamed list: what is there now, then the bookmark that ends it.
      if (options.sendInitialEvents) {
        calls.push(`list ${options.namespace ?? "*"} ${options.labelSelector ?? ""}`);
        for (const policy of objects.values())
          if (selected(policy, options)) queue.push({ type: "ADDED", object: policy });
        queue.push({
          type: "BOOKMARK",
          object: {
            metadata: { resourceVersion: "1", annotations: { [initialEventsEndAnnotation]: "true" } },
          } as unknown as Policy,
        });
      }
      let wake: (() => void) | undefined;
      const push = (event: WatchEvent<Policy>) => {
        if (!selected(event.object, options)) return;
        queue.push(event);
        wake?.();
      };
      watchers.add(push);
      options.signal?.addEventListener("abort", () => wake?.(), { once: true });
      try {
        while (!options.signal?.aborted) {
          if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          while (queue.length > 0) yield queue.shift()!;
        }
      } finally {
        watchers.delete(push);
      }
    },
  };
  return {
    client: client as unknown as KubeApi,
    calls,
    change(policy: Policy) {
      objects.set(`${policy.metadata.namespace}/${policy.metadata.name}`, policy);
      for (const watcher of watchers) watcher({ type: "MODIFIED", object: policy });
    },
  };
}

/** Collects what is written and lets a test wait until some number of writes arrived. */
function collector() {
  const writes: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    writes,
    write(text: string) {
      writes.push(text);
      for (const waiter of waiters.filter((w) => writes.length >= w.count)) waiter.resolve();
    },
    until(count: number): Promise<void> {
      if (writes.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
}

describe("runCompliance", () => {
  it("reads only root Policies for the table and returns the exit code", async () => {
    const hub = memoryHub(fleet);
    const out = collector();
    const code = await runCompliance(hub.client, { output: "table", color: false }, out);
    assert.equal(code, 3);
    assert.deepEqual(hub.calls, ["list default !policy.open-cluster-management.io/root-policy"]);
    assert.equal(out.writes.join(""), `${complianceTable(reportOf(fleet), { color: false })}\n`);
  });

  it("reads the named policy's replicas for -o wide", async () => {
    const hub = memoryHub(fleet);
    const out = collector();
    await runCompliance(hub.client, { output: "wide", color: false, policy: "policy-pod" }, out);
    assert.deepEqual(hub.calls, [
      "get default/policy-pod",
      "list * policy.open-cluster-management.io/root-policy=default.policy-pod",
    ]);
    assert.match(out.writes.join(""), /cluster2 {3}NonCompliant {3}NonCompliant; violation/);
  });

  it("explains a cell from the replica in the cluster's namespace", async () => {
    const hub = memoryHub(fleet);
    const out = collector();
    const code = await runCompliance(
      hub.client,
      { output: "table", color: false, policy: "policy-pod", cluster: "cluster2" },
      out,
    );
    assert.equal(code, 3);
    assert.deepEqual(hub.calls, ["get default/policy-pod", "get cluster2/default.policy-pod"]);
    assert.match(out.writes.join(""), /Template pod-example: NonCompliant/);
  });

  it("rejects with PolicyNotFoundError when the root does not exist", async () => {
    const hub = memoryHub(fleet);
    await assert.rejects(
      runCompliance(hub.client, { output: "table", color: false, policy: "absent" }, collector()),
      PolicyNotFoundError,
    );
  });

  it(
    "watches: prints at once, again when a policy changes, and stops when aborted",
    { timeout: 60_000 },
    async () => {
      const hub = memoryHub(fleet);
      const out = collector();
      const stop = new AbortController();
      const running = runCompliance(
        hub.client,
        { output: "table", color: false, watch: true, signal: stop.signal },
        out,
      );
      const podRow = (frame: string) =>
        frame
          .split("\n")
          .find((line) => line.includes("policy-pod"))
          ?.split(/\s+/);
      try {
        await out.until(1);
        assert.deepEqual(podRow(out.writes[0]!), [
          "default",
          "policy-pod",
          "inform",
          "NonCompliant",
          "Compliant",
          "NonCompliant",
        ]);
        const fixed = root("default", "policy-pod", {
          compliant: "Compliant",
          remediationAction: "inform",
          clusters: { cluster1: "Compliant", cluster2: "Compliant" },
        });
        // The watch may open after a change; keep changing until a second print shows one.
        let version = 1;
        const nudge = setInterval(() => {
          fixed.metadata.resourceVersion = String(++version);
          hub.change(structuredClone(fixed));
        }, 50);
        try {
          await out.until(2);
        } finally {
          clearInterval(nudge);
        }
        assert.ok(out.writes[1]!.startsWith("\n"), "frames are separated by a blank line");
        assert.deepEqual(podRow(out.writes[1]!), [
          "default",
          "policy-pod",
          "inform",
          "Compliant",
          "Compliant",
          "Compliant",
        ]);
      } finally {
        stop.abort();
      }
      assert.equal(await running, 0, "the last print had nothing NonCompliant");
      assert.equal(out.writes.length, 2, "changes that leave the table as it was print nothing");
    },
  );
});
