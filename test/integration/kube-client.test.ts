// The raw dynamic client against a real API server: discovery, CRUD, typed errors,
// unknown fields preserved, server-side apply ownership and watches.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KubeApiError } from "../../runtime/errors.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { UnknownKindError } from "../../runtime/kube/discovery.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { testCrd } from "../support/test-crd.ts";
import { eventually } from "../support/wait.ts";

const fixture = useControlPlane("kube-client");

const widgetCrd = testCrd("Widget", "widgets");

async function client(): Promise<KubeClient> {
  return KubeClient.fromFile(fixture.plane.kubeconfigPath);
}

async function expectApiError(
  promise: Promise<unknown>,
  status: number,
  reason: string,
): Promise<KubeApiError> {
  const error = await promise.then(
    () => assert.fail(`expected HTTP ${status}`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof KubeApiError, `expected a KubeApiError, got ${String(error)}`);
  assert.equal(error.status, status);
  assert.equal(error.reason, reason);
  return error;
}

describe("dynamic client", () => {
  test("creates, reads, lists, patches and deletes built-in objects, with typed errors", async () => {
    const kube = await client();
    const configMap: Unstructured = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "crud", namespace: "default", labels: { app: "bosun" } },
      data: { greeting: "hello" },
    };
    const created = await kube.create(configMap);
    assert.ok(created.metadata.uid);
    await expectApiError(kube.create(configMap), 409, "AlreadyExists");

    const read = await kube.get({ apiVersion: "v1", kind: "ConfigMap", name: "crud", namespace: "default" });
    assert.deepEqual(read.data, { greeting: "hello" });

    const listed = await kube.listAll("v1", "ConfigMap", {
      namespace: "default",
      labelSelector: "app=bosun",
    });
    assert.deepEqual(
      listed.items.map((item) => [item.kind, item.metadata.name]),
      [["ConfigMap", "crud"]],
    );

    const patched = await kube.patch(
      { apiVersion: "v1", kind: "ConfigMap", name: "crud", namespace: "default" },
      "merge",
      { data: { farewell: "bye" } },
    );
    assert.deepEqual(patched.data, { greeting: "hello", farewell: "bye" });

    // A replace carrying a stale resourceVersion is refused, not applied.
    await expectApiError(kube.replace({ ...read, data: { stale: "yes" } }), 409, "Conflict");

    await kube.delete({ apiVersion: "v1", kind: "ConfigMap", name: "crud", namespace: "default" });
    await expectApiError(
      kube.get({ apiVersion: "v1", kind: "ConfigMap", name: "crud", namespace: "default" }),
      404,
      "NotFound",
    );
    assert.equal(
      await kube.getOrUndefined({ apiVersion: "v1", kind: "ConfigMap", name: "crud", namespace: "default" }),
      undefined,
    );

    const invalid = await expectApiError(
      kube.create({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "Not_Valid", namespace: "default" },
      }),
      422,
      "Invalid",
    );
    assert.match(invalid.message, /metadata\.name/);
    kube.close();
  });

  test("learns a kind whose CRD is installed after the first lookup, and keeps unknown fields", async () => {
    const kube = await client();
    await assert.rejects(kube.discovery.resolve("test.bosun.io/v1", "Widget"), UnknownKindError);
    await kube.create(widgetCrd);
    await eventually(async () => {
      const info = await kube.discovery.resolve("test.bosun.io/v1", "Widget");
      assert.equal(info.resource, "widgets");
      assert.equal(info.namespaced, true);
      assert.deepEqual(info.subresources, ["status"]);
    });
    const widget = await eventually(() =>
      kube.create({
        apiVersion: "test.bosun.io/v1",
        kind: "Widget",
        metadata: { name: "w1", namespace: "default" },
        spec: { nested: { anything: [1, { deep: true }] }, fieldNoTypedModelKnows: "kept" },
      }),
    );
    assert.deepEqual(widget.spec, {
      nested: { anything: [1, { deep: true }] },
      fieldNoTypedModelKnows: "kept",
    });
    kube.close();
  });

  test("server-side apply records ownership per field manager and refuses conflicting applies", async () => {
    const kube = await client();
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "ssa", namespace: "default" };
    const manifest = (data: Record<string, string>) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ssa", namespace: "default" },
      data,
    });
    await kube.patch(ref, "apply", manifest({ owned: "by-a" }), { fieldManager: "manager-a" });
    await kube.patch(ref, "apply", manifest({ other: "by-b" }), { fieldManager: "manager-b" });
    const both = await kube.get(ref);
    assert.deepEqual(both.data, { owned: "by-a", other: "by-b" });
    const managers = (both.metadata.managedFields ?? []).map((entry) => entry.manager).sort();
    assert.deepEqual(managers, ["manager-a", "manager-b"]);

    // manager-b may not take a field manager-a owns without force...
    const conflict = await expectApiError(
      kube.patch(ref, "apply", manifest({ owned: "by-b", other: "by-b" }), { fieldManager: "manager-b" }),
      409,
      "Conflict",
    );
    assert.match(conflict.message, /manager-a/);
    assert.equal((await kube.get(ref)).data?.["owned" as keyof unknown], "by-a");

    // ...and with force it takes it over.
    await kube.patch(ref, "apply", manifest({ owned: "by-b", other: "by-b" }), {
      fieldManager: "manager-b",
      force: true,
    });
    const forced = await kube.get(ref);
    assert.deepEqual(forced.data, { owned: "by-b", other: "by-b" });

    // Fields a manager stops applying are removed when no one else owns them.
    await kube.patch(ref, "apply", manifest({ owned: "by-b" }), { fieldManager: "manager-b" });
    assert.deepEqual((await kube.get(ref)).data, { owned: "by-b" });
    kube.close();
  });

  test("watches stream the changes made after a resourceVersion", async () => {
    const kube = await client();
    const { resourceVersion } = await kube.listAll("v1", "ConfigMap", { namespace: "default" });
    const abort = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const event of kube.watch<Unstructured>("v1", "ConfigMap", {
        namespace: "default",
        resourceVersion,
        signal: abort.signal,
      })) {
        if (event.type !== "BOOKMARK") seen.push(`${event.type} ${event.object.metadata.name}`);
        if (seen.length === 2) abort.abort();
      }
    })().catch((error: unknown) => {
      if (!abort.signal.aborted) throw error;
    });
    await kube.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "watched", namespace: "default" },
    });
    await kube.delete({ apiVersion: "v1", kind: "ConfigMap", name: "watched", namespace: "default" });
    await watching;
    assert.deepEqual(seen, ["ADDED watched", "DELETED watched"]);

    kube.close();
  });
});
