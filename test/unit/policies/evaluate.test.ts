import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ClusterReader,
  type DryRunOutcome,
  MemoryCluster,
  nameOf,
  type WriteOutcome,
  type WriteRequest,
  WritableMemoryCluster,
} from "../../../policies/cluster.ts";
import {
  type Change,
  evaluateConfigurationPolicy,
  type PolicyEvaluation,
} from "../../../policies/evaluate.ts";
import type { JsonObject } from "../../../policies/gofmt.ts";
import { parseKubeYaml } from "../../../policies/yaml.ts";

function documents(text: string): JsonObject[] {
  return parseKubeYaml(text).map((document) => document.value as JsonObject);
}

/** A ConfigurationPolicy named `p` with the given spec (YAML). */
function policy(spec: string, metadata = "name: p"): JsonObject {
  const indented = spec
    .trim()
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
  return documents(
    `apiVersion: policy.open-cluster-management.io/v1\nkind: ConfigurationPolicy\nmetadata: {${metadata}}\nspec:\n${indented}\n`,
  )[0]!;
}

function evaluate(spec: string, cluster = "", metadata?: string): PolicyEvaluation {
  return evaluateConfigurationPolicy(policy(spec, metadata), new MemoryCluster(documents(cluster)), {
    now: "2024-01-01T00:00:00Z",
  });
}

function reasons(result: PolicyEvaluation): string[] {
  return result.compliancyDetails.map((detail) => detail.conditions?.[0]?.reason ?? "");
}

function related(result: PolicyEvaluation): string[] {
  return result.relatedObjects.map(
    (entry) =>
      `${entry.object?.kind} ${entry.object?.metadata?.namespace ?? ""}/${entry.object?.metadata?.name} ${entry.compliant} ${entry.reason}`,
  );
}

function changes(result: PolicyEvaluation): string[] {
  return result.changes.map(
    (change: Change) =>
      `${change.action}${change.recreate ? " (recreate)" : ""} ${change.kind} ${change.namespace ?? ""}/${change.name}`,
  );
}

const pod = (name: string, namespace = "default", extra = "") => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${namespace}${extra}}
spec:
  containers:
  - name: nginx
    image: nginx:1.18.0
    imagePullPolicy: IfNotPresent
    ports:
    - containerPort: 80
      protocol: TCP
    - containerPort: 443
      protocol: TCP
---`;

const namespaces = (...names: string[]) =>
  names
    .map(
      (name) =>
        `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: {env: ${name.startsWith("prod") ? "prod" : "dev"}}}\n---`,
    )
    .join("\n");

const podTemplate = (complianceType: string, metadata: string, spec = "") => `
remediationAction: inform
object-templates:
  - complianceType: ${complianceType}
    objectDefinition:
      apiVersion: v1
      kind: Pod
      metadata: {${metadata}}
${spec
  .trim()
  .split("\n")
  .filter(Boolean)
  .map((line) => `      ${line}`)
  .join("\n")}
