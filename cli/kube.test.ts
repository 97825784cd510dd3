import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { stringify } from "yaml";
import { KubeApiError } from "../runtime/errors.ts";
import { UnknownKindError } from "../runtime/kube/discovery.ts";
import {
  errorCode,
  explainKubeError,
  KubeconfigError,
  kubeconfigArgs,
  kubeconfigSources,
  loadKubeconfig,
  mergeKubeconfigs,
  missingPermission,
  selectContext,
  type KubeconfigLayer,
} from "./kube.ts";

describe("kubeconfigSources", () => {
  const cases: {
    name: string;
    flag?: string;
    env?: string;
    files: string[];
    origin: string;
  }[] = [
    {
      name: "--kubeconfig wins over $KUBECONFIG",
      flag: "/f",
      env: "/a:/b",
      files: ["/f"],
      origin: "--kubeconfig",
    },
    { name: "$KUBECONFIG lists several files", env: "/a:/b", files: ["/a", "/b"], origin: "$KUBECONFIG" },
    {
      name: "empty entries and repeats are dropped",
      env: ":/a::/b:/a",
      files: ["/a", "/b"],
      origin: "$KUBECONFIG",
    },
    {
      name: "an empty $KUBECONFIG means the default",
      env: "",
      files: ["/home/u/.kube/config"],
      origin: "~/.kube/config",
    },
    { name: "no flag, no variable", files: ["/home/u/.kube/config"], origin: "~/.kube/config" },
  ];
  for (const { name, flag, env, files, origin } of cases) {
    it(name, () =>
      assert.deepEqual(kubeconfigSources({ kubeconfig: flag }, { KUBECONFIG: env }, "/home/u"), {
        files,
        origin,
      }),
    );
  }
});

type Entry = { name: string; from: string };
type ContextEntry = Entry & { cluster: string; user: string };
const entry = (name: string, from: string): Entry => ({ name, from });
const context = (name: string, from: string, cluster = name, user = name): ContextEntry => ({
  name,
  from,
  cluster,
  user,
});
const layer = (
  file: string,
  names: { clusters?: string[]; users?: string[]; contexts?: string[]; current?: string },
): KubeconfigLayer<Entry, Entry, ContextEntry> => ({
  file,
  clusters: (names.clusters ?? []).map((name) => entry(name, file)),
  users: (names.users ?? []).map((name) => entry(name, file)),
  contexts: (names.contexts ?? []).map((name) => context(name, file)),
  ...(names.current !== undefined ? { currentContext: names.current } : {}),
});

describe("mergeKubeconfigs", () => {
  const cases: {
    name: string;
    layers: KubeconfigLayer<Entry, Entry, ContextEntry>[];
    clusters: string[];
    contexts: string[];
    current: string | undefined;
  }[] = [
    {
      name: "one file is itself",
      layers: [layer("a", { clusters: ["hub"], users: ["admin"], contexts: ["hub"], current: "hub" })],
      clusters: ["hub@a"],
      contexts: ["hub@a"],
      current: "hub",
    },
    {
      name: "disjoint files are united",
      layers: [
        layer("a", { clusters: ["hub"], contexts: ["hub"], current: "hub" }),
        layer("b", { clusters: ["spoke"], contexts: ["spoke"], current: "spoke" }),
      ],
      clusters: ["hub@a", "spoke@b"],
      contexts: ["hub@a", "spoke@b"],
      current: "hub",
    },
    {
      name: "the first file to define a name wins",
      layers: [
        layer("a", { clusters: ["hub"], contexts: ["hub"] }),
        layer("b", { clusters: ["hub", "spoke"], contexts: ["hub"] }),
      ],
      clusters: ["hub@a", "spoke@b"],
      contexts: ["hub@a"],
      current: undefined,
    },
    {
      name: "current-context comes from the first file that sets one",
      layers: [
        layer("a", { clusters: ["hub"] }),
        layer("b", { current: "" }),
        layer("c", { current: "spoke" }),
        layer("d", { current: "hub" }),
      ],
      clusters: ["hub@a"],
      contexts: [],
      current: "spoke",
    },
    { name: "no files", layers: [], clusters: [], contexts: [], current: undefined },
  ];
  for (const { name, layers, clusters, contexts, current } of cases) {
    it(name, () => {
      const merged = mergeKubeconfigs(layers);
      assert.deepEqual(
        merged.clusters.map((cluster) => `${cluster.name}@${cluster.from}`),
        clusters,
      );
      assert.deepEqual(
        merged.contexts.map((entry) => `${entry.name}@${entry.from}`),
        contexts,
      );
      assert.equal(merged.currentContext, current);
      for (const entry of merged.contexts) assert.equal(merged.contextFiles.get(entry.name), entry.from);
    });
  }
});

