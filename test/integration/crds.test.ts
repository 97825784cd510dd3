// bosun's CRDs on a real kube-apiserver: they install and become Established, accept every
// Policy, PlacementBinding, Placement, PolicySet and ConfigurationPolicy of OCM's
// policy-collection as written, accept objects valid under OCM's CRDs, and reject invalid
// objects with 422 naming the field.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { parse, parseAllDocuments } from "yaml";
import { Resources, type BosunKind, type ResourceDescriptor } from "../../api/constants.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane } from "../../local/controlplane.ts";
import { corpusMissing, findCorpus, yamlFilesUnder } from "../support/corpus.ts";

type Obj = Record<string, unknown> & {
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
};

const projectRoot = resolve(import.meta.dirname, "..", "..");

const corpusDir = findCorpus;

function ourCrdFiles(): Map<string, V1CustomResourceDefinition> {
  const byName = new Map<string, V1CustomResourceDefinition>();
  for (const location of ["hub", "managed"]) {
    for (const file of yamlFilesUnder(join(projectRoot, "crds", location))) {
      const crd = parse(readFileSync(file, "utf8")) as V1CustomResourceDefinition;
      const name = crd.metadata!.name!;
      const seen = byName.get(name);
      if (seen) assert.deepEqual(crd, seen, `${name} differs between crds/hub and crds/managed`);
      byName.set(name, crd);
    }
  }
  return byName;
}

const descriptors = Object.values(Resources) as ResourceDescriptor[];

function descriptorFor(apiVersion: unknown, kind: unknown): ResourceDescriptor | undefined {
  return descriptors.find((d) => d.apiVersion === apiVersion && d.kind === kind);
}

const crdResource = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions" };

let plane: ControlPlane | undefined;
let kc: KubeConfig;
let crdApi: ApiextensionsV1Api;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let failures = 0;
const namespaces = new Set<string>();

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string }[] };
}

function statusOf(error: unknown): { code: number; body: StatusBody } {
  if (!(error instanceof ApiException)) throw error;
  const raw: unknown = error.body;
  const body = (typeof raw === "string" ? JSON.parse(raw) : raw) as StatusBody;
  return { code: error.code, body };
}

async function ensureNamespace(name: string): Promise<void> {
  if (namespaces.has(name)) return;
  try {
    await core.createNamespace({ body: { metadata: { name } } });
  } catch (error) {
    if (statusOf(error).code !== 409) throw error;
  }
  namespaces.add(name);
}

interface WriteOptions {
  dryRun?: boolean;
  /** Unknown fields are an error (the default) rather than dropped with a warning. */
  strict?: boolean;
}

/** Creates `body` and returns what the server stored. */
async function create(r: ResourceDescriptor, body: Obj, opts: WriteOptions = {}): Promise<Obj> {
  const common = {
    group: r.group,
    version: r.version,
    plural: r.plural,
    body,
    fieldValidation: opts.strict === false ? "Warn" : "Strict",
    ...(opts.dryRun ? { dryRun: "All" } : {}),
  };
  if (r.scope === "Cluster") return (await custom.createClusterCustomObject(common)) as Obj;
  const namespace = body.metadata?.namespace;
  assert.ok(namespace, `a namespaced ${r.kind} needs metadata.namespace`);
  await ensureNamespace(namespace);
  return (await custom.createNamespacedCustomObject({ ...common, namespace })) as Obj;
}

/** Replaces the status of a stored object. */
async function writeStatus(r: ResourceDescriptor, stored: Obj, status: unknown): Promise<Obj> {
  const body = { ...stored, status };
  const common = { group: r.group, version: r.version, plural: r.plural, name: stored.metadata!.name!, body };
  if (r.scope === "Cluster") {
    return (await custom.replaceClusterCustomObjectStatus({ ...common, fieldValidation: "Strict" })) as Obj;
  }
  return (await custom.replaceNamespacedCustomObjectStatus({
    ...common,
    namespace: stored.metadata!.namespace!,
    fieldValidation: "Strict",
  })) as Obj;
}

/** Every value in `sent` appears unchanged in `got` (the server may add defaults and metadata). */
function assertSubset(sent: unknown, got: unknown, path: string): void {
  if (Array.isArray(sent)) {
    assert.ok(Array.isArray(got), `${path}: expected an array, got ${JSON.stringify(got)}`);
    assert.equal(got.length, sent.length, `${path}: length changed`);
    sent.forEach((item, i) => assertSubset(item, got[i], `${path}[${i}]`));
  } else if (sent !== null && typeof sent === "object") {
    assert.ok(got !== null && typeof got === "object" && !Array.isArray(got), `${path}: expected an object`);
    for (const [k, v] of Object.entries(sent)) {
      assert.ok(k in got, `${path}.${k}: dropped by the server`);
      assertSubset(v, (got as Record<string, unknown>)[k], `${path}.${k}`);
    }
  } else {
    assert.deepEqual(got, sent, `${path}: changed by the server`);
  }
}

function at(obj: unknown, path: string): unknown {
  let node = obj;
  for (const part of path.split(".")) {
    const m = /^(.*)\[(\d+)\]$/.exec(part);
    const key = m ? m[1]! : part;
    node = (node as Record<string, unknown> | undefined)?.[key];
    if (m) node = (node as unknown[] | undefined)?.[Number(m[2])];
  }
  return node;
}

async function waitEstablished(name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const crd = await crdApi.readCustomResourceDefinition({ name });
    const conditions = crd.status?.conditions ?? [];
    const established = conditions.find((c) => c.type === "Established")?.status === "True";
    const namesAccepted = conditions.find((c) => c.type === "NamesAccepted")?.status === "True";
    if (established && namesAccepted) return;
    if (Date.now() > deadline) {
      throw new Error(`CRD ${name} is not Established: ${JSON.stringify(conditions)}`);
    }
    await sleep(200);
  }
}

/** Waits until listing the kind succeeds: a new CRD's storage answers 429 for a moment after Established. */
async function waitServed(d: ResourceDescriptor): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await custom.listClusterCustomObject({ group: d.group, version: d.version, plural: d.plural });
      return;
    } catch (error) {
      const { code } = statusOf(error);
      if (![404, 429, 503].includes(code) || Date.now() > deadline) throw error;
    }
    await sleep(200);
  }
}

before(async () => {
  plane = await ControlPlane.start({ name: "crds", binaries: await ensureKubeBinaries() });
  kc = new KubeConfig();
  kc.loadFromFile(plane.kubeconfigPath);
  crdApi = kc.makeApiClient(ApiextensionsV1Api);
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  try {
    const crds = ourCrdFiles();
    // Sent as raw JSON: the typed V1CustomResourceDefinition model would drop the
    // x-kubernetes-* keys, which it spells differently.
    for (const crd of crds.values()) await custom.createClusterCustomObject({ ...crdResource, body: crd });
    for (const name of crds.keys()) await waitEstablished(name);
    for (const d of descriptors) await waitServed(d);
  } catch (error) {
    console.error(`installing the CRDs failed; control plane logs:\n${await plane.logTail(40)}`);
    if (error instanceof ApiException)
      throw new Error(`${error.code}: ${String(error.body)}`, { cause: error });
    throw error;
  }
});

afterEach((t) => {
  if ("passed" in t && !t.passed) failures++;
});

after(async () => {
  if (plane && failures > 0)
    console.error(`control plane logs after ${failures} failure(s):\n${await plane.logTail(40)}`);
  await plane?.stop();
});