`;

interface Case {
  name: string;
  spec: string;
  cluster?: string;
  message: string;
  reasons?: string[];
  related?: string[];
  changes?: string[];
}

function runCases(cases: Case[]): void {
  for (const testCase of cases) {
    it(testCase.name, () => {
      const result = evaluate(testCase.spec, testCase.cluster ?? "");
      assert.equal(result.message, testCase.message);
      if (testCase.reasons) assert.deepEqual(reasons(result), testCase.reasons);
      if (testCase.related) assert.deepEqual(related(result), testCase.related);
      assert.deepEqual(changes(result), testCase.changes ?? []);
    });
  }
}

describe("which objects an object template means", () => {
  runCases([
    {
      name: "a literal namespace and name: found as specified",
      spec: podTemplate("musthave", "name: web, namespace: default"),
      cluster: pod("web"),
      message: "Compliant; notification - pods [web] found as specified in namespace default",
      reasons: ["K8s `must have` object already exists"],
      related: ["Pod default/web Compliant Resource found as expected"],
    },
    {
      name: "a literal namespace and name: not found",
      spec: podTemplate("musthave", "name: web, namespace: default"),
      message: "NonCompliant; violation - pods [web] not found in namespace default",
      reasons: ["K8s does not have a `must have` object"],
      related: ["Pod default/web NonCompliant Resource not found but should exist"],
    },
    {
      name: "include globs: violations only, grouped by namespace",
      spec: `namespaceSelector: {include: ["team-*"]}\n${podTemplate("musthave", "name: web")}`,
      cluster: `${namespaces("team-a", "team-b", "team-c", "other")}\n${pod("web", "team-a")}`,
      message: "NonCompliant; violation - pods [web] not found in namespaces: team-b, team-c",
      related: [
        "Pod team-a/web Compliant Resource found as expected",
        "Pod team-b/web NonCompliant Resource not found but should exist",
        "Pod team-c/web NonCompliant Resource not found but should exist",
      ],
    },
    {
      name: "include and exclude globs: found in every selected namespace",
      spec: `namespaceSelector: {include: ["*"], exclude: ["team-c", "def*"]}\n${podTemplate("musthave", "name: web")}`,
      cluster: `${namespaces("team-a", "team-b", "team-c")}\n${pod("web", "team-a")}\n${pod("web", "team-b")}`,
      message: "Compliant; notification - pods [web] found as specified in namespaces: team-a, team-b",
    },
    {
      name: "a label selector on namespaces, with include narrowing it",
      spec: `namespaceSelector: {matchLabels: {env: prod}, include: ["prod-*"]}\n${podTemplate("musthave", "name: web")}`,
      cluster: `${namespaces("prod-a", "prodx", "dev-a")}`,
      message: "NonCompliant; violation - pods [web] not found in namespace prod-a",
    },
    {
      name: "an empty matchExpressions list selects every namespace",
      spec: `namespaceSelector: {matchExpressions: []}\n${podTemplate("mustnothave", "name: web")}`,
      cluster: `${namespaces("a")}`,
      message: "Compliant; notification - pods [web] missing as expected in namespaces: a, default",
      reasons: ["K8s `must not have` object already missing"],
    },
    {
      name: "an empty namespaceSelector selects no namespace",
      spec: podTemplate("musthave", "name: web"),
      message:
        "NonCompliant; violation - namespaced object web of kind Pod has no namespace specified from the policy namespaceSelector nor the object metadata",
      reasons: ["K8s missing namespace"],
      related: [],
    },
    {
      name: "an unnamed object without namespace",
      spec: podTemplate("musthave", "labels: {a: b}"),
      message:
        "NonCompliant; violation - namespaced object of kind Pod has no namespace specified from the policy namespaceSelector nor the object metadata",
    },
    {
      name: "a malformed include glob",
      spec: `namespaceSelector: {include: ["kube-[system"]}\n${podTemplate("musthave", "name: web")}`,
      message:
        "NonCompliant; violation - Error filtering namespaces with provided namespaceSelector: error parsing 'include' pattern 'kube-[system': syntax error in pattern",
      reasons: ["namespaceSelector error"],
    },
    {
      name: "a malformed exclude glob",
      spec: `namespaceSelector: {include: ["*"], exclude: ["a\\\\"]}\n${podTemplate("musthave", "name: web")}`,
      message:
        "NonCompliant; violation - Error filtering namespaces with provided namespaceSelector: error parsing 'exclude' pattern 'a\\': syntax error in pattern",
    },
    {
      name: "a malformed namespace label selector",
      spec: `namespaceSelector: {matchExpressions: [{key: env, operator: In}]}\n${podTemplate("musthave", "name: web")}`,
      message:
        "NonCompliant; violation - Error filtering namespaces with provided namespaceSelector: error parsing namespace LabelSelector: values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
    },
    {
      name: "terminatingInclusion Never skips terminating namespaces",
      spec: `namespaceSelector: {include: ["t*"], terminatingInclusion: Never}\n${podTemplate("musthave", "name: web")}`,
      cluster: `apiVersion: v1\nkind: Namespace\nmetadata: {name: tgone}\nstatus: {phase: Terminating}\n---\n${namespaces("tkeep")}`,
      message: "NonCompliant; violation - pods [web] not found in namespace tkeep",
    },
    {
      name: "a cluster-scoped kind ignores the namespaceSelector",
      spec: `namespaceSelector: {include: ["*"]}\nobject-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: Namespace, metadata: {name: prod}}`,
      message: "NonCompliant; violation - namespaces [prod] not found",
      related: ["Namespace /prod NonCompliant Resource not found but should exist"],
    },
    {
      name: "objectSelector names the matching objects",
      spec: `object-templates:\n  - complianceType: musthave\n    objectSelector: {matchLabels: {app: web}}\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {namespace: default}, data: {a: "1"}}`,
      cluster: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default, labels: {app: web}}\ndata: {a: "1"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default, labels: {app: web}}\ndata: {a: "1", b: "2"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\ndata: {a: "2"}`,
      message: "Compliant; notification - configmaps [a, b] found as specified in namespace default",
    },
    {
      name: "objectSelector that matches nothing",
      spec: `object-templates:\n  - complianceType: musthave\n    objectSelector: {matchLabels: {app: none}}\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {namespace: default}}`,
      message:
        "Compliant; notification - No objects of kind ConfigMap were matched from the policy objectSelector",
      reasons: [""],
    },
    {
      name: "a malformed objectSelector",
      spec: `object-templates:\n  - complianceType: musthave\n    objectSelector: {matchExpressions: [{key: app, operator: Exists, values: [x]}]}\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {namespace: default}}`,
      message:
        'NonCompliant; violation - Error parsing provided objectSelector in the object-template at index [0]: values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
      reasons: ["objectSelector error"],
    },
    {
      name: "unnamed musthave: the matching objects are listed",
      spec: podTemplate("musthave", "namespace: default", "spec: {containers: [{image: 'nginx:1.18.0'}]}"),
      cluster: `${pod("b")}\n${pod("a")}`,
      message: "Compliant; notification - pods [a, b] found as specified in namespace default",
      related: [
        "Pod default/a Compliant Resource found as expected",
        "Pod default/b Compliant Resource found as expected",
      ],
    },
    {
      name: "unnamed musthave: objects exist but none matches",
      spec: podTemplate("musthave", "namespace: default", "spec: {containers: [{image: 'nginx:2'}]}"),
      cluster: pod("a"),
      message: "NonCompliant; violation - pods found but not as specified in namespace default",
      related: ["Pod default/- NonCompliant Resource found but does not match"],
    },
    {
      name: "unnamed musthave: no object of the kind",
      spec: podTemplate("musthave", "namespace: default", "spec: {containers: [{image: 'nginx:2'}]}"),
      message: "NonCompliant; violation - pods not found in namespace default",
      related: ["Pod default/- NonCompliant Resource not found but should exist"],
    },
    {
      name: "unnamed mustnothave: nothing matches every field",
      spec: podTemplate("mustnothave", "namespace: default", "spec: {containers: [{image: 'nginx:2'}]}"),
      cluster: pod("a"),
      message: "Compliant; notification - pods missing as expected in namespace default",
      related: ["Pod default/- Compliant Resource not found as expected"],
    },
    {
      name: "unnamed mustnothave: matching objects are violations",
      spec: podTemplate("mustnothave", "namespace: default", "spec: {containers: [{image: 'nginx:1.18.0'}]}"),
      cluster: `${pod("a")}\n${pod("b")}`,
      message: "NonCompliant; violation - pods [a, b] found in namespace default",
      reasons: ["K8s has a `must not have` object"],
    },
    {
      name: "named mustnothave: existence alone is a violation",
      spec: podTemplate(
        "mustnothave",
        "name: a, namespace: default",
        "spec: {containers: [{image: 'other'}]}",
      ),
      cluster: pod("a"),
      message: "NonCompliant; violation - pods [a] found in namespace default",
      related: ["Pod default/a NonCompliant Resource found but should not exist"],
    },
    {
      name: "mustnothave with objectSelector only counts objects matching the other fields",
      spec: `object-templates:\n  - complianceType: mustnothave\n    objectSelector: {matchLabels: {app: web}}\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {namespace: default}, data: {bad: "yes"}}`,
      cluster: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one, namespace: default, labels: {app: web}}\ndata: {bad: "yes"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: two, namespace: default, labels: {app: web}}\ndata: {bad: "no"}`,
      message: "NonCompliant; violation - configmaps [one] found in namespace default",
    },
    {
      name: "mustnothave with objectSelector whose selected objects all differ: missing as expected",
      spec: `object-templates:\n  - complianceType: mustnothave\n    objectSelector: {matchLabels: {app: web}}\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {namespace: default}, data: {bad: "yes"}}`,
      cluster: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two, namespace: default, labels: {app: web}}\ndata: {bad: "no"}`,
      message: "Compliant; notification - configmaps missing as expected in namespace default",
      reasons: ["K8s `must not have` object already missing"],
      related: ["ConfigMap default/- Compliant Resource not found as expected"],
    },
    {
      name: "mustnothave with objectSelector across namespaces: violations where they are, missing elsewhere",
      spec: `namespaceSelector: {include: ["team-*"]}\nobject-templates:\n  - complianceType: mustnothave\n    objectSelector: {matchLabels: {app: web}}\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, data: {bad: "yes"}}`,
      cluster: `${namespaces("team-a", "team-b")}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: one, namespace: team-a, labels: {app: web}}\ndata: {bad: "yes"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: two, namespace: team-b, labels: {app: web}}\ndata: {bad: "no"}`,
      message: "NonCompliant; violation - configmaps [one] found in namespace team-a",
      related: [
        "ConfigMap team-a/one NonCompliant Resource found but should not exist",
        "ConfigMap team-b/- Compliant Resource not found as expected",
      ],
    },
    {
      name: "mustnothave with objectSelector, enforced, deletes only what matches",
      spec: `remediationAction: enforce\nobject-templates:\n  - complianceType: mustnothave\n    objectSelector: {matchLabels: {app: web}}\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {namespace: default}, data: {bad: "yes"}}`,
      cluster: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one, namespace: default, labels: {app: web}}\ndata: {bad: "yes"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: two, namespace: default, labels: {app: web}}\ndata: {bad: "no"}`,
      message: "NonCompliant; violation - configmaps [one] found in namespace default",
      changes: ["delete ConfigMap default/one"],
    },
    {
      name: "several object templates give one entry each",
      spec: `remediationAction: inform\nobject-templates:\n  - complianceType: mustnothave\n    objectDefinition: {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: default}}\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: default}}`,
      cluster: `${pod("a")}\n${pod("b")}`,
      message:
        "NonCompliant; violation - pods [a] found in namespace default; notification - pods [b] found as specified in namespace default",
    },
  ]);
});

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web, team: a}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: "{}"
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.18.0
        resources: {limits: {memory: 1Gi, cpu: 500m}}
        ports: [{containerPort: 80}, {containerPort: 443}]
      - name: sidecar
        image: envoy:1
status:
  readyReplicas: 2
`;

const deploymentTemplate = (complianceType: string, body: string, extra = "", metadata = "") => `
remediationAction: inform
object-templates:
  - complianceType: ${complianceType}${extra}
    objectDefinition:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: default${metadata}}
${body
  .trim()
  .split("\n")
  .map((line) => `      ${line}`)
  .join("\n")}
`;

