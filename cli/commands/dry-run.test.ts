import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BosunBootstrapSigning, HubInfo, Namespaces, Secrets } from "../../api/constants.ts";
import { bootstrapGroupBinding, bootstrapIdentityObjects } from "../../controllers/registration/bootstrap.ts";
import { readCrds } from "../../runtime/crds.ts";
import type { KubeApi, ObjectRef } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import type { AppliedManifestWork } from "../../api/types/work.ts";
import {
  agentStep,
  bootstrapTokenSteps,
  checkDryRunFlags,
  describeStep,
  holdsFields,
  objectAction,
  planLines,
  planObjects,
  planSummary,
  unjoinSteps,
  type PlanStep,
} from "./dry-run.ts";
import { planInit } from "./init.ts";
import { joinObjects } from "./join.ts";

const configMap = (data: Record<string, string>, extra: Record<string, unknown> = {}): Unstructured => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "settings", namespace: "default", ...extra },
  data,
});

describe("holdsFields", () => {
  const cases: { name: string; desired: unknown; live: unknown; holds: boolean }[] = [
    { name: "equal scalars", desired: "a", live: "a", holds: true },
    { name: "different scalars", desired: "a", live: "b", holds: false },
    { name: "number against string", desired: 1, live: "1", holds: false },
    { name: "extra live fields (server defaults)", desired: { a: 1 }, live: { a: 1, b: 2 }, holds: true },
    { name: "a declared field missing live", desired: { a: 1, b: 2 }, live: { a: 1 }, holds: false },
    { name: "empty map against absent", desired: { labels: {} }, live: {}, holds: true },
    { name: "empty list against absent", desired: { rules: [] }, live: {}, holds: true },
    { name: "lists element by element", desired: [{ a: 1 }], live: [{ a: 1, x: 0 }], holds: true },
    { name: "a longer live list", desired: [1], live: [1, 2], holds: false },
    { name: "a list in another order", desired: [1, 2], live: [2, 1], holds: false },
    { name: "a map against a list", desired: { a: 1 }, live: [1], holds: false },
    { name: "a value against null", desired: { a: 1 }, live: { a: null }, holds: false },
    { name: "nested change", desired: { a: { b: { c: 1 } } }, live: { a: { b: { c: 2 } } }, holds: false },
  ];
  for (const { name, desired, live, holds } of cases)
    test(name, () => assert.equal(holdsFields(desired, live), holds));
});

describe("objectAction", () => {
  const desired = configMap({ key: "value" }, { labels: { app: "bosun" } });
  const cases: { name: string; live: Unstructured | undefined; action: string }[] = [
    { name: "absent: create", live: undefined, action: "create" },
    {
      name: "the same with server metadata: unchanged",
      live: configMap(
        { key: "value" },
        { labels: { app: "bosun" }, uid: "u", resourceVersion: "7", managedFields: [{ manager: "x" }] },
      ),
      action: "unchanged",
    },
    {
      name: "a label added by someone else: unchanged",
      live: configMap({ key: "value" }, { labels: { app: "bosun", team: "a" } }),
      action: "unchanged",
    },
    {
      name: "a changed value: update",
      live: configMap({ key: "other" }, { labels: { app: "bosun" } }),
      action: "update",
    },
    { name: "a missing label: update", live: configMap({ key: "value" }), action: "update" },
  ];
  for (const { name, live, action } of cases)
    test(name, () => assert.equal(objectAction(desired, live), action));

  test("server metadata in the desired object is not compared", () => {
    const withVersion = configMap({ key: "value" }, { resourceVersion: "1", uid: "old" });
    assert.equal(
      objectAction(withVersion, configMap({ key: "value" }, { resourceVersion: "9" })),
      "unchanged",
    );
  });
});

