import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { ManagedCluster, ManagedClusterSet, ManagedClusterSetBinding } from "../../api/types/cluster.ts";
import type { Condition, KubeObject } from "../../api/types/meta.ts";
import type { Placement, PlacementDecision } from "../../api/types/placement.ts";
import type { Policy } from "../../api/types/policy.ts";
import type { ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import { ManualClock } from "../../test/support/manual-clock.ts";
import { MemoryKube } from "../../test/support/memory-kube.ts";
import { eventually } from "../../test/support/wait.ts";
import {
  clusterSetTable,
  clusterTable,
  decisionGroupLabel,
  decisionTable,
  placementTable,
  renderTable,
  rowContext,
  scopeOf,
  workTable,
  type GetRequest,
  type TableSpec,
} from "./get-tables.ts";
import { humanAge, policiesTable, replicaSetsTable, runGet, worksTable } from "./get.ts";

const created = "2026-12-06T19:00:00Z";
const now = Date.parse("2026-12-06T20:00:00Z");

const condition = (type: string, status: "True" | "False" | "Unknown", reason = ""): Condition => ({
  type,
  status,
  reason,
  message: "",
  lastTransitionTime: "2026-12-06T20:00:00Z",
});

const lines = <T extends KubeObject>(
  spec: TableSpec<T>,
  objects: T[],
  options: { wide?: boolean; withNamespace?: boolean } = {},
  related: Parameters<typeof rowContext>[1] = {},
) => renderTable(spec, objects, rowContext(now, related), options).split("\n");

const cluster = (
  name: string,
  labels: Record<string, string>,
  extra: Partial<ManagedCluster> = {},
): ManagedCluster => ({
  apiVersion: "cluster.open-cluster-management.io/v1",
  kind: "ManagedCluster",
  metadata: { name, labels, creationTimestamp: created },
  ...extra,
});

describe("get clusters", () => {
  const clusters = [
    cluster(
      "east",
      { "cluster.open-cluster-management.io/clusterset": "prod" },
      {
        spec: {
          hubAcceptsClient: true,
          managedClusterClientConfigs: [{ url: "https://east:6443" }],
          taints: [{ key: "maintenance", effect: "NoSelect" }],
        },
        status: {
          conditions: [
            condition("ManagedClusterJoined", "True"),
            condition("ManagedClusterConditionAvailable", "True"),
          ],
          version: { kubernetes: "v1.36.3" },
          capacity: { cpu: "8", memory: "32Gi" },
          clusterClaims: [{ name: "region.open-cluster-management.io", value: "eu" }],
        },
      },
    ),
    cluster("west", {}),
  ];

  it("shows acceptance, conditions, set, version, capacity, claims and age", () =>
    assert.deepEqual(lines(clusterTable, clusters), [
      "NAME   ACCEPTED   JOINED   AVAILABLE   CLUSTERSET   KUBERNETES   CPU   MEMORY   CLAIMS                                 AGE",
      "east   true       True     True        prod         v1.36.3      8     32Gi     region.open-cluster-management.io=eu   60m",
      "west   false                                                                                                           60m",
    ]));

  it("-o wide adds the URLs and taints", () =>
    assert.deepEqual(
      lines(clusterTable, clusters, { wide: true })[1]
        ?.split(/\s{3,}/)
        .slice(-3),
      ["60m", "https://east:6443", "maintenance:NoSelect"],
    ));
});

describe("get clustersets", () => {
  const set = (name: string, spec?: ManagedClusterSet["spec"]): ManagedClusterSet => ({
    apiVersion: "cluster.open-cluster-management.io/v1beta2",
    kind: "ManagedClusterSet",
    metadata: { name, creationTimestamp: created },
    ...(spec ? { spec } : {}),
    status: { conditions: [condition("ClusterSetEmpty", name === "empty" ? "True" : "False")] },
  });
  const binding = (namespace: string, clusterSet: string): ManagedClusterSetBinding => ({
    apiVersion: "cluster.open-cluster-management.io/v1beta2",
    kind: "ManagedClusterSetBinding",
    metadata: { name: clusterSet, namespace },
    spec: { clusterSet },
  });
  const sets = [
    set("prod"),
    set("eu", {
      clusterSelector: { selectorType: "LabelSelector", labelSelector: { matchLabels: { region: "eu" } } },
    }),
    set("global", { clusterSelector: { selectorType: "LabelSelector", labelSelector: {} } }),
    set("broken", {
      clusterSelector: {
        selectorType: "LabelSelector",
        labelSelector: { matchExpressions: [{ key: "region", operator: "In" as const }] },
      },
    }),
    set("empty"),
  ];
  const related = {
    clusters: [
      cluster("a", { "cluster.open-cluster-management.io/clusterset": "prod", region: "eu" }),
      cluster("b", { "cluster.open-cluster-management.io/clusterset": "prod", region: "us" }),
      cluster("c", { region: "eu" }),
    ],
    bindings: [binding("team-b", "prod"), binding("team-a", "prod"), binding("team-a", "global")],
  };

  it("counts each set's clusters by its selector and lists the namespaces bound to it", () =>
    assert.deepEqual(lines(clusterSetTable, sets, {}, related), [
      "NAME     SELECTOR TYPE              CLUSTERS    BINDINGS        AGE",
      "broken   LabelSelector              <invalid>                   60m",
      "empty    ExclusiveClusterSetLabel   0                           60m",
      "eu       LabelSelector              2                           60m",
      "global   LabelSelector              3           team-a          60m",
      "prod     ExclusiveClusterSetLabel   2           team-a,team-b   60m",
    ]));

  it("-o wide adds the effective selector and the Empty condition", () => {
    const wide = lines(clusterSetTable, sets, { wide: true }, related);
    assert.match(wide[0]!, /AGE\s+SELECTOR\s+EMPTY$/);
    assert.match(wide[3]!, /60m\s+region=eu\s+False$/);
    assert.match(wide[2]!, /60m\s+cluster\.open-cluster-management\.io\/clusterset=empty\s+True$/);
  });
});

describe("get placements", () => {
  const placement = (name: string, status?: Placement["status"]): Placement => ({
    apiVersion: "cluster.open-cluster-management.io/v1beta1",
    kind: "Placement",
    metadata: { name, namespace: "default", creationTimestamp: created },
    spec: { clusterSets: ["prod", "eu"] },
    ...(status ? { status } : {}),
  });
  const placements = [
    placement("canary", {
      numberOfSelectedClusters: 3,
      conditions: [condition("PlacementSatisfied", "True", "AllDecisionsScheduled")],
      decisionGroups: [
        {
          decisionGroupIndex: 0,
          decisionGroupName: "canary",
          decisions: ["canary-decision-1"],
          clusterCount: 1,
        },
        { decisionGroupIndex: 1, decisionGroupName: "", decisions: ["canary-decision-2"], clusterCount: 2 },
      ],
    }),
    placement("new"),
  ];

  it("shows PlacementSatisfied, the selected count, the reason and age", () =>
    assert.deepEqual(lines(placementTable, placements), [
      "NAME     SUCCEEDED   SELECTED   REASON                  AGE",
      "canary   True        3          AllDecisionsScheduled   60m",
      "new                  0                                  60m",
    ]));

  it("-o wide adds the cluster sets and the decision groups; -A the namespace", () =>
    assert.deepEqual(lines(placementTable, placements, { wide: true, withNamespace: true }), [
      "NAMESPACE   NAME     SUCCEEDED   SELECTED   REASON                  AGE   CLUSTERSETS   DECISION GROUPS",
      "default     canary   True        3          AllDecisionsScheduled   60m   prod,eu       canary=1,#1=2",
      "default     new                  0                                  60m   prod,eu",
    ]));
});

describe("get decisions", () => {
  const decision = (name: string, group: string, index: string, clusters: string[]): PlacementDecision => ({
    apiVersion: "cluster.open-cluster-management.io/v1beta1",
    kind: "PlacementDecision",
    metadata: {
      name,
      namespace: "default",
      creationTimestamp: created,
      labels: {
        "cluster.open-cluster-management.io/placement": "canary",
        "cluster.open-cluster-management.io/decision-group-name": group,
        "cluster.open-cluster-management.io/decision-group-index": index,
      },
    },
    status: { decisions: clusters.map((clusterName) => ({ clusterName, reason: "" })) },
  });

  it("shows the placement, the group (its index when unnamed) and the clusters", () =>
    assert.deepEqual(
      lines(
        decisionTable,
        [
          decision("canary-decision-2", "", "1", ["b", "c"]),
          decision("canary-decision-1", "canary", "0", ["a"]),
        ],
        {
          wide: true,
        },
      ),
      [
        "NAME                PLACEMENT   GROUP    CLUSTERS   AGE   DECISIONS",
        "canary-decision-1   canary      canary   1          60m   a",
        "canary-decision-2   canary      #1       2          60m   b,c",
      ],
    ));

  const labels: [string | undefined, number | string | undefined, string][] = [
    ["canary", 0, "canary"],
    ["", 2, "#2"],
    [undefined, "0", "#0"],
    [undefined, undefined, ""],
  ];
  for (const [name, index, expected] of labels)
    it(`group ${JSON.stringify(name)} at ${String(index)} is ${JSON.stringify(expected)}`, () =>
      assert.equal(decisionGroupLabel(name, index), expected));
});

describe("get works", () => {
  const works: ManifestWork[] = [
    {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: {
        name: "bundle-part-1",
        namespace: "cluster1",
        creationTimestamp: created,
        labels: {
          "work.open-cluster-management.io/manifestworkreplicaset": "default.bundle",
          "work.open-cluster-management.io/placementname": "eu",
          "work.bosun.dev/part-index": "1",
          "work.bosun.dev/part-count": "3",
        },
      },
      spec: {
        workload: { manifests: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }] },
        deleteOption: { propagationPolicy: "Orphan" },
      },
      status: { conditions: [condition("Applied", "True"), condition("Available", "False")] },
    },
    {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name: "plain", namespace: "cluster2", deletionTimestamp: "2026-12-06T20:00:00Z" },
      spec: {},
    },
  ];

  it("shows each work's cluster, replica set, part, manifest count, conditions and age", () =>
    assert.deepEqual(worksTable(works, { nowMs: now }).split("\n"), [
      "CLUSTER    NAME            REPLICASET       PART   MANIFESTS   APPLIED   AVAILABLE   STATE      AGE",
      "cluster1   bundle-part-1   default.bundle   2/3    1           True      False                  60m",
      "cluster2   plain                                   0                                 Deleting   <unknown>",
    ]));

  it("leaves the cluster column out for one cluster; -o wide adds placement and delete option", () =>
    assert.deepEqual(lines(workTable, [works[0]!], { wide: true }), [
      "NAME            REPLICASET       PART   MANIFESTS   APPLIED   AVAILABLE   STATE   AGE   PLACEMENT   DELETE OPTION",
      "bundle-part-1   default.bundle   2/3    1           True      False               60m   eu          Orphan",
    ]));
});

