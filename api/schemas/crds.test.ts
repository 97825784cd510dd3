// The CRDs offline: the committed crds/ files are what write-crds produces, every schema is
// structural, and every field matches OCM's CRDs (from the corpus) except for the deviations
// listed below, each with its reason.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { LabelValues, PolicyLabels, Resources } from "../constants.ts";
import { checkStructural, schemaAt, type CustomResourceDefinition, type Schema } from "./dsl.ts";
import { allCrds, hubCrds, managedCrds } from "./index.ts";
import { crdFileName, crdsDir, renderAll } from "./write-crds.ts";
import { corpusMissing, findCorpus } from "../../test/support/corpus.ts";

const corpusDir = findCorpus;

function ocmCrds(corpus: string): Map<string, CustomResourceDefinition> {
  const dir = join(corpus, "ocm-crds");
  const byName = new Map<string, CustomResourceDefinition>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
    const crd = parse(readFileSync(join(dir, file), "utf8")) as CustomResourceDefinition;
    byName.set(crd.metadata.name, crd);
  }
  return byName;
}

function schemaOf(crd: CustomResourceDefinition, version?: string): Schema {
  const v = version ? crd.spec.versions.find((x) => x.name === version) : crd.spec.versions[0];
  assert.ok(v, `${crd.metadata.name} has no version ${version}`);
  return v.schema.openAPIV3Schema;
}

function byName(name: string): CustomResourceDefinition {
  const crd = allCrds.find((c) => c.metadata.name === name);
  assert.ok(crd, `no CRD ${name}`);
  return crd;
}

// ---------------------------------------------------------------------------------------------
// Comparison with OCM's schemas

const compared = [
  "type",
  "format",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "minItems",
  "maxItems",
  "nullable",
  "default",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys",
] as const;

/** JSON with object keys sorted, so that key order does not count as a difference. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** Every difference between two schemas except descriptions, one line each. */
function schemaDiffs(ocm: Schema, ours: Schema, path = ""): string[] {
  const diffs: string[] = [];
  const at = path || ".";
  for (const key of compared) {
    if (canonical(ocm[key]) !== canonical(ours[key])) {
      diffs.push(`${at} ${key}: ${canonical(ocm[key])} -> ${canonical(ours[key])}`);
    }
  }
  if (ocm.type === "array" || ours.type === "array") {
    const a = ocm["x-kubernetes-list-type"] ?? "atomic";
    const b = ours["x-kubernetes-list-type"] ?? "atomic";
    if (a !== b) diffs.push(`${at} list-type: ${a} -> ${b}`);
  }
  const mapType = (s: Schema) => s["x-kubernetes-map-type"] ?? "granular";
  if (mapType(ocm) !== mapType(ours)) diffs.push(`${at} map-type: ${mapType(ocm)} -> ${mapType(ours)}`);
  if (JSON.stringify(ocm.enum) !== JSON.stringify(ours.enum)) {
    diffs.push(`${at} enum: ${JSON.stringify(ocm.enum)} -> ${JSON.stringify(ours.enum)}`);
  }
  const ocmRequired = new Set(ocm.required ?? []);
  const ourRequired = new Set(ours.required ?? []);
  for (const name of ocmRequired) if (!ourRequired.has(name)) diffs.push(`${at} required-: ${name}`);
  for (const name of ourRequired) if (!ocmRequired.has(name)) diffs.push(`${at} required+: ${name}`);
  const ocmRules = new Set((ocm["x-kubernetes-validations"] ?? []).map((r) => r.rule));
  const ourRules = new Set((ours["x-kubernetes-validations"] ?? []).map((r) => r.rule));
  for (const rule of ocmRules) if (!ourRules.has(rule)) diffs.push(`${at} rule-: ${rule}`);
  for (const rule of ourRules) if (!ocmRules.has(rule)) diffs.push(`${at} rule+: ${rule}`);
  for (const junctor of ["oneOf", "anyOf", "allOf", "not"] as const) {
    if (canonical(ocm[junctor]) !== canonical(ours[junctor])) {
      diffs.push(
        `${at} ${junctor}: ${ocm[junctor] ? "present" : "absent"} -> ${ours[junctor] ? "present" : "absent"}`,
      );
    }
  }
  const names = new Set([...Object.keys(ocm.properties ?? {}), ...Object.keys(ours.properties ?? {})]);
  for (const name of [...names].sort()) {
    const a = ocm.properties?.[name];
    const b = ours.properties?.[name];
    if (!b) diffs.push(`${at} property-: ${name}`);
    else if (!a) diffs.push(`${at} property+: ${name}`);
    else diffs.push(...schemaDiffs(a, b, `${path}.${name}`));
  }
  if (ocm.items && ours.items) diffs.push(...schemaDiffs(ocm.items, ours.items, `${path}[*]`));
  else if (ocm.items || ours.items)
    diffs.push(`${at} items: ${ocm.items ? "present" : "absent"} -> ${ours.items ? "present" : "absent"}`);
  if (ocm.additionalProperties && ours.additionalProperties) {
    diffs.push(...schemaDiffs(ocm.additionalProperties, ours.additionalProperties, `${path}{*}`));
  } else if (ocm.additionalProperties || ours.additionalProperties) {
    diffs.push(`${at} additionalProperties differ`);
  }
  return diffs;
}

