import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serviceOfUrl, workWebhookConfiguration, workWebhookPaths } from "./webhook.ts";

const caPem = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n";

interface ClientConfig {
  url?: string;
  service?: { namespace: string; name: string; port: number; path: string };
  caBundle: string;
}

const clientConfigs = (url: string) =>
  (workWebhookConfiguration(url, caPem).webhooks as { clientConfig: ClientConfig }[]).map(
    (webhook) => webhook.clientConfig,
  );

describe("serviceOfUrl", () => {
  it("reads a Service's cluster DNS name, its port (443 by default) and path", () => {
    assert.deepEqual(serviceOfUrl("https://bosun-hub-webhook.open-cluster-management-hub.svc:8443"), {
      name: "bosun-hub-webhook",
      namespace: "open-cluster-management-hub",
      port: 8443,
    });
    assert.deepEqual(serviceOfUrl("https://hook.hub.svc/prefix/"), {
      name: "hook",
      namespace: "hub",
      port: 443,
      path: "/prefix",
    });
  });

  it("leaves addresses, other names and plain HTTP alone", () => {
    for (const url of [
      "https://127.0.0.1:9444",
      "https://[::1]:9444",
      "https://webhook.example.com",
      "https://hook.hub.svc.cluster.local",
      "https://hub.svc",
      "http://hook.hub.svc",
    ]) {
      assert.equal(serviceOfUrl(url), undefined, url);
    }
  });
});

describe("workWebhookConfiguration", () => {
  it("sends each kind to its path at the URL", () => {
    assert.deepEqual(
      clientConfigs("https://127.0.0.1:9444/").map((config) => config.url),
      [
        `https://127.0.0.1:9444${workWebhookPaths.manifestWork}`,
        `https://127.0.0.1:9444${workWebhookPaths.manifestWorkReplicaSet}`,
      ],
    );
  });

  it("registers a URL naming a Service as that Service, which the API server can reach", () => {
    const configs = clientConfigs("https://bosun-hub-webhook.open-cluster-management-hub.svc:443");
    assert.deepEqual(
      configs.map((config) => config.service),
      [workWebhookPaths.manifestWork, workWebhookPaths.manifestWorkReplicaSet].map((path) => ({
        name: "bosun-hub-webhook",
        namespace: "open-cluster-management-hub",
        port: 443,
        path,
      })),
    );
    for (const config of configs) {
      assert.equal(config.url, undefined);
      assert.equal(Buffer.from(config.caBundle, "base64").toString("utf8"), caPem);
    }
  });
});
