// OCM's own CRDs against bosun's. Two fresh hubs: one with OCM's CRDs (the cluster and work
// CRDs of the oracle release, open-cluster-management.io/api; the policy CRDs, which that
// module does not have, from the corpus's copy of OCM's governance CRDs, or bosun's own when the
// corpus is missing: the test says which), one with bosun's crds/.
//   - bosun's hub controllers run on OCM's CRDs: a Placement is scheduled, a
//     ManifestWorkReplicaSet fans out, a Policy propagates;
//   - every corpus object of a kind the CRDs define, and objects of generated fleets, is
//     accepted under OCM's CRDs iff under bosun's (dryRun=All, strict field validation), and
//     stored the same way up to defaults that only bosun's CRDs have;
//   - the schemas are compared structurally, and every difference that can change what the
//     API server accepts or stores is one of the known ones below, each with its reason.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Labels, PolicyLabels, Taints } from "../../api/constants.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import type { Placement, PlacementDecision } from "../../api/types/placement.ts";
import { runHub, type RunningHub } from "../../controllers/hub.ts";
import { ensureOcmBinaries } from "../../local/ocm/binaries.ts";
import { systemClock } from "../../runtime/clock.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { corpusMissing, findCorpus } from "../support/corpus.ts";
import { eventually } from "../support/wait.ts";
import { compareCrds, formatDifference, type Crd, type SchemaDifference } from "./support/crd-schema.ts";
import {
  bosunCrds,
  corpusNamespace,
  corpusObjects,
  dryRunCreate,
  generatedObjects,
  installCrdDocuments,
  ocmCrds,
  servedKinds,
  storedDifferences,
  type CandidateObject,
  type OcmCrds,
} from "./support/crd-sources.ts";

const ocmHub = useControlPlane("compat-crds-ocm");
const bosunHub = useControlPlane("compat-crds-bosun");
const logger = pino({ level: "silent" });
const clusterApi = "cluster.open-cluster-management.io";
const workApi = "work.open-cluster-management.io";
const policyApi = "policy.open-cluster-management.io";

/**
 * Schema differences that can change what the API server accepts or stores, and why they are
 * there. Keyed by `<crd> <path>: <aspect>`; a difference not listed fails the test.
 */