describe("how a template compares with an object", () => {
  const found = "Compliant; notification - deployments [web] found as specified in namespace default";
  const notAsSpecified =
    "NonCompliant; violation - deployments [web] found but not as specified in namespace default";
  runCases([
    {
      name: "musthave: fields the cluster adds are fine",
      spec: deploymentTemplate("musthave", "spec: {replicas: 2}"),
      cluster: deployment,
      message: found,
    },
    {
      name: "musthave: a different value",
      spec: deploymentTemplate("musthave", "spec: {replicas: 3}"),
      cluster: deployment,
      message: notAsSpecified,
    },
    {
      name: "musthave: a key the object lacks",
      spec: deploymentTemplate("musthave", "spec: {paused: true}"),
      cluster: deployment,
      message: notAsSpecified,
    },
    {
      name: "musthave: a list item described partially",
      spec: deploymentTemplate("musthave", "spec: {template: {spec: {containers: [{image: 'envoy:1'}]}}}"),
      cluster: deployment,
      message: found,
    },
    {
      name: "musthave: a list item that is not there",
      spec: deploymentTemplate(
        "musthave",
        "spec: {template: {spec: {containers: [{name: other, image: 'x'}]}}}",
      ),
      cluster: deployment,
      message: notAsSpecified,
    },
    {
      name: "musthave: an item with the same name but another image",
      spec: deploymentTemplate(
        "musthave",
        "spec: {template: {spec: {containers: [{name: web, image: 'nginx:1.19'}]}}}",
      ),
      cluster: deployment,
      message: notAsSpecified,
    },
    {
      name: "musthave: list order does not matter",
      spec: deploymentTemplate(
        "musthave",
        "spec: {template: {spec: {containers: [{name: web, ports: [{containerPort: 443}, {containerPort: 80}]}]}}}",
      ),
      cluster: deployment,
      message: found,
    },
    {
      name: "musthave: an empty list constrains nothing",
      spec: deploymentTemplate("musthave", "spec: {template: {spec: {containers: []}}}"),
      cluster: deployment,
      message: found,
    },
    {
      name: "quantities compare by value (1024Mi == 1Gi, 0.5 == 500m)",
      spec: deploymentTemplate(
        "musthave",
        "spec: {template: {spec: {containers: [{name: web, resources: {limits: {memory: 1024Mi, cpu: '0.5'}}}]}}}",
      ),
      cluster: deployment,
      message: found,
    },
    {
      name: "a quantity that differs",
      spec: deploymentTemplate(
        "musthave",
        "spec: {template: {spec: {containers: [{name: web, resources: {limits: {memory: 1G}}}]}}}",
      ),
      cluster: deployment,
      message: notAsSpecified,
    },
    {
      name: "mustonlyhave: an extra map key in the cluster",
      spec: deploymentTemplate("mustonlyhave", "spec: {replicas: 2}"),
      cluster: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec: {replicas: 2, paused: false}`,
      message: notAsSpecified,
    },
    {
      name: "mustonlyhave: exactly the template's fields",
      spec: deploymentTemplate("mustonlyhave", "spec: {replicas: 2, selector: {matchLabels: {app: web}}}"),
      cluster: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default, labels: {x: y}}\nspec: {replicas: 2, selector: {matchLabels: {app: web}}}\nstatus: {replicas: 2}`,
      message: found,
    },
    {
      name: "mustonlyhave: a top-level key the template lacks",
      spec: `object-templates:\n  - complianceType: mustonlyhave\n    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: default}, data: {a: "1"}}`,
      cluster: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\ndata: {a: "1"}\nbinaryData: {b: eA==}`,
      message: "NonCompliant; violation - configmaps [c] found but not as specified in namespace default",
    },
    {
      name: "mustonlyhave: an extra list item",
      spec: deploymentTemplate("mustonlyhave", "spec: {template: {spec: {containers: [{name: web}]}}}"),
      cluster: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec: {template: {spec: {containers: [{name: web}, {name: sidecar}]}}}`,
      message: notAsSpecified,
    },
    {
      name: "mustonlyhave: lists match in any order",
      spec: deploymentTemplate(
        "mustonlyhave",
        "spec: {template: {spec: {containers: [{name: b}, {name: a}]}}}",
      ),
      cluster: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec: {template: {spec: {containers: [{name: a}, {name: b}]}}}`,
      message: found,
    },
    {
      name: "mustonlyhave labels only through metadataComplianceType",
      spec: deploymentTemplate(
        "musthave",
        "spec: {replicas: 2}",
        "\n    metadataComplianceType: mustonlyhave",
        ", labels: {app: web}",
      ),
      cluster: deployment,
      message: notAsSpecified,
    },
    {
      name: "musthave labels: extra cluster labels are fine",
      spec: deploymentTemplate("musthave", "spec: {}", "", ", labels: {app: web}"),
      cluster: deployment,
      message: found,
    },
    {
      name: "mustonlyhave without labels in the template ignores the cluster's labels",
      spec: deploymentTemplate("mustonlyhave", "spec: {replicas: 2, selector: {matchLabels: {app: web}}}"),
      cluster: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default, labels: {a: b}, annotations: {c: d}}\nspec: {replicas: 2, selector: {matchLabels: {app: web}}}`,
      message: found,
    },
    {
      name: "mustonlyhave annotations ignore last-applied-configuration",
      spec: deploymentTemplate(
        "musthave",
        "spec: {}",
        "\n    metadataComplianceType: mustonlyhave",
        ", annotations: {team: web}",
      ),
      cluster: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default, annotations: {team: web, kubectl.kubernetes.io/last-applied-configuration: "{}"}}`,
      message: found,
    },
    {
      name: "a status that differs is a violation that enforce cannot fix",
      spec: deploymentTemplate("musthave", "status: {readyReplicas: 3}").replace("inform", "enforce"),
      cluster: deployment,
      message: notAsSpecified,
      related: ["Deployment default/web NonCompliant Resource found but does not match"],
    },
    {
      name: "a matching status",
      spec: deploymentTemplate("musthave", "status: {readyReplicas: 2}"),
      cluster: deployment,
      message: found,
    },
    {
      name: "a value of another type than the cluster's",
      spec: deploymentTemplate("musthave", "spec: [1]"),
      cluster: deployment,
      message:
        'NonCompliant; violation - Error merging changes into key "spec": object type of template and existing do not match',
      reasons: ["K8s update template error"],
    },
    {
      name: "labels that are not strings",
      spec: deploymentTemplate("musthave", "spec: {}", "", ", labels: {problem: yes}"),
      cluster: deployment,
      message:
        'NonCompliant; violation - invalid label, error: contains non-string value in the map under key "problem": true is of the type bool, expected string',
      reasons: ["K8s update template error"],
      related: ["Deployment default/web NonCompliant K8s update template error"],
    },
    {
      name: "annotations that are not strings",
      spec: deploymentTemplate("musthave", "spec: {}", "", ", annotations: {count: 1}"),
      cluster: deployment,
      message:
        'NonCompliant; violation - invalid annotation, error: contains non-string value in the map under key "count": 1 is of the type int64, expected string',
    },
  ]);

  it("a Secret's stringData compares with its decoded data", () => {
    const secret = `apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: default}\ndata: {password: c2VjcmV0}`;
    const template = (value: string) =>
      `object-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: Secret, metadata: {name: s, namespace: default}, stringData: {password: ${value}}}`;
    assert.equal(
      evaluate(template("secret"), secret).message,
      "Compliant; notification - secrets [s] found as specified in namespace default",
    );
    const mismatch = evaluate(template("other"), secret);
    assert.equal(
      mismatch.message,
      "NonCompliant; violation - secrets [s] found but not as specified in namespace default",
    );
    assert.match(
      mismatch.relatedObjects[0]!.properties!.diff!,
      /^# The difference is redacted because it contains sensitive data/,
    );
  });

  it("records the diff of a mismatch, with the last-applied annotation left out", () => {
    const result = evaluate(
      deploymentTemplate(
        "musthave",
        "spec: {template: {spec: {containers: [{name: web, image: 'nginx:1.19'}]}}}",
      ),
      deployment,
    );
    const diff = result.relatedObjects[0]!.properties!.diff!;
    assert.match(diff, /^--- default\/web : existing\n\+\+\+ default\/web : updated\n@@ /);
    assert.match(diff, /\n- {6}- image: nginx:1\.18\.0\n\+ {6}- image: nginx:1\.19\n/);
    assert.doesNotMatch(diff, /last-applied/);
  });

  it("recordDiff None leaves the diff out", () => {
    const result = evaluate(
      deploymentTemplate("musthave", "spec: {replicas: 5}", "\n    recordDiff: None"),
      deployment,
    );
    assert.equal(result.relatedObjects[0]!.properties!.diff, undefined);
  });

  it("keeps the uid of the object in relatedObjects properties", () => {
    const result = evaluate(
      podTemplate("musthave", "name: a, namespace: default"),
      pod("a", "default", ', uid: "1234"'),
    );
    assert.deepEqual(result.relatedObjects[0]!.properties, { createdByPolicy: false, uid: "1234" });
  });
});

describe("malformed policies give OCM's NonCompliant answers", () => {
  runCases([
    {
      name: "no apiVersion or kind",
      spec: `object-templates:\n  - complianceType: musthave\n    objectDefinition: {metadata: {name: x}}`,
      message:
        "NonCompliant; violation - The kind and apiVersion fields are required on the object template at index 0 in policy p",
      reasons: ["K8s decode object definition error"],
    },
    {
      name: "an apiVersion with a group but no version",
      spec: `object-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: "apps/", kind: Deployment}`,
      message:
        "NonCompliant; violation - The kind and apiVersion fields are required on the object template at index 0 in policy p",
    },
    {
      name: "a name that is not a string",
      spec: `object-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: Pod, metadata: {name: [x]}}`,
      message: "NonCompliant; violation - Error parsing the namespace from the object definition",
      reasons: ["K8s decode object definition error"],
    },
    {
      name: "a kind the cluster does not serve",
      spec: `object-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}`,
      message:
        "NonCompliant; violation - couldn't find mapping resource with kind Widget in API version example.com/v1, please check if you have CRD deployed",
      reasons: ["K8s error"],
    },
    {
      name: "a kind declared by a CRD in the cluster stream",
      spec: `object-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}`,
      cluster: `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Cluster\n  names: {kind: Widget, plural: widgets}\n  versions: [{name: v1, served: true, storage: true}]`,
      message: "NonCompliant; violation - widgets [w] not found",
    },
    {
      name: "no object templates",
      spec: "remediationAction: inform\nobject-templates: []",
      message:
        "Compliant; notification - p contains no object templates to check, and thus has no violations",
      reasons: ["No object templates"],
    },
    {
      name: "hub templates on a managed cluster",
      spec: podTemplate("musthave", 'name: "{{hub .ManagedClusterName hub}}", namespace: default'),
      message:
        "NonCompliant; violation - the governance-standalone-hub-templating addon must be enabled to resolve hub templates on the managed cluster",
      reasons: ["Hub template resolution failure"],
    },
    {
      name: "an empty remediationAction",
      spec: `remediationAction: ""\nobject-templates: []`,
      message: "NonCompliant; violation - Policy does not have a RemediationAction specified",
      reasons: ["Invalid spec"],
    },
    {
      name: "evaluationInterval never is noted in the message",
      spec: `evaluationInterval: {compliant: never}\n${podTemplate("mustnothave", "name: a, namespace: default")}`,
      message:
        'Compliant; notification - pods [a] missing as expected in namespace default. This policy will not be evaluated again due to spec.evaluationInterval.compliant being set to "never".',
    },
  ]);
});

const enforce = (spec: string) => spec.replace("inform", "enforce");

describe("enforce without a writing reader is a dry run: the cluster as it is, and the plan", () => {
  runCases([
    {
      name: "a missing object is reported missing, its create planned",
      spec: enforce(
        podTemplate(
          "musthave",
          "name: web, namespace: default",
          "spec: {containers: [{name: web, image: nginx}]}",
        ),
      ),
      message: "NonCompliant; violation - pods [web] not found in namespace default",
      reasons: ["K8s does not have a `must have` object"],
      related: ["Pod default/web NonCompliant Resource not found but should exist"],
      changes: ["create Pod default/web"],
    },
    {
      name: "a namespace an earlier template would create can receive a later template's objects",
      spec: `
