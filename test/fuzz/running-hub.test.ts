// Hostile objects against a running hub: bosun's hub controllers (as `bosun hub` runs them, with
// the ManifestWork admission webhook) on a real API server receive generated malformed
// Placements, Policies, PlacementBindings, ManifestWorks and ManifestWorkReplicaSets. Each is
// refused by the API server with a client error or stored; the hub does not fail; every stored
// Placement and replica set gets its status; and the sentinel objects created before the
// barrage keep converging on changes made after it (a new cluster, a changed policy, a changed
// replica set). A few hundred objects in CI, BOSUN_FUZZ_RUNS per kind for a long run.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { Labels, Taints } from "../../api/constants.ts";
import { runHub, type RunningHub } from "../../controllers/hub.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { captureLogger } from "../support/log-capture.ts";
import { createBoundClusterSet } from "../support/placement-fixtures.ts";
import { eventually } from "../support/wait.ts";
import { mutated } from "./hostile.ts";

const fixture = useControlPlane("fuzz-running-hub");
const captured = captureLogger("warn");
/** Per kind: five kinds, so 300 in all by default. */
const perKind = Math.max(1, Math.round((Number(process.env.BOSUN_FUZZ_RUNS ?? "") || 300) / 5));
const seed = Number(process.env.BOSUN_FUZZ_SEED ?? "") || 20261207;

const clusterApi = "cluster.open-cluster-management.io";
const policyApi = "policy.open-cluster-management.io";
const workApi = "work.open-cluster-management.io";
const fuzzed = "fuzzed";
const sentinel = "sentinel";

const configMap = (name: string, data = "1") => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data: { value: data },
});

const configurationPolicy = (name: string, action = "inform") => ({
  objectDefinition: {
    apiVersion: `${policyApi}/v1`,
    kind: "ConfigurationPolicy",
    metadata: { name },
    spec: {
      remediationAction: action,
      severity: "low",
      "object-templates": [{ complianceType: "musthave", objectDefinition: configMap(name) }],
    },
  },
});

const valid: Record<string, Unstructured> = {
  Placement: {
    apiVersion: `${clusterApi}/v1beta1`,
    kind: "Placement",
    metadata: { name: "p", namespace: fuzzed },
    spec: {
      numberOfClusters: 2,
      clusterSets: ["fleet"],
      predicates: [
        {
          requiredClusterSelector: {
            labelSelector: { matchExpressions: [{ key: "env", operator: "In", values: ["prod", "dev"] }] },
            claimSelector: { matchExpressions: [{ key: "region", operator: "Exists" }] },
            celSelector: { celExpressions: ['managedCluster.metadata.name.startsWith("c")'] },
          },
        },
      ],
      prioritizerPolicy: {
        mode: "Additive",
        configurations: [{ scoreCoordinate: { type: "BuiltIn", builtIn: "Steady" }, weight: 2 }],
      },
      tolerations: [
        { key: "gpu", operator: "Exists", effect: "NoSelect" },
        { key: Taints.unreachable, operator: "Exists" },
      ],
      decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: "50%" } },
    },
  },
  Policy: {
    apiVersion: `${policyApi}/v1`,
    kind: "Policy",
    metadata: {
      name: "p",
      namespace: fuzzed,
      annotations: { "policy.open-cluster-management.io/standards": "x" },
    },
    spec: {
      disabled: false,
      remediationAction: "inform",
      dependencies: [
        { apiVersion: `${policyApi}/v1`, kind: "Policy", name: "other", compliance: "Compliant" },
      ],
      "policy-templates": [configurationPolicy("a"), configurationPolicy("b", "enforce")],
    },
  },
  PlacementBinding: {
    apiVersion: `${policyApi}/v1`,
    kind: "PlacementBinding",
    metadata: { name: "p", namespace: fuzzed },
    placementRef: { apiGroup: clusterApi, kind: "Placement", name: "p" },
    subjects: [{ apiGroup: policyApi, kind: "Policy", name: "p" }],
    bindingOverrides: { remediationAction: "enforce" },
    subFilter: "restricted",
  },
  ManifestWork: {
    apiVersion: `${workApi}/v1`,
    kind: "ManifestWork",
    metadata: { name: "p", namespace: "c1" },
    spec: {
      workload: { manifests: [configMap("a"), configMap("b")] },
      manifestConfigs: [
        {
          resourceIdentifier: { group: "", resource: "configmaps", name: "a", namespace: "default" },
          feedbackRules: [{ type: "JSONPaths", jsonPaths: [{ name: "v", path: ".data.value" }] }],
          updateStrategy: { type: "ServerSideApply", serverSideApply: { force: true } },
        },
      ],
      deleteOption: { propagationPolicy: "Foreground" },
    },
  },
  ManifestWorkReplicaSet: {
    apiVersion: `${workApi}/v1alpha1`,
    kind: "ManifestWorkReplicaSet",
    metadata: { name: "p", namespace: fuzzed },
    spec: {
      manifestWorkTemplate: { workload: { manifests: [configMap("a")] } },
      placementRefs: [
        { name: "p", rolloutStrategy: { type: "Progressive", progressive: { maxConcurrency: 1 } } },
      ],
    },
  },
};