describe("get replicasets", () => {
  it("shows the placements, the summary and the rollout", () => {
    const sets: ManifestWorkReplicaSet[] = [
      {
        apiVersion: "work.open-cluster-management.io/v1alpha1",
        kind: "ManifestWorkReplicaSet",
        metadata: { name: "bundle", namespace: "default", creationTimestamp: created },
        spec: { placementRefs: [{ name: "eu" }, { name: "us" }], cascadeDeletionPolicy: "Background" },
        status: {
          summary: { total: 3, applied: 2, available: 1, progressing: 1, degraded: 0 },
          conditions: [
            condition("PlacementRolledOut", "False", "Progressing"),
            condition("ManifestworkApplied", "False", "Processing"),
          ],
        },
      },
    ];
    assert.deepEqual(replicaSetsTable(sets, { nowMs: now, wide: true }).split("\n"), [
      "NAMESPACE   NAME     PLACEMENTS   TOTAL   APPLIED   AVAILABLE   PROGRESSING   DEGRADED   ROLLOUT       WORKS        AGE   CASCADE",
      "default     bundle   eu,us        3       2         1           1             0          Progressing   Processing   60m   Background",
    ]);
  });
});

describe("get policies", () => {
  const policy = (namespace: string, name: string, extra: Partial<Policy>): Policy => ({
    apiVersion: "policy.open-cluster-management.io/v1",
    kind: "Policy",
    metadata: { namespace, name, creationTimestamp: created },
    spec: { disabled: false, "policy-templates": [] },
    ...extra,
  });

  it("shows OCM's print columns: remediation action, compliance state and age", () => {
    const policies = [
      policy("default", "policy-pod", {
        spec: { disabled: false, remediationAction: "inform", "policy-templates": [] },
        status: { compliant: "NonCompliant" },
      }),
      policy("cluster1", "default.policy-pod", { status: { compliant: "Compliant" } }),
      { ...policy("default", "fresh", {}), metadata: { namespace: "default", name: "fresh" } },
    ];
    assert.deepEqual(policiesTable(policies, now).split("\n"), [
      "NAMESPACE   NAME                 REMEDIATION ACTION   COMPLIANCE STATE   AGE",
      "cluster1    default.policy-pod                        Compliant          60m",
      "default     fresh                                                        <unknown>",
      "default     policy-pod           inform               NonCompliant       60m",
    ]);
  });

  it("-o wide adds disabled, the placements and the cluster count", () => {
    const root = policy("default", "p", {
      status: {
        compliant: "Compliant",
        placement: [{ placement: "eu", placementBinding: "b" }],
        status: [{ clustername: "a", clusternamespace: "a", compliant: "Compliant" }],
      },
    });
    assert.deepEqual(policiesTable([root], now, { wide: true, withNamespace: false }).split("\n"), [
      "NAME   REMEDIATION ACTION   COMPLIANCE STATE   AGE   DISABLED   PLACEMENTS   CLUSTERS   ROLLOUT",
      "p                           Compliant          60m   false      eu           1",
    ]);
  });

  it("-o wide shows a progressive policy's rollout, and why it halted", () => {
    const progressive = (name: string, state?: object) =>
      policy("default", name, {
        metadata: {
          namespace: "default",
          name,
          creationTimestamp: created,
          annotations: {
            "policy.bosun.dev/rollout": "progressive",
            ...(state ? { "policy.bosun.dev/rollout-status": JSON.stringify(state) } : {}),
          },
        },
      });
    const rows = policiesTable(
      [
        progressive("a-going", {
          revision: "r1",
          phase: "Progressing",
          releasedGroups: 1,
          releasedAt: ["2026-12-07T00:00:00.000Z"],
          message: "waiting",
        }),
        progressive("b-halted", {
          revision: "r1",
          phase: "Halted",
          reason: "DeadlineExceeded",
          releasedGroups: 2,
          releasedAt: ["2026-12-07T00:00:00.000Z", "2026-12-07T00:01:00.000Z"],
          message: "group 1 did not succeed within 10m",
        }),
        progressive("c-new"),
      ],
      now,
      { wide: true, withNamespace: false },
    )
      .split("\n")
      .map((row) => row.replace(/ {2,}/g, " | "));
    assert.deepEqual(rows.slice(1), [
      "a-going | 60m | false | 0 | Progressing (1 groups released)",
      "b-halted | 60m | false | 0 | Halted (2 groups released): group 1 did not succeed within 10m",
      "c-new | 60m | false | 0 | pending",
    ]);
  });

  const ages: { seconds: number; expected: string }[] = [
    { seconds: -5, expected: "<invalid>" },
    { seconds: -0.5, expected: "0s" },
    { seconds: 0, expected: "0s" },
    { seconds: 119, expected: "119s" },
    { seconds: 120, expected: "2m" },
    { seconds: 200, expected: "3m20s" },
    { seconds: 3 * 3600 - 1, expected: "179m" },
    { seconds: 3 * 3600, expected: "3h" },
    { seconds: 5 * 3600 + 60 * 7, expected: "5h7m" },
    { seconds: 30 * 3600, expected: "30h" },
    { seconds: 2 * 86400 + 3 * 3600, expected: "2d3h" },
    { seconds: 400 * 86400, expected: "400d" },
    { seconds: (3 * 365 + 20) * 86400, expected: "3y20d" },
    { seconds: 9 * 365 * 86400, expected: "9y" },
  ];
  for (const { seconds, expected } of ages) {
    it(`an age of ${seconds}s prints as ${expected}`, () =>
      assert.equal(humanAge(0, seconds * 1000), expected));
  }
});