remediationAction: enforce
object-templates:
  - complianceType: musthave
    objectDefinition: {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
  - complianceType: musthave
    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: shop}}
`,
      message:
        "NonCompliant; violation - namespaces [shop] not found; violation - configmaps [settings] not found in namespace shop",
      changes: ["create Namespace /shop", "create ConfigMap shop/settings"],
    },
    {
      name: "a create that cannot happen is not planned",
      spec: enforce(podTemplate("musthave", "name: web, namespace: nope")),
      message: "NonCompliant; violation - pods [web] not found in namespace nope",
      changes: [],
    },
    {
      name: "a mismatched object is reported, its update planned",
      spec: enforce(deploymentTemplate("musthave", "spec: {replicas: 5}")),
      cluster: deployment,
      message: "NonCompliant; violation - deployments [web] found but not as specified in namespace default",
      related: ["Deployment default/web NonCompliant Resource found but does not match"],
      changes: ["update Deployment default/web"],
    },
    {
      name: "recreateOption Always plans a recreate",
      spec: enforce(deploymentTemplate("musthave", "spec: {replicas: 5}", "\n    recreateOption: Always")),
      cluster: deployment,
      message: "NonCompliant; violation - deployments [web] found but not as specified in namespace default",
      changes: ["update (recreate) Deployment default/web"],
    },
    {
      name: "a mustnothave object is reported found, its delete planned",
      spec: enforce(podTemplate("mustnothave", "name: a, namespace: default")),
      cluster: pod("a"),
      message: "NonCompliant; violation - pods [a] found in namespace default",
      reasons: ["K8s has a `must not have` object"],
      changes: ["delete Pod default/a"],
    },
    {
      name: "unnamed templates are only ever informed on",
      spec: enforce(
        podTemplate("mustnothave", "namespace: default", "spec: {containers: [{image: 'nginx:1.18.0'}]}"),
      ),
      cluster: pod("a"),
      message: "NonCompliant; violation - pods [a] found in namespace default",
    },
    {
      name: "Enforce in another case is still enforce",
      spec: podTemplate("mustnothave", "name: a, namespace: default").replace("inform", "Enforce"),
      cluster: pod("a"),
      message: "NonCompliant; violation - pods [a] found in namespace default",
      changes: ["delete Pod default/a"],
    },
  ]);

  it("sends only the message of the cluster as it is", () => {
    const result = evaluate(enforce(podTemplate("musthave", "name: web, namespace: default")));
    assert.deepEqual(result.messages, [
      "NonCompliant; violation - pods [web] not found in namespace default",
    ]);
    assert.deepEqual(result.relatedObjects[0]!.properties, undefined);
  });

  it("an update plans the merged object", () => {
    const result = evaluate(
      enforce(
        deploymentTemplate(
          "musthave",
          "spec: {template: {spec: {containers: [{name: web, image: 'nginx:2'}]}}}",
        ),
      ),
      deployment,
    );
    const object = result.changes[0]!.object as {
      spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    };
    assert.deepEqual(
      object.spec.template.spec.containers.map((container) => `${container.name}=${container.image}`),
      ["web=nginx:2", "sidecar=envoy:1"],
    );
  });
});

interface WriteCase extends Case {
  /** Writes the cluster refuses: op and name, with the message it refuses them with. */
  refuse?: Record<string, string>;
  /** `Kind namespace/name` of objects that must exist afterwards, or (with a leading `!`) must not. */
  after?: string[];
  messages?: string[];
}

function present(cluster: MemoryCluster, entry: string): boolean {
  const [kind, path] = entry.replace(/^!/, "").split(" ") as [string, string];
  const [namespace, name] = path.split("/") as [string, string];
  const apiVersion = kind === "Deployment" ? "apps/v1" : "v1";
  return cluster.get(cluster.resolveKind(apiVersion, kind)!, namespace, name) !== undefined;
}

function runWriteCases(cases: WriteCase[]): void {
  for (const testCase of cases) {
    it(testCase.name, () => {
      const cluster = new WritableMemoryCluster(documents(testCase.cluster ?? ""), {
        refuse: (request) => {
          const name = request.op === "delete" ? request.name : nameOf(request.object);
          const message = testCase.refuse?.[`${request.op} ${name}`];
          return message === undefined ? undefined : { status: 422, reason: "Invalid", message };
        },
      });
      const result = evaluateConfigurationPolicy(policy(testCase.spec), cluster, {
        now: "2024-01-01T00:00:00Z",
      });
      assert.equal(result.message, testCase.message);
      if (testCase.messages) assert.deepEqual(result.messages, testCase.messages);
      if (testCase.reasons) assert.deepEqual(reasons(result), testCase.reasons);
      if (testCase.related) assert.deepEqual(related(result), testCase.related);
      assert.deepEqual(
        result.changes.map(
          (change) => `${changes({ ...result, changes: [change] })[0]}${change.error ? " (refused)" : ""}`,
        ),
        testCase.changes ?? [],
      );
      for (const entry of testCase.after ?? []) {
        assert.equal(present(cluster, entry), !entry.startsWith("!"), `${entry} afterwards`);
      }
    });
  }
}

describe("enforce with a writing reader makes the changes and reports what happened", () => {
  runWriteCases([
    {
      name: "a missing object is created",
      spec: enforce(
        podTemplate(
          "musthave",
          "name: web, namespace: default",
          "spec: {containers: [{name: web, image: nginx}]}",
        ),
      ),
      message: "Compliant; notification - pods [web] was created successfully in namespace default",
      messages: [
        "NonCompliant; violation - pods [web] not found in namespace default",
        "Compliant; notification - pods [web] was created successfully in namespace default",
      ],
      reasons: ["K8s creation success"],
      related: ["Pod default/web Compliant K8s creation success"],
      changes: ["create Pod default/web"],
      after: ["Pod default/web"],
    },
    {
      name: "a namespace an earlier template creates receives a later template's objects",
      spec: `
