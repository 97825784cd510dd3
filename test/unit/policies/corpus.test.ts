// Every ConfigurationPolicy of OCM's policy-collection evaluated offline, against an empty
// cluster and against a cluster that holds what each object template asks for.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { type ClusterObject, MemoryCluster } from "../../../policies/cluster.ts";
import { evaluateConfigurationPolicy, type PolicyEvaluation } from "../../../policies/evaluate.ts";
import { isObject, type JsonObject } from "../../../policies/gofmt.ts";
import { builtInKinds } from "../../../policies/kinds.ts";
import { namespaceSelectorIsEmpty } from "../../../policies/namespaces.ts";
import { expandPolicy, policyErrors } from "../../../policies/policy.ts";
import { parseKubeYaml } from "../../../policies/yaml.ts";
import { corpusMissing, findCorpus } from "../../support/corpus.ts";

const corpus = findCorpus();
const collection = corpus === undefined ? "" : join(corpus, "policy-collection");

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

interface Found {
  file: string;
  policy: JsonObject;
}

/** Every ConfigurationPolicy: standalone, or a Policy's template as a managed cluster gets it. */
function configurationPolicies(): Found[] {
  const found: Found[] = [];
  for (const path of yamlFiles(collection)) {
    const file = relative(collection, path);
    let documents;
    try {
      documents = parseKubeYaml(readFileSync(path, "utf8"));
    } catch {
      continue; // Helm templates and other non-YAML files.
    }
    for (const { value } of documents) {
      if (!isObject(value)) continue;
      if (value.kind === "ConfigurationPolicy") found.push({ file, policy: value });
      if (value.kind === "Policy" && policyErrors(value).length === 0) {
        for (const template of expandPolicy(value).templates)
          if (template.policy) found.push({ file, policy: template.policy });
      } else if (
        value.kind === "Policy" &&
        isObject(value.spec) &&
        Array.isArray(value.spec["policy-templates"])
      ) {
        // A Policy the webhook would refuse (no remediationAction anywhere): evaluate its
        // templates with the CRD's default.
        for (const template of value.spec["policy-templates"]) {
          const definition = isObject(template) ? template.objectDefinition : undefined;
          if (isObject(definition) && definition.kind === "ConfigurationPolicy")
            found.push({ file, policy: definition });
        }
      }
    }
  }
  return found;
}

const known = new Set(builtInKinds().map((kind) => `${kind.group}/${kind.kind}`));

