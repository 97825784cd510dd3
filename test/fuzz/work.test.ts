// Hostile ManifestWorks and ManifestWorkReplicaSets: the validators and the splitter never
// throw, and every error they report names a field path.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { ManifestWork, ManifestWorkReplicaSet, ManifestWorkSpec } from "../../api/types/work.ts";
import { splitWorkSpec } from "../../controllers/work/split.ts";
import {
  admissionMessage,
  validateManifestWork,
  validateManifestWorkReplicaSet,
  type FieldError,
} from "../../controllers/work/validate.ts";
import { fieldPathPattern, fuzzRuns, mutated } from "./hostile.ts";

const configMap = (name: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default", labels: { app: "demo" } },
  data: { key: "value" },
});

const validSpec: ManifestWorkSpec = {
  workload: { manifests: [configMap("a"), configMap("b")] },
  deleteOption: { propagationPolicy: "SelectivelyOrphan", selectivelyOrphans: { orphaningRules: [] } },
  manifestConfigs: [
    {
      resourceIdentifier: { group: "", resource: "configmaps", name: "a", namespace: "default" },
      feedbackRules: [{ type: "JSONPaths", jsonPaths: [{ name: "key", path: ".data.key" }] }],
      updateStrategy: {
        type: "ServerSideApply",
        serverSideApply: { force: true, fieldManager: "work-agent-x" },
      },
    },
  ],
  executor: { subject: { type: "ServiceAccount", serviceAccount: { namespace: "default", name: "sa" } } },
};

const validWork = {
  apiVersion: "work.open-cluster-management.io/v1",
  kind: "ManifestWork",
  metadata: { name: "w", namespace: "cluster1" },
  spec: validSpec,
} as ManifestWork;

const validReplicaSet = {
  apiVersion: "work.open-cluster-management.io/v1alpha1",
  kind: "ManifestWorkReplicaSet",
  metadata: { name: "rs", namespace: "default" },
  spec: {
    manifestWorkTemplate: validSpec,
    placementRefs: [{ name: "p1", rolloutStrategy: { type: "All" } }],
  },
} as ManifestWorkReplicaSet;

function assertWellFormed(errors: FieldError[]): void {
  assert.ok(Array.isArray(errors));
  for (const error of errors) {
    assert.match(error.field, fieldPathPattern, `field path of ${JSON.stringify(error).slice(0, 300)}`);
    assert.equal(typeof error.message, "string");
    assert.ok(error.message.length > 0);
  }
  const message = admissionMessage(errors);
  assert.equal(message === undefined, errors.length === 0);
}

test("the valid objects are valid, so that the mutations start from a valid object", () => {
  assert.deepEqual(validateManifestWork(validWork), []);
  assert.deepEqual(validateManifestWorkReplicaSet(validReplicaSet), []);
});

test("a hostile ManifestWork gets field errors, never an exception", () => {
  fc.assert(
    fc.property(mutated(validWork), (work) => assertWellFormed(validateManifestWork(work))),
    { numRuns: fuzzRuns },
  );
});

test("a hostile ManifestWorkReplicaSet gets field errors, never an exception", () => {
  fc.assert(
    fc.property(mutated(validReplicaSet), (replicaSet) =>
      assertWellFormed(validateManifestWorkReplicaSet(replicaSet)),
    ),
    { numRuns: fuzzRuns },
  );
});

test("the splitter puts every manifest of a valid hostile spec in exactly one part, or names the one too big", () => {
  fc.assert(
    fc.property(mutated(validSpec), fc.integer({ min: 200, max: 200_000 }), (spec, limit) => {
      // The splitter runs on specs the validator accepted.
      if (validateManifestWork({ ...validWork, spec }).length > 0) return;
      const result = splitWorkSpec(spec, "w", limit);
      const manifests = spec.workload?.manifests ?? [];
      if (!result.ok) {
        assert.ok(manifests.includes(result.manifest), "the failure names one of the spec's manifests");
        assert.ok(result.size > result.budget);
        assert.match(result.error, /\S/);
        return;
      }
      const placed = result.parts.flatMap((part) => part.spec.workload?.manifests ?? []);
      assert.equal(placed.length, manifests.length);
      for (const manifest of manifests) assert.ok(placed.includes(manifest));
    }),
    { numRuns: fuzzRuns },
  );
});