remediationAction: enforce
object-templates:
  - complianceType: musthave
    objectDefinition: {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
  - complianceType: musthave
    objectDefinition: {apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: shop}}
`,
      message:
        "Compliant; notification - namespaces [shop] was created successfully; notification - configmaps [settings] was created successfully in namespace shop",
      changes: ["create Namespace /shop", "create ConfigMap shop/settings"],
      after: ["Namespace /shop", "ConfigMap shop/settings"],
    },
    {
      name: "a create the API server refuses is a creation error with its answer",
      spec: enforce(podTemplate("musthave", "name: web, namespace: nope")),
      message:
        'NonCompliant; violation - pods [web] in namespace nope is missing, and cannot be created, reason: `namespaces "nope" not found`',
      reasons: ["K8s creation error"],
      related: ["Pod nope/web NonCompliant K8s creation error"],
      changes: ["create Pod nope/web (refused)"],
    },
    {
      name: "a created object whose template checks status is verified next time",
      spec: enforce(podTemplate("musthave", "name: web, namespace: default", "status: {phase: Running}")),
      message:
        "NonCompliant; violation - pods [web] in namespace default was created successfully, the status of the object will be verified in the next evaluation",
      reasons: ["K8s creation success, status unchecked"],
      changes: ["create Pod default/web"],
    },
    {
      name: "a mismatched object is updated",
      spec: enforce(deploymentTemplate("musthave", "spec: {replicas: 5}")),
      cluster: deployment,
      message: "Compliant; notification - deployments [web] was updated successfully in namespace default",
      reasons: ["K8s update success"],
      related: ["Deployment default/web Compliant K8s update success"],
      changes: ["update Deployment default/web"],
    },
    {
      name: "an update the API server refuses is reported with its answer",
      spec: enforce(deploymentTemplate("musthave", "spec: {replicas: 5}")),
      cluster: deployment,
      refuse: { "update web": "admission webhook denied the request" },
      message:
        "NonCompliant; violation - Error updating the object `web`, the error is `admission webhook denied the request`",
      messages: [
        "NonCompliant; violation - deployments [web] found but not as specified in namespace default",
        "NonCompliant; violation - Error updating the object `web`, the error is `admission webhook denied the request`",
      ],
      reasons: ["K8s update template error"],
      changes: ["update Deployment default/web (refused)"],
    },
    {
      name: "recreateOption Always recreates instead of updating",
      spec: enforce(deploymentTemplate("musthave", "spec: {replicas: 5}", "\n    recreateOption: Always")),
      cluster: deployment,
      message: "Compliant; notification - deployments [web] was updated successfully in namespace default",
      changes: ["update (recreate) Deployment default/web"],
      after: ["Deployment default/web"],
    },
    {
      name: "a recreate whose delete finalizers hold times out",
      spec: enforce(deploymentTemplate("musthave", "spec: {replicas: 5}", "\n    recreateOption: Always")),
      cluster: deployment.replace(
        "labels: {app: web, team: a}",
        "labels: {app: web, team: a}\n  finalizers: [example.com/hold]",
      ),
      message:
        "NonCompliant; violation - deployments [web] in namespace default timed out waiting for the object to delete during recreate, will retry on the next policy evaluation",
      reasons: ["K8s update template error"],
      changes: ["update (recreate) Deployment default/web (refused)"],
    },
    {
      name: "a mustnothave object is deleted",
      spec: enforce(podTemplate("mustnothave", "name: a, namespace: default")),
      cluster: pod("a"),
      message: "Compliant; notification - pods [a] was deleted successfully in namespace default",
      reasons: ["K8s deletion success"],
      changes: ["delete Pod default/a"],
      after: ["!Pod default/a"],
    },
    {
      name: "a delete the API server refuses is a deletion error with its answer",
      spec: enforce(podTemplate("mustnothave", "name: a, namespace: default")),
      cluster: pod("a"),
      refuse: { "delete a": 'pods "a" is forbidden: protected' },
      message:
        'NonCompliant; violation - pods [a] in namespace default exists, and cannot be deleted, reason: `pods "a" is forbidden: protected`',
      reasons: ["K8s deletion error"],
      changes: ["delete Pod default/a (refused)"],
      after: ["Pod default/a"],
    },
    {
      name: "Enforce in another case is still enforce",
      spec: podTemplate("mustnothave", "name: a, namespace: default").replace("inform", "Enforce"),
      cluster: pod("a"),
      message: "Compliant; notification - pods [a] was deleted successfully in namespace default",
      changes: ["delete Pod default/a"],
    },
    {
      name: "inform never writes",
      spec: podTemplate("mustnothave", "name: a, namespace: default"),
      cluster: pod("a"),
      message: "NonCompliant; violation - pods [a] found in namespace default",
      after: ["Pod default/a"],
    },
  ]);

  it("records the created object's UID, and keeps it created by the policy across a recreate", () => {
    const cluster = new WritableMemoryCluster();
    const created = evaluateConfigurationPolicy(
      policy(enforce(podTemplate("musthave", "name: web, namespace: default"))),
      cluster,
    );
    assert.deepEqual(created.relatedObjects[0]!.properties, { createdByPolicy: true, uid: "uid-1" });
    // Changed behind the policy's back: the recreate gives it a new UID, still the policy's.
    const web = cluster.get(cluster.resolveKind("v1", "Pod")!, "default", "web")!;
    cluster.add({ ...web, metadata: { ...(web.metadata as JsonObject), labels: { drifted: "yes" } } });
    const document = policy(
      enforce(podTemplate("musthave", "name: web, namespace: default, labels: {ok: 'yes'}")).replace(
        "objectDefinition:",
        "recreateOption: Always\n    objectDefinition:",
      ),
    );
    document.status = { relatedObjects: created.relatedObjects as unknown as JsonObject[] };
    const recreated = evaluateConfigurationPolicy(document, cluster);
    assert.equal(
      recreated.message,
      "Compliant; notification - pods [web] was updated successfully in namespace default",
    );
    const { createdByPolicy, uid } = recreated.relatedObjects[0]!.properties!;
    assert.deepEqual({ createdByPolicy, uid }, { createdByPolicy: true, uid: "uid-2" });
  });

  describe("pruneObjectBehavior", () => {
    const previous = (createdByPolicy: boolean, uid: string) =>
      `status:\n  relatedObjects:\n  - object: {apiVersion: v1, kind: Pod, metadata: {name: old, namespace: default}}\n    compliant: Compliant\n    properties: {createdByPolicy: ${createdByPolicy}, uid: "${uid}"}`;
    const spec = (behavior: string, action = "enforce") =>
      `remediationAction: ${action}\npruneObjectBehavior: ${behavior}\nobject-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: default}}`;
    const withStatus = (specText: string, status: string) => {
      const document = policy(specText);
      document.status = (documents(status)[0] as { status: JsonObject }).status;
      return document;
    };
    const cluster = new MemoryCluster(documents(`${pod("a")}\n${pod("old", "default", ", uid: u1")}`));
    const prune = (specText: string, status: string) =>
      changes(evaluateConfigurationPolicy(withStatus(specText, status), cluster));
    it("DeleteAll deletes objects that are no longer related", () =>
      assert.deepEqual(prune(spec("DeleteAll"), previous(false, "u1")), ["delete Pod default/old"]));
    it("DeleteIfCreated deletes only what the policy created", () => {
      assert.deepEqual(prune(spec("DeleteIfCreated"), previous(true, "u1")), ["delete Pod default/old"]);
      assert.deepEqual(prune(spec("DeleteIfCreated"), previous(false, "u1")), []);
      assert.deepEqual(prune(spec("DeleteIfCreated"), previous(true, "other-uid")), []);
    });
    it("None and inform never delete", () => {
      assert.deepEqual(prune(spec("None"), previous(true, "u1")), []);
      assert.deepEqual(prune(spec("DeleteAll", "inform"), previous(true, "u1")), []);
    });
    it("a deleted policy prunes every related object", () => {
      const document = withStatus(spec("DeleteAll"), previous(true, "u1"));
      (document.metadata as JsonObject).deletionTimestamp = "2024-01-01T00:00:00Z";
      const result = evaluateConfigurationPolicy(document, cluster);
      assert.equal(result.compliant, "Terminating");
      assert.deepEqual(changes(result), ["delete Pod default/old"]);
    });
    it("a writing reader prunes for real; what finalizers hold keeps the policy Terminating", () => {
      const held = new WritableMemoryCluster(
        documents(`${pod("a")}\n${pod("old", "default", ", uid: u1, finalizers: [example.com/hold]")}`),
      );
      const document = withStatus(spec("DeleteAll"), previous(true, "u1"));
      (document.metadata as JsonObject).deletionTimestamp = "2024-01-01T00:00:00Z";
      const first = evaluateConfigurationPolicy(document, held);
      assert.equal(first.compliant, "Terminating");
      assert.equal(
        first.message,
        'Terminating; violation - Failed to delete objects: /v1, Kind=Pod "old" in namespace default',
      );
      assert.deepEqual(reasons(first), ["Error cleaning up child objects"]);
      assert.deepEqual(first.pruneFailures, ['/v1, Kind=Pod "old" in namespace default']);
      // Asked once: a second evaluation finds it still held and does not delete it again.
      evaluateConfigurationPolicy(document, held);
      assert.equal(held.writes.length, 1);

      const free = new WritableMemoryCluster(documents(`${pod("a")}\n${pod("old", "default", ", uid: u1")}`));
      const done = evaluateConfigurationPolicy(document, free);
      assert.deepEqual(changes(done), ["delete Pod default/old"]);
      assert.deepEqual(done.compliancyDetails, []);
      assert.equal(done.pruneFailures, undefined);
      assert.equal(free.get(free.resolveKind("v1", "Pod")!, "default", "old"), undefined);
    });
    it("a writing reader prunes objects that dropped out of relatedObjects", () => {
      const writable = new WritableMemoryCluster(
        documents(`${pod("a")}\n${pod("old", "default", ", uid: u1")}`),
      );
      const result = evaluateConfigurationPolicy(
        withStatus(spec("DeleteIfCreated"), previous(true, "u1")),
        writable,
      );
      assert.equal(
        result.message,
        "Compliant; notification - pods [a] found as specified in namespace default",
      );
      assert.deepEqual(changes(result), ["delete Pod default/old"]);
      assert.equal(writable.get(writable.resolveKind("v1", "Pod")!, "default", "old"), undefined);
    });
  });
});

describe("templates", () => {
  const configMaps = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {replicas: "3", tier: gold}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: default}\ndata: {token: c2VjcmV0}\n---\napiVersion: cluster.open-cluster-management.io/v1alpha1\nkind: ClusterClaim\nmetadata: {name: env}\nspec: {value: prod}\n---\n${deployment}`;
  const cm = (data: string, extra = "") =>
    `remediationAction: inform\nobject-templates:\n  - complianceType: musthave${extra}\n    objectDefinition:\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: out, namespace: default}\n      data:\n${data
      .split("\n")
      .map((line) => `        ${line}`)
      .join("\n")}`;
  const out = (data: string) =>
    `${configMaps}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: out, namespace: default}\ndata: {${data}}`;

  runCases([
    {
      name: "fromConfigMap, fromClusterClaim and printf",
      spec: cm(
        `a: '{{ fromConfigMap "default" "settings" "tier" }}'\nb: '{{ printf "%s-%d" (fromClusterClaim "env") 7 }}'`,
      ),
      cluster: out("a: gold, b: prod-7"),
      message: "Compliant; notification - configmaps [out] found as specified in namespace default",
    },
    {
      name: "a missing ConfigMap is a template error",
      spec: cm(`a: '{{ fromConfigMap "default" "nope" "tier" }}'`),
      cluster: configMaps,
      message:
        'NonCompliant; violation - failed to resolve the template {"apiVersion":"v1","data":{"a":"{{ fromConfigMap \\"default\\" \\"nope\\" \\"tier\\" }}"},"kind":"ConfigMap","metadata":{"name":"out","namespace":"default"}}: template: tmpl:3:9: executing "tmpl" at <fromConfigMap "default" "nope" "tier">: error calling fromConfigMap: failed getting the ConfigMap nope from default: configmaps "nope" not found',
      reasons: ["Error processing template"],
    },
    {
      name: "a missing ClusterClaim is a template error",
      spec: cm(`a: '{{ fromClusterClaim "region" }}'`),
      cluster: configMaps,
      message:
        'NonCompliant; violation - failed to resolve the template {"apiVersion":"v1","data":{"a":"{{ fromClusterClaim \\"region\\" }}"},"kind":"ConfigMap","metadata":{"name":"out","namespace":"default"}}: template: tmpl:3:9: executing "tmpl" at <fromClusterClaim "region">: error calling fromClusterClaim: failed to retrieve the cluster claim region: clusterclaims.cluster.open-cluster-management.io "region" not found',
    },
    {
      name: "env is refused as a security risk",
      spec: cm(`a: '{{ env "HOME" }}'`),
      message:
        'NonCompliant; violation - failed to resolve the template {"apiVersion":"v1","data":{"a":"{{ env \\"HOME\\" }}"},"kind":"ConfigMap","metadata":{"name":"out","namespace":"default"}}: template: tmpl:3:9: executing "tmpl" at <env "HOME">: error calling env: use of denylisted template function: function \'env\' is considered a security risk',
    },
    {
      name: "an undefined function is a parse error",
      spec: cm(`a: '{{ include "x" . }}'`),
      message:
        'NonCompliant; violation - failed to parse the template JSON string {"apiVersion":"v1","data":{"a":"{{ include \\"x\\" . }}"},"kind":"ConfigMap","metadata":{"name":"out","namespace":"default"}}: template: tmpl:3: function "include" not defined',
    },
    {
      name: "toInt turns a quoted value into a number",
      spec: `remediationAction: inform\nobject-templates:\n  - complianceType: musthave\n    objectDefinition:\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: web, namespace: default}\n      spec: {replicas: '{{ (fromConfigMap "default" "settings" "replicas") | toInt }}'}`,
      cluster: configMaps.replace("replicas: 2", "replicas: 3"),
      message: "Compliant; notification - deployments [web] found as specified in namespace default",
    },
    {
      name: "lookup and the .Object context",
      spec: cm(
        `image: '{{ (index (lookup "apps/v1" "Deployment" "default" "web").spec.template.spec.containers 0).image }}'\nname: '{{ .ObjectName }}/{{ .ObjectNamespace }}/{{ .Object.metadata.name }}'`,
      ),
      cluster: out("image: 'nginx:1.18.0', name: out/default/out"),
      message: "Compliant; notification - configmaps [out] found as specified in namespace default",
    },
    {
      name: "base64enc and base64dec",
      spec: cm(`a: '{{ "hello" | base64enc }}'\nb: '{{ "aGVsbG8=" | base64dec }}'`),
      cluster: out("a: aGVsbG8=, b: hello"),
      message: "Compliant; notification - configmaps [out] found as specified in namespace default",
    },
    {
      name: "skipObject skips every object",
      spec: `namespaceSelector: {include: [default]}\nobject-templates:\n  - complianceType: musthave\n    objectDefinition:\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: '{{ skipObject }}x'}`,
      message:
        "Compliant; notification - All objects of kind ConfigMap were skipped by the `skipObject` template function",
    },
    {
      name: "skipObject with a condition",
      spec: `namespaceSelector: {include: ["*"]}\nobject-templates:\n  - complianceType: musthave\n    objectDefinition:\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: 'cm-{{ .ObjectNamespace }}{{ skipObject (eq .ObjectNamespace "default") }}'}`,
      cluster: namespaces("prod"),
      message: "NonCompliant; violation - configmaps [cm-prod] not found in namespace prod",
    },
    {
      name: "skipObject with a non-boolean",
      spec: cm(`a: '{{ skipObject "yes" }}'`),
      message:
        'NonCompliant; violation - failed to resolve the template {"apiVersion":"v1","data":{"a":"{{ skipObject \\"yes\\" }}"},"kind":"ConfigMap","metadata":{"name":"out","namespace":"default"}}: template: tmpl:3:9: executing "tmpl" at <skipObject "yes">: error calling skipObject: expected boolean but received \'yes\'',
    },
    {
      name: ".ObjectNamespace on a cluster-scoped object",
      spec: `object-templates:\n  - complianceType: musthave\n    objectDefinition: {apiVersion: v1, kind: Namespace, metadata: {name: x, labels: {a: '{{ .ObjectNamespace }}'}}}`,
      message:
        'NonCompliant; violation - failed to resolve the template {"apiVersion":"v1","kind":"Namespace","metadata":{"labels":{"a":"{{ .ObjectNamespace }}"},"name":"x"}}: template: tmpl:5:11: executing "tmpl" at <.ObjectNamespace>: can\'t evaluate field ObjectNamespace in type struct { Object map[string]interface {}; ObjectName string }',
    },
    {
      name: "a templated namespace that renders empty",
      spec: podTemplate("musthave", `name: a, namespace: '{{ "" }}'`),
      message:
        "NonCompliant; violation - namespaced object a of kind Pod has no namespace specified after template resolution",
      reasons: ["Error processing template"],
    },
    {
      name: "object-templates-raw with range and lookup",
      spec: `remediationAction: inform\nobject-templates-raw: |\n  {{- range (lookup "v1" "ConfigMap" "default" "").items }}\n  - complianceType: musthave\n    objectDefinition:\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: {{ .metadata.name }}, namespace: default, labels: {seen: "yes"}}\n  {{- end }}`,
      cluster: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default, labels: {seen: "yes"}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: default}`,
      message:
        "NonCompliant; violation - configmaps [a] found as specified in namespace default; violation - configmaps [b] found but not as specified in namespace default".replace(
          "violation - configmaps [a]",
          "notification - configmaps [a]",
        ),
    },
    {
      name: "object-templates-raw that renders nothing",
      spec: `remediationAction: inform\nobject-templates-raw: |\n  {{- range (lookup "v1" "ConfigMap" "nowhere" "").items }}\n  - x\n  {{- end }}`,
      message:
        "Compliant; notification - p contains no object templates to check, and thus has no violations",
    },
    {
      name: "object-templates-raw that is not YAML",
      spec: `remediationAction: inform\nobject-templates-raw: |\n  - complianceType: musthave\n    objectDefinition:\n      data: {something: *odd}`,
      message:
        "NonCompliant; violation - Error parsing object-templates-raw YAML: error converting YAML to JSON: yaml: unknown anchor 'odd' referenced",
      reasons: ["Error processing template"],
    },
  ]);

  it("honours the disable-templates annotation", () => {
    const result = evaluateConfigurationPolicy(
      policy(
        cm(`a: '{{ env "HOME" }}'`),
        'name: p, annotations: {policy.open-cluster-management.io/disable-templates: "true"}',
      ),
      new MemoryCluster(documents(out(`a: '{{ env "HOME" }}'`))),
    );
    assert.equal(
      result.message,
      "Compliant; notification - configmaps [out] found as specified in namespace default",
    );
  });

  it("redacts the diff when a template read a Secret", () => {
    const spec = `remediationAction: inform\nobject-templates:\n  - complianceType: musthave\n    objectDefinition:\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: web, namespace: default, labels: {t: '{{ fromSecret "default" "creds" "token" }}'}}`;
    const result = evaluate(spec, configMaps);
    assert.equal(
      result.message,
      "NonCompliant; violation - deployments [web] found but not as specified in namespace default",
    );
    assert.match(result.relatedObjects[0]!.properties!.diff!, /^# The difference is redacted/);
  });

  it("autoindent indents multi-line values under their key", () => {
    const spec = `remediationAction: inform\nobject-templates:\n  - complianceType: musthave\n    objectDefinition:\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: out, namespace: default}\n      data:\n        config: |\n          {{ "a: 1\\nb: 2" | autoindent }}`;
    const result = evaluate(spec, out(`config: "a: 1\\nb: 2\\n"`));
    assert.equal(
      result.message,
      "Compliant; notification - configmaps [out] found as specified in namespace default",
    );
  });

  it("customMessage templates the compliance message", () => {
    const spec = `customMessage:\n  noncompliant: '{{ len .Policy.status.relatedObjects }} object(s): {{ .DefaultMessage }}'\n${podTemplate("musthave", "name: web, namespace: default")}`;
    assert.equal(
      evaluate(spec).message,
      "NonCompliant; 1 object(s): NonCompliant; violation - pods [web] not found in namespace default",
    );
    const broken = `customMessage:\n  noncompliant: '{{ .Nope.x }'\n${podTemplate("musthave", "name: web, namespace: default")}`;
    assert.match(
      evaluate(broken).message,
      /^NonCompliant; violation - pods \[web\] not found in namespace default \(failure processing the custom message: failed to parse custom template: /,
    );
  });
});

describe("with an API server's dry runs (the live form)", () => {
  const cluster = new MemoryCluster(documents(deployment));
  /** The cluster, plus dry-run answers a test chooses. */
  function withDryRun(
    update: DryRunOutcome | ((object: JsonObject) => DryRunOutcome),
    create?: DryRunOutcome,
    write?: (request: WriteRequest) => WriteOutcome,
  ): ClusterReader {
    return {
      resolveKind: (apiVersion, kind) => cluster.resolveKind(apiVersion, kind),
      get: (mapping, namespace, name) => cluster.get(mapping, namespace, name),
      list: (mapping, namespace) => cluster.list(mapping, namespace),
      namespaces: () => cluster.namespaces(),
      dryRunUpdate: (_mapping, object) => (typeof update === "function" ? update(object) : update),
      dryRunCreate: () => create ?? { object: {} },
      ...(write ? { write } : {}),
    };
  }
  const writes: WriteRequest[] = [];
  const written = (request: WriteRequest): WriteOutcome => {
    writes.push(request);
    return { result: "written", object: { metadata: { uid: "new-uid" } } };
  };
  const invalid: DryRunOutcome = {
    error: {
      status: 422,
      reason: "Invalid",
      message: 'Deployment.apps "web" is invalid: spec.selector: field is immutable',
    },
  };
  const run = (spec: string, reader: ClusterReader) => evaluateConfigurationPolicy(policy(spec), reader);

  it("a dry run that changes nothing makes the object compliant", () => {
    const unchanged = (object: JsonObject) => ({ object: documents(deployment)[0]! ?? object });
    const result = run(deploymentTemplate("musthave", "spec: {replicas: 5}"), withDryRun(unchanged));
    assert.equal(
      result.message,
      "Compliant; notification - deployments [web] found as specified in namespace default",
    );
    assert.equal(result.relatedObjects[0]!.properties!.matchesAfterDryRun, true);
  });
  it("an immutable field in inform is a plain mismatch", () => {
    const result = run(
      deploymentTemplate("musthave", "spec: {selector: {matchLabels: {app: x}}}"),
      withDryRun(invalid),
    );
    assert.equal(
      result.message,
      "NonCompliant; violation - deployments [web] found but not as specified in namespace default",
    );
  });
  it("an immutable field in a dry run of enforce is a plain mismatch, with nothing planned", () => {
    const result = run(
      enforce(deploymentTemplate("musthave", "spec: {selector: {matchLabels: {app: x}}}")),
      withDryRun(invalid),
    );
    assert.equal(
      result.message,
      "NonCompliant; violation - deployments [web] found but not as specified in namespace default",
    );
    assert.deepEqual(result.changes, []);
  });
  it("an immutable field in enforce asks for recreateOption", () => {
    const result = run(
      enforce(deploymentTemplate("musthave", "spec: {selector: {matchLabels: {app: x}}}")),
      withDryRun(invalid, undefined, written),
    );
    assert.equal(
      result.message,
      'NonCompliant; violation - deployments [web] in namespace default cannot be updated, likely due to immutable fields not matching, you may set spec["object-templates"][].recreateOption to recreate the object',
    );
    assert.deepEqual(reasons(result), ["K8s update template error"]);
    assert.deepEqual(result.changes, []);
  });
  it("recreateOption IfRequired recreates when the update is refused", () => {
    const spec = deploymentTemplate(
      "musthave",
      "spec: {selector: {matchLabels: {app: x}}}",
      "\n    recreateOption: IfRequired",
    ).replace("inform", "enforce");
    const planned = run(spec, withDryRun(invalid));
    assert.equal(
      planned.message,
      "NonCompliant; violation - deployments [web] found but not as specified in namespace default",
    );
    assert.deepEqual(changes(planned), ["update (recreate) Deployment default/web"]);
    writes.length = 0;
    const result = run(spec, withDryRun(invalid, undefined, written));
    assert.equal(
      result.message,
      "Compliant; notification - deployments [web] was updated successfully in namespace default",
    );
    assert.deepEqual(changes(result), ["update (recreate) Deployment default/web"]);
    assert.deepEqual(
      writes.map((request) => request.op),
      ["recreate"],
    );
    assert.equal(result.relatedObjects[0]!.properties!.uid, "new-uid");
  });
  it("a strict-validation error names the object", () => {
    const strict: DryRunOutcome = {
      error: {
        status: 400,
        reason: "BadRequest",
        message: 'strict decoding error: unknown field "spec.bogus"',
      },
    };
    const result = run(deploymentTemplate("musthave", "spec: {bogus: 1}"), withDryRun(strict));
    assert.equal(
      result.message,
      'NonCompliant; violation - Error validating the object web, the error is `strict decoding error: unknown field "spec.bogus"`',
    );
  });
  it("a refused create is a creation error", () => {
    const refusal = {
      status: 422,
      reason: "Invalid",
      message: 'Pod "x" is invalid: spec.containers: Required value',
    };
    const refused: DryRunOutcome = { error: refusal };
    const result = run(
      enforce(podTemplate("musthave", "name: x, namespace: default")),
      withDryRun({ object: {} }, refused),
    );
    // A dry run reports the object missing and plans nothing it knows would be refused.
    assert.equal(result.message, "NonCompliant; violation - pods [x] not found in namespace default");
    assert.deepEqual(result.changes, []);
    const enforced = run(
      enforce(podTemplate("musthave", "name: x, namespace: default")),
      withDryRun({ object: {} }, undefined, () => ({ result: "refused", error: refusal })),
    );
    assert.equal(
      enforced.message,
      'NonCompliant; violation - pods [x] in namespace default is missing, and cannot be created, reason: `Pod "x" is invalid: spec.containers: Required value`',
    );
  });
});

describe("Namespace metadata", () => {
  it("keeps OpenShift's SCC annotations when labels and annotations must match exactly", () => {
    const spec = `object-templates:\n  - complianceType: mustonlyhave\n    objectDefinition: {apiVersion: v1, kind: Namespace, metadata: {name: apps, annotations: {owner: me}}}`;
    const cluster = `apiVersion: v1\nkind: Namespace\nmetadata: {name: apps, annotations: {owner: me, openshift.io/sa.scc.uid-range: 1000/1000}}`;
    assert.equal(
      evaluate(spec, cluster).message,
      "Compliant; notification - namespaces [apps] found as specified",
    );
    const other = cluster.replace("openshift.io/sa.scc.uid-range", "example.com/other");
    assert.equal(
      evaluate(spec, other).message,
      "NonCompliant; violation - namespaces [apps] found but not as specified",
    );
  });
});
