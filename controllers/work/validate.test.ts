import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  Manifest,
  ManifestWork,
  ManifestWorkReplicaSet,
  ManifestWorkSpec,
} from "../../api/types/work.ts";
import {
  admissionMessage,
  executorAccessReview,
  executorDeniedMessage,
  formatFieldError,
  validateManifests,
  validateManifestWork,
  validateManifestWorkReplicaSet,
  validateManifestWorkSpec,
  type FieldError,
} from "./validate.ts";

const configMap = (name: string, namespace = "default", kind = "ConfigMap"): Manifest => ({
  apiVersion: "v1",
  kind,
  metadata: { name, namespace },
});

const secret = (bytes: number): Manifest => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { namespace: "test", name: "test" },
  data: "a".repeat(bytes),
});

const work = (spec: ManifestWorkSpec | undefined, namespace = "cluster1"): ManifestWork => ({
  apiVersion: "work.open-cluster-management.io/v1",
  kind: "ManifestWork",
  metadata: { name: "w", namespace },
  spec,
});

const withManifests = (manifests: unknown[], rest: Partial<ManifestWorkSpec> = {}): ManifestWorkSpec => ({
  workload: { manifests: manifests as Manifest[] },
  ...rest,
});

describe("validateManifestWork: OCM's webhook answers", () => {
  const table: [name: string, manifests: unknown[] | undefined, answer: string | undefined][] = [
    ["no workload", undefined, "manifests should not be empty"],
    ["empty manifests", [], "manifests should not be empty"],
    [
      // OCM's own fixture says 512192: its manifests carry Encode's trailing newline.
      "size over the limit",
      [secret(300 * 1024), secret(200 * 1024)],
      "the size of manifests is 512190 bytes which exceeds the 512000 limit",
    ],
    [
      "size is checked before duplicates",
      [secret(300 * 1024), secret(300 * 1024)],
      `the size of manifests is ${2 * (300 * 1024 + 95)} bytes which exceeds the 512000 limit`,
    ],
    [
      "duplicate below the limit",
      [secret(100 * 1024), secret(100 * 1024)],
      "duplicate manifest for resource test/test with resource type v1.Secret",
    ],
    [
      "duplicate among three",
      [configMap("test1"), configMap("test2"), configMap("test1")],
      "duplicate manifest for resource default/test1 with resource type v1.ConfigMap",
    ],
    [
      "cluster-scoped duplicate",
      [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "ns" } },
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "ns" } },
      ],
      "duplicate manifest for resource /ns with resource type v1.Namespace",
    ],
    ["same name, other namespace", [configMap("test", "ns1"), configMap("test", "ns2")], undefined],
    ["same name, other kind", [configMap("test"), configMap("test", "default", "Secret")], undefined],
    [
      "same object under two apiVersions is not a duplicate for OCM",
      [
        { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "n" } },
        { apiVersion: "apps/v1beta2", kind: "Deployment", metadata: { name: "d", namespace: "n" } },
      ],
      undefined,
    ],
    ["no name", [{ apiVersion: "v1", kind: "ConfigMap", metadata: {} }], "name must be set in manifest"],
    [
      "generateName",
      [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", generateName: "a-" } }],
      "generateName must not be set in manifest",
    ],
    [
      "no kind",
      [{ apiVersion: "v1", metadata: { name: "a" } }],
      `Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"a"}}'`,
    ],
    ["not an object", [["a"]], "json: cannot unmarshal array into Go value of type map[string]interface {}"],
    [
      "the first bad manifest answers",
      [configMap("ok"), { apiVersion: "v1", kind: "ConfigMap", metadata: {} }, configMap("ok")],
      "name must be set in manifest",
    ],
  ];
  for (const [name, manifests, answer] of table) {
    it(name, () => {
      const spec = manifests === undefined ? {} : withManifests(manifests);
      assert.equal(admissionMessage(validateManifestWork(work(spec))), answer);
    });
  }

  it("reports every problem with its field, in OCM's order", () => {
    const errors = validateManifestWorkSpec(
      withManifests([configMap("a"), { apiVersion: "v1", kind: "ConfigMap", metadata: {} }, configMap("a")]),
    );
    assert.deepEqual(
      errors.map((e) => [e.field, e.type]),
      [
        ["spec.workload.manifests[1].metadata.name", "FieldValueRequired"],
        ["spec.workload.manifests[2]", "FieldValueDuplicate"],
      ],
    );
  });

  it("takes the limit as a parameter", () => {
    const manifests = [configMap("a"), configMap("b")];
    const size = validateManifests(manifests, "m", { limitBytes: 10 });
    assert.match(size[0]!.message, /^the size of manifests is \d+ bytes which exceeds the 10 limit$/);
    assert.deepEqual(validateManifests(manifests, "m", { limitBytes: 1000 }), []);
  });

  it("counts Go's HTML escapes in the size", () => {
    const plain = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a" },
      data: { k: "x".repeat(90) },
    };
    const escaped = { ...plain, data: { k: "<".repeat(90) } };
    const limit = 250;
    assert.deepEqual(validateManifests([plain], "m", { limitBytes: limit }), []);
    assert.equal(validateManifests([escaped], "m", { limitBytes: limit }).length, 1);
  });

  it("words emptiness differently for replica set templates, as OCM's shared validator does", () => {
    const mwrs: ManifestWorkReplicaSet = {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "r", namespace: "default" },
      spec: {
        manifestWorkTemplate: { workload: { manifests: [] } },
        placementRefs: [{ name: "p" }],
        cascadeDeletionPolicy: "Background",
      },
    };
    const errors = validateManifestWorkReplicaSet(mwrs);
    assert.equal(admissionMessage(errors), "Workload manifests should not be empty");
    assert.equal(errors[0]!.field, "spec.manifestWorkTemplate.workload.manifests");
  });

  it("lets a bundled replica set's template carry no manifests of its own, and only that one", () => {
    const mwrs = (annotations?: Record<string, string>): ManifestWorkReplicaSet => ({
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "r", namespace: "default", ...(annotations ? { annotations } : {}) },
      spec: {
        manifestWorkTemplate: { workload: { manifests: [] } },
        placementRefs: [{ name: "p" }],
        cascadeDeletionPolicy: "Background",
      },
    });
    assert.deepEqual(validateManifestWorkReplicaSet(mwrs({ "work.bosun.dev/bundle-content": "abc/3" })), []);
    assert.equal(
      admissionMessage(validateManifestWorkReplicaSet(mwrs({ other: "x" }))),
      "Workload manifests should not be empty",
    );
  });

  it("requires a placement ref on a replica set", () => {
    const mwrs: ManifestWorkReplicaSet = {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "r", namespace: "default" },
      spec: {
        manifestWorkTemplate: withManifests([configMap("a")]),
        placementRefs: [],
        cascadeDeletionPolicy: "Background",
      },
    };
    assert.equal(
      admissionMessage(validateManifestWorkReplicaSet(mwrs)),
      "spec.placementRefs: Invalid value: 0: spec.placementRefs in body should have at least 1 items",
    );
  });
});

