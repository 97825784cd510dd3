// `bosun init --dry-run` and `bosun join --dry-run` against a real control plane: they say what
// a real run would create, update or leave alone, read only, and the API server holds exactly
// what it held before (checked by listing, and by the resourceVersion of every object they read).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Namespaces, Secrets } from "../../api/constants.ts";
import { mintBootstrapToken } from "../../controllers/registration/bootstrap.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "..", "..");
const fixture = useControlPlane("dry-run");
const scratch = mkdtempSync(join(tmpdir(), "bosun-dry-run-test-"));
const crdRef = (name: string) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  name,
});
const managedClusters = crdRef("managedclusters.cluster.open-cluster-management.io");
const appliedWorks = crdRef("appliedmanifestworks.work.open-cluster-management.io");

describe("--dry-run on a real control plane", () => {
  let admin: KubeClient;
  const caFile = join(scratch, "hub-ca.pem");
  const agentDir = join(scratch, "agents");

  async function bosun(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const env = { ...process.env };
    delete env.KUBECONFIG;
    try {
      return await run(
        process.execPath,
        [join(repo, "cli", "bosun.ts"), ...args, "--kubeconfig", fixture.plane.kubeconfigPath],
        { env, maxBuffer: 16 << 20 },
      );
    } catch (error) {
      const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
      throw new Error(`bosun ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: error });
    }
  }

  /**
   * kube-controller-manager answers /healthz before its controllers have done their first
   * pass, and it writes into every new namespace (its `default` ServiceAccount and the
   * `kube-root-ca.crt` ConfigMap) and signs kube-public/cluster-info with each new bootstrap
   * token. Those writes are not bosun's, so a snapshot waits for them to be done.
   */
  async function controllersSettled(): Promise<void> {
    await eventually(
      async () => {
        const { items: namespaces } = await admin.listAll<Unstructured>("v1", "Namespace");
        for (const { metadata } of namespaces) {
          if (metadata.deletionTimestamp) continue;
          const namespace = metadata.name;
          for (const [kind, name] of [
            ["ServiceAccount", "default"],
            ["ConfigMap", "kube-root-ca.crt"],
          ] as const) {
            const found = await admin.getOrUndefined({ apiVersion: "v1", kind, namespace, name });
            assert.ok(found, `${kind} ${namespace}/${name}`);
          }
        }
        // The bootstrap signer signs kube-public/cluster-info with every signing token.
        const clusterInfo = await admin.getOrUndefined<Unstructured & { data?: Record<string, string> }>({
          apiVersion: "v1",
          kind: "ConfigMap",
          namespace: Namespaces.kubePublic,
          name: "cluster-info",
        });
        if (clusterInfo) {
          const { items: secrets } = await admin.listAll<
            Unstructured & { type?: string; data?: Record<string, string> }
          >("v1", "Secret", { namespace: Namespaces.kubeSystem });
          for (const secret of secrets) {
            if (secret.type !== "bootstrap.kubernetes.io/token") continue;
            const decoded = (key: string) => Buffer.from(secret.data?.[key] ?? "", "base64").toString();
            if (decoded("usage-bootstrap-signing") !== "true") continue;
            const tokenId = decoded("token-id");
            assert.ok(clusterInfo.data?.[`jws-kubeconfig-${tokenId}`], `cluster-info signed for ${tokenId}`);
          }
        }
      },
      { timeoutMs: 60_000, what: "kube-controller-manager's first pass" },
    );
  }

  /** Every object of the namespaces a real init or join writes to, with its resourceVersion. */
  async function snapshot(): Promise<string[]> {
    await controllersSettled();
    const lines: string[] = [];
    const { items: crds } = await admin.listAll<Unstructured>(
      "apiextensions.k8s.io/v1",
      "CustomResourceDefinition",
    );
    for (const crd of crds) lines.push(`crd ${crd.metadata.name} ${crd.metadata.resourceVersion}`);
    for (const kind of ["Secret", "ConfigMap", "ServiceAccount"]) {
      for (const namespace of [
        Namespaces.operator,
        Namespaces.agent,
        Namespaces.kubeSystem,
        Namespaces.kubePublic,
      ]) {
        const { items } = await admin.listAll<Unstructured>("v1", kind, { namespace });
        for (const item of items)
          lines.push(`${kind} ${namespace}/${item.metadata.name} ${item.metadata.resourceVersion}`);
      }
    }
    const { items: namespaces } = await admin.listAll<Unstructured>("v1", "Namespace");
    for (const namespace of namespaces) lines.push(`namespace ${namespace.metadata.name}`);
    for (const kind of ["ClusterRole", "ClusterRoleBinding"]) {
      const { items } = await admin.listAll<Unstructured>("rbac.authorization.k8s.io/v1", kind);
      for (const item of items) lines.push(`${kind} ${item.metadata.name} ${item.metadata.resourceVersion}`);
    }
    return lines.sort();
  }

  before(async () => {
    admin = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    writeFileSync(caFile, fixture.plane.caPem);
  });

  after(() => {
    admin?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("init --dry-run on an empty hub lists every CRD and identity object to create, and writes nothing", async () => {
    const before = await snapshot();
    const { stdout } = await bosun(["init", "--dry-run"]);
    assert.match(stdout, /bosun init would prepare the hub \(dry run, nothing written\):/);
    assert.match(
      stdout,
      /would create CustomResourceDefinition managedclusters\.cluster\.open-cluster-management\.io/,
    );
    assert.match(stdout, /would create Namespace open-cluster-management\b/);
    assert.match(stdout, /would mint token for ServiceAccount/);
    assert.match(stdout, /bosun join --hub-token <hub_token> --hub-apiserver/);
    assert.deepEqual(await snapshot(), before);
    assert.equal(await admin.getOrUndefined(managedClusters), undefined);
  });

  test("init --dry-run -o json is one JSON document with the steps", async () => {
    const { stdout } = await bosun(["init", "--dry-run", "-o", "json"]);
    const plan = JSON.parse(stdout) as { dryRun: boolean; steps: { action: string; name: string }[] };
    assert.equal(plan.dryRun, true);
    assert.ok(plan.steps.some((step) => step.action === "create" && step.name === managedClusters.name));
  });

  test("after a real init, init --dry-run finds everything in place", async () => {
    await bosun(["init"]);
    const before = await snapshot();
    const { stdout } = await bosun(["init", "--dry-run"]);
    const lines = stdout
      .split("\n")
      .filter((line) => line.startsWith("  would ") || line.startsWith("  unchanged: "));
    assert.ok(lines.length > 10, stdout);
    // Only the token is new in every real run.
    assert.deepEqual(
      lines
        .filter((line) => !line.startsWith("  unchanged: "))
        .map((line) => line.trim().split(" ").slice(0, 2).join(" ")),
      ["would mint"],
    );
    assert.deepEqual(await snapshot(), before);
  });

  test("init --dry-run --use-bootstrap-token says it would create and sign a bootstrap token", async () => {
    const before = await snapshot();
    const { stdout } = await bosun(["init", "--dry-run", "--use-bootstrap-token"]);
    assert.match(
      stdout,
      new RegExp(`would create Secret ${Namespaces.kubeSystem}/${Secrets.bootstrapToken}`),
    );
    assert.match(stdout, /would sign ConfigMap kube-public\/cluster-info/);
    assert.deepEqual(await snapshot(), before);
  });

  test("--dry-run with --deploy is a usage error naming the flag", async () => {
    await assert.rejects(bosun(["init", "--dry-run", "--deploy"]), /--dry-run does not go with --deploy/);
  });

  test("join --dry-run checks the token, lists what it would write and start, and writes nothing", async () => {
    const token = await mintBootstrapToken(admin, 600);
    const before = await snapshot();
    const args = [
      "join",
      "--dry-run",
      "--hub-apiserver",
      fixture.plane.server,
      "--cluster-name",
      "east",
      "--ca-file",
      caFile,
      "--agent-dir",
      agentDir,
    ];
    const { stdout } = await bosun([...args, "--hub-token", token]);
    assert.match(stdout, /bosun join would join east \(dry run, nothing written\):/);
    assert.match(
      stdout,
      new RegExp(`would create Secret ${Namespaces.agent}/${Secrets.bootstrapHubKubeconfig}`),
    );
    assert.match(
      stdout,
      /would create CustomResourceDefinition appliedmanifestworks\.work\.open-cluster-management\.io/,
    );
    assert.match(stdout, /would start agent agent-east \(background process/);
    assert.match(stdout, /bosun accept --clusters east/);
    assert.doesNotMatch(stdout, new RegExp(token.replace(".", "\\.")), "the token is not printed");
    assert.deepEqual(await snapshot(), before);
    assert.equal(await admin.getOrUndefined(appliedWorks), undefined);
    // A token the hub refuses fails the dry run as it would fail the join.
    await assert.rejects(
      bosun([...args, "--hub-token", "abcdef.0123456789abcdef"]),
      /the hub refused the bootstrap token/,
    );
    await assert.rejects(
      bosun([...args, "--hub-token", token, "--wait"]),
      /--dry-run does not go with --wait/,
    );
  });

  test("unjoin --dry-run lists the agent's records, Secrets and namespace it would delete, and deletes nothing", async () => {
    await installCrds(admin, "managed");
    await admin
      .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.agent } })
      .catch(() => undefined);
    await admin.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: Secrets.hubKubeconfig, namespace: Namespaces.agent },
      stringData: { kubeconfig: "placeholder" },
    });
    const record = await admin.create<Unstructured>({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "AppliedManifestWork",
      metadata: { name: "hubhash-work-a" },
      spec: { hubHash: "hubhash", manifestWorkName: "work-a", agentID: "east" },
    });
    await admin.patch(
      {
        apiVersion: "work.open-cluster-management.io/v1",
        kind: "AppliedManifestWork",
        name: record.metadata.name!,
      },
      "merge",
      {
        status: {
          appliedResources: [
            { group: "", version: "v1", resource: "configmaps", namespace: "default", name: "a", uid: "u1" },
            { group: "", version: "v1", resource: "configmaps", namespace: "default", name: "b", uid: "u2" },
          ],
        },
      },
      { subresource: "status" },
    );
    const before = await snapshot();
    const { stdout } = await bosun([
      "unjoin",
      "--dry-run",
      "--cluster-name",
      "east",
      "--agent-dir",
      agentDir,
    ]);
    assert.match(stdout, /bosun unjoin would unjoin east \(dry run, nothing written\):/);
    assert.match(stdout, /would delete AppliedManifestWork hubhash-work-a \(its 2 applied resources deleted/);
    assert.match(stdout, new RegExp(`would delete Secret ${Namespaces.agent}/${Secrets.hubKubeconfig}`));
    assert.doesNotMatch(stdout, new RegExp(`Secret ${Namespaces.agent}/${Secrets.bootstrapHubKubeconfig}`));
    assert.match(stdout, new RegExp(`would delete Namespace ${Namespaces.agent}`));
    const kept = await bosun([
      "unjoin",
      "--dry-run",
      "--keep-applied",
      "--cluster-name",
      "east",
      "--agent-dir",
      agentDir,
    ]);
    assert.match(kept.stdout, /hubhash-work-a \(its 2 applied resources kept/);
    assert.deepEqual(await snapshot(), before);
    assert.ok(
      await admin.getOrUndefined({
        apiVersion: "work.open-cluster-management.io/v1",
        kind: "AppliedManifestWork",
        name: record.metadata.name!,
      }),
      "the record is still there",
    );
  });
});
