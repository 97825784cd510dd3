import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyOrder, applyRank, awaitedCrd, crdEstablished, crdsInWork, isCrd } from "./order.ts";

const m = (apiVersion: string, kind: string, name = kind.toLowerCase()) => ({
  apiVersion,
  kind,
  metadata: { name },
});

const crd = (name: string, group: string, kind: string) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name },
  spec: { group, names: { kind, plural: `${kind.toLowerCase()}s` }, scope: "Namespaced" },
});

describe("applyRank", () => {
  const cases: [string, unknown, number][] = [
    ["PriorityClass", m("scheduling.k8s.io/v1", "PriorityClass"), 0],
    ["Namespace", m("v1", "Namespace"), 0],
    ["CustomResourceDefinition", m("apiextensions.k8s.io/v1", "CustomResourceDefinition"), 0],
    ["StorageClass", m("storage.k8s.io/v1", "StorageClass"), 0],
    ["PersistentVolume", m("v1", "PersistentVolume"), 0],
    ["PodSecurityPolicy", m("policy/v1beta1", "PodSecurityPolicy"), 0],
    ["ClusterRole", m("rbac.authorization.k8s.io/v1", "ClusterRole"), 1],
    ["ClusterRoleBinding", m("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), 1],
    ["Role", m("rbac.authorization.k8s.io/v1", "Role"), 1],
    ["RoleBinding", m("rbac.authorization.k8s.io/v1", "RoleBinding"), 1],
    ["NetworkPolicy", m("networking.k8s.io/v1", "NetworkPolicy"), 2],
    ["ResourceQuota", m("v1", "ResourceQuota"), 2],
    ["LimitRange", m("v1", "LimitRange"), 2],
    ["PodDisruptionBudget", m("policy/v1", "PodDisruptionBudget"), 2],
    ["ServiceAccount", m("v1", "ServiceAccount"), 2],
    ["Secret", m("v1", "Secret"), 3],
    ["ConfigMap", m("v1", "ConfigMap"), 3],
    ["PersistentVolumeClaim", m("v1", "PersistentVolumeClaim"), 3],
    ["Service", m("v1", "Service"), 4],
    ["Deployment", m("apps/v1", "Deployment"), 5],
    ["StatefulSet", m("apps/v1", "StatefulSet"), 5],
    ["DaemonSet", m("apps/v1", "DaemonSet"), 5],
    ["ReplicaSet", m("apps/v1", "ReplicaSet"), 5],
    ["Job", m("batch/v1", "Job"), 5],
    ["CronJob", m("batch/v1", "CronJob"), 5],
    ["Pod", m("v1", "Pod"), 5],
    ["ReplicationController", m("v1", "ReplicationController"), 5],
    ["MutatingWebhookConfiguration", m("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"), 6],
    [
      "ValidatingWebhookConfiguration",
      m("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
      6,
    ],
    ["APIService", m("apiregistration.k8s.io/v1", "APIService"), 6],
    ["a custom kind", m("example.com/v1", "Widget"), 1000],
    ["a kind of another group is not the core kind", m("serving.knative.dev/v1", "Service"), 1000],
    ["kind case matters", m("v1", "configmap"), 1000],
    ["no kind", { apiVersion: "v1", metadata: {} }, 1001],
    ["no apiVersion", { kind: "ConfigMap", metadata: {} }, 1001],
    ["empty kind", { apiVersion: "v1", kind: "" }, 1001],
    ["not an object", "kind: ConfigMap", 1001],
    ["null", null, 1001],
    ["an array", [], 1001],
  ];
  for (const [name, manifest, rank] of cases) {
    it(name, () => assert.equal(applyRank(manifest), rank));
  }
});

describe("applyOrder", () => {
  it("sorts by rank, keeps spec order within a rank and records ordinals", () => {
    const manifests = [
      m("apps/v1", "Deployment", "web"),
      m("example.com/v1", "Widget", "w"),
      m("v1", "ConfigMap", "b"),
      m("v1", "Namespace", "ns"),
      m("v1", "ConfigMap", "a"),
      { broken: true },
      m("v1", "Service", "svc"),
      m("rbac.authorization.k8s.io/v1", "Role", "r"),
    ];
    const order = applyOrder(manifests).map((o) => [o.ordinal, o.rank, o.manifest]);
    assert.deepEqual(order, [
      [3, 0, manifests[3]],
      [7, 1, manifests[7]],
      [2, 3, manifests[2]],
      [4, 3, manifests[4]],
      [6, 4, manifests[6]],
      [0, 5, manifests[0]],
      [1, 1000, manifests[1]],
      [5, 1001, manifests[5]],
    ]);
  });

  it("returns nothing for no manifests and does not reorder the input", () => {
    assert.deepEqual(applyOrder([]), []);
    const manifests = [m("apps/v1", "Deployment"), m("v1", "Namespace")];
    applyOrder(manifests);
    assert.equal(manifests[0]?.kind, "Deployment");
  });
});

describe("CRDs in the same work", () => {
  const work = [
    crd("widgets.example.com", "example.com", "Widget"),
    crd("gadgets.example.com", "example.com", "Gadget"),
    { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "x" } },
    { apiVersion: "example.com/v1", kind: "CustomResourceDefinition", metadata: { name: "fake" }, spec: {} },
    m("v1", "ConfigMap"),
  ];
  const defined = crdsInWork(work);

  it("indexes the kinds the work's CRDs define, skipping incomplete CRDs", () => {
    assert.deepEqual(
      [...defined],
      [
        ["Widget.example.com", "widgets.example.com"],
        ["Gadget.example.com", "gadgets.example.com"],
      ],
    );
  });

  const cases: [string, unknown, string | undefined][] = [
    ["a custom resource of a CRD in the work", m("example.com/v1", "Widget"), "widgets.example.com"],
    ["another version of the same group", m("example.com/v2beta1", "Gadget"), "gadgets.example.com"],
    ["a kind of another group", m("other.com/v1", "Widget"), undefined],
    ["a kind no CRD of the work defines", m("example.com/v1", "Sprocket"), undefined],
    ["a built-in kind", m("v1", "ConfigMap"), undefined],
    ["an unparseable manifest", { kind: "Widget" }, undefined],
  ];
  for (const [name, manifest, expected] of cases) {
    it(name, () => assert.equal(awaitedCrd(manifest, defined), expected));
  }

  const crdCases: [string, unknown, boolean][] = [
    ["a v1 CRD", crd("a.b", "b", "A"), true],
    ["a v1beta1 CRD", { ...crd("a.b", "b", "A"), apiVersion: "apiextensions.k8s.io/v1beta1" }, true],
    ["the kind in another group", { apiVersion: "example.com/v1", kind: "CustomResourceDefinition" }, false],
    ["another kind", m("v1", "ConfigMap"), false],
  ];
  for (const [name, manifest, expected] of crdCases) {
    it(`isCrd: ${name}`, () => assert.equal(isCrd(manifest), expected));
  }
});

describe("crdEstablished", () => {
  const cases: [
    string,
    { status?: { conditions?: { type?: string; status?: "True" | "False" }[] } },
    boolean,
  ][] = [
    ["Established=True", { status: { conditions: [{ type: "Established", status: "True" }] } }, true],
    ["Established=False", { status: { conditions: [{ type: "Established", status: "False" }] } }, false],
    ["only NamesAccepted", { status: { conditions: [{ type: "NamesAccepted", status: "True" }] } }, false],
    ["no status", {}, false],
  ];
  for (const [name, object, expected] of cases) {
    it(name, () => assert.equal(crdEstablished(object), expected));
  }
});