describe("validateManifestWorkSpec: schema checks the API server makes", () => {
  const one = [configMap("a")];
  const config = (extra: Record<string, unknown>) =>
    withManifests(one, {
      manifestConfigs: [
        { resourceIdentifier: { resource: "configmaps", name: "a", namespace: "default" }, ...extra },
      ],
    });
  const table: [name: string, spec: ManifestWorkSpec, answer: string | undefined][] = [
    [
      "a valid config",
      config({
        updateStrategy: { type: "ServerSideApply", serverSideApply: { fieldManager: "work-agent-x" } },
      }),
      undefined,
    ],
    [
      "a field manager without the work-agent prefix",
      config({ updateStrategy: { type: "ServerSideApply", serverSideApply: { fieldManager: "kubectl" } } }),
      `spec.manifestConfigs[0].updateStrategy.serverSideApply.fieldManager: Invalid value: "kubectl": spec.manifestConfigs[0].updateStrategy.serverSideApply.fieldManager in body should match '^work-agent'`,
    ],
    [
      "an unknown update strategy",
      config({ updateStrategy: { type: "Replace" } }),
      `spec.manifestConfigs[0].updateStrategy.type: Unsupported value: "Replace": supported values: "Update", "CreateOnly", "ServerSideApply", "ReadOnly"`,
    ],
    [
      "a CEL rule without a condition",
      config({ conditionRules: [{ type: "CEL", condition: "", celExpressions: ["true"] }] }),
      `spec.manifestConfigs[0].conditionRules[0]: Invalid value: "object": Condition is required for CEL rules`,
    ],
    [
      "two condition rules for one condition",
      config({
        conditionRules: [
          { type: "WellKnownConditions", condition: "Complete" },
          { type: "WellKnownConditions", condition: "Complete" },
        ],
      }),
      `spec.manifestConfigs[0].conditionRules[1]: Duplicate value: map[string]interface {}{"condition":"Complete"}`,
    ],
    [
      "a feedback rule without a type",
      config({ feedbackRules: [{ jsonPaths: [{ name: "r", path: ".status" }] }] }),
      "spec.manifestConfigs[0].feedbackRules[0].type: Required value",
    ],
    [
      "an unknown scrape type",
      config({ feedbackScrapeType: "Push" }),
      `spec.manifestConfigs[0].feedbackScrapeType: Unsupported value: "Push": supported values: "Poll", "Watch"`,
    ],
    [
      "a resource identifier without a resource",
      withManifests(one, {
        manifestConfigs: [{ resourceIdentifier: { name: "a" } }],
      } as unknown as Partial<ManifestWorkSpec>),
      "spec.manifestConfigs[0].resourceIdentifier.resource: Required value",
    ],
    [
      "two problems at once",
      config({ feedbackScrapeType: "Push", updateStrategy: { type: "Replace" } }),
      `[spec.manifestConfigs[0].updateStrategy.type: Unsupported value: "Replace": supported values: "Update", "CreateOnly", "ServerSideApply", "ReadOnly", spec.manifestConfigs[0].feedbackScrapeType: Unsupported value: "Push": supported values: "Poll", "Watch"]`,
    ],
    [
      "an unknown propagation policy",
      withManifests(one, {
        deleteOption: { propagationPolicy: "Background" },
      } as unknown as Partial<ManifestWorkSpec>),
      `spec.deleteOption.propagationPolicy: Unsupported value: "Background": supported values: "Foreground", "Orphan", "SelectivelyOrphan"`,
    ],
    [
      "an executor without its ServiceAccount (the webhook's check)",
      withManifests(one, { executor: { subject: { type: "ServiceAccount" } } }),
      "executor service account can not be nil",
    ],
    [
      "an executor ServiceAccount with an invalid name",
      withManifests(one, {
        executor: {
          subject: { type: "ServiceAccount", serviceAccount: { namespace: "ns", name: "Bad_Name" } },
        },
      }),
      `spec.executor.subject.serviceAccount.name: Invalid value: "Bad_Name": spec.executor.subject.serviceAccount.name in body should match '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$'`,
    ],
  ];
  for (const [name, spec, answer] of table) {
    it(name, () => assert.equal(admissionMessage(validateManifestWorkSpec(spec)), answer));
  }

  it("answers with schema errors before webhook errors, as the API server checks them first", () => {
    const spec = config({ feedbackScrapeType: "Push" });
    spec.workload = { manifests: [configMap("a"), configMap("a")] };
    const errors = validateManifestWorkSpec(spec);
    assert.equal(errors.length, 2);
    assert.equal(errors[0]!.source, "webhook");
    assert.match(
      admissionMessage(errors)!,
      /^spec\.manifestConfigs\[0\]\.feedbackScrapeType: Unsupported value/,
    );
  });

  it("formats an error by where OCM raises it", () => {
    const webhook: FieldError = { type: "FieldValueInvalid", field: "f", message: "m", source: "webhook" };
    assert.equal(formatFieldError(webhook), "m");
    assert.equal(formatFieldError({ ...webhook, source: "schema" }), "f: m");
  });
});

