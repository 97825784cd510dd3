// Every wire constant is spelled as OCM spells it: each string must occur in the API
// reference (../shared/spec) or in OCM's CRDs (../shared/corpus/ocm-crds).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import * as constants from "./constants.ts";

const projectRoot = resolve(import.meta.dirname, "..");

function firstExisting(candidates: (string | undefined)[], probe: string): string | undefined {
  return candidates.find((dir): dir is string => !!dir && existsSync(join(dir, probe)));
}

/** Strings put together from parts that are checked one by one. */
const composed: Record<string, string> = {
  "PolicyAnnotations.categories":
    "written as policy.open-cluster-management.io/standards|categories|controls",
  "PolicyAnnotations.controls": "written as policy.open-cluster-management.io/standards|categories|controls",
};

/**
 * Strings the API reference does not quote, read in OCM's config-policy-controller source
 * (controllers/configurationpolicy_controller.go).
 */
const readInOcmSource = new Set([
  "ConfigurationPolicyMessages.namespaceParseError",
  "ConfigurationPolicyMessages.immutableFields",
  "ConfigurationPolicyReasons.namespaceSelectorError",
  "ConfigurationPolicyReasons.objectSelectorError",
  // The work agent (pkg/work/spoke/controllers/manifestcontroller, statusfeedback, conditions).
  "ManifestWorkMessages.ignoreFieldsFailed",
  "ManifestWorkMessages.resourceAvailable",
  "ManifestWorkMessages.resourceNotAvailable",
  "ManifestWorkMessages.fetchingResourceFailed",
  "ManifestWorkMessages.incompleteResourceMeta",
  "ManifestWorkMessages.statusFeedbackSyncFailed",
  "ManifestWorkMessages.workDeleting",
  "ManifestWorkMessages.celBudgetExceeded",
  "ManifestWorkMessages.celCostLimitExceeded",
  // The hub's clock sync controller (pkg/registration/hub/lease/clocksynccontroller.go).
  "ManagedClusterMessages.clockSynced",
  "ManagedClusterMessages.clockOutOfSync",
  // The placement controller's metrics (pkg/placement/controllers/metrics).
  "PlacementMetrics.schedulingDuration",
  "PlacementMetrics.bindDuration",
  "PlacementMetrics.schedulingName",
  // The work webhook (pkg/work/webhook).
  "ManifestWorkWebhookMessages.workloadManifestsEmpty",
  "ManifestWorkWebhookMessages.nameRequired",
  "ManifestWorkWebhookMessages.generateNameForbidden",
  "ManifestWorkWebhookMessages.executorServiceAccountNil",
  // The framework addon's gatekeeper sync (controllers/gatekeepersync/gatekeeper_constraint_sync.go).
  "GatekeeperMessages.noViolations",
  "GatekeeperMessages.separator",
  // The framework addon's template sync (controllers/templatesync/template_sync.go).
  "PolicyTemplateSyncMessages.gatekeeperMappingNotFound",
  "PolicyTemplateSyncMessages.constraintMappingNotFound",
]);

/** bosun's own names (split parts of oversized works), which OCM has no word for. */
const bosunOwn = (path: string) => path.startsWith("Bosun");

function leaves(value: unknown, path: string, out: [string, string][]): [string, string][] {
  if (typeof value === "string") out.push([path, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) leaves(v, `${path}.${k}`, out);
  }
  return out;
}

describe("wire constants", () => {
  it("occur verbatim in OCM's API reference or CRDs", (t) => {
    const spec = firstExisting(
      [process.env.BOSUN_SPEC, join(projectRoot, "..", "shared", "spec")],
      "ocm-core.md",
    );
    const corpus = firstExisting(
      [process.env.BOSUN_CORPUS, join(projectRoot, "..", "shared", "corpus")],
      "ocm-crds",
    );
    if (!spec || !corpus) return t.skip("spec or corpus not found (BOSUN_SPEC, BOSUN_CORPUS or ../shared)");
    const texts = [
      ...readdirSync(spec)
        .filter((f) => f.endsWith(".md"))
        .map((f) => readFileSync(join(spec, f), "utf8")),
      ...readdirSync(join(corpus, "ocm-crds"))
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => readFileSync(join(corpus, "ocm-crds", f), "utf8")),
    ].map((text) => text.replace(/\s+/g, " "));
    const all: [string, string][] = [];
    for (const [name, value] of Object.entries(constants)) {
      if (typeof value !== "function") leaves(value, name, all);
    }
    assert.ok(all.length > 300, "expected the constants to be found");
    const missing = all.filter(
      ([path, value]) =>
        !composed[path] &&
        !readInOcmSource.has(path) &&
        !bosunOwn(path) &&
        !texts.some((text) => text.includes(value)),
    );
    assert.deepEqual(missing, []);
  });

  it("build names the way OCM does", () => {
    assert.equal(constants.replicatedPolicyName("policies", "require-ns"), "policies.require-ns");
    assert.equal(constants.placementDecisionName("placement1", 1), "placement1-decision-1");
    assert.deepEqual(constants.csrSubject("cluster1", "agent1"), {
      commonName: "system:open-cluster-management:cluster1:agent1",
      organizations: [
        "system:open-cluster-management:cluster1",
        "system:open-cluster-management:managed-clusters",
      ],
    });
    assert.equal(constants.ClusterRBAC.clusterRole("c1"), "open-cluster-management:managedcluster:c1");
    assert.equal(
      constants.ClusterRBAC.registrationRoleBinding("c1"),
      "open-cluster-management:managedcluster:c1:registration",
    );
    assert.equal(
      constants.ClusterRBAC.workRoleBinding("c1"),
      "open-cluster-management:managedcluster:c1:work",
    );
    assert.deepEqual(constants.ClusterRBAC.groups("c1"), [
      "system:open-cluster-management:c1",
      "open-cluster-management:c1",
    ]);
  });
});