const knownSchemaDifferences: Record<string, string> = {
  "managedclusters.cluster.open-cluster-management.io metadata.name: property":
    "bosun's CRD requires a DNS-1123 label name, which OCM's registration webhook enforces",
  "managedclustersetbindings.cluster.open-cluster-management.io : x-kubernetes-validations":
    "bosun's CRD checks metadata.name == spec.clusterSet, which OCM's webhook enforces",
  "managedclustersetbindings.cluster.open-cluster-management.io : required":
    "bosun requires spec (OCM's webhook rejects a binding without spec.clusterSet)",
  "managedclustersetbindings.cluster.open-cluster-management.io spec: required":
    "bosun requires spec.clusterSet (OCM's API marks it required but v1.0.0's CRD does not)",
  "configurationpolicies.policy.open-cluster-management.io spec: oneOf":
    "OCM says 'exactly one of object-templates and object-templates-raw' with oneOf, bosun with a CEL rule",
  "configurationpolicies.policy.open-cluster-management.io spec: x-kubernetes-validations":
    "the CEL form of OCM's oneOf on spec",
  "placementbindings.policy.open-cluster-management.io placementRef: oneOf":
    "OCM pairs placementRef apiGroup and kind with oneOf, bosun with a CEL rule",
  "placementbindings.policy.open-cluster-management.io placementRef: x-kubernetes-validations":
    "the CEL form of OCM's oneOf on placementRef",
  "policies.policy.open-cluster-management.io spec.dependencies[]: oneOf":
    "OCM forbids a namespace on ConfigurationPolicy dependencies with oneOf, bosun with a CEL rule",
  "policies.policy.open-cluster-management.io spec.dependencies[]: x-kubernetes-validations":
    "the CEL form of OCM's oneOf on dependencies",
  "policies.policy.open-cluster-management.io spec.policy-templates[].extraDependencies[]: oneOf":
    "as for spec.dependencies",
  "policies.policy.open-cluster-management.io spec.policy-templates[].extraDependencies[]: x-kubernetes-validations":
    "as for spec.dependencies",
  "manifestworks.work.open-cluster-management.io spec.manifestConfigs[].updateStrategy.serverSideApply.ignoreFields[]: required":
    "bosun also accepts jsonPointers and jqPathExpressions (later OCM API), so jsonPaths is not required",
  "manifestworks.work.open-cluster-management.io spec.manifestConfigs[].updateStrategy.serverSideApply.ignoreFields[].jsonPaths: minItems":
    "as for ignoreFields' required",
  "manifestworkreplicasets.work.open-cluster-management.io spec.manifestWorkTemplate.manifestConfigs[].updateStrategy.serverSideApply.ignoreFields[]: required":
    "as for ManifestWork",
  "manifestworkreplicasets.work.open-cluster-management.io spec.manifestWorkTemplate.manifestConfigs[].updateStrategy.serverSideApply.ignoreFields[].jsonPaths: minItems":
    "as for ManifestWork",
  "manifestworkreplicasets.work.open-cluster-management.io status.summary.Applied: property":
    "OCM v1.0.0 spells the summary's count `Applied`; bosun writes `applied`, as later OCM releases do",
  "manifestworkreplicasets.work.open-cluster-management.io status.placementSummary[].summary.Applied: property":
    "as for status.summary",
};
/** Conditions are a list-map keyed by type in bosun's CRDs (a condition per type, SSA merges by type). */
const conditionListMap =
  /status\.(conditions|resourceStatus\.manifests\[\]\.conditions): x-kubernetes-list-(type|map-keys)$/;

function knownDifference(d: SchemaDifference): string | undefined {
  const key = `${d.crd} ${d.path}: ${d.aspect}`;
  if (conditionListMap.test(key)) return "bosun's conditions are a list-map keyed by type";
  return knownSchemaDifferences[key];
}

/** Stored fields only bosun's CRDs default: the fields OCM v1.0.0's CRDs do not have. */
const bosunOnlyDefaults = new Set(["spec.sortBy", "spec.scoreRateLimit"]);

