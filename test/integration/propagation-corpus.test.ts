// Every Policy of OCM's policy-collection, bound as written to a cluster on a real hub: each is
// propagated without a controller error, and each of its templates reaches the cluster's
// ManifestWorks or is reported on the replica with the reason it could not (a template error,
// a hub template that failed). Nothing is retried forever and no policy holds up another.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { parseAllDocuments } from "yaml";
import { BosunPolicyWorkLabels, Labels, PolicyLabels } from "../../api/constants.ts";
import type { Policy } from "../../api/types/policy.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { PlacementController } from "../../controllers/placement/controller.ts";
import { PolicyPropagator } from "../../controllers/propagation/propagator.ts";
import { ReplicaController } from "../../controllers/propagation/replica-controller.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { InformerFactory } from "../../runtime/informer-factory.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { captureLogger } from "../support/log-capture.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { corpusMissing, findCorpus, yamlFilesUnder } from "../support/corpus.ts";
import { createBoundClusterSet } from "../support/placement-fixtures.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("propagation-corpus");
const policyApi = "policy.open-cluster-management.io";
const clusterApi = "cluster.open-cluster-management.io";
const namespace = "corpus";
const cluster = "corpus-east";

interface CorpusPolicy {
  where: string;
  policy: Policy;
}

/** Every Policy document of the collection, renamed where two files use one name. */
function corpusPolicies(corpus: string): CorpusPolicy[] {
  const found: CorpusPolicy[] = [];
  const names = new Set<string>();
  for (const file of yamlFilesUnder(join(corpus, "policy-collection"))) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      const object = doc.toJS() as Policy | null;
      if (object?.kind !== "Policy") continue;
      let name = object.metadata.name ?? "policy";
      for (let i = 2; names.has(name); i++) name = `${object.metadata.name}-${i}`;
      names.add(name);
      found.push({
        where: relative(corpus, file),
        policy: { ...object, metadata: { ...object.metadata, name, namespace } },
      });
    }
  }
  return found;
}