describe("scopeOf", () => {
  const namespaced = { namespaced: true };
  const works = { namespaced: true, allNamespacesByDefault: true };
  const cases: {
    name: string;
    spec: { namespaced: boolean; allNamespacesByDefault?: boolean };
    flags: { namespace?: string; allNamespaces?: boolean };
    context?: string;
    expected: { namespace: string | undefined; explicit: boolean };
  }[] = [
    {
      name: "cluster-scoped kinds have none",
      spec: { namespaced: false },
      flags: { namespace: "x" },
      expected: { namespace: undefined, explicit: false },
    },
    {
      name: "-n names one",
      spec: namespaced,
      flags: { namespace: "team-a" },
      expected: { namespace: "team-a", explicit: true },
    },
    {
      name: "-A is every one",
      spec: namespaced,
      flags: { allNamespaces: true },
      expected: { namespace: undefined, explicit: false },
    },
    {
      name: "the context's namespace by default",
      spec: namespaced,
      flags: {},
      context: "ops",
      expected: { namespace: "ops", explicit: false },
    },
    {
      name: "else default",
      spec: namespaced,
      flags: {},
      expected: { namespace: "default", explicit: false },
    },
    {
      name: "works list every cluster by default",
      spec: works,
      flags: {},
      context: "ops",
      expected: { namespace: undefined, explicit: false },
    },
    {
      name: "works of one cluster with -n",
      spec: works,
      flags: { namespace: "c1" },
      expected: { namespace: "c1", explicit: true },
    },
  ];
  for (const { name, spec, flags, context, expected } of cases)
    it(name, () => assert.deepEqual(scopeOf(spec, flags, context), expected));
});