describe("installation", () => {
  test("every CRD in crds/hub and crds/managed is Established and serves its kind", async () => {
    const installed = await crdApi.listCustomResourceDefinition();
    const names = new Set(installed.items.map((c) => c.metadata!.name!));
    for (const d of descriptors) {
      assert.ok(names.has(`${d.plural}.${d.group}`), `${d.kind} is not installed`);
      const list = (await custom.listClusterCustomObject({
        group: d.group,
        version: d.version,
        plural: d.plural,
      })) as {
        kind: string;
      };
      assert.equal(list.kind, d.listKind);
    }
    assert.equal(names.size, descriptors.length);
  });

  test("the server stores each CRD exactly as written", async () => {
    for (const [name, crd] of ourCrdFiles()) {
      const stored = (await custom.getClusterCustomObject({
        ...crdResource,
        name,
      })) as V1CustomResourceDefinition;
      assert.deepEqual(stored.spec.versions, crd.spec.versions, `${name}: versions differ`);
      assert.deepEqual(stored.spec.names, crd.spec.names, `${name}: names differ`);
      assert.equal(stored.spec.scope, crd.spec.scope);
      assert.deepEqual(stored.metadata?.labels, crd.metadata?.labels, `${name}: labels differ`);
    }
  });

  test("each of OCM's CRDs has a counterpart with the same group, kind, scope, plural and versions", async (t) => {
    const corpus = corpusDir();
    if (!corpus) return t.skip(corpusMissing());
    const installed = new Map(
      (await crdApi.listCustomResourceDefinition()).items.map((c) => [c.metadata!.name!, c] as const),
    );
    const files = yamlFilesUnder(join(corpus, "ocm-crds"));
    assert.ok(files.length >= 14, `expected OCM's CRDs in ${corpus}/ocm-crds`);
    for (const file of files) {
      const ocm = parse(readFileSync(file, "utf8")) as V1CustomResourceDefinition;
      const ours = installed.get(ocm.metadata!.name!);
      assert.ok(ours, `no CRD named ${ocm.metadata!.name} for ${relative(corpus, file)}`);
      assert.equal(ours.spec.group, ocm.spec.group);
      assert.equal(ours.spec.names.kind, ocm.spec.names.kind);
      assert.equal(ours.spec.names.plural, ocm.spec.names.plural);
      assert.equal(ours.spec.scope, ocm.spec.scope);
      const versions = (c: V1CustomResourceDefinition) =>
        c.spec.versions.map((v) => ({ name: v.name, served: v.served, storage: v.storage }));
      assert.deepEqual(versions(ours), versions(ocm), `${ocm.metadata!.name}: versions differ`);
    }
  });
});

describe("the policy corpus", () => {
  const corpusKinds = new Set([
    "Policy",
    "PlacementBinding",
    "Placement",
    "PolicySet",
    "ConfigurationPolicy",
  ]);

  test("every Policy, PlacementBinding, Placement, PolicySet and ConfigurationPolicy is accepted as written", async (t) => {
    const corpus = corpusDir();
    if (!corpus) return t.skip(corpusMissing());
    const ocmSchemas = loadOcmSchemas(corpus);
    const counts: Record<string, number> = {};
    const rejected: string[] = [];
    const notes: string[] = [];
    // Checks one object: accepted, nothing changed, and any field the server dropped is one
    // OCM's CRD does not declare either (OCM's API server drops it the same way).
    const check = async (r: ResourceDescriptor, body: Obj, where: string, dryRun: boolean) => {
      const label = `${where} ${r.kind}/${body.metadata?.name}`;
      try {
        const stored = await create(r, body, { dryRun, strict: false });
        const dropped = droppedPaths(body, stored);
        const ocm = ocmSchemas.get(`${r.group}/${r.kind}`);
        assert.ok(ocm, `OCM's CRD for ${r.kind} is missing from the corpus`);
        for (const path of dropped) {
          assert.ok(
            !declares(ocm, path),
            `${label}: ${formatPath(path)} was dropped but OCM's CRD declares it`,
          );
          notes.push(`${label}: ${formatPath(path)} is not in OCM's schema either and is dropped`);
        }
        assertSubset(withoutPaths(body, dropped), stored, label);
        counts[r.kind] = (counts[r.kind] ?? 0) + 1;
      } catch (error) {
        rejected.push(`${label}: ${describeError(error)}`);
      }
    };
    let fileIndex = 0;
    for (const file of yamlFilesUnder(join(corpus, "policy-collection"))) {
      fileIndex++;
      const where = relative(corpus, file);
      for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
        assert.equal(doc.errors.length, 0, `${where}: ${doc.errors[0]?.message}`);
        const obj = doc.toJS() as Obj | null;
        if (!obj || typeof obj.kind !== "string" || !corpusKinds.has(obj.kind)) continue;
        const r = descriptorFor(obj.apiVersion, obj.kind);
        if (!r) continue;
        const namespace = obj.metadata?.namespace ?? `corpus-${fileIndex}`;
        await check(r, { ...obj, metadata: { ...obj.metadata, namespace } }, where, false);
        if (obj.kind !== "Policy") continue;
        // The agent creates each ConfigurationPolicy template as an object of its own; a dry
        // run validates it without name clashes between files.
        const spec = obj.spec as { "policy-templates"?: { objectDefinition?: Obj }[] };
        for (const [i, template] of (spec["policy-templates"] ?? []).entries()) {
          const def = template.objectDefinition;
          if (!def || descriptorFor(def.apiVersion, def.kind) !== Resources.ConfigurationPolicy) continue;
          let name = def.metadata?.name ?? "";
          if (!dns1123Subdomain.test(name)) {
            notes.push(
              `${where}: template name ${JSON.stringify(name)} is not a valid object name; checked as template-${i}`,
            );
            name = `template-${i}`;
          }
          await check(
            Resources.ConfigurationPolicy,
            { ...def, metadata: { ...def.metadata, name, namespace } },
            where,
            true,
          );
        }
      }
    }
    assert.deepEqual(rejected, []);
    // The corpus has every one of these kinds; a count of 0 would mean the walk found nothing.
    for (const kind of corpusKinds) assert.ok((counts[kind] ?? 0) > 0, `no ${kind} found in the corpus`);
    t.diagnostic(`accepted: ${JSON.stringify(counts)}`);
    for (const note of notes) t.diagnostic(note);
  });
});

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

type Path = (string | number)[];

function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** The openAPIV3Schema of every kind in the corpus's OCM CRDs, keyed by group/kind. */
function loadOcmSchemas(corpus: string): Map<string, SchemaNode> {
  const schemas = new Map<string, SchemaNode>();
  for (const file of yamlFilesUnder(join(corpus, "ocm-crds"))) {
    const crd = parse(readFileSync(file, "utf8")) as V1CustomResourceDefinition;
    const storage = crd.spec.versions.find((v) => v.storage);
    const schema = storage?.schema?.openAPIV3Schema;
    if (schema) schemas.set(`${crd.spec.group}/${crd.spec.names.kind}`, schema);
  }
  return schemas;
}

/** Whether a schema keeps the value at `path` (declares it or preserves unknown fields above it). */
function declares(schema: SchemaNode, path: Path): boolean {
  let node: SchemaNode | undefined = schema;
  for (const part of path) {
    if (!node) return false;
    if (node["x-kubernetes-preserve-unknown-fields"]) return true;
    if (typeof part === "number") node = node.items;
    else {
      const additional: SchemaNode | boolean | undefined = node.additionalProperties;
      node = node.properties?.[part] ?? (typeof additional === "object" ? additional : undefined);
    }
  }
  return node !== undefined;
}

/** Paths present in `sent` and missing from `got`. */
function droppedPaths(sent: unknown, got: unknown, path: Path = []): Path[] {
  if (Array.isArray(sent)) {
    if (!Array.isArray(got)) return [];
    return sent.flatMap((item, i) => droppedPaths(item, got[i], [...path, i]));
  }
  if (sent === null || typeof sent !== "object" || got === null || typeof got !== "object") return [];
  return Object.entries(sent).flatMap(([k, v]) =>
    k in got ? droppedPaths(v, (got as Record<string, unknown>)[k], [...path, k]) : [[...path, k]],
  );
}

