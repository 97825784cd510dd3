// Joining with a Kubernetes bootstrap token trusts the hub's CA only when kube-public/cluster-info
// is signed with the token: a server in the middle that swaps the CA (or strips or forges the
// signature) is refused, and the token is never sent to a server that is not yet trusted.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:https";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { BosunBootstrapSigning, HubInfo, Namespaces, SecretKeys, Secrets } from "../../api/constants.ts";
import { discoverHubCa, joinCluster } from "../../cli/commands/join.ts";
import {
  ensureBootstrapIdentity,
  ensureBootstrapToken,
  hubEndpointOf,
} from "../../controllers/registration/bootstrap.ts";
import { detachedSignature, parseBootstrapToken } from "../../runtime/bootstrap-signature.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { createCertificateAuthority, issueCertificate } from "../../runtime/pki.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/wait.ts";

const hub = useControlPlane("sec-join");
const clusterInfoPath = `/api/v1/namespaces/${Namespaces.kubePublic}/configmaps/${HubInfo.clusterInfoConfigMap}`;

interface Impostor {
  url: string;
  /** Authorization headers the impostor received. */
  authorizations: string[];
  close(): Promise<void>;
}

/** An HTTPS server with a certificate of its own CA that answers cluster-info with `data`. */
async function impostor(data: (attackerCaPem: string) => Record<string, string>): Promise<Impostor> {
  const ca = await createCertificateAuthority("impostor");
  const serving = await issueCertificate(ca, {
    commonName: "impostor",
    ipAddresses: ["127.0.0.1"],
    server: true,
  });
  const authorizations: string[] = [];
  const body = JSON.stringify({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: HubInfo.clusterInfoConfigMap, namespace: Namespaces.kubePublic },
    data: data(ca.certPem),
  });
  const server: Server = createServer({ cert: serving.certPem, key: serving.keyPem }, (request, response) => {
    if (request.headers.authorization) authorizations.push(request.headers.authorization);
    if (request.url?.split("?")[0] === clusterInfoPath) {
      response.writeHead(200, { "content-type": "application/json" }).end(body);
    } else {
      response.writeHead(404, { "content-type": "application/json" }).end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "NotFound",
          code: 404,
        }),
      );
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${address.port}`,
    authorizations,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function withCa(kubeconfig: string, caPem: string): string {
  const parsed = parse(kubeconfig) as { clusters: { cluster: Record<string, string> }[] };
  parsed.clusters[0]!.cluster["certificate-authority-data"] = Buffer.from(caPem).toString("base64");
  return stringify(parsed);
}

describe("bootstrap-token discovery of the hub's CA", () => {
  let admin: KubeClient;
  let token: string;
  let signedInfo: Record<string, string>;
  let agentDir: string;

  before(async () => {
    admin = await KubeClient.fromFile(hub.plane.kubeconfigPath);
    await installCrds(admin, "hub");
    await ensureBootstrapIdentity(admin, hubEndpointOf(admin));
    token = await ensureBootstrapToken(admin);
    const info = await admin.get<Unstructured>({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: HubInfo.clusterInfoConfigMap,
      namespace: Namespaces.kubePublic,
    });
    signedInfo = info.data as Record<string, string>;
    agentDir = await mkdtemp(join(tmpdir(), "bosun-join-discovery-"));
  });
  after(async () => {
    admin.close();
    await rm(agentDir, { recursive: true, force: true });
  });

  const joinFlags = (server: string) => ({
    hubToken: token,
    hubApiserver: server,
    clusterName: "cluster1",
    agent: "none",
    agentDir,
    timeout: "10",
    kubeconfig: hub.plane.kubeconfigPath,
  });

  test("bosun init signs cluster-info with the bootstrap token, as the bootstrap signer does", () => {
    const parsed = parseBootstrapToken(token);
    assert.ok(parsed, `${token} is a bootstrap token`);
    assert.equal(
      signedInfo[`${BosunBootstrapSigning.signatureKeyPrefix}${parsed.id}`],
      detachedSignature(signedInfo.kubeconfig!, parsed),
    );
  });

  test("the hub's CA is verified with the token's signature and stored in the bootstrap kubeconfig", async () => {
    const lines: string[] = [];
    assert.equal(
      await discoverHubCa(hub.plane.server, token, undefined, (line) => lines.push(line)),
      hub.plane.caPem,
    );
    assert.match(lines.join("\n"), /verified with the bootstrap token's signature/);

    await joinCluster(joinFlags(hub.plane.server), (line) => lines.push(line));
    const secret = await admin.get<Unstructured>({
      apiVersion: "v1",
      kind: "Secret",
      name: Secrets.bootstrapHubKubeconfig,
      namespace: Namespaces.agent,
    });
    const kubeconfig = Buffer.from(
      (secret.data as Record<string, string>)[SecretKeys.kubeconfig]!,
      "base64",
    ).toString();
    const ca = (parse(kubeconfig) as { clusters: { cluster: Record<string, string> }[] }).clusters[0]!
      .cluster["certificate-authority-data"];
    assert.equal(Buffer.from(ca!, "base64").toString(), hub.plane.caPem);
  });

  test("the signature stays after the hub's bootstrap signer has seen the token", async () => {
    // kube-controller-manager's bootstrap signer runs on this hub; it keeps (rewrites
    // identically) the signature of a token marked for signing rather than removing it.
    const parsed = parseBootstrapToken(token)!;
    const key = `${BosunBootstrapSigning.signatureKeyPrefix}${parsed.id}`;
    await eventually(
      async () => {
        const info = await admin.get<Unstructured>({
          apiVersion: "v1",
          kind: "ConfigMap",
          name: HubInfo.clusterInfoConfigMap,
          namespace: Namespaces.kubePublic,
        });
        const managers = (info.metadata.managedFields ?? []).map((field) => field.manager);
        assert.ok(managers.includes("kube-controller-manager"), `managers: ${managers.join(", ")}`);
        assert.equal((info.data as Record<string, string>)[key], signedInfo[key]);
      },
      { timeoutMs: 60_000, what: "the bootstrap signer to sign cluster-info" },
    );
  });

  const attacks: [string, (attackerCaPem: string) => Record<string, string>, RegExp][] = [
    [
      "the CA swapped, the hub's signature kept",
      (attackerCaPem) => ({ ...signedInfo, kubeconfig: withCa(signedInfo.kubeconfig!, attackerCaPem) }),
      /fails verification with bootstrap token ocmhub .*tampered with: refusing to join/,
    ],
    [
      "the CA swapped and the signature removed",
      (attackerCaPem) => ({ kubeconfig: withCa(signedInfo.kubeconfig!, attackerCaPem) }),
      /not signed for bootstrap token ocmhub .*refusing to trust its CA/,
    ],
    [
      "the CA swapped and signed with a guessed secret",
      (attackerCaPem) => {
        const kubeconfig = withCa(signedInfo.kubeconfig!, attackerCaPem);
        const guess = { id: "ocmhub", secret: "0000000000000000" };
        return {
          kubeconfig,
          [`${BosunBootstrapSigning.signatureKeyPrefix}ocmhub`]: detachedSignature(kubeconfig, guess),
        };
      },
      /does not match the content and the token/,
    ],
  ];
  for (const [name, data, expected] of attacks) {
    test(`bosun join refuses a cluster-info with ${name}, without sending the token`, async () => {
      const server = await impostor(data);
      try {
        await assert.rejects(
          joinCluster(joinFlags(server.url), () => {}),
          expected,
        );
        assert.deepEqual(server.authorizations, []);
      } finally {
        await server.close();
      }
    });
  }
});