type Stored = { kind: string; namespace: string; name: string };

describe("a running hub under hostile objects", () => {
  let client: KubeClient;
  let hubClient: KubeClient;
  let hub: RunningHub;
  let hubFailed: Error | undefined;
  const stored: Stored[] = [];
  const refusals = new Map<number, number>();

  const addCluster = async (name: string) => {
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    await client.create({
      apiVersion: `${clusterApi}/v1`,
      kind: "ManagedCluster",
      metadata: { name, labels: { [Labels.clusterSet]: "fleet", env: "prod" } },
      spec: { hubAcceptsClient: true },
    });
  };
  const replicaOn = (cluster: string) =>
    client.getOrUndefined<Unstructured & { spec?: { remediationAction?: string } }>({
      apiVersion: `${policyApi}/v1`,
      kind: "Policy",
      namespace: cluster,
      name: `${sentinel}.baseline`,
    });
  const workOn = (cluster: string) =>
    client.getOrUndefined<
      Unstructured & { spec?: { workload?: { manifests?: { data?: { value?: string } }[] } } }
    >({
      apiVersion: `${workApi}/v1`,
      kind: "ManifestWork",
      namespace: cluster,
      name: "web",
    });

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "hub");
    for (const namespace of [fuzzed, sentinel])
      await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await createBoundClusterSet(client, "fleet", fuzzed);
    await client.create({
      apiVersion: `${clusterApi}/v1beta2`,
      kind: "ManagedClusterSetBinding",
      metadata: { name: "fleet", namespace: sentinel },
      spec: { clusterSet: "fleet" },
    });
    for (const name of ["c1", "c2", "c3"]) await addCluster(name);
    hubClient = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    hub = await runHub({
      client: hubClient,
      clock: systemClock(),
      logger: captured.logger,
      metrics: { host: "127.0.0.1", port: 0 },
      webhook: { host: "127.0.0.1", port: 0 },
      identity: "fuzz-running-hub",
    });
    void hub.failed.then((error) => (hubFailed = error));
    // The sentinels: every cluster gets the policy and the workload before the barrage.
    await client.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name: "all", namespace: sentinel },
      // No agent runs here: the hub taints every cluster unreachable.
      spec: { tolerations: [{ key: Taints.unreachable, operator: "Exists" }] },
    });
    await client.create({
      apiVersion: `${policyApi}/v1`,
      kind: "Policy",
      metadata: { name: "baseline", namespace: sentinel },
      spec: {
        disabled: false,
        remediationAction: "inform",
        "policy-templates": [configurationPolicy("baseline")],
      },
    });
    await client.create({
      apiVersion: `${policyApi}/v1`,
      kind: "PlacementBinding",
      metadata: { name: "baseline", namespace: sentinel },
      placementRef: { apiGroup: clusterApi, kind: "Placement", name: "all" },
      subjects: [{ apiGroup: policyApi, kind: "Policy", name: "baseline" }],
    });
    await client.create({
      apiVersion: `${workApi}/v1alpha1`,
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "web", namespace: sentinel },
      spec: {
        manifestWorkTemplate: { workload: { manifests: [configMap("web")] } },
        placementRefs: [{ name: "all" }],
      },
    });
    await eventually(
      async () => {
        for (const cluster of ["c1", "c2", "c3"]) {
          assert.ok(await replicaOn(cluster), `replica on ${cluster}`);
          assert.ok(await workOn(cluster), `work on ${cluster}`);
        }
      },
      { timeoutMs: 60_000, what: "the sentinels on every cluster" },
    );
  });

  after(async () => {
    await hub?.stop();
    hubClient?.close();
    client?.close();
  });

  test(`${perKind * 5} hostile objects are refused with a client error or stored`, async (t) => {
    const failures: string[] = [];
    let index = 0;
    for (const [kind, object] of Object.entries(valid)) {
      for (const sample of fc.sample(mutated(object), { numRuns: perKind, seed: seed + index })) {
        const name = `f-${kind.toLowerCase()}-${index++}`;
        const candidate = sample;
        const metadata = { ...(candidate.metadata ?? {}), name };
        try {
          await client.create({ ...candidate, metadata });
          stored.push({ kind, namespace: String(metadata.namespace ?? ""), name });
        } catch (error) {
          if (!(error instanceof KubeApiError) || error.status < 400 || error.status >= 500) {
            failures.push(
              `${kind} ${name}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500),
            );
            continue;
          }
          refusals.set(error.status, (refusals.get(error.status) ?? 0) + 1);
        }
      }
    }
    t.diagnostic(
      `stored ${stored.length}; refused by status: ${JSON.stringify(Object.fromEntries(refusals))}`,
    );
    assert.deepEqual(failures, [], "every refusal is a client error (4xx) from the API server");
    assert.ok(stored.length > 0, "some hostile objects are valid enough to be stored");
    assert.ok([...refusals.values()].reduce((a, b) => a + b, 0) > 0, "some are refused");
  });

  test("the hub does not fail, and every stored Placement and replica set gets its status", async () => {
    assert.equal(hubFailed, undefined);
    await eventually(
      async () => {
        const unprocessed: string[] = [];
        for (const entry of stored) {
          if (entry.kind !== "Placement" && entry.kind !== "ManifestWorkReplicaSet") continue;
          const object = await client.get<Unstructured & { status?: { conditions?: unknown[] } }>({
            apiVersion: entry.kind === "Placement" ? `${clusterApi}/v1beta1` : `${workApi}/v1alpha1`,
            kind: entry.kind,
            namespace: entry.namespace,
            name: entry.name,
          });
          if ((object.status?.conditions ?? []).length === 0) unprocessed.push(`${entry.kind} ${entry.name}`);
        }
        assert.deepEqual(unprocessed, []);
      },
      { timeoutMs: 120_000, what: "a status on every stored Placement and ManifestWorkReplicaSet" },
    );
  });

  test("the sentinels keep converging: a new cluster, a changed policy and a changed replica set", async () => {
    await addCluster("c4");
    await client.patch(
      { apiVersion: `${policyApi}/v1`, kind: "Policy", namespace: sentinel, name: "baseline" },
      "merge",
      {
        spec: { remediationAction: "enforce" },
      },
    );
    await client.patch(
      { apiVersion: `${workApi}/v1alpha1`, kind: "ManifestWorkReplicaSet", namespace: sentinel, name: "web" },
      "merge",
      { spec: { manifestWorkTemplate: { workload: { manifests: [configMap("web", "2")] } } } },
    );
    await eventually(
      async () => {
        for (const cluster of ["c1", "c2", "c3", "c4"]) {
          assert.equal(
            (await replicaOn(cluster))?.spec?.remediationAction,
            "enforce",
            `replica on ${cluster}`,
          );
          assert.equal(
            (await workOn(cluster))?.spec?.workload?.manifests?.[0]?.data?.value,
            "2",
            `work on ${cluster}`,
          );
        }
      },
      { timeoutMs: 90_000, what: "the sentinels' changes on every cluster, the new one included" },
    );
    assert.equal(hubFailed, undefined);
    // Whatever the hostile objects made the controllers log, none of it concerns a sentinel.
    const aboutSentinels = captured.entries.filter(
      (entry) => entry.level >= 50 && JSON.stringify(entry).includes(`${sentinel}/`),
    );
    assert.deepEqual(
      aboutSentinels.map((entry) => JSON.stringify(entry).slice(0, 2000)),
      [],
    );
  });
});