function withoutPaths(obj: Obj, paths: Path[]): Obj {
  const copy = structuredClone(obj);
  for (const path of paths) {
    let node: unknown = copy;
    for (const part of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[part];
    delete (node as Record<string | number, unknown>)[path[path.length - 1]!];
  }
  return copy;
}

function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    const { code, body } = statusOf(error);
    return `${code} ${body.message ?? JSON.stringify(body)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// Objects valid under OCM's CRDs

const ns = "valid";

function meta(name: string, namespaced = true) {
  return namespaced ? { name, namespace: ns } : { name };
}

const manifests = [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "app" } },
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "app", labels: { app: "web" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
      },
    },
  },
];

const manifestWorkSpec = {
  workload: { manifests },
  deleteOption: {
    propagationPolicy: "SelectivelyOrphan",
    selectivelyOrphans: {
      orphaningRules: [{ group: "", resource: "namespaces", name: "app" }],
    },
    ttlSecondsAfterFinished: 300,
  },
  manifestConfigs: [
    {
      resourceIdentifier: { group: "apps", resource: "deployments", name: "web", namespace: "app" },
      feedbackRules: [
        { type: "WellKnownStatus" },
        { type: "JSONPaths", jsonPaths: [{ name: "replicas", path: ".status.replicas", version: "v1" }] },
      ],
      updateStrategy: {
        type: "ServerSideApply",
        serverSideApply: {
          force: true,
          fieldManager: "work-agent-custom",
          ignoreFields: [
            { condition: "OnSpokeChange", jsonPaths: [".spec.replicas"], jsonPointers: ["/spec/paused"] },
          ],
        },
      },
      conditionRules: [
        { condition: "Complete", type: "WellKnownConditions" },
        {
          condition: "Ready",
          type: "CEL",
          celExpressions: ["object.status.readyReplicas == object.spec.replicas"],
          messageExpression: "result ? 'ready' : 'not ready'",
        },
      ],
      feedbackScrapeType: "Watch",
    },
    {
      resourceIdentifier: { resource: "configmaps", name: "*", namespace: "app-*" },
      updateStrategy: { type: "ReadOnly" },
    },
  ],
  executor: {
    subject: { type: "ServiceAccount", serviceAccount: { namespace: "default", name: "deployer" } },
  },
};

const condition = (type: string, status = "True", reason = "Done") => ({
  type,
  status,
  reason,
  message: "",
  lastTransitionTime: "2026-01-02T03:04:05Z",
});

interface ValidCase {
  kind: BosunKind;
  body: Obj;
  /** Paths of defaults the server must have filled in, with their values. */
  defaults?: Record<string, unknown>;
  /** A status written through the status subresource after creation. */
  status?: Obj;
}

function misconfiguredPlacements(specs: Record<string, Obj>): ValidCase[] {
  return Object.entries(specs).map(([name, spec]) => ({
    kind: "Placement",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: meta(name),
      spec,
    },
  }));
}

const validCases: ValidCase[] = [
  {
    kind: "ManagedCluster",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1",
      kind: "ManagedCluster",
      metadata: meta("cluster1", false),
      spec: {
        hubAcceptsClient: true,
        managedClusterClientConfigs: [{ url: "https://10.0.0.1:6443", caBundle: "Y2EK" }],
        taints: [
          {
            key: "cluster.open-cluster-management.io/unreachable",
            effect: "NoSelect",
            timeAdded: "2026-01-02T03:04:05Z",
          },
          { key: "gpu", value: "none", effect: "PreferNoSelect", timeAdded: null },
          { key: "example.com/maintenance", effect: "NoSelectIfNew" },
        ],
      },
    },
    defaults: { "spec.leaseDurationSeconds": 60 },
    status: {
      conditions: [condition("ManagedClusterJoined", "True", "ManagedClusterJoined")],
      capacity: { cpu: "4", memory: "16Gi", pods: 110 },
      allocatable: { cpu: "3500m", memory: "15Gi" },
      version: { kubernetes: "v1.36.3" },
      clusterClaims: [{ name: "id.k8s.io", value: "cluster1" }],
      managedNamespaces: [
        { name: "team-a", clusterSet: "prod", conditions: [condition("NamespaceAvailable")] },
      ],
    },
  },
  {
    kind: "ManagedClusterSet",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSet",
      metadata: meta("prod", false),
    },
    defaults: { "spec.clusterSelector.selectorType": "ExclusiveClusterSetLabel" },
    status: { conditions: [condition("ClusterSetEmpty", "False", "ClustersSelected")] },
  },
  {
    kind: "ManagedClusterSet",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSet",
      metadata: meta("global", false),
      spec: {
        clusterSelector: { selectorType: "LabelSelector", labelSelector: {} },
        managedNamespaces: [{ name: "ops" }],
      },
    },
  },
  {
    kind: "ManagedClusterSetBinding",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSetBinding",
      metadata: meta("prod"),
      spec: { clusterSet: "prod" },
    },
    status: { conditions: [condition("Bound", "True", "ClusterSetBound")] },
  },
  {
    kind: "Placement",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: meta("everything"),
      spec: {
        clusterSets: ["prod", "global"],
        numberOfClusters: 3,
        predicates: [
          {
            requiredClusterSelector: {
              labelSelector: {
                matchLabels: { env: "prod" },
                matchExpressions: [{ key: "tier", operator: "In", values: ["1", "2"] }],
              },
              claimSelector: {
                matchExpressions: [{ key: "platform.open-cluster-management.io", operator: "Exists" }],
              },
              celSelector: { celExpressions: ['managedCluster.metadata.labels["region"] == "eu"'] },
            },
          },
          { requiredClusterSelector: { labelSelector: { matchLabels: { canary: "true" } } } },
        ],
        prioritizerPolicy: {
          mode: "Exact",
          configurations: [
            { scoreCoordinate: { builtIn: "ResourceAllocatableMemory" }, weight: -2 },
            {
              scoreCoordinate: { type: "AddOn", addOn: { resourceName: "resource-usage", scoreName: "cpu" } },
              weight: 10,
            },
            { scoreCoordinate: { type: "BuiltIn", builtIn: "Spread" }, weight: 0 },
          ],
        },
        spreadPolicy: {
          spreadConstraints: [
            { topologyKey: "topology.kubernetes.io/zone", topologyKeyType: "Label" },
            {
              topologyKey: "region.open-cluster-management.io",
              topologyKeyType: "Claim",
              maxSkew: 2,
              whenUnsatisfiable: "DoNotSchedule",
            },
          ],
        },
        tolerations: [
          {
            key: "cluster.open-cluster-management.io/unreachable",
            operator: "Exists",
            tolerationSeconds: 300,
          },
          { key: "gpu", value: "none", effect: "PreferNoSelect" },
          { operator: "Exists" },
        ],
        decisionStrategy: {
          groupStrategy: {
            clustersPerDecisionGroup: "25%",
            decisionGroups: [
              {
                groupName: "canary",
                groupClusterSelector: { labelSelector: { matchLabels: { canary: "true" } } },
              },
              {
                groupName: "eu_west.1",
                groupClusterSelector: {
                  claimSelector: {
                    matchExpressions: [{ key: "region", operator: "In", values: ["eu-west-1"] }],
                  },
                },
              },
            ],
          },
        },
        sortBy: "Score",
        scoreRateLimit: "30s",
      },
    },
    defaults: {
      "spec.prioritizerPolicy.configurations[0].scoreCoordinate.type": "BuiltIn",
      "spec.tolerations[1].operator": "Equal",
      "spec.spreadPolicy.spreadConstraints[0].maxSkew": 1,
      "spec.spreadPolicy.spreadConstraints[0].whenUnsatisfiable": "ScheduleAnyway",
    },
    status: {
      numberOfSelectedClusters: 2,
      decisionGroups: [
        {
          decisionGroupIndex: 0,
          decisionGroupName: "canary",
          decisions: ["everything-decision-1"],
          clusterCount: 2,
        },
      ],
      conditions: [condition("PlacementSatisfied", "True", "AllDecisionsScheduled")],
      lastScoreUpdateTime: "2026-01-02T03:04:05Z",
    },
  },
  {
    kind: "Placement",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: meta("minimal"),
      spec: { prioritizerPolicy: {}, decisionStrategy: { groupStrategy: {} } },
    },
    defaults: {
      "spec.prioritizerPolicy.mode": "Additive",
      "spec.decisionStrategy.groupStrategy.clustersPerDecisionGroup": "100%",
      "spec.sortBy": "ClusterName",
      "spec.scoreRateLimit": "1m",
    },
  },
  {
    kind: "Placement",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: meta("counted"),
      spec: {
        prioritizerPolicy: { mode: "" },
        decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: 5 } },
      },
    },
  },
  // Accepted by OCM's CRD and left to its scheduler (which reports most as Misconfigured; an
  // unknown toleration operator simply tolerates nothing): bosun must admit them too, so that its
  // placement controller answers them as OCM's does.
  ...misconfiguredPlacements({
    "mode-bogus": { prioritizerPolicy: { mode: "Bogus" } },
    "builtin-unknown": {
      prioritizerPolicy: { configurations: [{ scoreCoordinate: { type: "BuiltIn", builtIn: "Random" } }] },
    },
    "builtin-missing": { prioritizerPolicy: { configurations: [{ scoreCoordinate: { type: "BuiltIn" } }] } },
    "addon-missing": {
      prioritizerPolicy: { mode: "Exact", configurations: [{ scoreCoordinate: { type: "AddOn" } }] },
    },
    "toleration-operator-bogus": { tolerations: [{ key: "a", operator: "Bogus" }] },
    "toleration-no-key-equal": { tolerations: [{ value: "x" }, { operator: "Equal" }, { operator: "" }] },
    "toleration-exists-value": { tolerations: [{ key: "a", operator: "Exists", value: "x" }] },
  }),
  {
    kind: "PlacementDecision",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "PlacementDecision",
      metadata: {
        ...meta("everything-decision-1"),
        labels: {
          "cluster.open-cluster-management.io/placement": "everything",
          "cluster.open-cluster-management.io/decision-group-name": "",
          "cluster.open-cluster-management.io/decision-group-index": "0",
        },
      },
    },
    status: {
      decisions: [
        { clusterName: "cluster1", reason: "" },
        { clusterName: "cluster2", reason: "picked", score: 140 },
      ],
    },
  },
  {
    kind: "AddOnPlacementScore",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1alpha1",
      kind: "AddOnPlacementScore",
      metadata: meta("resource-usage"),
    },
    status: {
      scores: [
        { name: "cpu", value: -100 },
        { name: "memory", value: 100 },
      ],
      validUntil: "2026-01-02T03:04:05Z",
      conditions: [condition("Valid")],
    },
  },
  {
    kind: "ClusterClaim",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1alpha1",
      kind: "ClusterClaim",
      metadata: {
        name: "platform.open-cluster-management.io",
        labels: { "open-cluster-management.io/spoke-only": "" },
      },
      spec: { value: "AWS" },
    },
  },
  {
    kind: "ManifestWork",
    body: {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: meta("web"),
      spec: manifestWorkSpec,
    },
    status: {
      conditions: [condition("Applied", "True", "AppliedManifestWorkComplete")],
      resourceStatus: {
        manifests: [
          {
            resourceMeta: {
              ordinal: 1,
              group: "apps",
              version: "v1",
              kind: "Deployment",
              resource: "deployments",
              name: "web",
              namespace: "app",
            },
            statusFeedback: {
              values: [
                { name: "ReadyReplicas", fieldValue: { type: "Integer", integer: 2 } },
                { name: "phase", fieldValue: { type: "String", string: "Running" } },
                { name: "ok", fieldValue: { type: "Boolean", boolean: true } },
                { name: "raw", fieldValue: { type: "JsonRaw", jsonRaw: '{"a":1}' } },
              ],
            },
            conditions: [condition("Applied", "True", "AppliedManifestComplete")],
          },
        ],
      },
    },
  },
  {
    kind: "ManifestWork",
    body: {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: meta("defaults"),
      spec: {
        workload: { manifests: [manifests[0]] },
        deleteOption: {},
        manifestConfigs: [
          {
            resourceIdentifier: { resource: "namespaces", name: "app" },
            updateStrategy: { serverSideApply: { ignoreFields: [{ jsonPaths: [".metadata.labels"] }] } },
          },
        ],
      },
    },
    defaults: {
      "spec.deleteOption.propagationPolicy": "Foreground",
      "spec.manifestConfigs[0].updateStrategy.type": "Update",
      "spec.manifestConfigs[0].updateStrategy.serverSideApply.fieldManager": "work-agent",
      "spec.manifestConfigs[0].updateStrategy.serverSideApply.ignoreFields[0].condition": "OnSpokePresent",
      "spec.manifestConfigs[0].feedbackScrapeType": "Poll",
    },
  },
  {
    kind: "AppliedManifestWork",
    body: {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "AppliedManifestWork",
      metadata: meta(`${"a".repeat(64)}-web`, false),
      spec: { hubHash: "a".repeat(64), agentID: "agent-1", manifestWorkName: "web" },
    },
    status: {
      appliedResources: [
        {
          group: "apps",
          version: "v1",
          resource: "deployments",
          name: "web",
          namespace: "app",
          uid: "0b9e3f55-1111-2222-3333-444455556666",
        },
      ],
      evictionStartTime: "2026-01-02T03:04:05Z",
    },
  },
  {
    kind: "ManifestWorkReplicaSet",
    body: {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: meta("web"),
      spec: {
        manifestWorkTemplate: manifestWorkSpec,
        placementRefs: [
          { name: "everything" },
          {
            name: "minimal",
            rolloutStrategy: {
              type: "Progressive",
              progressive: {
                maxConcurrency: "25%",
                maxFailures: 2,
                minSuccessTime: "5m",
                progressDeadline: "10m",
                mandatoryDecisionGroups: [{ groupName: "canary" }, { groupIndex: 1 }],
              },
            },
          },
          {
            name: "counted",
            rolloutStrategy: { type: "ProgressivePerGroup", progressivePerGroup: { maxFailures: "10%" } },
          },
        ],
      },
    },
    defaults: {
      "spec.cascadeDeletionPolicy": "Background",
      "spec.placementRefs[0].rolloutStrategy.type": "All",
      "spec.placementRefs[0].rolloutStrategy.all.progressDeadline": "None",
      "spec.placementRefs[2].rolloutStrategy.progressivePerGroup.progressDeadline": "None",
      "spec.placementRefs[2].rolloutStrategy.progressivePerGroup.minSuccessTime": "0",
    },
    status: {
      conditions: [condition("PlacementVerified", "True", "AsExpected")],
      summary: {
        total: 2,
        applied: 2,
        available: 1,
        degraded: 0,
        progressing: 1,
        desiredTotal: 2,
        updated: 2,
      },
      placementSummary: [
        { name: "everything", availableDecisionGroups: "1 (1 / 1 clusters applied)", summary: { total: 1 } },
      ],
    },
  },
  {
    kind: "Policy",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "Policy",
      metadata: {
        ...meta("require-ns"),
        annotations: { "policy.open-cluster-management.io/standards": "NIST SP 800-53" },
      },
      spec: {
        disabled: false,
        remediationAction: "enforce",
        copyPolicyMetadata: false,
        hubTemplateOptions: { serviceAccountName: "templates" },
        dependencies: [
          {
            apiVersion: "policy.open-cluster-management.io/v1",
            kind: "Policy",
            name: "base",
            namespace: "other",
            compliance: "Compliant",
          },
          {
            apiVersion: "policy.open-cluster-management.io/v1",
            kind: "ConfigurationPolicy",
            name: "cp",
            namespace: "",
            compliance: "NonCompliant",
          },
        ],
        "policy-templates": [
          {
            objectDefinition: {
              apiVersion: "policy.open-cluster-management.io/v1",
              kind: "ConfigurationPolicy",
              metadata: { name: "require-ns" },
              spec: {
                remediationAction: "inform",
                "object-templates": [
                  {
                    complianceType: "musthave",
                    objectDefinition: { apiVersion: "v1", kind: "Namespace", metadata: { name: "prod" } },
                  },
                ],
                futureField: { kept: true },
              },
            },
            extraDependencies: [
              {
                apiVersion: "policy.open-cluster-management.io/v1",
                kind: "CertificatePolicy",
                name: "certs",
                compliance: "Pending",
              },
            ],
            ignorePending: true,
          },
        ],
      },
    },
    status: {
      compliant: "NonCompliant",
      placement: [
        {
          placementBinding: "bind",
          placement: "everything",
          policySet: "set",
          decisions: [{ clusterName: "cluster1", clusterNamespace: "cluster1" }],
          exclusions: [{ clusterName: "cluster2" }],
        },
      ],
      status: [
        {
          clustername: "cluster1",
          clusternamespace: "cluster1",
          compliant: "NonCompliant",
          remainingBindings: [{ placementBinding: "other" }],
        },
      ],
      details: [
        {
          templateMeta: { name: "require-ns", creationTimestamp: null },
          compliant: "NonCompliant",
          history: [
            {
              lastTimestamp: "2026-01-02T03:04:05Z",
              message: "NonCompliant; violation - namespaces [prod] not found",
              eventName: "require-ns.1",
            },
          ],
        },
      ],
    },
  },
  {
    kind: "PlacementBinding",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "PlacementBinding",
      metadata: meta("bind"),
      placementRef: { apiGroup: "cluster.open-cluster-management.io", kind: "Placement", name: "everything" },
      subjects: [
        { apiGroup: "policy.open-cluster-management.io", kind: "Policy", name: "require-ns" },
        { apiGroup: "policy.open-cluster-management.io", kind: "PolicySet", name: "set" },
      ],
      bindingOverrides: { remediationAction: "Enforce" },
      subFilter: "restricted",
    },
  },
  {
    kind: "PlacementBinding",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "PlacementBinding",
      metadata: meta("legacy"),
      placementRef: { apiGroup: "apps.open-cluster-management.io", kind: "PlacementRule", name: "old" },
      subjects: [{ apiGroup: "policy.open-cluster-management.io", kind: "Policy", name: "require-ns" }],
    },
  },
  {
    kind: "PolicySet",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1beta1",
      kind: "PolicySet",
      metadata: meta("set"),
      spec: {
        description: "Namespaces",
        policies: ["require-ns"],
        exclusions: [{ policyName: "require-ns", reason: "lab", clusterNames: ["cluster2"] }],
      },
    },
    status: {
      compliant: "Pending",
      statusMessage: "All policies are reporting status",
      placement: [{ placementBinding: "bind", placement: "everything" }],
      exclusions: [{ policyName: "require-ns", clusters: ["cluster2"] }],
    },
  },
  {
    kind: "ConfigurationPolicy",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "ConfigurationPolicy",
      metadata: meta("everything"),
      spec: {
        remediationAction: "Enforce",
        severity: "Critical",
        namespaceSelector: {
          include: ["app-*"],
          exclude: ["app-test"],
          matchLabels: { team: "a" },
          matchExpressions: [{ key: "env", operator: "Exists" }],
          terminatingInclusion: "IfMatch",
        },
        "object-templates": [
          {
            complianceType: "MustOnlyHave",
            metadataComplianceType: "musthave",
            objectDefinition: {
              apiVersion: "v1",
              kind: "ConfigMap",
              data: { "{{ .x }}": '{{ fromSecret "a" "b" "c" }}' },
            },
            objectSelector: { matchLabels: { app: "web" } },
            recordDiff: "InStatus",
            recreateOption: "IfRequired",
          },
        ],
        pruneObjectBehavior: "DeleteIfCreated",
        evaluationInterval: { compliant: "10m30s", noncompliant: "watch" },
        customMessage: { compliant: "ok", noncompliant: "{{ .DefaultMessage }}" },
      },
    },
    status: {
      compliant: "Terminating",
      compliancyDetails: [
        {
          Compliant: "NonCompliant",
          Validity: {},
          conditions: [
            {
              type: "violation",
              status: "True",
              lastTransitionTime: "2026-01-02T03:04:05Z",
              reason: "K8s does not have a `must have` object",
              message: "configmaps [a] not found in namespace app-1",
            },
          ],
        },
      ],
      relatedObjects: [
        {
          object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "app-1" } },
          compliant: "NonCompliant",
          reason: "Resource not found but should exist",
          properties: { createdByPolicy: false, uid: "u", diff: "", matchesAfterDryRun: false },
        },
      ],
      lastEvaluated: "2026-01-02T03:04:05Z",
      lastEvaluatedGeneration: 1,
      history: [
        {
          lastTimestamp: "2026-01-02T03:04:05.123456Z",
          message: "NonCompliant; violation - configmaps [a] not found",
        },
      ],
    },
  },
  {
    kind: "ConfigurationPolicy",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "ConfigurationPolicy",
      metadata: meta("raw"),
      spec: { "object-templates-raw": "{{ range $i := until 2 }}\n- complianceType: musthave\n{{ end }}" },
    },
    defaults: {
      "spec.remediationAction": "inform",
      "spec.pruneObjectBehavior": "None",
    },
  },
  {
    kind: "ConfigurationPolicy",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "ConfigurationPolicy",
      metadata: meta("selector-defaults"),
      spec: {
        namespaceSelector: {},
        "object-templates": [
          { complianceType: "mustnothave", objectDefinition: { apiVersion: "v1", kind: "Pod" } },
        ],
      },
    },
    defaults: {
      "spec.namespaceSelector.terminatingInclusion": "Default",
      'spec["object-templates"][0].recreateOption': "None",
    },
  },
];

describe("objects valid under OCM's CRDs", () => {
  for (const c of validCases) {
    test(`${c.kind} ${c.body.metadata!.name} is accepted as written`, async () => {
      const r = Resources[c.kind];
      const stored = await create(r, c.body);
      assertSubset(c.body, stored, c.kind);
      for (const [path, value] of Object.entries(c.defaults ?? {})) {
        assert.deepEqual(lookup(stored, path), value, `${c.kind}: default of ${path}`);
      }
      if (c.status) {
        const updated = await writeStatus(r, stored, c.status);
        assertSubset(c.status, updated.status, `${c.kind}.status`);
      }
    });
  }
});

/** `at` with support for one quoted key like spec["object-templates"][0].x. */
function lookup(obj: unknown, path: string): unknown {
  const m = /^(\w+)\["([^"]+)"\](.*)$/.exec(path);
  if (!m) return at(obj, path);
  const base = at(obj, m[1]!) as Record<string, unknown> | undefined;
  const rest = m[3]!;
  const index = /^\[(\d+)\]\.?(.*)$/.exec(rest);
  const list = base?.[m[2]!] as unknown[] | undefined;
  if (!index) return list;
  const item = list?.[Number(index[1])];
  return index[2] ? at(item, index[2]) : item;
}

// ---------------------------------------------------------------------------------------------
// Invalid objects

interface InvalidCase {
  name: string;
  kind: BosunKind;
  body: Obj;
  /** The field path the server's message must name. */
  field: string;
  /** Written through the status subresource instead of created. */
  status?: Obj;
}

const placement = (name: string, spec: Obj): Obj => ({
  apiVersion: "cluster.open-cluster-management.io/v1beta1",
  kind: "Placement",
  metadata: { name, namespace: "invalid" },
  spec,
});

const work = (name: string, spec: Obj): Obj => ({
  apiVersion: "work.open-cluster-management.io/v1",
  kind: "ManifestWork",
  metadata: { name, namespace: "invalid" },
  spec,
});

const policyBody = (name: string, spec: Obj): Obj => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "Policy",
  metadata: { name, namespace: "invalid" },
  spec,
});

const configPolicy = (name: string, spec: Obj): Obj => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "ConfigurationPolicy",
  metadata: { name, namespace: "invalid" },
  spec,
});

const binding = (name: string, fields: Obj): Obj => ({
  apiVersion: "policy.open-cluster-management.io/v1",
  kind: "PlacementBinding",
  metadata: { name, namespace: "invalid" },
  placementRef: { apiGroup: "cluster.open-cluster-management.io", kind: "Placement", name: "p" },
  subjects: [{ apiGroup: "policy.open-cluster-management.io", kind: "Policy", name: "x" }],
  ...fields,
});

const cluster = (name: string, spec: Obj): Obj => ({
  apiVersion: "cluster.open-cluster-management.io/v1",
  kind: "ManagedCluster",
  metadata: { name },
  spec,
});

const templates = [{ complianceType: "musthave", objectDefinition: { apiVersion: "v1", kind: "Namespace" } }];
const namespaceManifest = { apiVersion: "v1", kind: "Namespace", metadata: { name: "a" } };

const invalidCases: InvalidCase[] = [
  {
    name: "weight 11",
    kind: "Placement",
    body: placement("weight", {
      prioritizerPolicy: { configurations: [{ scoreCoordinate: { builtIn: "Steady" }, weight: 11 }] },
    }),
    field: "spec.prioritizerPolicy.configurations[0].weight",
  },
  {
    name: "weight -11",
    kind: "Placement",
    body: placement("weight-low", {
      prioritizerPolicy: { configurations: [{ scoreCoordinate: { builtIn: "Steady" }, weight: -11 }] },
    }),
    field: "spec.prioritizerPolicy.configurations[0].weight",
  },
  {
    name: "configuration without scoreCoordinate",
    kind: "Placement",
    body: placement("no-coordinate", { prioritizerPolicy: { configurations: [{ weight: 1 }] } }),
    field: "spec.prioritizerPolicy.configurations[0].scoreCoordinate",
  },
  {
    name: "score coordinate type Bogus",
    kind: "Placement",
    body: placement("coordinate-type", {
      prioritizerPolicy: { configurations: [{ scoreCoordinate: { type: "Bogus", builtIn: "Steady" } }] },
    }),
    field: "spec.prioritizerPolicy.configurations[0].scoreCoordinate.type",
  },
  {
    name: "addOn without scoreName",
    kind: "Placement",
    body: placement("addon-name", {
      prioritizerPolicy: {
        configurations: [{ scoreCoordinate: { type: "AddOn", addOn: { resourceName: "r" } } }],
      },
    }),
    field: "spec.prioritizerPolicy.configurations[0].scoreCoordinate.addOn.scoreName",
  },
  {
    name: "toleration effect Bogus",
    kind: "Placement",
    body: placement("effect", { tolerations: [{ key: "a", effect: "NoExecute" }] }),
    field: "spec.tolerations[0].effect",
  },
  {
    // "Empty key" in OCM's API means an absent key: its CRD's pattern refuses key "".
    name: 'toleration with key ""',
    kind: "Placement",
    body: placement("key-empty", { tolerations: [{ key: "", operator: "Exists" }] }),
    field: "spec.tolerations[0].key",
  },
  {
    name: "toleration key with a space",
    kind: "Placement",
    body: placement("key", { tolerations: [{ key: "a b" }] }),
    field: "spec.tolerations[0].key",
  },
  {
    name: "numberOfClusters as text",
    kind: "Placement",
    body: placement("count", { numberOfClusters: "three" }),
    field: "spec.numberOfClusters",
  },
  {
    name: "clustersPerDecisionGroup 101%",
    kind: "Placement",
    body: placement("percent", { decisionStrategy: { groupStrategy: { clustersPerDecisionGroup: "101%" } } }),
    field: "spec.decisionStrategy.groupStrategy.clustersPerDecisionGroup",
  },
  {
    name: "decision group name with a leading dash",
    kind: "Placement",
    body: placement("group-name", {
      decisionStrategy: {
        groupStrategy: { decisionGroups: [{ groupName: "-a", groupClusterSelector: {} }] },
      },
    }),
    field: "spec.decisionStrategy.groupStrategy.decisionGroups[0].groupName",
  },
  {
    name: "nine spread constraints",
    kind: "Placement",
    body: placement("spread", {
      spreadPolicy: {
        spreadConstraints: Array.from({ length: 9 }, (_, i) => ({
          topologyKey: `k${i}`,
          topologyKeyType: "Label",
        })),
      },
    }),
    field: "spec.spreadPolicy.spreadConstraints",
  },
  {
    name: "spread maxSkew 0",
    kind: "Placement",
    body: placement("skew", {
      spreadPolicy: { spreadConstraints: [{ topologyKey: "zone", topologyKeyType: "Label", maxSkew: 0 }] },
    }),
    field: "spec.spreadPolicy.spreadConstraints[0].maxSkew",
  },
  {
    name: "sortBy Bogus",
    kind: "Placement",
    body: placement("sort", { sortBy: "Random" }),
    field: "spec.sortBy",
  },
  {
    name: "scoreRateLimit 1d",
    kind: "Placement",
    body: placement("rate", { scoreRateLimit: "1d" }),
    field: "spec.scoreRateLimit",
  },
  {
    name: "Placement without spec",
    kind: "Placement",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "Placement",
      metadata: { name: "no-spec", namespace: "invalid" },
    },
    field: "spec",
  },
  {
    name: "ManagedClusterSetBinding without spec.clusterSet",
    kind: "ManagedClusterSetBinding",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSetBinding",
      metadata: { name: "no-clusterset", namespace: "invalid" },
      spec: {},
    },
    field: "spec.clusterSet",
  },
  {
    name: "ManagedClusterSetBinding without spec",
    kind: "ManagedClusterSetBinding",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSetBinding",
      metadata: { name: "no-spec", namespace: "invalid" },
    },
    field: "spec",
  },
  {
    name: "ManagedClusterSetBinding named unlike its set",
    kind: "ManagedClusterSetBinding",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSetBinding",
      metadata: { name: "other", namespace: "invalid" },
      spec: { clusterSet: "prod" },
    },
    field: "spec.clusterSet",
  },
  {
    name: "ManagedClusterSet selector type Bogus",
    kind: "ManagedClusterSet",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta2",
      kind: "ManagedClusterSet",
      metadata: { name: "bogus" },
      spec: { clusterSelector: { selectorType: "All" } },
    },
    field: "spec.clusterSelector.selectorType",
  },
  {
    name: "taint effect NoExecute",
    kind: "ManagedCluster",
    body: cluster("taint-effect", { taints: [{ key: "a", effect: "NoExecute" }] }),
    field: "spec.taints[0].effect",
  },
  {
    name: "taint without effect",
    kind: "ManagedCluster",
    body: cluster("taint-no-effect", { taints: [{ key: "a" }] }),
    field: "spec.taints[0].effect",
  },
  {
    name: "taint key with a space",
    kind: "ManagedCluster",
    body: cluster("taint-key", { taints: [{ key: "a b", effect: "NoSelect" }] }),
    field: "spec.taints[0].key",
  },
  {
    name: "client config without url",
    kind: "ManagedCluster",
    body: cluster("no-url", { managedClusterClientConfigs: [{ caBundle: "Y2EK" }] }),
    field: "spec.managedClusterClientConfigs[0].url",
  },
  {
    name: "ManagedCluster named with capitals",
    kind: "ManagedCluster",
    body: cluster("cluster.one", {}),
    field: "metadata.name",
  },
  {
    name: "cluster claim with an empty name in status",
    kind: "ManagedCluster",
    body: cluster("claims", {}),
    status: { clusterClaims: [{ name: "", value: "x" }] },
    field: "status.clusterClaims[0].name",
  },
  {
    name: "ClusterClaim with an empty value",
    kind: "ClusterClaim",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1alpha1",
      kind: "ClusterClaim",
      metadata: { name: "empty" },
      spec: { value: "" },
    },
    field: "spec.value",
  },
  {
    name: "score 101",
    kind: "AddOnPlacementScore",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1alpha1",
      kind: "AddOnPlacementScore",
      metadata: { name: "score", namespace: "invalid" },
    },
    status: { scores: [{ name: "cpu", value: 101 }] },
    field: "status.scores[0].value",
  },
  {
    name: "decision without clusterName",
    kind: "PlacementDecision",
    body: {
      apiVersion: "cluster.open-cluster-management.io/v1beta1",
      kind: "PlacementDecision",
      metadata: { name: "decision", namespace: "invalid" },
    },
    status: { decisions: [{ reason: "" }] },
    field: "status.decisions[0].clusterName",
  },
  {
    name: "condition with an empty reason",
    kind: "Placement",
    body: placement("condition", {}),
    status: {
      conditions: [
        {
          type: "PlacementSatisfied",
          status: "True",
          reason: "",
          message: "",
          lastTransitionTime: "2026-01-02T03:04:05Z",
        },
      ],
    },
    field: "status.conditions[0].reason",
  },
  {
    name: "condition status Maybe",
    kind: "Placement",
    body: placement("condition-status", {}),
    status: {
      conditions: [
        {
          type: "PlacementSatisfied",
          status: "Maybe",
          reason: "X",
          message: "",
          lastTransitionTime: "2026-01-02T03:04:05Z",
        },
      ],
    },
    field: "status.conditions[0].status",
  },
  {
    name: "propagation policy Bogus",
    kind: "ManifestWork",
    body: work("propagation", { deleteOption: { propagationPolicy: "Background" } }),
    field: "spec.deleteOption.propagationPolicy",
  },
  {
    name: "orphaning rule without name",
    kind: "ManifestWork",
    body: work("orphan", {
      deleteOption: {
        propagationPolicy: "SelectivelyOrphan",
        selectivelyOrphans: { orphaningRules: [{ resource: "configmaps" }] },
      },
    }),
    field: "spec.deleteOption.selectivelyOrphans.orphaningRules[0].name",
  },
  {
    name: "manifest without kind",
    kind: "ManifestWork",
    body: work("no-kind", { workload: { manifests: [{ apiVersion: "v1", metadata: { name: "a" } }] } }),
    field: "spec.workload.manifests[0].kind",
  },
  {
    name: "field manager kubectl",
    kind: "ManifestWork",
    body: work("manager", {
      workload: { manifests: [namespaceManifest] },
      manifestConfigs: [
        {
          resourceIdentifier: { resource: "namespaces", name: "a" },
          updateStrategy: { type: "ServerSideApply", serverSideApply: { fieldManager: "kubectl" } },
        },
      ],
    }),
    field: "spec.manifestConfigs[0].updateStrategy.serverSideApply.fieldManager",
  },
  {
    name: "update strategy Bogus",
    kind: "ManifestWork",
    body: work("strategy", {
      manifestConfigs: [
        { resourceIdentifier: { resource: "namespaces", name: "a" }, updateStrategy: { type: "Replace" } },
      ],
    }),
    field: "spec.manifestConfigs[0].updateStrategy.type",
  },
  {
    name: "manifest config without resourceIdentifier",
    kind: "ManifestWork",
    body: work("identifier", { manifestConfigs: [{ feedbackRules: [{ type: "WellKnownStatus" }] }] }),
    field: "spec.manifestConfigs[0].resourceIdentifier",
  },
  {
    name: "CEL condition rule with an empty condition",
    kind: "ManifestWork",
    body: work("cel-rule", {
      manifestConfigs: [
        {
          resourceIdentifier: { resource: "namespaces", name: "a" },
          conditionRules: [{ condition: "", type: "CEL", celExpressions: ["true"] }],
        },
      ],
    }),
    field: "spec.manifestConfigs[0].conditionRules[0]",
  },
  {
    name: "feedback type Bogus",
    kind: "ManifestWork",
    body: work("feedback", {
      manifestConfigs: [
        { resourceIdentifier: { resource: "namespaces", name: "a" }, feedbackRules: [{ type: "All" }] },
      ],
    }),
    field: "spec.manifestConfigs[0].feedbackRules[0].type",
  },
  {
    name: "executor service account with capitals",
    kind: "ManifestWork",
    body: work("executor", {
      executor: {
        subject: { type: "ServiceAccount", serviceAccount: { namespace: "default", name: "Deployer" } },
      },
    }),
    field: "spec.executor.subject.serviceAccount.name",
  },
  {
    name: "feedback jsonRaw over 1024 characters",
    kind: "ManifestWork",
    body: work("raw", {}),
    status: {
      resourceStatus: {
        manifests: [
          {
            resourceMeta: { ordinal: 0 },
            conditions: [],
            statusFeedback: {
              values: [{ name: "raw", fieldValue: { type: "JsonRaw", jsonRaw: `"${"x".repeat(1100)}"` } }],
            },
          },
        ],
      },
    },
    field: "status.resourceStatus.manifests[0].statusFeedback.values[0].fieldValue.jsonRaw",
  },
  {
    name: "AppliedManifestWork without hubHash",
    kind: "AppliedManifestWork",
    body: {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "AppliedManifestWork",
      metadata: { name: "x-web" },
      spec: { manifestWorkName: "web" },
    },
    field: "spec.hubHash",
  },
  {
    name: "ManifestWorkReplicaSet without placements",
    kind: "ManifestWorkReplicaSet",
    body: {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "none", namespace: "invalid" },
      spec: { placementRefs: [] },
    },
    field: "spec.placementRefs",
  },
  {
    name: "progressDeadline soon",
    kind: "ManifestWorkReplicaSet",
    body: {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "deadline", namespace: "invalid" },
      spec: {
        placementRefs: [{ name: "p", rolloutStrategy: { type: "All", all: { progressDeadline: "soon" } } }],
      },
    },
    field: "spec.placementRefs[0].rolloutStrategy.all.progressDeadline",
  },
  {
    name: "maxConcurrency 120%",
    kind: "ManifestWorkReplicaSet",
    body: {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "concurrency", namespace: "invalid" },
      spec: {
        placementRefs: [
          { name: "p", rolloutStrategy: { type: "Progressive", progressive: { maxConcurrency: "120%" } } },
        ],
      },
    },
    field: "spec.placementRefs[0].rolloutStrategy.progressive.maxConcurrency",
  },
  {
    name: "rollout type Canary",
    kind: "ManifestWorkReplicaSet",
    body: {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "rollout", namespace: "invalid" },
      spec: { placementRefs: [{ name: "p", rolloutStrategy: { type: "Canary" } }] },
    },
    field: "spec.placementRefs[0].rolloutStrategy.type",
  },
  {
    name: "Policy without disabled",
    kind: "Policy",
    body: policyBody("no-disabled", { "policy-templates": [] }),
    field: "spec.disabled",
  },
  {
    name: "Policy without policy-templates",
    kind: "Policy",
    body: policyBody("no-templates", { disabled: false }),
    field: "spec.policy-templates",
  },
  {
    name: "Policy remediationAction audit",
    kind: "Policy",
    body: policyBody("audit", { disabled: false, remediationAction: "audit", "policy-templates": [] }),
    field: "spec.remediationAction",
  },
  {
    name: "template without objectDefinition",
    kind: "Policy",
    body: policyBody("no-definition", { disabled: false, "policy-templates": [{ ignorePending: true }] }),
    field: "spec.policy-templates[0].objectDefinition",
  },
  {
    name: "ConfigurationPolicy dependency with a namespace",
    kind: "Policy",
    body: policyBody("dep-namespace", {
      disabled: false,
      "policy-templates": [],
      dependencies: [
        {
          apiVersion: "policy.open-cluster-management.io/v1",
          kind: "ConfigurationPolicy",
          name: "cp",
          namespace: "other",
          compliance: "Compliant",
        },
      ],
    }),
    field: "spec.dependencies[0].namespace",
  },
  {
    name: "dependency compliance Unknown",
    kind: "Policy",
    body: policyBody("dep-compliance", {
      disabled: false,
      "policy-templates": [],
      dependencies: [
        {
          apiVersion: "policy.open-cluster-management.io/v1",
          kind: "Policy",
          name: "p",
          compliance: "Unknown",
        },
      ],
    }),
    field: "spec.dependencies[0].compliance",
  },
  {
    name: "extra dependency without kind",
    kind: "Policy",
    body: policyBody("dep-kind", {
      disabled: false,
      "policy-templates": [
        {
          objectDefinition: {},
          extraDependencies: [{ apiVersion: "v1", name: "p", compliance: "Compliant" }],
        },
      ],
    }),
    field: "spec.policy-templates[0].extraDependencies[0].kind",
  },
  {
    name: "Placement binding to a PlacementRule of the cluster group",
    kind: "PlacementBinding",
    body: binding("mixed-ref", {
      placementRef: { apiGroup: "cluster.open-cluster-management.io", kind: "PlacementRule", name: "p" },
    }),
    field: "placementRef.apiGroup",
  },
  {
    name: "binding without subjects",
    kind: "PlacementBinding",
    body: binding("no-subjects", { subjects: [] }),
    field: "subjects",
  },
  {
    name: "binding subject of kind ConfigurationPolicy",
    kind: "PlacementBinding",
    body: binding("subject-kind", {
      subjects: [{ apiGroup: "policy.open-cluster-management.io", kind: "ConfigurationPolicy", name: "x" }],
    }),
    field: "subjects[0].kind",
  },
  {
    name: "binding override inform",
    kind: "PlacementBinding",
    body: binding("override", { bindingOverrides: { remediationAction: "inform" } }),
    field: "bindingOverrides.remediationAction",
  },
  {
    name: "subFilter open",
    kind: "PlacementBinding",
    body: binding("subfilter", { subFilter: "open" }),
    field: "subFilter",
  },
  {
    name: "binding without placementRef",
    kind: "PlacementBinding",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1",
      kind: "PlacementBinding",
      metadata: { name: "no-ref", namespace: "invalid" },
      subjects: [{ apiGroup: "policy.open-cluster-management.io", kind: "Policy", name: "x" }],
    },
    field: "placementRef",
  },
  {
    name: "PolicySet without policies",
    kind: "PolicySet",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1beta1",
      kind: "PolicySet",
      metadata: { name: "empty", namespace: "invalid" },
      spec: { description: "x" },
    },
    field: "spec.policies",
  },
  {
    name: "PolicySet exclusion without clusters",
    kind: "PolicySet",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1beta1",
      kind: "PolicySet",
      metadata: { name: "exclusion", namespace: "invalid" },
      spec: { policies: ["a"], exclusions: [{ policyName: "a", clusterNames: [] }] },
    },
    field: "spec.exclusions[0].clusterNames",
  },
  {
    name: "PolicySet with an empty policy name",
    kind: "PolicySet",
    body: {
      apiVersion: "policy.open-cluster-management.io/v1beta1",
      kind: "PolicySet",
      metadata: { name: "blank", namespace: "invalid" },
      spec: { policies: [""] },
    },
    field: "spec.policies[0]",
  },
  {
    name: "both object-templates and object-templates-raw",
    kind: "ConfigurationPolicy",
    body: configPolicy("both", {
      "object-templates": templates,
      "object-templates-raw": "- complianceType: musthave",
    }),
    field: "spec",
  },
  {
    name: "neither object-templates nor object-templates-raw",
    kind: "ConfigurationPolicy",
    body: configPolicy("neither", { severity: "low" }),
    field: "spec",
  },
  {
    name: "complianceType shouldhave",
    kind: "ConfigurationPolicy",
    body: configPolicy("should", {
      "object-templates": [{ complianceType: "shouldhave", objectDefinition: {} }],
    }),
    field: "spec.object-templates[0].complianceType",
  },
  {
    name: "metadataComplianceType mustnothave",
    kind: "ConfigurationPolicy",
    body: configPolicy("meta", {
      "object-templates": [{ ...templates[0], metadataComplianceType: "mustnothave" }],
    }),
    field: "spec.object-templates[0].metadataComplianceType",
  },
  {
    name: "object template without objectDefinition",
    kind: "ConfigurationPolicy",
    body: configPolicy("no-definition", { "object-templates": [{ complianceType: "musthave" }] }),
    field: "spec.object-templates[0].objectDefinition",
  },
  {
    name: "evaluation interval soon",
    kind: "ConfigurationPolicy",
    body: configPolicy("interval", {
      "object-templates": templates,
      evaluationInterval: { compliant: "soon" },
    }),
    field: "spec.evaluationInterval.compliant",
  },
  {
    name: "severity severe",
    kind: "ConfigurationPolicy",
    body: configPolicy("severity", { "object-templates": templates, severity: "severe" }),
    field: "spec.severity",
  },
  {
    name: "pruneObjectBehavior DeleteSome",
    kind: "ConfigurationPolicy",
    body: configPolicy("prune", { "object-templates": templates, pruneObjectBehavior: "DeleteSome" }),
    field: "spec.pruneObjectBehavior",
  },
  {
    name: "namespace include of an empty pattern",
    kind: "ConfigurationPolicy",
    body: configPolicy("include", { "object-templates": templates, namespaceSelector: { include: [""] } }),
    field: "spec.namespaceSelector.include[0]",
  },
  {
    name: "compliance Unknown in status",
    kind: "ConfigurationPolicy",
    body: configPolicy("status", { "object-templates": templates }),
    status: { compliant: "Unknown" },
    field: "status.compliant",
  },
];

describe("invalid objects are rejected naming the field", () => {
  for (const c of invalidCases) {
    test(`${c.kind}: ${c.name}`, async (t) => {
      const r = Resources[c.kind];
      let error: unknown;
      try {
        if (c.status) {
          const stored = await create(r, c.body);
          await writeStatus(r, stored, c.status);
        } else {
          await create(r, c.body);
        }
      } catch (e) {
        error = e;
      }
      assert.ok(error, `${c.kind} "${c.name}" was accepted`);
      const { code, body } = statusOf(error);
      assert.equal(code, 422, `expected 422, got ${code}: ${body.message}`);
      assert.ok(body.message?.includes(`${c.field}:`), `message does not name ${c.field}: ${body.message}`);
      t.diagnostic(body.message ?? "");
    });
  }
});