describe("OCM's CRDs and bosun's", () => {
  let ocm: OcmCrds;
  let ours: Crd[];
  let ocmClient: KubeClient;
  let bosunClient: KubeClient;
  const corpus = findCorpus();

  before(async () => {
    const binaries = await ensureOcmBinaries({ binaries: ["placement"] });
    ocm = await ocmCrds(binaries.apiModuleDir, corpus);
    ours = await bosunCrds();
    ocmClient = await KubeClient.fromFile(ocmHub.plane.kubeconfigPath);
    bosunClient = await KubeClient.fromFile(bosunHub.plane.kubeconfigPath);
    await Promise.all([installCrdDocuments(ocmClient, ocm.crds), installCrdDocuments(bosunClient, ours)]);
  });

  after(() => {
    ocmClient?.close();
    bosunClient?.close();
  });

  test("OCM's CRDs cover every kind bosun serves", (t) => {
    t.diagnostic(
      `policy CRDs from ${ocm.policySource === "corpus" ? "the corpus (OCM's governance CRDs)" : "bosun's crds/ (no corpus)"}`,
    );
    const theirs = new Set(ocm.crds.map((c) => c.metadata.name));
    assert.deepEqual(
      ours.map((c) => c.metadata.name).filter((name) => !theirs.has(name)),
      [],
    );
  });

  describe("bosun's hub controllers on OCM's CRDs", () => {
    let hub: RunningHub | undefined;

    before(async () => {
      hub = await runHub({
        client: ocmClient,
        clock: systemClock(),
        logger,
        metrics: { host: "127.0.0.1", port: 0 },
        identity: "compat-crds",
      });
      await eventually(
        async () => assert.ok(hub!.isLeader() && (await fetch(`${hub!.metricsAddress.url}/readyz`)).ok),
        {
          what: "the hub to lead with its caches synced",
          timeoutMs: 60_000,
        },
      );
      await ocmClient.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } });
      await ocmClient.create({
        apiVersion: `${clusterApi}/v1beta2`,
        kind: "ManagedClusterSet",
        metadata: { name: "fleet" },
        spec: { clusterSelector: { selectorType: "ExclusiveClusterSetLabel" } },
      });
      await ocmClient.create({
        apiVersion: `${clusterApi}/v1beta2`,
        kind: "ManagedClusterSetBinding",
        metadata: { name: "fleet", namespace: "apps" },
        spec: { clusterSet: "fleet" },
      });
      for (const [name, env] of [
        ["east", "prod"],
        ["west", "prod"],
        ["lab", "dev"],
      ] as const) {
        await ocmClient.create({
          apiVersion: `${clusterApi}/v1`,
          kind: "ManagedCluster",
          metadata: { name, labels: { [Labels.clusterSet]: "fleet", env } },
          spec: { hubAcceptsClient: true },
        });
        await ocmClient
          .create({ apiVersion: "v1", kind: "Namespace", metadata: { name } })
          .catch((error: unknown) => {
            if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
          });
      }
      await ocmClient.create({
        apiVersion: `${clusterApi}/v1beta1`,
        kind: "Placement",
        metadata: { name: "prod", namespace: "apps" },
        spec: {
          predicates: [{ requiredClusterSelector: { labelSelector: { matchLabels: { env: "prod" } } } }],
          // No agent ever reports for these clusters, so the registration controller taints them.
          tolerations: Object.values(Taints).map((key) => ({ key, operator: "Exists" as const })),
        },
      });
    });

    after(async () => {
      await hub?.stop();
    });

    test("a Placement is scheduled", async () => {
      await eventually(
        async () => {
          const { items } = await ocmClient.list<PlacementDecision>(
            `${clusterApi}/v1beta1`,
            "PlacementDecision",
            {
              namespace: "apps",
              labelSelector: `${Labels.placement}=prod`,
            },
          );
          assert.deepEqual(
            items.flatMap((pd) => pd.status?.decisions.map((d) => d.clusterName) ?? []),
            ["east", "west"],
          );
          const placement = await ocmClient.get<Placement>({
            apiVersion: `${clusterApi}/v1beta1`,
            kind: "Placement",
            namespace: "apps",
            name: "prod",
          });
          assert.equal(placement.status?.numberOfSelectedClusters, 2);
          assert.equal(
            placement.status?.conditions?.find((c) => c.type === "PlacementSatisfied")?.reason,
            "AllDecisionsScheduled",
          );
        },
        { what: "the placement's decisions and status", timeoutMs: 60_000 },
      );
    });

    test("a ManifestWorkReplicaSet fans out to the decided clusters", async () => {
      await ocmClient.create({
        apiVersion: `${workApi}/v1alpha1`,
        kind: "ManifestWorkReplicaSet",
        metadata: { name: "web", namespace: "apps" },
        spec: {
          placementRefs: [{ name: "prod" }],
          manifestWorkTemplate: {
            workload: {
              manifests: [
                {
                  apiVersion: "v1",
                  kind: "ConfigMap",
                  metadata: { name: "web", namespace: "default" },
                  data: { a: "b" },
                },
              ],
            },
          },
        },
      });
      await eventually(
        async () => {
          const { items } = await ocmClient.listAll<ManifestWork>(`${workApi}/v1`, "ManifestWork", {
            labelSelector: `${Labels.manifestWorkReplicaSet}=apps.web`,
          });
          assert.deepEqual(items.map((w) => w.metadata.namespace).sort(), ["east", "west"]);
          const replicaSet = await ocmClient.get<
            Unstructured & { status?: { summary?: { total?: number } } }
          >({
            apiVersion: `${workApi}/v1alpha1`,
            kind: "ManifestWorkReplicaSet",
            namespace: "apps",
            name: "web",
          });
          assert.equal(replicaSet.status?.summary?.total, 2);
        },
        { what: "a ManifestWork in each decided cluster's namespace", timeoutMs: 60_000 },
      );
    });

    test("a Policy bound to the Placement is replicated to the decided clusters with its ManifestWork", async () => {
      await ocmClient.create({
        apiVersion: `${policyApi}/v1`,
        kind: "Policy",
        metadata: { name: "ns", namespace: "apps" },
        spec: {
          disabled: false,
          remediationAction: "inform",
          "policy-templates": [
            {
              objectDefinition: {
                apiVersion: `${policyApi}/v1`,
                kind: "ConfigurationPolicy",
                metadata: { name: "ns" },
                spec: {
                  remediationAction: "inform",
                  severity: "low",
                  "object-templates": [
                    {
                      complianceType: "musthave",
                      objectDefinition: { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } },
                    },
                  ],
                },
              },
            },
          ],
        },
      });
      await ocmClient.create({
        apiVersion: `${policyApi}/v1`,
        kind: "PlacementBinding",
        metadata: { name: "ns", namespace: "apps" },
        placementRef: { apiGroup: clusterApi, kind: "Placement", name: "prod" },
        subjects: [{ apiGroup: policyApi, kind: "Policy", name: "ns" }],
      });
      await eventually(
        async () => {
          const replicas = await ocmClient.listAll(`${policyApi}/v1`, "Policy", {
            labelSelector: `${PolicyLabels.rootPolicy}=apps.ns`,
          });
          assert.deepEqual(replicas.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort(), [
            "east/apps.ns",
            "west/apps.ns",
          ]);
          for (const cluster of ["east", "west"]) {
            const works = await ocmClient.listAll<ManifestWork>(`${workApi}/v1`, "ManifestWork", {
              namespace: cluster,
            });
            assert.ok(
              works.items.some((w) =>
                (w.spec?.workload?.manifests ?? []).some((m) => m.kind === "ConfigurationPolicy"),
              ),
              `a ManifestWork carrying the ConfigurationPolicy in ${cluster}`,
            );
          }
        },
        { what: "the replicated policies and their ManifestWorks", timeoutMs: 60_000 },
      );
    });
  });

  describe("objects are accepted under OCM's CRDs iff under bosun's", () => {
    const namespaces = new Set<string>();

    async function tryBoth(candidates: readonly CandidateObject[]) {
      for (const ns of new Set(
        candidates.map((c) => c.object.metadata.namespace).filter((n): n is string => !!n),
      )) {
        if (namespaces.has(ns)) continue;
        for (const client of [ocmClient, bosunClient]) {
          await client
            .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } })
            .catch((error: unknown) => {
              if (!(error instanceof KubeApiError && error.alreadyExists)) throw error;
            });
        }
        namespaces.add(ns);
      }
      const disagreements: string[] = [];
      const storedApart: string[] = [];
      let accepted = 0;
      let bosunDefaults = 0;
      for (const { where, object } of candidates) {
        const [underOcm, underBosun] = await Promise.all([
          dryRunCreate(ocmClient, object),
          dryRunCreate(bosunClient, object),
        ]);
        if (underOcm.accepted !== underBosun.accepted) {
          const why = (r: typeof underOcm) =>
            r.accepted ? "accepted" : `rejected (${r.status} ${r.message})`;
          disagreements.push(`${where}: OCM's CRDs ${why(underOcm)}, bosun's ${why(underBosun)}`);
          continue;
        }
        if (!underOcm.accepted || !underBosun.accepted) continue;
        accepted++;
        const all = storedDifferences(underOcm.stored, underBosun.stored);
        const apart = all.filter((path) => !bosunOnlyDefaults.has(path));
        if (apart.length < all.length) bosunDefaults++;
        if (apart.length > 0) storedApart.push(`${where}: stored differently at ${apart.join(", ")}`);
      }
      return { disagreements, storedApart, accepted, bosunDefaults };
    }

    test("the corpus's policy collection", async (t) => {
      if (!corpus) return t.skip(corpusMissing());
      const candidates = await corpusObjects(corpus, servedKinds(ocm.crds));
      const { disagreements, storedApart, accepted, bosunDefaults } = await tryBoth(candidates);
      const kinds = new Map<string, number>();
      for (const c of candidates) kinds.set(c.object.kind, (kinds.get(c.object.kind) ?? 0) + 1);
      t.diagnostic(
        `tried ${candidates.length} (${JSON.stringify(Object.fromEntries(kinds))}), ${accepted} accepted by both`,
      );
      t.diagnostic(
        `${bosunDefaults} stored with defaults only bosun's CRDs have (${[...bosunOnlyDefaults].join(", ")})`,
      );
      for (const line of storedApart) t.diagnostic(line);
      assert.ok(
        kinds.has("Placement") && kinds.has("Policy") && kinds.has("ConfigurationPolicy"),
        JSON.stringify([...kinds]),
      );
      assert.deepEqual(disagreements, []);
      assert.deepEqual(storedApart, []);
      assert.equal(
        candidates.filter((c) => c.object.metadata.namespace === corpusNamespace).length > 0,
        true,
      );
    });

    test("generated fleets and placements", async (t) => {
      const candidates = generatedObjects([1, 2, 3, 4, 5, 6, 7, 8], Date.now());
      const { disagreements, storedApart, accepted, bosunDefaults } = await tryBoth(candidates);
      t.diagnostic(
        `tried ${candidates.length}, ${accepted} accepted by both, ${bosunDefaults} with bosun-only defaults`,
      );
      assert.deepEqual(disagreements, []);
      assert.deepEqual(storedApart, []);
      assert.ok(accepted > candidates.length / 2);
      // Every generated Placement picks up bosun's sortBy and scoreRateLimit defaults.
      assert.ok(bosunDefaults > 0);
    });

    test("what OCM's webhooks reject, bosun's CRDs reject, and OCM's CRDs accept", async () => {
      const probes: CandidateObject[] = [
        {
          where: "a ManagedCluster whose name is not a DNS-1123 label",
          object: {
            apiVersion: `${clusterApi}/v1`,
            kind: "ManagedCluster",
            metadata: { name: "cluster.with.dots" },
            spec: { hubAcceptsClient: true },
          },
        },
        {
          where: "a ManagedClusterSetBinding named apart from its set",
          object: {
            apiVersion: `${clusterApi}/v1beta2`,
            kind: "ManagedClusterSetBinding",
            metadata: { name: "other", namespace: corpusNamespace },
            spec: { clusterSet: "fleet" },
          },
        },
        {
          where: "a ManagedClusterSetBinding without spec",
          object: {
            apiVersion: `${clusterApi}/v1beta2`,
            kind: "ManagedClusterSetBinding",
            metadata: { name: "fleet", namespace: corpusNamespace },
          },
        },
      ];
      const { disagreements } = await tryBoth(probes);
      assert.deepEqual(
        disagreements.map((d) => d.replace(/, bosun's rejected .*/, ", bosun's rejected")),
        probes.map((p) => `${p.where}: OCM's CRDs accepted, bosun's rejected`),
      );
    });
  });

  test("the schemas differ only where a known reason says so", (t) => {
    const byName = new Map(ours.map((c) => [c.metadata.name, c]));
    const differences = ocm.crds.flatMap((theirs) => {
      const mine = byName.get(theirs.metadata.name);
      return mine ? compareCrds(theirs, mine) : [];
    });
    for (const d of differences) {
      const known = knownDifference(d);
      t.diagnostic(`${formatDifference(d)}${known ? ` (${known})` : ""}`);
    }
    const unexplained = differences.filter(
      (d) => d.severity === "matters" && knownDifference(d) === undefined,
    );
    assert.deepEqual(unexplained.map(formatDifference), []);
    // The comparison looked at the schemas at all: bosun's extensions show up as bosun-only.
    assert.ok(differences.some((d) => d.severity === "bosun-only" && d.path === "spec.sortBy"));
  });
});
