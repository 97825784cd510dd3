import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { DocumentError, evaluateOffline, exitCodeOf, readCluster, readPolicies } from "./policy.ts";

const bosun = resolve(import.meta.dirname, "../bosun.ts");
const dir = mkdtempSync(join(tmpdir(), "bosun-policy-"));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [bosun, "policy", "evaluate", ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const podPolicy = (action: string) => `
apiVersion: policy.open-cluster-management.io/v1
kind: ConfigurationPolicy
metadata: {name: policy-pod}
spec:
  remediationAction: ${action}
  object-templates:
    - complianceType: musthave
      objectDefinition:
        apiVersion: v1
        kind: Pod
        metadata: {name: nginx-pod-e2e, namespace: default}
        spec:
          containers: [{name: nginx, image: "nginx:1.18.0"}]
`;
const pod = `apiVersion: v1\nkind: Pod\nmetadata: {name: nginx-pod-e2e, namespace: default}\nspec:\n  containers: [{name: nginx, image: "nginx:1.18.0", ports: [{containerPort: 80}]}]\n`;

describe("bosun policy evaluate", () => {
  const informPolicy = file("inform.yaml", podPolicy("inform"));
  const enforcePolicy = file("enforce.yaml", podPolicy("enforce"));
  const empty = file("empty.yaml", "");
  const withPod = file("with-pod.yaml", pod);

  it("prints the compliance message and exits 3 when NonCompliant", () => {
    const result = run("-f", informPolicy, "--cluster", empty);
    assert.equal(result.status, 3, result.stderr);
    assert.equal(
      result.stdout,
      "NonCompliant; violation - pods [nginx-pod-e2e] not found in namespace default\n",
    );
  });

  it("answers NonCompliant, exit 3, for an enforce policy whose Pod does not exist: nothing was created", () => {
    const result = run("-f", enforcePolicy, "--cluster", empty);
    assert.equal(result.status, 3, result.stderr);
    assert.equal(
      result.stdout,
      "NonCompliant; violation - pods [nginx-pod-e2e] not found in namespace default\n",
    );
  });

  it("exits 0 when every policy is Compliant", () => {
    const result = run("-f", informPolicy, "--cluster", withPod);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      result.stdout,
      "Compliant; notification - pods [nginx-pod-e2e] found as specified in namespace default\n",
    );
  });

  it("prints results as JSON with what enforce would change, reporting the cluster as it is", () => {
    const result = run(
      "-f",
      enforcePolicy,
      "--cluster",
      empty,
      "-o",
      "json",
      "--now",
      "2024-01-01T00:00:00Z",
    );
    // Nothing was created: the Pod is missing, so the policy is NonCompliant (exit 3).
    assert.equal(result.status, 3, result.stderr);
    const report = JSON.parse(result.stdout) as { results: Record<string, unknown>[] };
    assert.equal(report.results.length, 1);
    const entry = report.results[0]!;
    assert.equal(entry.name, "policy-pod");
    assert.equal(entry.compliant, "NonCompliant");
    assert.equal(
      entry.message,
      "NonCompliant; violation - pods [nginx-pod-e2e] not found in namespace default",
    );
    assert.deepEqual(entry.compliancyDetails, [
      {
        Compliant: "NonCompliant",
        conditions: [
          {
            type: "violation",
            status: "True",
            lastTransitionTime: "2024-01-01T00:00:00Z",
            reason: "K8s does not have a `must have` object",
            message: "pods [nginx-pod-e2e] not found in namespace default",
          },
        ],
        Validity: {},
      },
    ]);
    assert.deepEqual(entry.changes, [
      {
        action: "create",
        apiVersion: "v1",
        kind: "Pod",
        namespace: "default",
        name: "nginx-pod-e2e",
        object: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "nginx-pod-e2e", namespace: "default" },
          spec: { containers: [{ name: "nginx", image: "nginx:1.18.0" }] },
        },
      },
    ]);
  });

  it("gives a Policy's remediationAction to its templates and reports template errors", () => {
    const policy = file(
      "policy.yaml",
      `apiVersion: policy.open-cluster-management.io/v1\nkind: Policy\nmetadata: {name: root}\nspec:\n  disabled: false\n  remediationAction: inform\n  policy-templates:\n    - objectDefinition:${podPolicy("enforce").replaceAll("\n", "\n        ")}\n    - objectDefinition:\n        apiVersion: policy.open-cluster-management.io/v1\n        kind: ConfigurationPolicy\n        metadata: {name: broken}\n        spec: {object-templates: [{objectDefinition: {kind: Pod}}]}\n`,
    );
    const result = run("-f", policy, "--cluster", empty);
    assert.equal(result.status, 3, result.stderr);
    assert.equal(
      result.stdout,
      "NonCompliant; violation - pods [nginx-pod-e2e] not found in namespace default\n" +
        'NonCompliant; template-error; Failed to create policy template: ConfigurationPolicy.policy.open-cluster-management.io "broken" is invalid: spec.object-templates[0].complianceType: Required value\n',
    );
  });

  it("exits 1 naming the document when a document is not valid", () => {
    const bad = file("bad.yaml", `${podPolicy("inform")}---\n${podPolicy("sometimes")}`);
    const result = run("-f", bad, "--cluster", empty);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /bad\.yaml: document 2: ConfigurationPolicy "policy-pod" is invalid: spec\.remediationAction: Unsupported value: "sometimes"/,
    );
  });

  it("exits 1 on YAML that does not parse", () => {
    const result = run("-f", file("broken.yaml", "a: [\n"), "--cluster", empty);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /broken\.yaml: document 1: /);
  });

  it("exits 2 on usage errors", () => {
    assert.equal(run("-f", informPolicy).status, 2);
    assert.equal(run("-f", informPolicy, "--cluster", empty, "--kubeconfig", empty).status, 2);
    assert.equal(run("-f", informPolicy, "--cluster", empty, "-o", "yaml").status, 2);
    assert.equal(run("--cluster", empty).status, 2);
  });
});

