// The policy agent on a real control plane, run in-process against one managed cluster: it
// makes sure the cluster namespace exists, evaluates the ConfigurationPolicies there with the
// engine against watch caches, enforces them for real, and writes their status, events and
// metrics as config-policy-controller does.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { ConfigurationPolicy, ConfigurationPolicySpec } from "../../api/types/policy.ts";
import { PolicyAgent } from "../../klusterlet/policy/controller.ts";
import { evaluateConfigurationPolicy } from "../../policies/evaluate.ts";
import type { JsonObject } from "../../policies/gofmt.ts";
import { evaluateLive, KubeClusterWriter } from "../../policies/live-reader.ts";
import { systemClock } from "../../runtime/clock.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { sampleValue } from "../support/metric-samples.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("policy-agent");
const logger = pino({ level: "silent" });
const cluster = "cluster1";
const policyApi = "policy.open-cluster-management.io/v1";
const wait = { timeoutMs: 60_000 };

const policyRef = (name: string) => ({
  apiVersion: policyApi,
  kind: "ConfigurationPolicy",
  name,
  namespace: cluster,
});
const configMapRef = (name: string, namespace: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  name,
  namespace,
});
const namespaceRef = (name: string) => ({ apiVersion: "v1", kind: "Namespace", name });

describe("policy agent", () => {
  let client: KubeClient;
  let agent: PolicyAgent;
  const registry = new Registry();

  async function createPolicy(
    name: string,
    spec: Partial<ConfigurationPolicySpec>,
  ): Promise<ConfigurationPolicy> {
    return client.create<ConfigurationPolicy>({
      apiVersion: policyApi,
      kind: "ConfigurationPolicy",
      metadata: { name, namespace: cluster },
      spec: { remediationAction: "inform", ...spec },
    });
  }

  async function policy(name: string): Promise<ConfigurationPolicy> {
    return client.get<ConfigurationPolicy>(policyRef(name));
  }

  /** Waits until the policy's status, for its current generation, carries `message`. */
  async function reports(name: string, message: string): Promise<ConfigurationPolicy> {
    return eventually(async () => {
      const current = await policy(name);
      assert.equal(current.status?.history?.[0]?.message, message, JSON.stringify(current.status));
      assert.equal(current.status?.lastEvaluatedGeneration, current.metadata.generation);
      return current;
    }, wait);
  }

  const messagesOf = (current: ConfigurationPolicy) =>
    (current.status?.history ?? []).map((entry) => entry.message);

  before(async () => {
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "managed");
    agent = new PolicyAgent({
      managedClient: await KubeClient.fromFile(fixture.plane.kubeconfigPath),
      clusterName: cluster,
      clock: systemClock(),
      logger,
      registry,
    });
    agent.start();
  });

  after(async () => {
    await agent?.stop();
    client?.close();
  });

  test("makes sure the cluster namespace exists", async () => {
    await eventually(async () => assert.ok(await client.getOrUndefined(namespaceRef(cluster))), wait);
  });

  const shop = {
    "object-templates": [
      {
        complianceType: "musthave",
        objectDefinition: { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
      },
      {
        complianceType: "musthave",
        objectDefinition: {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "settings", namespace: "shop" },
          data: { tier: "gold" },
        },
      },
    ],
  } as Partial<ConfigurationPolicySpec>;
  const informed =
    "NonCompliant; violation - namespaces [shop] not found; violation - configmaps [settings] not found in namespace shop";
  const createdMessage =
    "Compliant; notification - namespaces [shop] was created successfully; notification - configmaps [settings] was created successfully in namespace shop";
  const foundMessage =
    "Compliant; notification - namespaces [shop] found as specified; notification - configmaps [settings] found as specified in namespace shop";

  test("inform: a missing Namespace and ConfigMap are NonCompliant with OCM's message, and nothing is created", async () => {
    await createPolicy("shop", shop);
    const current = await reports("shop", informed);
    assert.equal(current.status?.compliant, "NonCompliant");
    assert.deepEqual(
      current.status?.compliancyDetails?.map((detail) => detail.conditions?.[0]?.reason),
      ["K8s does not have a `must have` object", "K8s does not have a `must have` object"],
    );
    assert.match(current.status?.lastEvaluated ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(current.status?.history?.[0]?.lastTimestamp ?? "", /\.\d{6}Z$/);
    assert.equal(await client.getOrUndefined(namespaceRef("shop")), undefined);
    assert.equal(await client.getOrUndefined(configMapRef("settings", "shop")), undefined);
    assert.ok(
      (await sampleValue(registry, "config_policy_evaluation_total", { name: "shop" }))! >= 1,
      "evaluations counted",
    );
    assert.equal(
      await sampleValue(registry, "cluster_policy_governance_info", {
        kind: "ConfigurationPolicy",
        policy: "shop",
        policy_namespace: cluster,
        severity: "",
      }),
      1,
    );
  });

  test("enforce: the objects are created, the policy is Compliant, and the history has both messages, newest first", async () => {
    await client.patch(policyRef("shop"), "merge", { spec: { remediationAction: "enforce" } });
    const current = await eventually(async () => {
      const latest = await policy("shop");
      assert.equal(latest.status?.compliant, "Compliant", JSON.stringify(latest.status));
      assert.equal(latest.status?.lastEvaluatedGeneration, latest.metadata.generation);
      return latest;
    }, wait);
    const settings = await client.get<Unstructured>(configMapRef("settings", "shop"));
    assert.deepEqual(settings.data, { tier: "gold" });
    const messages = messagesOf(current);
    assert.ok(messages.includes(createdMessage), JSON.stringify(messages));
    assert.ok(messages.indexOf(createdMessage) < messages.indexOf(informed), JSON.stringify(messages));
    const related = current.status?.relatedObjects?.find((entry) => entry.object?.kind === "ConfigMap");
    assert.equal(related?.properties?.createdByPolicy, true);
    assert.equal(related?.properties?.uid, settings.metadata.uid);
    // Each compliance message is an event on the ConfigurationPolicy.
    await eventually(async () => {
      const { items } = await client.listAll<
        Unstructured & { reason?: string; message?: string; type?: string }
      >("v1", "Event", { namespace: cluster });
      const events = items.filter((event) => event.reason === "policy: cluster1/shop");
      assert.ok(events.some((event) => event.message === createdMessage && event.type === "Normal"));
      assert.ok(events.some((event) => event.message === informed && event.type === "Warning"));
    }, wait);
    // The objects it created are watched: it evaluates again and finds them as specified.
    await reports("shop", foundMessage);
  });

  test("a remediated object deleted behind the policy's back is created again and reported", async () => {
    const before = await client.get<Unstructured>(configMapRef("settings", "shop"));
    await client.delete(configMapRef("settings", "shop"));
    await eventually(async () => {
      const again = await client.getOrUndefined<Unstructured>(configMapRef("settings", "shop"));
      assert.ok(again, "created again");
      assert.notEqual(again.metadata.uid, before.metadata.uid);
    }, wait);
    // The recreation is reported (the status may still show the earlier message for a moment),
    // then the policy settles on finding it as specified.
    await eventually(async () => {
      const messages = messagesOf(await policy("shop"));
      assert.ok(
        messages.includes(
          "Compliant; notification - namespaces [shop] found as specified; notification - configmaps [settings] was created successfully in namespace shop",
        ),
        JSON.stringify(messages),
      );
    }, wait);
    await reports("shop", foundMessage);
  });

  test("mustnothave: inform reports what exists; enforce deletes it and reports the deletion", async () => {
    await client.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "forbidden", namespace: "shop" },
      data: { a: "b" },
    });
    const template = {
      "object-templates": [
        {
          complianceType: "mustnothave",
          objectDefinition: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "forbidden", namespace: "shop" },
          },
        },
      ],
    } as Partial<ConfigurationPolicySpec>;
    await createPolicy("no-forbidden", template);
    await reports("no-forbidden", "NonCompliant; violation - configmaps [forbidden] found in namespace shop");
    assert.ok(await client.getOrUndefined(configMapRef("forbidden", "shop")));
    await client.patch(policyRef("no-forbidden"), "merge", { spec: { remediationAction: "enforce" } });
    await eventually(
      async () => assert.equal(await client.getOrUndefined(configMapRef("forbidden", "shop")), undefined),
      wait,
    );
    const current = await reports(
      "no-forbidden",
      "Compliant; notification - configmaps [forbidden] missing as expected in namespace shop",
    );
    assert.ok(
      messagesOf(current).includes(
        "Compliant; notification - configmaps [forbidden] was deleted successfully in namespace shop",
      ),
      JSON.stringify(messagesOf(current)),
    );
  });

  test("an edit of an object the policy read evaluates it again", async () => {
    await client.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "watched", namespace: "shop" },
      data: { level: "info" },
    });
    await createPolicy("watched", {
      "object-templates": [
        {
          complianceType: "musthave",
          objectDefinition: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "watched", namespace: "shop" },
            data: { level: "info" },
          },
        },
      ],
    });
    await reports(
      "watched",
      "Compliant; notification - configmaps [watched] found as specified in namespace shop",
    );
    assert.ok(agent.readersOf("ConfigMap.v1 namespace=shop").includes(`${cluster}/watched`));
    await client.patch(configMapRef("watched", "shop"), "merge", { data: { level: "debug" } });
    await reports(
      "watched",
      "NonCompliant; violation - configmaps [watched] found but not as specified in namespace shop",
    );
    await client.patch(configMapRef("watched", "shop"), "merge", { data: { level: "info" } });
    await reports(
      "watched",
      "Compliant; notification - configmaps [watched] found as specified in namespace shop",
    );
  });

  test("evaluationInterval: an interval policy is not watched but evaluated again after its interval; never stops", async () => {
    await createPolicy("interval", {
      evaluationInterval: { compliant: "never", noncompliant: "1s" },
      "object-templates": [
        {
          complianceType: "musthave",
          objectDefinition: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "later", namespace: "shop" },
          },
        },
      ],
    });
    const first = await reports(
      "interval",
      "NonCompliant; violation - configmaps [later] not found in namespace shop",
    );
    // The reader index is updated right after the status write that `reports` saw.
    await eventually(
      () =>
        assert.ok(
          !agent.readersOf("ConfigMap.v1 namespace=shop").includes(`${cluster}/interval`),
          "not watched",
        ),
      wait,
    );
    // Not watched: the ConfigMap's creation is seen by the next evaluation the interval brings.
    await client.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "later", namespace: "shop" },
    });
    const compliant = await reports(
      "interval",
      'Compliant; notification - configmaps [later] found as specified in namespace shop. This policy will not be evaluated again due to spec.evaluationInterval.compliant being set to "never".',
    );
    assert.ok(compliant.status!.lastEvaluated! >= first.status!.lastEvaluated!);
    assert.ok(
      !agent.readersOf("ConfigMap.v1 namespace=shop").includes(`${cluster}/interval`),
      "still not watched",
    );
  });

  test("a policy with a bad template is NonCompliant naming the reason, and another policy still converges", async () => {
    await createPolicy("broken", {
      remediationAction: "enforce",
      "object-templates": [
        {
          complianceType: "musthave",
          objectDefinition: { apiVersion: "v1", metadata: { name: "x", namespace: "shop" } },
        },
      ],
    });
    await createPolicy("healthy", {
      remediationAction: "enforce",
      "object-templates": [
        {
          complianceType: "musthave",
          objectDefinition: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "healthy", namespace: "shop" },
          },
        },
      ],
    });
    const broken = await reports(
      "broken",
      "NonCompliant; violation - The kind and apiVersion fields are required on the object template at index 0 in policy broken",
    );
    assert.equal(
      broken.status?.compliancyDetails?.[0]?.conditions?.[0]?.reason,
      "K8s decode object definition error",
    );
    await eventually(
      async () => assert.equal((await policy("healthy")).status?.compliant, "Compliant"),
      wait,
    );
    assert.ok(await client.getOrUndefined(configMapRef("healthy", "shop")));
  });

  test("pruneObjectBehavior DeleteIfCreated: a finalizer, and on deletion what the policy created goes; the metrics go too", async () => {
    await createPolicy("pruning", {
      remediationAction: "enforce",
      pruneObjectBehavior: "DeleteIfCreated",
      "object-templates": [
        {
          complianceType: "musthave",
          objectDefinition: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "pruned", namespace: "shop" },
          },
        },
      ],
    });
    await eventually(async () => {
      const current = await policy("pruning");
      assert.deepEqual(current.metadata.finalizers, [
        "policy.open-cluster-management.io/delete-related-objects",
      ]);
      assert.equal(current.status?.compliant, "Compliant");
    }, wait);
    assert.ok(await client.getOrUndefined(configMapRef("pruned", "shop")));
    assert.ok((await sampleValue(registry, "config_policy_evaluation_total", { name: "pruning" }))! >= 1);

    await client.delete(policyRef("pruning"));
    await eventually(async () => {
      assert.equal(
        await client.getOrUndefined(configMapRef("pruned", "shop")),
        undefined,
        "the created ConfigMap pruned",
      );
      assert.equal(await client.getOrUndefined(policyRef("pruning")), undefined, "the policy released");
    }, wait);
    await eventually(async () => {
      assert.equal(
        await sampleValue(registry, "config_policy_evaluation_total", { name: "pruning" }),
        undefined,
      );
      assert.equal(
        await sampleValue(registry, "cluster_policy_governance_info", {
          kind: "ConfigurationPolicy",
          policy: "pruning",
          policy_namespace: cluster,
          severity: "",
        }),
        undefined,
      );
    }, wait);
    // Another policy's objects stay.
    assert.ok(await client.getOrUndefined(configMapRef("settings", "shop")));
  });

  test("the live writer enforces once per evaluation and reports what the API server did", async () => {
    const writer = new KubeClusterWriter(client, { clock: systemClock() });
    const document = {
      apiVersion: policyApi,
      kind: "ConfigurationPolicy",
      metadata: { name: "direct", namespace: cluster },
      spec: {
        remediationAction: "enforce",
        "object-templates": [
          {
            complianceType: "musthave",
            objectDefinition: {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "direct", namespace: "nowhere" },
            },
          },
          {
            complianceType: "musthave",
            objectDefinition: {
              apiVersion: "v1",
              kind: "ConfigMap",
              metadata: { name: "direct", namespace: "shop" },
            },
          },
        ],
      },
    } as JsonObject;
    const result = await evaluateLive(writer, () => evaluateConfigurationPolicy(document, writer));
    assert.equal(
      result.message,
      'NonCompliant; violation - configmaps [direct] in namespace nowhere is missing, and cannot be created, reason: `namespaces "nowhere" not found`; notification - configmaps [direct] was created successfully in namespace shop',
    );
    assert.deepEqual(
      result.changes.map(
        (change) => `${change.action} ${change.namespace}/${change.name}${change.error ? " refused" : ""}`,
      ),
      ["create nowhere/direct refused", "create shop/direct"],
    );
    assert.ok(await client.getOrUndefined(configMapRef("direct", "shop")));
  });
});
