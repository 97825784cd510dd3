// `bosun policy evaluate` against a real API server: the live form (read-only, with
// server-side dry runs) and the offline form on a snapshot of the same objects agree, and
// where API-server defaulting matters the live form's dry run decides.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  evaluateAgainstServer,
  evaluateOffline,
  type EvaluationReport,
  readPolicies,
} from "../../cli/commands/policy.ts";
import { MemoryCluster } from "../../policies/cluster.ts";
import type { JsonObject } from "../../policies/gofmt.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";

const fixture = useControlPlane("policy-evaluate");
const now = "2024-01-01T00:00:00Z";

const objects: Unstructured[] = [
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a", labels: { env: "prod" } } },
  { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-b", labels: { env: "dev" } } },
  {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace: "team-a", labels: { app: "web" } },
    data: { level: "info", region: "eu" },
  },
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "creds", namespace: "team-a" },
    data: { token: "c2VjcmV0" },
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: "reader", namespace: "team-a" },
    rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }],
  },
  {
    apiVersion: "v1",
    kind: "PodTemplate",
    metadata: { name: "web", namespace: "team-a" },
    template: { spec: { containers: [{ name: "web", image: "nginx:1.25" }] } },
  },
];

const configurationPolicy = (name: string, spec: string) =>
  `apiVersion: policy.open-cluster-management.io/v1\nkind: ConfigurationPolicy\nmetadata: {name: ${name}}\nspec:\n${spec
    .trim()
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n")}\n---\n`;

const agreeing = [
  configurationPolicy(
    "musthave-subset",
    `remediationAction: inform\nobject-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: team-a}, data: {level: info}}`,
  ),
  configurationPolicy(
    "mustonlyhave-extra-key",
    `remediationAction: inform\nobject-templates:\n  - complianceType: mustonlyhave\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: team-a}, data: {level: info}}`,
  ),
  configurationPolicy(
    "podtemplate-partial",
    `remediationAction: inform\nobject-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: PodTemplate, metadata: {name: web, namespace: team-a}, template: {spec: {containers: [{name: web, image: "nginx:1.25"}]}}}`,
  ),
  configurationPolicy(
    "mustnothave-role",
    `remediationAction: inform\nobject-templates:\n  - complianceType: mustnothave\n    objectDefinition: {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: reader, namespace: team-a}}`,
  ),
  configurationPolicy(
    "namespace-labels",
    `remediationAction: inform\nnamespaceSelector: {matchLabels: {env: prod}}\nobject-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {name: settings}}\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {name: missing}}`,
  ),
  configurationPolicy(
    "templates",
    `remediationAction: inform\nobject-templates:\n  - complianceType: musthave\n    objectDefinition:\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: settings, namespace: team-a}\n      data: {level: '{{ fromConfigMap "team-a" "settings" "level" }}', region: '{{ (lookup "v1" "Namespace" "" "team-a").metadata.labels.env | replace "prod" "eu" }}'}`,
  ),
  configurationPolicy(
    "unnamed",
    `remediationAction: inform\nobject-templates:\n  - complianceType: musthave\n    objectSelector: {matchLabels: {app: web}}\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {namespace: team-a}, data: {region: eu}}\n  - complianceType: mustnothave\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {namespace: team-b}, data: {region: eu}}`,
  ),
  configurationPolicy(
    "enforce-create",
    `remediationAction: enforce\nobject-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {name: created, namespace: team-a}, data: {a: b}}`,
  ),
  configurationPolicy(
    "enforce-update",
    `remediationAction: enforce\nobject-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: team-a}, data: {level: debug}}`,
  ),
  configurationPolicy(
    "unknown-kind",
    `remediationAction: inform\nobject-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: team-a}}`,
  ),
].join("");

// mustonlyhave on a list the API server fills with defaults (terminationMessagePath,
// imagePullPolicy, restartPolicy, ...): only a dry run can tell that nothing would change.
const defaulted = configurationPolicy(
  "mustonlyhave-defaulted",
  `remediationAction: inform\nobject-templates:\n  - complianceType: mustonlyhave\n    objectDefinition: {apiVersion: v1, kind: PodTemplate, metadata: {name: web, namespace: team-a}, template: {spec: {containers: [{name: web, image: "nginx:1.25"}]}}}`,
);