/**
 * Where bosun's schemas knowingly differ from OCM's, by CRD. Each entry is a line of
 * schemaDiffs; the reason is in the comment above it. A deviation may only reject what OCM also
 * rejects elsewhere (in its webhook): every object valid under OCM's CRDs must be valid under
 * bosun's. Input OCM admits and its controllers then report (a Placement's unknown prioritizer
 * mode, built-in prioritizer or toleration operator, a score coordinate without its builtIn or
 * addOn, a toleration with an empty key but not Exists or with Exists and a value) is admitted
 * and reported by bosun's controllers too, so Placement has no deviations.
 */
const deviations: Record<string, string[]> = {
  "managedclusters.cluster.open-cluster-management.io": [
    // OCM's webhook requires a DNS-1123 label name (it becomes the cluster namespace).
    ".metadata property+: name",
  ],
  "managedclustersetbindings.cluster.open-cluster-management.io": [
    // OCM's webhook requires spec.clusterSet to equal the binding's name; we check it in the schema.
    ". required+: spec",
    ". rule+: !has(self.spec) || !has(self.spec.clusterSet) || self.metadata.name == self.spec.clusterSet",
    ".spec required+: clusterSet",
  ],
  "policies.policy.open-cluster-management.io": [
    // The same rule as OCM's oneOf, as CEL so that the error names the namespace field.
    ".spec.dependencies[*] rule+: !(self.kind in ['CertificatePolicy', 'ConfigurationPolicy']) || !has(self.namespace) || size(self.namespace) == 0",
    ".spec.dependencies[*] oneOf: present -> absent",
    ".spec.policy-templates[*].extraDependencies[*] rule+: !(self.kind in ['CertificatePolicy', 'ConfigurationPolicy']) || !has(self.namespace) || size(self.namespace) == 0",
    ".spec.policy-templates[*].extraDependencies[*] oneOf: present -> absent",
  ],
  "placementbindings.policy.open-cluster-management.io": [
    // OCM's oneOf over (apiGroup, kind) pairs, as CEL.
    ".placementRef rule+: (self.apiGroup == 'cluster.open-cluster-management.io' && self.kind == 'Placement') || (self.apiGroup == 'apps.open-cluster-management.io' && self.kind == 'PlacementRule')",
    ".placementRef oneOf: present -> absent",
  ],
  "configurationpolicies.policy.open-cluster-management.io": [
    // OCM's oneOf of required object-templates / object-templates-raw, as CEL.
    ".spec rule+: has(self.object__dash__templates) != has(self.object__dash__templates__dash__raw)",
    ".spec oneOf: present -> absent",
  ],
};