describe("selectContext", () => {
  const merged = mergeKubeconfigs([
    layer("/k/a", {
      clusters: ["hub", "spoke"],
      users: ["hub", "spoke"],
      contexts: ["hub", "spoke"],
      current: "hub",
    }),
  ]);
  const cases: { name: string; requested?: string; merged?: typeof merged; result: string | RegExp }[] = [
    { name: "the current context", result: "hub" },
    { name: "--context picks another", requested: "spoke", result: "spoke" },
    {
      name: "an unknown --context names it and lists the others",
      requested: "nosuch",
      result: /^--context "nosuch" is not in \/k\/a; available contexts: hub, spoke$/,
    },
    {
      name: "a current-context that is not defined",
      merged: { ...merged, currentContext: "gone" },
      result: /^current-context "gone" is not in \/k\/a; available contexts: hub, spoke$/,
    },
    {
      name: "no current-context",
      merged: { ...merged, currentContext: undefined },
      result: /sets no current-context; pass --context \(available contexts: hub, spoke\)/,
    },
    {
      name: "no contexts at all, in merged files",
      merged: mergeKubeconfigs([layer("/k/a", {}), layer("/k/b", {})]),
      requested: "x",
      result: /^--context "x" is not in \/k\/a, \/k\/b \(merged\); it defines no contexts$/,
    },
    {
      name: "a context naming a cluster no file defines",
      merged: { ...merged, clusters: merged.clusters.filter((cluster) => cluster.name !== "spoke") },
      requested: "spoke",
      result: /^context "spoke" names cluster "spoke", which \/k\/a does not define$/,
    },
  ];
  for (const { name, requested, merged: input, result } of cases) {
    it(name, () => {
      if (typeof result === "string") assert.equal(selectContext(input ?? merged, requested).name, result);
      else
        assert.throws(
          () => selectContext(input ?? merged, requested),
          (error: unknown) => error instanceof KubeconfigError && result.test(error.message),
        );
    });
  }
});

describe("loadKubeconfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "bosun-kubeconfig-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, config: object) => {
    const path = join(dir, name);
    writeFileSync(path, stringify(config));
    return path;
  };
  const first = write("first", {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "hub", cluster: { server: "https://hub.example:6443/", "certificate-authority": "ca.crt" } },
    ],
    users: [{ name: "admin", user: { token: "t1" } }],
    contexts: [{ name: "hub", context: { cluster: "hub", user: "admin", namespace: "team-a" } }],
  });
  const second = write("second", {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "hub", cluster: { server: "https://other.example:6443" } },
      { name: "spoke", cluster: { server: "https://spoke.example:6443" } },
    ],
    users: [{ name: "admin", user: { token: "t2" } }],
    contexts: [
      { name: "spoke", context: { cluster: "spoke", user: "admin" } },
      { name: "hub", context: { cluster: "spoke", user: "admin" } },
    ],
    "current-context": "spoke",
  });

  it("merges $KUBECONFIG files: first definition wins, current-context from the first that sets one", () => {
    const target = loadKubeconfig({}, { KUBECONFIG: `${first}:${join(dir, "missing")}:${second}` }, dir);
    assert.equal(target.context, "spoke");
    assert.equal(target.contextFile, second);
    assert.deepEqual(target.files, [first, second]);
    assert.equal(target.server, "https://spoke.example:6443");
    assert.equal(target.kubeConfig.getCurrentUser()?.token, "t1");
  });

  it("--context picks the first file's definition, with its namespace and resolved paths", () => {
    const target = loadKubeconfig({ context: "hub" }, { KUBECONFIG: `${first}:${second}` }, dir);
    assert.equal(target.server, "https://hub.example:6443");
    assert.equal(target.namespace, "team-a");
    assert.equal(target.contextFile, first);
    assert.equal(target.kubeConfig.getCurrentCluster()?.caFile, join(dir, "ca.crt"));
  });

  it("--kubeconfig reads only that file", () => {
    const target = loadKubeconfig({ kubeconfig: second }, { KUBECONFIG: first }, dir);
    assert.equal(target.context, "spoke");
    assert.deepEqual(target.files, [second]);
    assert.throws(() => loadKubeconfig({ kubeconfig: second, context: "nosuch" }, {}, dir), {
      message: `--context "nosuch" is not in ${second}; available contexts: spoke, hub`,
    });
  });

  it("says which files it looked for when there is none", () => {
    assert.throws(() => loadKubeconfig({ kubeconfig: join(dir, "nope") }, {}, dir), {
      message: `--kubeconfig ${join(dir, "nope")}: no such file`,
    });
    assert.throws(() => loadKubeconfig({}, { KUBECONFIG: join(dir, "nope") }, dir), {
      message: `no kubeconfig found ($KUBECONFIG: ${join(dir, "nope")}); pass --kubeconfig`,
    });
    assert.throws(() => loadKubeconfig({}, {}, dir), /no kubeconfig found \(~\/\.kube\/config: /);
  });

  it("names the flags a child process needs for the same context", () => {
    assert.deepEqual(kubeconfigArgs({ files: [first], context: "hub" }), [
      "--kubeconfig",
      first,
      "--context",
      "hub",
    ]);
    assert.deepEqual(kubeconfigArgs({ files: [first, second], context: "hub" }), ["--context", "hub"]);
  });
});

