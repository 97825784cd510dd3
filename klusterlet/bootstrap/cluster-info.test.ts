import assert from "node:assert/strict";
import { test } from "node:test";
import { stringify } from "yaml";
import { detachedSignature } from "../../runtime/bootstrap-signature.ts";
import { clusterInfoCa, verifiedClusterInfoCa } from "./cluster-info.ts";

const token = { id: "ocmhub", secret: "0123456789abcdef" };
const server = "https://hub.example:6443";
const kubeconfigWith = (caPem: string) =>
  stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "", cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") } },
    ],
  });
const hubCa = "-----BEGIN CERTIFICATE-----\nhub\n-----END CERTIFICATE-----\n";
const otherCa = "-----BEGIN CERTIFICATE-----\nattacker\n-----END CERTIFICATE-----\n";

test("a kubeconfig signed with the token yields its CA", () => {
  const kubeconfig = kubeconfigWith(hubCa);
  const data = { kubeconfig, "jws-kubeconfig-ocmhub": detachedSignature(kubeconfig, token) };
  assert.equal(verifiedClusterInfoCa(data, token, server), hubCa);
});

test("an unsigned, tampered or differently signed cluster-info is refused, naming why", () => {
  const signed = kubeconfigWith(hubCa);
  const signature = detachedSignature(signed, token);
  const cases: [string, Record<string, string> | undefined, RegExp][] = [
    ["no ConfigMap data", undefined, /publishes no kubeconfig/],
    [
      "unsigned",
      { kubeconfig: signed },
      /not signed for bootstrap token ocmhub \(no jws-kubeconfig-ocmhub\)/,
    ],
    [
      "signed for another token only",
      { kubeconfig: signed, "jws-kubeconfig-abcdef": signature },
      /not signed/,
    ],
    [
      "CA swapped",
      { kubeconfig: kubeconfigWith(otherCa), "jws-kubeconfig-ocmhub": signature },
      /fails verification with bootstrap token ocmhub .*tampered/,
    ],
    [
      "signed with another secret",
      {
        kubeconfig: signed,
        "jws-kubeconfig-ocmhub": detachedSignature(signed, { ...token, secret: "fedcba9876543210" }),
      },
      /does not match/,
    ],
  ];
  for (const [name, data, expected] of cases) {
    assert.throws(() => verifiedClusterInfoCa(data, token, server), expected, name);
  }
});

test("the CA of a kubeconfig without one is undefined; YAML that does not parse is named", () => {
  assert.equal(clusterInfoCa(stringify({ clusters: [] })), undefined);
  assert.equal(clusterInfoCa("null"), undefined);
  assert.throws(() => clusterInfoCa("clusters: [\n"), /cluster-info: the kubeconfig is not YAML/);
});