describe("crds/", () => {
  it("holds exactly what write-crds produces", () => {
    const expected = renderAll();
    for (const [path, content] of expected) {
      const file = join(crdsDir, path);
      assert.ok(existsSync(file), `${path} is missing: run npm run crds`);
      assert.equal(readFileSync(file, "utf8"), content, `${path} is stale: run npm run crds`);
    }
    for (const location of ["hub", "managed"]) {
      for (const name of readdirSync(join(crdsDir, location))) {
        assert.ok(
          expected.has(`${location}/${name}`),
          `crds/${location}/${name} is not produced by write-crds`,
        );
      }
    }
  });

  it("renders the same bytes every time", () => {
    assert.deepEqual([...renderAll()], [...renderAll()]);
  });

  it("puts the hub kinds on the hub and the agent's kinds on the managed cluster", () => {
    const kinds = (crds: readonly CustomResourceDefinition[]) => crds.map((c) => c.spec.names.kind).sort();
    assert.deepEqual(
      kinds(hubCrds),
      [
        "AddOnPlacementScore",
        "ManagedCluster",
        "ManagedClusterSet",
        "ManagedClusterSetBinding",
        "ManifestWork",
        "ManifestWorkReplicaSet",
        "PlacementBinding",
        "Placement",
        "PlacementDecision",
        "Policy",
        "PolicySet",
      ].sort(),
    );
    assert.deepEqual(kinds(managedCrds), [
      "AppliedManifestWork",
      "ClusterClaim",
      "ConfigurationPolicy",
      "Policy",
    ]);
    assert.ok(
      renderAll().has(`managed/${crdFileName(byName("policies.policy.open-cluster-management.io"))}`),
    );
  });

  it("has one CRD per kind in constants.ts, with its group, version, plural, scope and short names", () => {
    assert.equal(allCrds.length, Object.keys(Resources).length);
    for (const r of Object.values(Resources)) {
      const crd = byName(`${r.plural}.${r.group}`);
      assert.equal(crd.spec.names.kind, r.kind);
      assert.equal(crd.spec.names.listKind, r.listKind);
      assert.equal(crd.spec.names.singular, r.singular);
      assert.equal(crd.spec.scope, r.scope);
      assert.deepEqual(crd.spec.names.shortNames ?? [], [...r.shortNames]);
      assert.deepEqual(
        crd.spec.versions.map((v) => [v.name, v.served, v.storage]),
        [[r.version, true, true]],
      );
    }
  });

  it("labels ConfigurationPolicy as a policy template kind", () => {
    const crd = byName("configurationpolicies.policy.open-cluster-management.io");
    assert.equal(crd.metadata.labels?.[PolicyLabels.policyType], LabelValues.policyTypeTemplate);
    assert.equal(PolicyLabels.policyType, "policy.open-cluster-management.io/policy-type");
    assert.equal(LabelValues.policyTypeTemplate, "template");
  });

  it("has structural schemas with valid defaults", () => {
    for (const crd of allCrds) {
      for (const v of crd.spec.versions) {
        assert.deepEqual(checkStructural(v.schema.openAPIV3Schema), [], `${crd.metadata.name}/${v.name}`);
      }
    }
  });

  it("keeps manifests and policy templates as written", () => {
    const manifests = schemaAt(
      schemaOf(byName("manifestworks.work.open-cluster-management.io")),
      ".spec.workload.manifests[*]",
    );
    assert.equal(manifests?.["x-kubernetes-preserve-unknown-fields"], true);
    assert.equal(manifests?.["x-kubernetes-embedded-resource"], true);
    const template = schemaAt(
      schemaOf(byName("manifestworkreplicasets.work.open-cluster-management.io")),
      ".spec.manifestWorkTemplate.workload.manifests[*]",
    );
    assert.equal(template?.["x-kubernetes-preserve-unknown-fields"], true);
    const policyTemplate = schemaAt(
      schemaOf(byName("policies.policy.open-cluster-management.io")),
      ".spec.policy-templates[*].objectDefinition",
    );
    assert.equal(policyTemplate?.["x-kubernetes-preserve-unknown-fields"], true);
    const objectDefinition = schemaAt(
      schemaOf(byName("configurationpolicies.policy.open-cluster-management.io")),
      ".spec.object-templates[*].objectDefinition",
    );
    assert.equal(objectDefinition?.["x-kubernetes-preserve-unknown-fields"], true);
  });
});