describe("describeStep", () => {
  const cases: { step: PlanStep; line: string }[] = [
    {
      step: { action: "create", kind: "Secret", name: "s", namespace: "ns" },
      line: "would create Secret ns/s",
    },
    {
      step: { action: "update", kind: "CustomResourceDefinition", name: "policies.x.io" },
      line: "would update CustomResourceDefinition policies.x.io",
    },
    { step: { action: "unchanged", kind: "Namespace", name: "n" }, line: "unchanged: Namespace n" },
    {
      step: {
        action: "mint",
        kind: "token for ServiceAccount",
        name: "sa",
        namespace: "ns",
        detail: "1 hour",
      },
      line: "would mint token for ServiceAccount ns/sa (1 hour)",
    },
    {
      step: { action: "skip", kind: "agent", name: "agent-a", detail: "--agent none" },
      line: "would not start agent agent-a (--agent none)",
    },
  ];
  for (const { step, line } of cases) test(line, () => assert.equal(describeStep(step), line));

  test("planLines heads the steps and planSummary counts them", () => {
    const steps: PlanStep[] = [
      { action: "create", kind: "A", name: "a" },
      { action: "create", kind: "B", name: "b" },
      { action: "unchanged", kind: "C", name: "c" },
    ];
    assert.deepEqual(planLines("init", steps), [
      "init (dry run, nothing written):",
      "  would create A a",
      "  would create B b",
      "  unchanged: C c",
    ]);
    assert.equal(planSummary(steps), "2 create, 1 unchanged");
  });
});

describe("checkDryRunFlags", () => {
  const cases: { flags: { dryRun?: boolean; deploy?: boolean; wait?: boolean }; error?: RegExp }[] = [
    { flags: {} },
    { flags: { deploy: true, wait: true } },
    { flags: { dryRun: true } },
    { flags: { dryRun: true, deploy: true }, error: /--dry-run does not go with --deploy/ },
    { flags: { dryRun: true, wait: true }, error: /--dry-run does not go with --wait$/ },
    { flags: { dryRun: true, deploy: true, wait: true }, error: /--deploy or --wait/ },
  ];
  for (const { flags, error } of cases) {
    test(JSON.stringify(flags), () => {
      if (error) assert.throws(() => checkDryRunFlags(flags), error);
      else assert.doesNotThrow(() => checkDryRunFlags(flags));
    });
  }
});

describe("bootstrapTokenSteps", () => {
  const sign = (content: string, token: { id: string; secret: string }) =>
    `sig(${content},${token.id},${token.secret})`;
  const encode = (value: string) => Buffer.from(value).toString("base64");
  const tokenSecret = (extra: Record<string, string> = {}): Unstructured => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: Secrets.bootstrapToken, namespace: Namespaces.kubeSystem },
    data: { "token-id": encode("ocmhub"), "token-secret": encode("s3cret"), ...extra },
  });
  const signed = (signature: string): Unstructured => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: HubInfo.clusterInfoConfigMap, namespace: Namespaces.kubePublic },
    data: { kubeconfig: "kc", [`${BosunBootstrapSigning.signatureKeyPrefix}ocmhub`]: signature },
  });
  const marked = { [BosunBootstrapSigning.usageSigning]: encode("true") };
  const cases: { name: string; secret?: Unstructured; clusterInfo?: Unstructured; actions: string[] }[] = [
    { name: "no token yet: create, sign, bind", actions: ["create", "sign", "create"] },
    {
      name: "a token marked for signing, signed already",
      secret: tokenSecret(marked),
      clusterInfo: signed("sig(kc,ocmhub,s3cret)"),
      actions: ["unchanged", "unchanged"],
    },
    {
      name: "a token not marked for signing: mark it",
      secret: tokenSecret(),
      clusterInfo: signed("sig(kc,ocmhub,s3cret)"),
      actions: ["update", "unchanged"],
    },
    {
      name: "a signature of another kubeconfig: sign again",
      secret: tokenSecret(marked),
      clusterInfo: signed("sig(old,ocmhub,s3cret)"),
      actions: ["unchanged", "sign"],
    },
    { name: "no cluster-info yet: sign", secret: tokenSecret(marked), actions: ["unchanged", "sign"] },
  ];
  for (const { name, secret, clusterInfo, actions } of cases) {
    test(name, () => {
      const steps = bootstrapTokenSteps(
        { secret, clusterInfo, kubeconfig: "kc", groupBinding: bootstrapGroupBinding() },
        sign,
      );
      assert.deepEqual(
        steps.map((step) => step.action),
        actions,
      );
      assert.doesNotMatch(JSON.stringify(steps), /s3cret/);
    });
  }
});