describe("a dry run of enforce", () => {
  const cases: { name: string; cluster: string; exit: number; message: string; changes: string[] }[] = [
    {
      name: "a missing Pod: NonCompliant, its create listed",
      cluster: "",
      exit: 3,
      message: "NonCompliant; violation - pods [nginx-pod-e2e] not found in namespace default",
      changes: ["create Pod default/nginx-pod-e2e"],
    },
    {
      name: "the Pod as specified: Compliant, nothing to change",
      cluster: pod,
      exit: 0,
      message: "Compliant; notification - pods [nginx-pod-e2e] found as specified in namespace default",
      changes: [],
    },
    {
      name: "a Pod that differs: NonCompliant, its update listed",
      cluster: pod.replace("nginx:1.18.0", "nginx:1.19.0"),
      exit: 3,
      message:
        "NonCompliant; violation - pods [nginx-pod-e2e] found but not as specified in namespace default",
      changes: ["update Pod default/nginx-pod-e2e"],
    },
  ];
  for (const testCase of cases) {
    it(testCase.name, () => {
      const report = evaluateOffline(
        readPolicies(podPolicy("enforce"), "enforce.yaml"),
        readCluster(testCase.cluster, "cluster.yaml"),
        "2024-01-01T00:00:00Z",
      );
      assert.equal(exitCodeOf(report), testCase.exit);
      assert.equal(report.results[0]!.message, testCase.message);
      assert.deepEqual(
        report.results[0]!.changes.map(
          (change) => `${change.action} ${change.kind} ${change.namespace}/${change.name}`,
        ),
        testCase.changes,
      );
    });
  }
});

describe("reading documents", () => {
  it("rejects documents that are not policies", () => {
    assert.throws(
      () => readPolicies("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", "f.yaml"),
      (error: unknown) => {
        assert.ok(error instanceof DocumentError);
        assert.match(error.message, /^f\.yaml: document 1: expected a ConfigurationPolicy or a Policy/);
        return true;
      },
    );
  });
  it("sets the hub's placement objects aside but needs a policy", () => {
    const placement =
      "apiVersion: cluster.open-cluster-management.io/v1beta1\nkind: Placement\nmetadata: {name: p}\n";
    assert.throws(() => readPolicies(placement, "f.yaml"), /f\.yaml: no ConfigurationPolicy or Policy found/);
    const read = readPolicies(`${placement}---\n${podPolicy("inform")}`, "f.yaml");
    assert.deepEqual(read.skipped, [{ policy: "", kind: "Placement", name: "p" }]);
    assert.equal(read.work.length, 1);
  });
  it("requires apiVersion, kind and a name on cluster objects", () => {
    assert.throws(
      () => readCluster("kind: Pod\nmetadata: {name: x}\n", "c.yaml"),
      /c\.yaml: document 1: apiVersion: Required value/,
    );
    assert.throws(
      () => readCluster("apiVersion: v1\nkind: Pod\nmetadata: {}\n", "c.yaml"),
      /c\.yaml: document 1: Pod metadata\.name: Required value/,
    );
  });
  it("knows the kinds CustomResourceDefinitions in the stream declare", () => {
    const cluster = readCluster(
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec: {group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets}, versions: [{name: v1, served: true}]}\n",
      "c.yaml",
    );
    assert.deepEqual(cluster.resolveKind("example.com/v1", "Widget"), {
      group: "example.com",
      version: "v1",
      kind: "Widget",
      resource: "widgets",
      namespaced: true,
    });
    assert.equal(cluster.resolveKind("example.com/v2", "Widget"), undefined);
  });
});