describe("compared with OCM's CRDs", () => {
  it("has a CRD for every OCM CRD, with the same names, scope, versions, columns and labels", (t) => {
    const corpus = corpusDir();
    if (!corpus) return t.skip(corpusMissing());
    const ocm = ocmCrds(corpus);
    assert.equal(ocm.size, allCrds.length, "one OCM CRD per bosun kind");
    for (const [name, theirs] of ocm) {
      const ours = byName(name);
      assert.equal(ours.spec.group, theirs.spec.group, name);
      assert.equal(ours.spec.scope, theirs.spec.scope, name);
      const { categories, ...names } = ours.spec.names;
      assert.deepEqual(categories, ["bosun"], `${name}: categories`);
      assert.deepEqual(names, { ...theirs.spec.names }, `${name}: names`);
      assert.deepEqual(ours.metadata.labels ?? {}, theirs.metadata.labels ?? {}, `${name}: labels`);
      assert.equal(ours.spec.versions.length, theirs.spec.versions.length, `${name}: versions`);
      for (const theirVersion of theirs.spec.versions) {
        const ourVersion = ours.spec.versions.find((v) => v.name === theirVersion.name);
        assert.ok(ourVersion, `${name}: version ${theirVersion.name} is missing`);
        assert.equal(ourVersion.served, theirVersion.served);
        assert.equal(ourVersion.storage, theirVersion.storage);
        assert.deepEqual(
          ourVersion.subresources ?? {},
          theirVersion.subresources ?? {},
          `${name}: subresources`,
        );
        assert.deepEqual(
          (ourVersion.additionalPrinterColumns ?? []).map(({ name: n, type, jsonPath }) => ({
            n,
            type,
            jsonPath,
          })),
          (theirVersion.additionalPrinterColumns ?? []).map(({ name: n, type, jsonPath }) => ({
            n,
            type,
            jsonPath,
          })),
          `${name}: printer columns`,
        );
      }
    }
  });

  it("matches every field of OCM's schemas except the listed deviations", (t) => {
    const corpus = corpusDir();
    if (!corpus) return t.skip(corpusMissing());
    for (const [name, theirs] of ocmCrds(corpus)) {
      const ours = byName(name);
      for (const theirVersion of theirs.spec.versions) {
        const diffs = schemaDiffs(schemaOf(theirs, theirVersion.name), schemaOf(ours, theirVersion.name));
        assert.deepEqual(diffs.sort(), [...(deviations[name] ?? [])].sort(), `${name}/${theirVersion.name}`);
      }
    }
  });

  it("agrees with OCM on these enums, defaults and bounds", (t) => {
    const corpus = corpusDir();
    if (!corpus) return t.skip(corpusMissing());
    const ocm = ocmCrds(corpus);
    const checks: [crd: string, path: string, keys: (keyof Schema)[]][] = [
      [
        "managedclusters.cluster.open-cluster-management.io",
        ".spec.leaseDurationSeconds",
        ["default", "format"],
      ],
      ["managedclusters.cluster.open-cluster-management.io", ".spec.taints[*].effect", ["enum"]],
      ["managedclusters.cluster.open-cluster-management.io", ".spec.taints[*].key", ["pattern", "maxLength"]],
      ["managedclustersets.cluster.open-cluster-management.io", ".spec", ["default"]],
      [
        "managedclustersets.cluster.open-cluster-management.io",
        ".spec.clusterSelector.selectorType",
        ["enum", "default"],
      ],
      [
        "placements.cluster.open-cluster-management.io",
        ".spec.prioritizerPolicy.configurations[*].weight",
        ["default", "minimum", "maximum"],
      ],
      ["placements.cluster.open-cluster-management.io", ".spec.prioritizerPolicy.mode", ["default"]],
      [
        "placements.cluster.open-cluster-management.io",
        ".spec.prioritizerPolicy.configurations[*].scoreCoordinate.type",
        ["enum", "default"],
      ],
      [
        "placements.cluster.open-cluster-management.io",
        ".spec.decisionStrategy.groupStrategy.clustersPerDecisionGroup",
        ["default", "pattern", "x-kubernetes-int-or-string"],
      ],
      ["placements.cluster.open-cluster-management.io", ".spec.tolerations[*].operator", ["default"]],
      ["placements.cluster.open-cluster-management.io", ".spec.spreadPolicy.spreadConstraints", ["maxItems"]],
      ["placementdecisions.cluster.open-cluster-management.io", ".status", ["required"]],
      [
        "addonplacementscores.cluster.open-cluster-management.io",
        ".status.scores[*].value",
        ["minimum", "maximum"],
      ],
      [
        "manifestworks.work.open-cluster-management.io",
        ".spec.deleteOption.propagationPolicy",
        ["enum", "default"],
      ],
      [
        "manifestworks.work.open-cluster-management.io",
        ".spec.manifestConfigs[*].updateStrategy.type",
        ["enum", "default"],
      ],
      [
        "manifestworks.work.open-cluster-management.io",
        ".spec.manifestConfigs[*].updateStrategy.serverSideApply.fieldManager",
        ["default", "pattern"],
      ],
      [
        "manifestworkreplicasets.work.open-cluster-management.io",
        ".spec.placementRefs[*].rolloutStrategy",
        ["default"],
      ],
      [
        "manifestworkreplicasets.work.open-cluster-management.io",
        ".spec.cascadeDeletionPolicy",
        ["enum", "default"],
      ],
      ["policies.policy.open-cluster-management.io", ".spec", ["required"]],
      ["policies.policy.open-cluster-management.io", ".spec.remediationAction", ["enum"]],
      ["placementbindings.policy.open-cluster-management.io", ".subjects", ["minItems"]],
      ["policysets.policy.open-cluster-management.io", ".spec.exclusions[*].clusterNames", ["minItems"]],
      [
        "configurationpolicies.policy.open-cluster-management.io",
        ".spec.remediationAction",
        ["enum", "default"],
      ],
      [
        "configurationpolicies.policy.open-cluster-management.io",
        ".spec.object-templates[*].complianceType",
        ["enum"],
      ],
      [
        "configurationpolicies.policy.open-cluster-management.io",
        ".spec.evaluationInterval.compliant",
        ["pattern"],
      ],
    ];
    for (const [name, path, keys] of checks) {
      const theirs = schemaAt(schemaOf(ocm.get(name)!), path);
      const ours = schemaAt(schemaOf(byName(name)), path);
      assert.ok(theirs, `${name} ${path} is not in OCM's schema`);
      assert.ok(ours, `${name} ${path} is not in bosun's schema`);
      for (const key of keys) {
        assert.notEqual(theirs[key], undefined, `${name} ${path}: OCM sets no ${key}`);
        assert.deepEqual(ours[key], theirs[key], `${name} ${path}: ${key}`);
      }
    }
  });
});

describe("schemaDiffs", () => {
  const base = (): Schema => ({
    type: "object",
    properties: {
      a: { type: "string", enum: ["x", "y"], default: "x" },
      b: { type: "array", items: { type: "integer", minimum: 0 } },
    },
    required: ["a"],
  });

  it("finds no difference between equal schemas, ignoring descriptions", () => {
    const other = base();
    other.description = "documented";
    other.properties!.a!.description = "a field";
    assert.deepEqual(schemaDiffs(base(), other), []);
  });

  it("reports changed defaults, enums, bounds, required fields, properties and rules", () => {
    const other = base();
    other.properties!.a!.default = "y";
    other.properties!.a!.enum = ["x"];
    other.properties!.b!.items!.minimum = 1;
    other.required = ["b"];
    other.properties!.c = { type: "boolean" };
    other["x-kubernetes-validations"] = [{ rule: "true" }];
    assert.deepEqual(
      schemaDiffs(base(), other).sort(),
      [
        '.a default: "x" -> "y"',
        '.a enum: ["x","y"] -> ["x"]',
        ".b[*] minimum: 0 -> 1",
        ". property+: c",
        ". required+: b",
        ". required-: a",
        ". rule+: true",
      ].sort(),
    );
  });
});