describe("agentStep", () => {
  const cases: { name: string; mode: string; runningPid?: number; action: string; detail: RegExp }[] = [
    {
      name: "background: start",
      mode: "background",
      action: "start",
      detail: /^background process, log \/d\/a\.log$/,
    },
    {
      name: "background with one running: restart",
      mode: "background",
      runningPid: 42,
      action: "start",
      detail: /stopping the one running as pid 42/,
    },
    { name: "none: no agent", mode: "none", action: "skip", detail: /--agent none/ },
  ];
  for (const { name, mode, runningPid, action, detail } of cases) {
    test(name, () => {
      const step = agentStep({ mode, clusterName: "c1", logFile: "/d/a.log", runningPid });
      assert.equal(step.action, action);
      assert.equal(step.name, "agent-c1");
      assert.match(step.detail ?? "", detail);
    });
  }
});

/** A KubeApi holding `objects` that answers GETs and fails any other call. */
function readOnlyApi(objects: Unstructured[]): { api: KubeApi; calls: string[] } {
  const calls: string[] = [];
  const key = (ref: ObjectRef) => `${ref.kind}/${ref.namespace ?? ""}/${ref.name}`;
  const byKey = new Map(
    objects.map((object) => [
      key({
        kind: object.kind,
        name: object.metadata.name ?? "",
        namespace: object.metadata.namespace,
      } as ObjectRef),
      object,
    ]),
  );
  const api = new Proxy({} as KubeApi, {
    get(_target, method: string) {
      if (method === "getOrUndefined")
        return (ref: ObjectRef) => {
          calls.push(`get ${key(ref)}`);
          return Promise.resolve(byKey.get(key(ref)));
        };
      return () => {
        calls.push(method);
        throw new Error(`${method} called in a dry run`);
      };
    },
  });
  return { api, calls };
}

describe("planObjects", () => {
  test("reads each object once and writes nothing", async () => {
    const present = configMap({ key: "value" });
    const { api, calls } = readOnlyApi([present]);
    const absent = { ...configMap({}), metadata: { name: "other", namespace: "default" } };
    const steps = await planObjects(api, [present, absent]);
    assert.deepEqual(steps.map(describeStep), [
      "unchanged: ConfigMap default/settings",
      "would create ConfigMap default/other",
    ]);
    assert.deepEqual(calls, ["get ConfigMap/default/settings", "get ConfigMap/default/other"]);
  });
});

