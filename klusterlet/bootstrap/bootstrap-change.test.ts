import assert from "node:assert/strict";
import { test } from "node:test";
import { stringify } from "yaml";
import { judgeBootstrapChange } from "./bootstrap-change.ts";
import { hubEndpoint } from "./kubeconfig.ts";

const caA = Buffer.from("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n").toString("base64");
const caB = Buffer.from("-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n").toString("base64");

function kubeconfig(server: string, caData: string, token: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "hub", cluster: { server, "certificate-authority-data": caData } }],
    users: [{ name: "bootstrap", user: { token } }],
    contexts: [{ name: "bootstrap", context: { cluster: "hub", user: "bootstrap" } }],
    "current-context": "bootstrap",
  });
}

const joinedWith = kubeconfig("https://hub-a:6443", caA, "abcdef.0123456789abcdef");
const connected = hubEndpoint(joinedWith);

const cases: {
  name: string;
  joinedWith: string | undefined;
  current: string | undefined;
  want: { rejoin: false; reason: RegExp } | { rejoin: true; sameHub: boolean };
}[] = [
  { name: "unchanged", joinedWith, current: joinedWith, want: { rejoin: false, reason: /unchanged/ } },
  {
    name: "a new token for the same hub: rejoin, keeping the certificate",
    joinedWith,
    current: kubeconfig("https://hub-a:6443", caA, "ghijkl.0123456789abcdef"),
    want: { rejoin: true, sameHub: true },
  },
  {
    name: "another hub: rejoin and bootstrap again",
    joinedWith,
    current: kubeconfig("https://hub-b:6443", caB, "abcdef.0123456789abcdef"),
    want: { rejoin: true, sameHub: false },
  },
  {
    name: "the same server with another CA is another hub",
    joinedWith,
    current: kubeconfig("https://hub-a:6443", caB, "abcdef.0123456789abcdef"),
    want: { rejoin: true, sameHub: false },
  },
  {
    name: "removed: keep the connection",
    joinedWith,
    current: undefined,
    want: { rejoin: false, reason: /removed/ },
  },
  {
    name: "unparseable: keep the connection",
    joinedWith,
    current: "clusters: [",
    want: { rejoin: false, reason: /unusable: the kubeconfig cannot be parsed/ },
  },
  {
    name: "no server: keep the connection",
    joinedWith,
    current: stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "hub", cluster: {} }],
      users: [{ name: "bootstrap", user: { token: "t" } }],
      contexts: [{ name: "bootstrap", context: { cluster: "hub", user: "bootstrap" } }],
      "current-context": "bootstrap",
    }),
    want: { rejoin: false, reason: /unusable/ },
  },
  {
    name: "joined from the stored certificate alone, then a secret for that hub appears",
    joinedWith: undefined,
    current: joinedWith,
    want: { rejoin: true, sameHub: true },
  },
  {
    name: "still none",
    joinedWith: undefined,
    current: undefined,
    want: { rejoin: false, reason: /unchanged/ },
  },
];

for (const c of cases) {
  test(`judgeBootstrapChange: ${c.name}`, () => {
    const got = judgeBootstrapChange(c.joinedWith, c.current, connected);
    if (c.want.rejoin) {
      assert.deepEqual(got, c.want);
    } else {
      assert.equal(got.rejoin, false);
      assert.match(got.rejoin ? "" : got.reason, c.want.reason);
    }
  });
}