let kube: KubeClient;
let snapshot: MemoryCluster;

function summary(report: EvaluationReport) {
  return report.results.map((result) => ({
    name: result.name,
    message: result.message,
    related: result.relatedObjects.map(
      (entry) => `${entry.object?.kind} ${entry.object?.metadata?.name} ${entry.reason}`,
    ),
    changes: result.changes.map(
      (change) => `${change.action} ${change.kind} ${change.namespace ?? ""}/${change.name}`,
    ),
  }));
}

describe("policy evaluate against a live API server", () => {
  before(async () => {
    kube = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    for (const object of objects) await kube.create(object);
    // The offline cluster holds exactly what the server returns for the same objects.
    const read: JsonObject[] = [];
    for (const [apiVersion, kind] of [
      ["v1", "Namespace"],
      ["v1", "ConfigMap"],
      ["v1", "Secret"],
      ["rbac.authorization.k8s.io/v1", "Role"],
      ["v1", "PodTemplate"],
    ] as const) {
      const { items } = await kube.listAll(apiVersion, kind);
      read.push(...(items as unknown as JsonObject[]));
    }
    snapshot = new MemoryCluster(read);
  });
  after(() => kube?.close());

  test("gives the same answers live as offline on the same objects", async () => {
    const policies = readPolicies(agreeing, "agreeing.yaml");
    const live = summary(await evaluateAgainstServer(policies, kube, now));
    const offline = summary(evaluateOffline(policies, snapshot, now));
    assert.deepEqual(live, offline);
    const messages = Object.fromEntries(live.map((entry) => [entry.name, entry.message]));
    assert.deepEqual(messages, {
      "musthave-subset":
        "Compliant; notification - configmaps [settings] found as specified in namespace team-a",
      "mustonlyhave-extra-key":
        "NonCompliant; violation - configmaps [settings] found but not as specified in namespace team-a",
      "podtemplate-partial":
        "Compliant; notification - podtemplates [web] found as specified in namespace team-a",
      "mustnothave-role": "NonCompliant; violation - roles [reader] found in namespace team-a",
      "namespace-labels":
        "NonCompliant; notification - configmaps [settings] found as specified in namespace team-a; violation - configmaps [missing] not found in namespace team-a",
      templates: "Compliant; notification - configmaps [settings] found as specified in namespace team-a",
      unnamed:
        "Compliant; notification - configmaps [settings] found as specified in namespace team-a; notification - configmaps missing as expected in namespace team-b",
      // A dry run: enforce-mode policies are reported as the cluster is.
      "enforce-create": "NonCompliant; violation - configmaps [created] not found in namespace team-a",
      "enforce-update":
        "NonCompliant; violation - configmaps [settings] found but not as specified in namespace team-a",
      "unknown-kind":
        "NonCompliant; violation - couldn't find mapping resource with kind Widget in API version example.com/v1, please check if you have CRD deployed",
    });
  });

  test("changes nothing: enforce is only ever a dry run", async () => {
    await evaluateAgainstServer(readPolicies(agreeing, "agreeing.yaml"), kube, now);
    assert.equal(
      await kube.getOrUndefined({
        apiVersion: "v1",
        kind: "ConfigMap",
        name: "created",
        namespace: "team-a",
      }),
      undefined,
    );
    const settings = await kube.get({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "settings",
      namespace: "team-a",
    });
    assert.deepEqual(settings.data, { level: "info", region: "eu" });
    assert.ok(
      await kube.getOrUndefined({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        name: "reader",
        namespace: "team-a",
      }),
    );
  });

  test("uses the server's dry run where defaults decide", async () => {
    const policies = readPolicies(defaulted, "defaulted.yaml");
    const [offline] = evaluateOffline(policies, snapshot, now).results;
    const [live] = (await evaluateAgainstServer(policies, kube, now)).results;
    // Offline, objects are compared as given: the defaulted fields are extra.
    assert.equal(
      offline!.message,
      "NonCompliant; violation - podtemplates [web] found but not as specified in namespace team-a",
    );
    // Live, the dry-run update of the template's list comes back equal to the object.
    assert.equal(
      live!.message,
      "Compliant; notification - podtemplates [web] found as specified in namespace team-a",
    );
    assert.equal(live!.relatedObjects[0]!.properties!.matchesAfterDryRun, true);
  });
});