describe("executorAccessReview", () => {
  const executor = {
    subject: { type: "ServiceAccount" as const, serviceAccount: { namespace: "ns1", name: "sa1" } },
  };
  const withExecutor = work(withManifests([configMap("a")], { executor }));
  const without = work(withManifests([configMap("a")]));

  it("asks execute-as on create", () => {
    const review = executorAccessReview(withExecutor, undefined);
    assert.deepEqual(review?.resourceAttributes, {
      group: "work.open-cluster-management.io",
      resource: "manifestworks",
      verb: "execute-as",
      namespace: "cluster1",
      name: "system:serviceaccount:ns1:sa1",
    });
    assert.equal(
      executorDeniedMessage("alice", review),
      "user alice cannot manipulate the Manifestwork with executor ns1/sa1 in namespace cluster1",
    );
  });
  it("skips an update that keeps the executor", () => {
    assert.equal(executorAccessReview(withExecutor, structuredClone(withExecutor)), undefined);
  });
  it("asks again when the executor changes", () => {
    const changed = structuredClone(withExecutor);
    changed.spec!.executor!.subject!.serviceAccount!.name = "sa2";
    assert.equal(
      executorAccessReview(changed, withExecutor)?.resourceAttributes.name,
      "system:serviceaccount:ns1:sa2",
    );
  });
  it("checks a nil executor only with NilExecutorValidating, against the agent's default account", () => {
    assert.equal(executorAccessReview(without, undefined), undefined);
    assert.equal(
      executorAccessReview(without, undefined, { nilExecutorValidating: true })?.resourceAttributes.name,
      "system:serviceaccount::klusterlet-work-sa",
    );
  });
});
