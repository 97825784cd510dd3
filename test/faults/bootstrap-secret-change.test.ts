// The bootstrap kubeconfig secret changed under a running `bosun agent`, as OCM's agent is
// expected to handle it: a new token for the same hub makes the agent join again and keep its
// valid client certificate (no new CSR, the cluster stays Available); a kubeconfig naming another
// hub makes it bootstrap there (a CSR and a ManagedCluster on the new hub, accepted, Available,
// and its ManifestWorks applied). A secret changed to something unusable changes nothing.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { ManifestWorkConditions, Namespaces, SecretKeys, Secrets } from "../../api/constants.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { acceptCluster } from "../../cli/commands/accept.ts";
import { bootstrapKubeconfig } from "../../cli/commands/join.ts";
import type { CertificateSigningRequest } from "../../controllers/registration/csr.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { ensureKubeBinaries } from "../../local/binaries.ts";
import { ControlPlane } from "../../local/controlplane.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { eventually } from "../support/wait.ts";
import { assertAvailable, startProcessFleet, type ProcessFleet } from "./support/process-fleet.ts";
import { hubProcess, type BosunProcess } from "./support/processes.ts";

const cluster = "mover";

describe("the bootstrap secret changed under a running agent", () => {
  let fleet: ProcessFleet;
  let otherPlane: ControlPlane | undefined;
  let otherHub: KubeClient | undefined;
  let otherController: BosunProcess | undefined;

  before(async () => {
    fleet = await startProcessFleet({
      name: "faults-bootstrap",
      clusters: [cluster],
      agentArgs: () => ["--log-level", "info"],
    });
  });

  after(async () => {
    await otherController?.stop();
    otherHub?.close();
    await otherPlane?.stop();
    await fleet?.stop();
  });

  const member = () => fleet.clusters[cluster]!;
  const secretRef = (name: string) => ({
    apiVersion: "v1",
    kind: "Secret",
    namespace: Namespaces.agent,
    name,
  });

  async function writeBootstrap(kubeconfig: string): Promise<void> {
    await member().client.patch(secretRef(Secrets.bootstrapHubKubeconfig), "merge", {
      stringData: { [SecretKeys.kubeconfig]: kubeconfig },
    });
  }

  /** The agent's log written after `from` characters (what an action made it say). */
  async function agentLog(from = 0): Promise<string> {
    return (await readFile(member().agent.logFile, "utf8")).slice(from);
  }

  /** The server of the kubeconfig the agent connects to the hub with. */
  async function hubKubeconfigServer(): Promise<string> {
    const secret = await member().client.get<Unstructured & { data?: Record<string, string> }>(
      secretRef(Secrets.hubKubeconfig),
    );
    const text = Buffer.from(secret.data?.[SecretKeys.kubeconfig] ?? "", "base64").toString("utf8");
    const config = parse(text) as { clusters?: { cluster?: { server?: string } }[] };
    return config.clusters?.[0]?.cluster?.server ?? "";
  }

  async function csrsOf(hub: KubeClient): Promise<string[]> {
    const { items } = await hub.listAll<CertificateSigningRequest>(
      "certificates.k8s.io/v1",
      "CertificateSigningRequest",
      {
        labelSelector: `open-cluster-management.io/cluster-name=${cluster}`,
      },
    );
    return items.map((csr) => csr.metadata.name ?? "").sort();
  }

  test("an unusable kubeconfig in the secret is logged and changes nothing", async () => {
    const csrs = await csrsOf(fleet.hub);
    await writeBootstrap("this is not a kubeconfig: [");
    await eventually(async () => assert.match(await agentLog(), /the new bootstrap kubeconfig is unusable/), {
      timeoutMs: 60_000,
      what: "the agent noticing the unusable kubeconfig",
    });
    await assertAvailable(fleet.hub, cluster);
    assert.deepEqual(await csrsOf(fleet.hub), csrs);
  });

  test("a new token for the same hub: the agent joins again with its certificate, no new CSR", async () => {
    const csrs = await csrsOf(fleet.hub);
    const certificateBefore = await member().client.get<Unstructured>(secretRef(Secrets.hubKubeconfig));
    const token = await mintBootstrapToken(fleet.hub, 600);
    const from = (await agentLog()).length;
    assert.doesNotMatch(await agentLog(), /using the stored client certificate/, "it bootstrapped at first");
    await writeBootstrap(bootstrapKubeconfig(fleet.endpoint.server, fleet.endpoint.caPem, token));
    await eventually(
      async () => assert.match(await agentLog(from), /the bootstrap kubeconfig changed; joining again/),
      { timeoutMs: 60_000, what: "the agent seeing the new bootstrap kubeconfig" },
    );
    await eventually(
      async () => {
        assert.match(await agentLog(from), /using the stored client certificate/);
        await assertAvailable(fleet.hub, cluster);
      },
      { timeoutMs: 60_000, what: "the agent running again with its stored certificate" },
    );
    assert.deepEqual(await csrsOf(fleet.hub), csrs, "no new CSR");
    const certificateAfter = await member().client.get<Unstructured>(secretRef(Secrets.hubKubeconfig));
    assert.deepEqual(
      (certificateAfter as { data?: Record<string, string> }).data?.[SecretKeys.tlsCert],
      (certificateBefore as { data?: Record<string, string> }).data?.[SecretKeys.tlsCert],
      "the same client certificate",
    );
  });

  test("a kubeconfig for another hub: the agent bootstraps there, is accepted and applies its works", async () => {
    const binaries = await ensureKubeBinaries();
    otherPlane = await ControlPlane.start({ name: "faults-bootstrap-other", binaries });
    otherHub = await KubeClient.fromFile(otherPlane.kubeconfigPath);
    await installCrds(otherHub, "hub");
    const endpoint = hubEndpointOf(otherHub);
    await ensureBootstrapIdentity(otherHub, endpoint);
    otherController = hubProcess(fleet.dir, "hub-other", otherPlane.kubeconfigPath);
    await otherController.start();

    await writeBootstrap(
      bootstrapKubeconfig(endpoint.server, endpoint.caPem, await mintBootstrapToken(otherHub)),
    );
    const accepted = await acceptCluster(otherHub, cluster, { waitMs: 90_000 });
    assert.equal(accepted.approved.length, 1, "one CSR approved on the other hub");
    await eventually(() => assertAvailable(otherHub!, cluster), {
      timeoutMs: 90_000,
      what: `${cluster} joined and available on the other hub`,
    });
    assert.equal(
      await hubKubeconfigServer(),
      endpoint.server,
      "the agent's hub kubeconfig names the other hub",
    );

    // The work agent follows: a ManifestWork of the other hub is applied and reported there.
    const work = {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "ManifestWork",
      metadata: { name: "after-move", namespace: cluster },
      spec: {
        workload: {
          manifests: [
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "after-move", namespace: "default" } },
          ],
        },
      },
    };
    await otherHub.create(work);
    await eventually(
      async () => {
        const current = await otherHub!.get<ManifestWork>({
          apiVersion: work.apiVersion,
          kind: work.kind,
          namespace: cluster,
          name: "after-move",
        });
        assert.equal(
          findCondition(current.status?.conditions, ManifestWorkConditions.applied)?.status,
          "True",
        );
        await member().client.get({
          apiVersion: "v1",
          kind: "ConfigMap",
          namespace: "default",
          name: "after-move",
        });
      },
      { timeoutMs: 60_000, what: "the other hub's work applied" },
    );
  });
});
