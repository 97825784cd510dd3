import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { ensureOcmBinaries } from "../../../local/ocm/binaries.ts";
import { renderConfiguration } from "./agents-webhooks.ts";

const ports: Record<string, number> = {
  "cluster-manager-registration-webhook": 1001,
  "cluster-manager-work-webhook": 1002,
};

const cases = [
  {
    file: "cluster-manager-registration-webhook-validatingconfiguration.yaml",
    kind: "ValidatingWebhookConfiguration",
    url: "https://127.0.0.1:1001/validate-cluster-open-cluster-management-io-v1-managedcluster",
    resources: ["managedclusters"],
  },
  {
    file: "cluster-manager-registration-webhook-mutatingconfiguration.yaml",
    kind: "MutatingWebhookConfiguration",
    url: "https://127.0.0.1:1001/mutate-cluster-open-cluster-management-io-v1-managedcluster",
    resources: ["managedclusters"],
  },
  {
    file: "cluster-manager-registration-webhook-clustersetbinding-validatingconfiguration.yaml",
    kind: "ValidatingWebhookConfiguration",
    url: "https://127.0.0.1:1001/validate-cluster-open-cluster-management-io-v1beta2-managedclustersetbinding",
    resources: ["managedclustersetbindings"],
  },
  {
    file: "cluster-manager-work-webhook-validatingconfiguration.yaml",
    kind: "ValidatingWebhookConfiguration",
    url: "https://127.0.0.1:1002/validate-work-open-cluster-management-io-v1-manifestwork",
    resources: ["manifestworks"],
  },
];

test("OCM's webhook configurations: the service reference becomes a URL, everything else is kept", async (t) => {
  const { ocmModuleDir } = await ensureOcmBinaries({ binaries: [] });
  for (const expected of cases) {
    await t.test(expected.file, async () => {
      const template = await readFile(
        join(ocmModuleDir, "manifests/cluster-manager/hub", expected.file),
        "utf8",
      );
      const rendered = renderConfiguration(
        template,
        expected.file,
        "Q0E=",
        (service, path) => `https://127.0.0.1:${ports[service]}${path}`,
      );
      assert.equal(rendered.kind, expected.kind);
      assert.equal(rendered.metadata.labels, undefined);
      const [webhook] = (rendered as unknown as { webhooks: Record<string, unknown>[] }).webhooks;
      assert.deepEqual(webhook!.clientConfig, { url: expected.url, caBundle: "Q0E=" });
      assert.equal(webhook!.failurePolicy, "Fail");
      assert.deepEqual((webhook!.rules as { resources: string[] }[])[0]!.resources, expected.resources);
      // The rules are OCM's, byte for byte once parsed.
      const original = parse(
        template
          .split("\n")
          .filter((line) => !line.includes("{{"))
          .join("\n"),
      ) as { webhooks: { rules: unknown }[] };
      assert.deepEqual(webhook!.rules, original.webhooks[0]!.rules);
    });
  }
});

test("a template with a part left unfilled is refused", () => {
  assert.throws(
    () => renderConfiguration("metadata:\n  name: {{ .Other }}\nwebhooks: []\n", "other.yaml", "", () => ""),
    /other\.yaml: template parts left after rendering/,
  );
});