describe("planInit", () => {
  const hub = {
    server: "https://hub.example:6443",
    caPem: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
  };

  test("on an empty hub: every CRD and identity object created, a token to mint, nothing written", async () => {
    const { api, calls } = readOnlyApi([]);
    const steps = await planInit(api, hub, false);
    const crds = await readCrds("hub");
    const identity = bootstrapIdentityObjects(hub);
    assert.equal(steps.length, crds.length + identity.length + 1);
    assert.ok(steps.slice(0, -1).every((step) => step.action === "create"));
    assert.deepEqual(
      steps.slice(0, crds.length).map((step) => step.name),
      crds.map((crd) => crd.metadata.name),
    );
    assert.equal(steps.at(-1)!.action, "mint");
    assert.ok(
      calls.every((call) => call.startsWith("get ")),
      calls.join(", "),
    );
  });

  test("on a hub init prepared: every object unchanged", async () => {
    const crds = await readCrds("hub");
    const identity = bootstrapIdentityObjects(hub);
    const { api } = readOnlyApi([...crds, ...identity]);
    const steps = await planInit(api, hub, false);
    assert.deepEqual(
      steps.filter((step) => step.action !== "unchanged").map((step) => step.action),
      ["mint"],
    );
  });

  test("with a bootstrap token and none on the hub: the token Secret, its signature and binding", async () => {
    const { api, calls } = readOnlyApi([]);
    const steps = await planInit(api, hub, true);
    assert.deepEqual(steps.slice(-3).map(describeStep), [
      `would create Secret ${Namespaces.kubeSystem}/${Secrets.bootstrapToken} (a new bootstrap token)`,
      `would sign ConfigMap ${Namespaces.kubePublic}/${HubInfo.clusterInfoConfigMap} (with the new token)`,
      `would create ClusterRoleBinding ${bootstrapGroupBinding().metadata.name}`,
    ]);
    assert.ok(calls.every((call) => call.startsWith("get ")));
  });
});

describe("joinObjects", () => {
  test("the agent namespace and the bootstrap Secret; a plan of them names no token", async () => {
    const objects = joinObjects("kubeconfig with token abc.def0123456789");
    assert.deepEqual(
      objects.map((object) => `${object.kind} ${object.metadata.name}`),
      [`Namespace ${Namespaces.agent}`, `Secret ${Secrets.bootstrapHubKubeconfig}`],
    );
    const { api } = readOnlyApi([]);
    const plan = JSON.stringify(await planObjects(api, objects));
    assert.doesNotMatch(plan, /abc\.def/);
    assert.doesNotMatch(
      plan,
      new RegExp(Buffer.from("kubeconfig with token").toString("base64").slice(0, 12)),
    );
  });
});

describe("unjoinSteps", () => {
  const record = (name: string, resources: number) =>
    ({
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "AppliedManifestWork",
      metadata: { name },
      spec: { hubHash: "h", manifestWorkName: name, agentID: "a" },
      status: {
        appliedResources: Array.from({ length: resources }, (_, i) => ({
          group: "",
          version: "v1",
          resource: "configmaps",
          namespace: "default",
          name: `c${i}`,
          uid: `u${i}`,
        })),
      },
    }) as AppliedManifestWork;

  test("stops the agent first, then the records, the Secrets and the namespace", () => {
    const steps = unjoinSteps({
      clusterName: "east",
      keepApplied: false,
      runningPid: 42,
      applied: [record("h-w1", 1), record("h-w2", 3)],
      secrets: [Secrets.hubKubeconfig, Secrets.bootstrapHubKubeconfig],
      namespacePresent: true,
    });
    assert.deepEqual(steps.map(describeStep), [
      "would stop agent agent-east (pid 42)",
      "would delete AppliedManifestWork h-w1 (its 1 applied resource deleted; one another record also owns only loses this reference)",
      "would delete AppliedManifestWork h-w2 (its 3 applied resources deleted; one another record also owns only loses this reference)",
      `would delete Secret ${Namespaces.agent}/${Secrets.hubKubeconfig}`,
      `would delete Secret ${Namespaces.agent}/${Secrets.bootstrapHubKubeconfig}`,
      `would delete Namespace ${Namespaces.agent}`,
    ]);
  });

  test("with --keep-applied the records' resources are kept; nothing absent is listed", () => {
    const steps = unjoinSteps({
      clusterName: "east",
      keepApplied: true,
      applied: [record("h-w1", 2)],
      secrets: [],
      namespacePresent: false,
    });
    assert.deepEqual(steps.map(describeStep), [
      "would delete AppliedManifestWork h-w1 (its 2 applied resources kept, without this owner reference)",
    ]);
  });
});