describe("explainKubeError", () => {
  const target = { user: "admin", context: "hub", contextFile: "/k/config", server: "https://hub:6443" };
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
  const forbidden = (message: string) => new KubeApiError(`GET /x: ${message}`, 403, "Forbidden");
  const cases: { name: string; error: unknown; message: RegExp | string }[] = [
    {
      name: "401 names the credential",
      error: new KubeApiError("GET /x: Unauthorized", 401, "Unauthorized"),
      message:
        'https://hub:6443 rejected the credential of user "admin" of context "hub" (/k/config) (401 Unauthorized): it is missing, expired or not trusted there; renew it, or pick another with --kubeconfig/--context',
    },
    {
      name: "403 cluster-wide names the missing permission",
      error: forbidden(
        'managedclusters.cluster.open-cluster-management.io is forbidden: User "bob" cannot list resource "managedclusters" in API group "cluster.open-cluster-management.io" at the cluster scope',
      ),
      message:
        'user "admin" of context "hub" (/k/config) (known to the server as "bob") is not allowed this on https://hub:6443 (403 Forbidden): it needs RBAC permission to list managedclusters.cluster.open-cluster-management.io cluster-wide (a ClusterRole bound by a ClusterRoleBinding) for User "bob"; or pick another credential with --kubeconfig/--context',
    },
    {
      name: "403 in a namespace, for a service account",
      error: forbidden(
        'manifestworks.work.open-cluster-management.io is forbidden: User "system:serviceaccount:ops:viewer" cannot watch resource "manifestworks" in API group "work.open-cluster-management.io" in the namespace "cluster1"',
      ),
      message:
        /RBAC permission to watch manifestworks\.work\.open-cluster-management\.io in namespace cluster1 \(a Role or ClusterRole bound by a RoleBinding in cluster1\) for ServiceAccount ops\/viewer/,
    },
    {
      name: "403 on a core resource",
      error: forbidden(
        'namespaces "x" is forbidden: User "bob" cannot get resource "namespaces" in API group "" at the cluster scope',
      ),
      message: /permission to get namespaces cluster-wide/,
    },
    {
      name: "connection refused names the server and the flags",
      error: refused,
      message:
        'cannot reach the API server at https://hub:6443 (connection refused) for context "hub" of /k/config: check --kubeconfig and --context, and that the server runs',
    },
    {
      name: "an AggregateError of refused connections",
      error: new AggregateError([refused, refused], "connect failed"),
      message: /\(connection refused\)/,
    },
    {
      name: "an untrusted certificate",
      error: Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      message: /\(TLS: DEPTH_ZERO_SELF_SIGNED_CERT; does the kubeconfig hold the server's CA\?\)/,
    },
    {
      name: "a missing CRD",
      error: new UnknownKindError("cluster.open-cluster-management.io/v1beta1", "Placement"),
      message:
        "https://hub:6443 does not serve Placement (cluster.open-cluster-management.io/v1beta1): are bosun's CRDs installed? (bosun init on a hub, bosun join on a managed cluster)",
    },
  ];
  for (const { name, error, message } of cases) {
    it(name, () => {
      const explained = explainKubeError(error, target) as Error;
      assert.notEqual(explained, error);
      assert.equal(explained.cause, error);
      if (typeof message === "string") assert.equal(explained.message, message);
      else assert.match(explained.message, message);
    });
  }

  it("leaves other errors as they are", () => {
    const others = [new KubeApiError("GET /x: conflict", 409, "Conflict"), new Error("boom"), "text"];
    for (const error of others) assert.equal(explainKubeError(error, target), error);
  });

  it("finds error codes in causes", () => {
    assert.equal(errorCode(new Error("outer", { cause: refused })), "ECONNREFUSED");
    assert.equal(errorCode(new Error("plain")), undefined);
  });

  it("reads a 403 message", () => {
    assert.deepEqual(
      missingPermission(
        'User "u" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "n"',
      ),
      { subject: "u", verb: "create", resource: "leases", group: "coordination.k8s.io", namespace: "n" },
    );
    assert.equal(missingPermission("forbidden: no reason given"), undefined);
  });
});