/** The objects and CRDs a cluster needs for every object template to be satisfied. */
function satisfyingCluster(policy: JsonObject): ClusterObject[] {
  const objects: ClusterObject[] = [];
  const spec = isObject(policy.spec) ? policy.spec : {};
  const templates = Array.isArray(spec["object-templates"]) ? spec["object-templates"] : [];
  const selector = isObject(spec.namespaceSelector) ? spec.namespaceSelector : {};
  const includes = Array.isArray(selector.include)
    ? selector.include.filter((item) => typeof item === "string" && !/[*?[]/.test(item))
    : [];
  const namespaces = includes.length > 0 ? (includes as string[]) : ["default"];
  for (const name of namespaces) objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  for (const [index, template] of templates.entries()) {
    if (!isObject(template) || !isObject(template.objectDefinition)) continue;
    const definition = template.objectDefinition;
    if (JSON.stringify(definition).includes("{{")) continue;
    const apiVersion = typeof definition.apiVersion === "string" ? definition.apiVersion : "";
    const kind = typeof definition.kind === "string" ? definition.kind : "";
    if (!apiVersion.includes("/") && apiVersion !== "v1") continue;
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
    const metadata = isObject(definition.metadata) ? definition.metadata : {};
    const namespaced = typeof metadata.namespace === "string" || kind !== "Namespace";
    if (!known.has(`${group}/${kind}`) && kind) {
      objects.push({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${kind.toLowerCase()}s.${group}` },
        spec: {
          group,
          scope: typeof metadata.namespace === "string" || includes.length > 0 ? "Namespaced" : "Cluster",
          names: { kind, plural: `${kind.toLowerCase()}s` },
          versions: [{ name: apiVersion.slice(apiVersion.indexOf("/") + 1), served: true, storage: true }],
        },
      });
    }
    if (
      typeof template.complianceType === "string" &&
      template.complianceType.toLowerCase() === "mustnothave"
    )
      continue;
    const targets =
      typeof metadata.namespace === "string" ? [metadata.namespace] : namespaced ? namespaces : [""];
    for (const namespace of targets) {
      const object = structuredClone(definition);
      const objectMetadata = isObject(object.metadata) ? object.metadata : (object.metadata = {});
      if (typeof objectMetadata.name !== "string")
        objectMetadata.name = `generated-${kind.toLowerCase()}-${index}`;
      if (namespace) objectMetadata.namespace = namespace;
      objects.push(object);
    }
  }
  return objects;
}

function assertSane(result: PolicyEvaluation): void {
  assert.ok(
    result.compliant === "Compliant" || result.compliant === "NonCompliant",
    `compliance ${result.compliant}`,
  );
  assert.ok(result.message.startsWith(`${result.compliant}; `), result.message);
  assert.ok(result.compliancyDetails.length > 0);
  for (const detail of result.compliancyDetails) {
    const condition = detail.conditions?.[0];
    assert.ok(condition?.message, "every template has a message");
    assert.equal(condition.type, detail.Compliant === "Compliant" ? "notification" : "violation");
  }
}

describe("the OCM policy corpus", () => {
  if (corpus === undefined) {
    void it.skip(corpusMissing());
    return;
  }
  const policies = configurationPolicies();

  it("holds the ConfigurationPolicies the research counted", () => {
    // ~334 community + the stable ones (spec §6); some files hold several per Policy.
    assert.ok(policies.length > 330, `${policies.length} ConfigurationPolicies`);
  });

  it("evaluates every ConfigurationPolicy against an empty cluster without throwing", () => {
    const empty = new MemoryCluster();
    for (const { file, policy } of policies) {
      const result = evaluateConfigurationPolicy(policy, empty);
      assertSane(result);
      // Nothing exists, so nothing a musthave template names can be found as specified.
      for (const detail of result.compliancyDetails) {
        assert.ok(
          !detail.conditions![0]!.message!.includes("found as specified"),
          `${file}: ${result.message}`,
        );
      }
    }
  });

  it("evaluates every ConfigurationPolicy against a cluster holding what it asks for", () => {
    let satisfied = 0;
    for (const { file, policy } of policies) {
      const cluster = new MemoryCluster(satisfyingCluster(policy));
      const served = (definition: JsonObject) =>
        typeof definition.apiVersion === "string" &&
        typeof definition.kind === "string" &&
        cluster.resolveKind(definition.apiVersion, definition.kind) !== undefined;
      const result = evaluateConfigurationPolicy(policy, cluster);
      assertSane(result);
      const spec = policy.spec as JsonObject;
      const templates = Array.isArray(spec["object-templates"])
        ? (spec["object-templates"] as JsonObject[])
        : [];
      templates.forEach((template, index) => {
        const detail = result.compliancyDetails[index];
        const condition = detail?.conditions?.[0];
        const definition = template.objectDefinition as JsonObject;
        const plain = !JSON.stringify(definition).includes("{{") && !JSON.stringify(spec).includes("{{hub");
        // Every untemplated template is met: the object is there exactly as written (or,
        // for mustnothave, absent) — whatever the remediation action.
        // (Kinds a Kubernetes 1.36 server no longer serves, such as batch/v1beta1 CronJob,
        // keep OCM's mapping error.)
        const metadata = isObject(definition.metadata) ? definition.metadata : {};
        const mapping = served(definition)
          ? cluster.resolveKind(definition.apiVersion as string, definition.kind as string)
          : undefined;
        if (
          plain &&
          mapping?.namespaced &&
          typeof metadata.namespace !== "string" &&
          namespaceSelectorIsEmpty(spec.namespaceSelector)
        ) {
          // Namespaced, no namespace and no namespaceSelector: OCM cannot tell where to look.
          assert.equal(condition?.reason, "K8s missing namespace", `${file}: ${condition?.message}`);
        } else if (plain && mapping) {
          assert.equal(
            detail?.Compliant,
            "Compliant",
            `${file} ${(policy.metadata as { name?: string }).name}[${index}]: ${condition?.message}`,
          );
          satisfied++;
        }
      });
      // Nothing needs creating or updating when everything is there (templated definitions
      // are not pre-created by this test, so enforce may create those).
      if (JSON.stringify(spec).includes("{{")) continue;
      assert.deepEqual(
        result.changes.filter((change) => change.action !== "delete"),
        [],
        `${file}: ${JSON.stringify(result.changes.map((change) => `${change.action} ${change.kind}/${change.name}`))}`,
      );
    }
    assert.ok(satisfied > 300, `${satisfied} object templates checked`);
  });

  it("gives the answers OCM gives on a sample", () => {
    const byName = (file: string, name: string) =>
      policies.find((found) => found.file === file && (found.policy.metadata as JsonObject).name === name)!
        .policy;
    // stable/CM policy-namespace: a Namespace "prod" that must exist.
    const namespacePolicy = byName(
      "stable/CM-Configuration-Management/policy-namespace.yaml",
      "policy-namespace-example",
    );
    assert.equal(
      evaluateConfigurationPolicy(namespacePolicy, new MemoryCluster()).message,
      "NonCompliant; violation - namespaces [prod] not found",
    );
    assert.equal(
      evaluateConfigurationPolicy(
        namespacePolicy,
        new MemoryCluster([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "prod" } }]),
      ).message,
      "Compliant; notification - namespaces [prod] found as specified",
    );
    // stable/SC policy-limitmemory: a mustonlyhave LimitRange in the default namespace; an
    // extra limit in the cluster breaks mustonlyhave.
    const limits = byName(
      "stable/SC-System-and-Communications-Protection/policy-limitmemory.yaml",
      "policy-limitrange-example",
    );
    const limitRange = satisfyingCluster(limits).find((object) => object.kind === "LimitRange")!;
    assert.equal(
      evaluateConfigurationPolicy(limits, new MemoryCluster([limitRange])).message,
      "Compliant; notification - limitranges [mem-limit-range] found as specified in namespace default",
    );
    const widened = structuredClone(limitRange) as { spec: { limits: JsonObject[] } };
    widened.spec.limits.push({ type: "Pod", max: { memory: "2Gi" } });
    assert.equal(
      evaluateConfigurationPolicy(limits, new MemoryCluster([widened as unknown as ClusterObject])).message,
      "NonCompliant; violation - limitranges [mem-limit-range] found but not as specified in namespace default",
    );
    // Gatekeeper's ConstraintTemplate needs its CRD: without it, OCM's mapping error.
    const gatekeeper = policies.find(({ policy }) =>
      JSON.stringify(policy).includes('"kind":"ConstraintTemplate"'),
    )!.policy;
    assert.match(
      evaluateConfigurationPolicy(gatekeeper, new MemoryCluster()).message,
      /couldn't find mapping resource with kind ConstraintTemplate in API version templates\.gatekeeper\.sh\/v1(?:beta1)?, please check if you have CRD deployed/,
    );
  });
});