describe("the policy-collection propagates", () => {
  const corpus = findCorpus();
  let client: KubeClient;
  let informers: InformerFactory;
  let placements: PlacementController;
  let propagator: PolicyPropagator;
  let replicas: ReplicaController;
  const logs = captureLogger("warn");

  before(async () => {
    if (!corpus) return;
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "hub");
    const logger = pino({ level: "silent" });
    informers = new InformerFactory({ client, logger });
    const shared = { client, clock: systemClock(), logger: logs.logger, registry: new Registry(), informers };
    placements = new PlacementController(shared);
    propagator = new PolicyPropagator(shared);
    replicas = new ReplicaController(shared);
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await createBoundClusterSet(client, "fleet", namespace);
    await client.create({
      apiVersion: `${clusterApi}/v1`,
      kind: "ManagedCluster",
      metadata: { name: cluster, labels: { [Labels.clusterSet]: "fleet" } },
      spec: { hubAcceptsClient: true },
    });
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: cluster } });
    await client.create({
      apiVersion: `${clusterApi}/v1beta1`,
      kind: "Placement",
      metadata: { name: "everywhere", namespace },
      spec: {},
    });
    await placements.start();
    await propagator.start();
    await replicas.start();
  });

  after(async () => {
    await replicas?.stop();
    await propagator?.stop();
    await placements?.stop();
    await informers?.stop();
  });

  test("every Policy is replicated to the cluster and each template is delivered or reported", async (t) => {
    if (!corpus) return t.skip(corpusMissing());
    const policies = corpusPolicies(corpus);
    assert.ok(policies.length >= 150, `expected the collection's policies, found ${policies.length}`);
    for (const { where, policy } of policies) {
      try {
        await client.create(policy);
      } catch (error) {
        throw new Error(`${where}: ${policy.metadata.name} was refused`, { cause: error });
      }
    }
    await client.create({
      apiVersion: `${policyApi}/v1`,
      kind: "PlacementBinding",
      metadata: { name: "everything", namespace },
      placementRef: { apiGroup: clusterApi, kind: "Placement", name: "everywhere" },
      subjects: policies.map(({ policy }) => ({
        apiGroup: policyApi,
        kind: "Policy",
        name: policy.metadata.name,
      })),
    });

    const replicaOf = new Map<string, Policy>();
    await eventually(
      async () => {
        const { items } = await client.listAll<Policy>(`${policyApi}/v1`, "Policy", {
          namespace: cluster,
          labelSelector: PolicyLabels.rootPolicy,
        });
        for (const item of items) replicaOf.set(item.metadata.name ?? "", item);
        // A disabled policy (some are, until another policy enables them) goes nowhere.
        const missing = policies.filter(
          ({ policy }) =>
            (policy.spec.disabled === true) === replicaOf.has(`${namespace}.${policy.metadata.name}`),
        );
        assert.deepEqual(
          missing.map(({ where, policy }) => `${where} ${policy.metadata.name}`),
          [],
          "enabled policies without a replica, or disabled ones with one",
        );
        // Every replica has been handled: its templates went out in a work, or its status says
        // why each could not. Delivered templates report nothing (no agent runs here), and a
        // replica whose templates all went has no status yet, as in OCM.
        const { items: works } = await client.listAll<ManifestWork>(
          "work.open-cluster-management.io/v1",
          "ManifestWork",
          { namespace: cluster, labelSelector: BosunPolicyWorkLabels.replica },
        );
        const withWork = new Set(works.map((work) => work.metadata.labels?.[BosunPolicyWorkLabels.replica]));
        for (const replica of items) {
          const templates = replica.spec["policy-templates"] ?? [];
          if (withWork.has(replica.metadata.name)) continue;
          assert.equal(
            replica.status?.details?.length ?? 0,
            templates.length,
            `${replica.metadata.name}: no work, and details`,
          );
        }
      },
      { timeoutMs: 120_000, what: "a replica of every policy, delivered or with a status for each template" },
    );
    await Promise.all([propagator.whenIdle(), replicas.whenIdle()]);
    assert.equal(propagator.retrying + replicas.retrying, 0, "reconciles waiting for a retry");

    const { items: works } = await client.listAll<ManifestWork>(
      "work.open-cluster-management.io/v1",
      "ManifestWork",
      {
        namespace: cluster,
        labelSelector: BosunPolicyWorkLabels.replica,
      },
    );
    const delivered = new Set<string>();
    for (const work of works) {
      for (const manifest of work.spec?.workload?.manifests ?? []) {
        const object = manifest as { kind?: string; metadata?: { name?: string } };
        delivered.add(
          `${work.metadata.labels?.[BosunPolicyWorkLabels.replica]}|${object.kind}/${object.metadata?.name}`,
        );
      }
    }
    const undelivered: string[] = [];
    let templates = 0;
    for (const { where, policy } of policies) {
      const replica = replicaOf.get(`${namespace}.${policy.metadata.name}`);
      if (!replica) continue;
      for (const [index, template] of (replica.spec["policy-templates"] ?? []).entries()) {
        templates++;
        const definition = template.objectDefinition;
        const key = `${replica.metadata.name}|${definition.kind}/${definition.metadata?.name}`;
        if (delivered.has(key)) continue;
        const detail = replica.status?.details?.[index];
        const message = detail?.history?.[0]?.message ?? "";
        // Not delivered: it must say why, as OCM would (a template error, a failed hub template,
        // or a dependency on a policy that has not reported Compliant).
        const explained =
          (detail?.compliant === "NonCompliant" && /^NonCompliant; /.test(message)) ||
          (detail?.compliant === "Pending" && /^Pending; Dependencies were not satisfied: /.test(message));
        if (!explained)
          undelivered.push(
            `${where} template ${index} (${definition.kind}/${definition.metadata?.name}): ${message || "no reason"}`,
          );
      }
    }
    assert.deepEqual(undelivered, [], "templates neither delivered nor explained");
    assert.ok(templates >= 300, `expected the collection's templates, found ${templates}`);
    const errors = logs.entries.filter((entry) => entry.level >= 50);
    assert.deepEqual(
      errors.map((entry) => entry.msg),
      [],
      "no controller error",
    );
  });
});
