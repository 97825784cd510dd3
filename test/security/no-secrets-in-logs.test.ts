// Nothing secret reaches the logs: a hub and an agent that joins it (bootstrap token, CSR,
// client certificate, leases, status) log at debug level into memory, and no bootstrap
// token, private key or Secret value appears in any line.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Namespaces, SecretKeys, Secrets } from "../../api/constants.ts";
import type { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { startFleet, type Fleet } from "../support/fleet.ts";
import { captureLogger } from "../support/log-capture.ts";

const captured = captureLogger("debug");
let fleet: Fleet;

before(async () => {
  fleet = await startFleet({ name: "sec-logs", clusters: ["cluster1"], logger: captured.logger });
});
after(async () => {
  await fleet?.stop();
});

async function secretValues(client: KubeClient): Promise<string[]> {
  const { items } = await client.listAll<Unstructured>("v1", "Secret");
  return items.flatMap((secret) =>
    Object.values((secret.data as Record<string, string> | undefined) ?? {}).map((value) =>
      Buffer.from(value, "base64").toString("utf8"),
    ),
  );
}

test("no bootstrap token, private key or Secret value is logged while a cluster joins and reports", async () => {
  const managed = fleet.clusters.cluster1!.client;
  const read = async (name: string) => {
    const secret = await managed.get<Unstructured>({
      apiVersion: "v1",
      kind: "Secret",
      name,
      namespace: Namespaces.agent,
    });
    const data = secret.data as Record<string, string>;
    return (key: string) => Buffer.from(data[key] ?? "", "base64").toString("utf8");
  };
  const bootstrap = (await read(Secrets.bootstrapHubKubeconfig))(SecretKeys.kubeconfig);
  const token = /token: (\S+)/.exec(bootstrap)?.[1];
  assert.ok(token && token.length > 20, "the bootstrap kubeconfig carries a token");
  const clientKey = (await read(Secrets.hubKubeconfig))(SecretKeys.tlsKey);
  assert.match(clientKey, /PRIVATE KEY/);

  const lines = captured.entries.map((entry) => JSON.stringify(entry));
  assert.ok(lines.length > 5, `the flow logged (${lines.length} lines)`);
  assert.ok(
    captured.entries.some((entry) => entry.level === 20),
    "debug lines were captured",
  );

  const secrets = [
    ["the bootstrap token", token],
    ["the client certificate's key", clientKey.replace(/-----[A-Z ]+-----|\s/g, "").slice(0, 64)],
    ...(await secretValues(fleet.hub)).map((value) => ["a hub Secret value", value] as const),
    ...(await secretValues(managed)).map((value) => ["a managed-cluster Secret value", value] as const),
  ].filter(([, value]) => value.length >= 12);
  for (const line of lines) {
    assert.doesNotMatch(line, /PRIVATE KEY/, "a private key PEM is logged");
    for (const [what, value] of secrets) {
      // Compared as JSON writes it, so that multi-line values are found as logged.
      const needle = JSON.stringify(value).slice(1, -1);
      assert.ok(!line.includes(needle), `${what} is logged: ${line.slice(0, 200)}`);
    }
  }
});
