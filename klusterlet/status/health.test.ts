import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { KubeClient } from "../../runtime/kube/client.ts";
import { kubernetesVersion, probeApiServer } from "./health.ts";

function clientFor(server: string): Promise<KubeClient> {
  return KubeClient.fromString(`
apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t0ken } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
}

describe("probeApiServer", () => {
  let server: Server;
  let base: string;
  const answers = new Map<string, [number, string]>();
  const seen: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      seen.push(`${request.url} ${request.headers.authorization}`);
      const [status, body] = answers.get(request.url ?? "") ?? [404, "not found"];
      response.writeHead(status, { "content-type": "text/plain" }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const cases: {
    name: string;
    livez?: [number, string];
    healthz?: [number, string];
    expected: [number, string];
  }[] = [
    { name: "a live server", livez: [200, "ok"], expected: [200, "ok"] },
    { name: "no /livez: falls back to /healthz", healthz: [200, "ok"], expected: [200, "ok"] },
    {
      name: "/livez forbidden: falls back to /healthz",
      livez: [403, "no"],
      healthz: [200, "ok"],
      expected: [200, "ok"],
    },
    {
      name: "an unhealthy server",
      livez: [500, "[-]etcd failed"],
      healthz: [200, "ok"],
      expected: [500, "[-]etcd failed"],
    },
    {
      name: "unhealthy behind the fallback",
      livez: [404, ""],
      healthz: [503, "down"],
      expected: [503, "down"],
    },
  ];
  for (const testCase of cases) {
    it(testCase.name, async () => {
      answers.clear();
      if (testCase.livez) answers.set("/livez", testCase.livez);
      if (testCase.healthz) answers.set("/healthz", testCase.healthz);
      const client = await clientFor(base);
      try {
        const probe = await probeApiServer(client);
        assert.deepEqual([probe.statusCode, probe.detail], testCase.expected);
      } finally {
        client.close();
      }
    });
  }

  it("sends the client's credentials", async () => {
    answers.set("/livez", [200, "ok"]);
    seen.length = 0;
    const client = await clientFor(base);
    await probeApiServer(client);
    client.close();
    assert.deepEqual(seen, ["/livez Bearer t0ken"]);
  });

  it("reports a server that does not answer as status 0", async () => {
    const client = await clientFor("http://127.0.0.1:1");
    const probe = await probeApiServer(client);
    client.close();
    assert.equal(probe.statusCode, 0);
    assert.match(probe.detail, /ECONNREFUSED/);
  });

  it("reads the version's gitVersion, and refuses an answer without one", async () => {
    const client = await clientFor(base);
    answers.set("/version", [200, JSON.stringify({ major: "1", minor: "36", gitVersion: "v1.36.3" })]);
    assert.equal(await kubernetesVersion(client), "v1.36.3");
    answers.set("/version", [200, "{}"]);
    await assert.rejects(kubernetesVersion(client), /no gitVersion/);
    client.close();
  });
});