describe("runGet", () => {
  const clock = new ManualClock(now);
  const setup = async () => {
    const kube = new MemoryKube({ clock });
    await kube.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "cluster1" } });
    await kube.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "empty" } });
    await kube.create({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name: "web", namespace: "cluster1", managedFields: [{ manager: "x" }] },
      spec: {},
    });
    return kube;
  };
  const run = (kube: MemoryKube, request: Partial<GetRequest>, signal?: AbortSignal) => {
    let out = "";
    let err = "";
    const done = runGet(
      kube,
      workTable,
      { scope: { namespace: undefined, explicit: false }, output: "table", ...request },
      { out: { write: (text: string) => (out += text) }, err: { write: (text: string) => (err += text) } },
      { now: () => clock.now(), ...(signal ? { signal } : {}), logger: pino({ level: "silent" }) },
    );
    return { done, out: () => out, err: () => err };
  };

  it("prints the table of every cluster's works", async () => {
    const result = run(await setup(), {});
    await result.done;
    assert.deepEqual(result.out().split("\n"), [
      "CLUSTER    NAME   REPLICASET   PART   MANIFESTS   APPLIED   AVAILABLE   STATE   AGE",
      "cluster1   web                        0                                         0s",
      "",
    ]);
  });

  it("says so on stderr when a namespace holds none", async () => {
    const result = run(await setup(), { scope: { namespace: "empty", explicit: true } });
    await result.done;
    assert.equal(result.out(), "");
    assert.equal(result.err(), "No ManifestWorks found in namespace empty.\n");
  });

  it("names a namespace the hub does not have, and what to check", async () => {
    const result = run(await setup(), { scope: { namespace: "nosuch", explicit: true } });
    await assert.rejects(result.done, {
      message: "namespace nosuch not found on the hub: is the cluster joined? (bosun get clusters)",
    });
  });

  it("names an object that does not exist", async () => {
    const kube = await setup();
    await assert.rejects(run(kube, { name: "db" }).done, {
      message: "ManifestWork db not found in any namespace on the hub (bosun get works lists them)",
    });
    await assert.rejects(run(kube, { name: "db", scope: { namespace: "cluster1", explicit: true } }).done, {
      message: "ManifestWork db not found in namespace cluster1 on the hub (bosun get works lists them)",
    });
  });

  it("prints one named object as YAML, and a List as JSON, without managedFields", async () => {
    const kube = await setup();
    const one = run(kube, { name: "web", output: "yaml" });
    await one.done;
    assert.match(
      one.out(),
      /^apiVersion: work\.open-cluster-management\.io\/v1\nkind: ManifestWork\nmetadata:\n/,
    );
    assert.doesNotMatch(one.out(), /managedFields/);
    const all = run(kube, { output: "json" });
    await all.done;
    const list = JSON.parse(all.out()) as { kind: string; items: ManifestWork[] };
    assert.equal(list.kind, "List");
    assert.deepEqual(
      list.items.map((work) => [work.metadata.name, work.metadata.managedFields]),
      [["web", undefined]],
    );
  });

  it("with --watch prints the table, then a row for each change, until stopped", async () => {
    const kube = await setup();
    const stop = new AbortController();
    const result = run(kube, { watch: true, watchEvents: true }, stop.signal);
    await eventually(() => assert.match(result.out(), /^ADDED\s+cluster1\s+web\s/m));
    await kube.create({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name: "db", namespace: "cluster1" },
      spec: {},
    });
    await eventually(() => assert.match(result.out(), /\nADDED\s+cluster1\s+db\s/));
    await kube.delete({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      namespace: "cluster1",
      name: "web",
    });
    await eventually(() => assert.match(result.out(), /\nDELETED\s+cluster1\s+web\s/));
    stop.abort();
    await result.done;
    assert.equal(
      result.out().split("\n")[0],
      "EVENT   CLUSTER    NAME   REPLICASET   PART   MANIFESTS   APPLIED   AVAILABLE   STATE   AGE",
    );
  });
});
