// The in-memory API's own semantics, which the table tests of reconcilers rely on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KubeApiError } from "../../runtime/errors.ts";
import type { ObjectRef } from "../../runtime/kube/client.ts";
import type { KubeObject, WatchEvent } from "../../runtime/kube/types.ts";
import { MemoryKube } from "../support/memory-kube.ts";

function configMap(name: string, labels: Record<string, string> = {}): KubeObject & { data?: unknown } {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "ns", labels },
    data: { a: "1" },
  };
}

const ref = (name: string): ObjectRef => ({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name });

function apiError(status: number, reason: string) {
  return (error: unknown) =>
    error instanceof KubeApiError && error.status === status && error.reason === reason;
}

/** The first `count` events of a watch, then stops it. */
async function take(
  events: AsyncGenerator<WatchEvent>,
  count: number,
): Promise<{ type: string; name: string | undefined }[]> {
  const seen: { type: string; name: string | undefined }[] = [];
  for await (const event of events) {
    seen.push({ type: event.type, name: event.object.metadata.name });
    if (seen.length === count) break;
  }
  return seen;
}

describe("MemoryKube", () => {
  it("answers as an API server: 404, 409 AlreadyExists, 409 Conflict, no-op writes", async () => {
    const kube = new MemoryKube();
    await assert.rejects(kube.get(ref("a")), apiError(404, "NotFound"));
    assert.equal(await kube.getOrUndefined(ref("a")), undefined);
    const created = await kube.create(configMap("a"));
    assert.equal(created.metadata.generation, 1);
    await assert.rejects(kube.create(configMap("a")), (error: unknown) => {
      return apiError(409, "AlreadyExists")(error) && !(error as KubeApiError).conflict;
    });

    const updated = await kube.patch(ref("a"), "merge", {
      metadata: { resourceVersion: created.metadata.resourceVersion },
      data: { a: "2" },
    });
    assert.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    assert.equal(updated.metadata.generation, 2);
    await assert.rejects(
      kube.replace({ ...created, data: { a: "3" } }),
      (error: unknown) => apiError(409, "Conflict")(error) && (error as KubeApiError).conflict,
    );
    const same = await kube.patch(ref("a"), "merge", { data: { a: "2" } });
    assert.equal(same.metadata.resourceVersion, updated.metadata.resourceVersion, "a no-op is not a write");
    await assert.rejects(
      kube.delete(ref("a"), { resourceVersion: created.metadata.resourceVersion }),
      apiError(409, "Conflict"),
    );
    await kube.delete(ref("a"));
    await assert.rejects(kube.delete(ref("a")), apiError(404, "NotFound"));
  });

  it("keeps status and the rest of the object apart", async () => {
    const kube = new MemoryKube();
    const created = await kube.create({ ...configMap("a"), status: { ignored: true } });
    assert.equal((created as { status?: unknown }).status, undefined, "a create drops the status");
    const withStatus = await kube.patch(
      ref("a"),
      "merge",
      { status: { phase: "On" }, data: { a: "9" } },
      {
        subresource: "status",
      },
    );
    assert.deepEqual(withStatus.data, { a: "1" }, "a status write changes only the status");
    assert.equal(withStatus.metadata.generation, 1);
    const withData = await kube.patch(ref("a"), "merge", { status: { phase: "Off" }, data: { a: "2" } });
    assert.deepEqual(withData.status, { phase: "On" }, "an object write leaves the status");
    assert.deepEqual(withData.data, { a: "2" });
  });

  it("holds an object with finalizers until they are removed", async () => {
    const kube = new MemoryKube();
    await kube.create({ ...configMap("a"), metadata: { ...configMap("a").metadata, finalizers: ["x/y"] } });
    await kube.delete(ref("a"));
    const marked = await kube.get(ref("a"));
    assert.ok(marked.metadata.deletionTimestamp);
    await kube.patch(ref("a"), "merge", { metadata: { finalizers: null } });
    assert.equal(await kube.getOrUndefined(ref("a")), undefined);
  });

  it("lists by label and field selectors and rejects what it cannot parse", async () => {
    const kube = new MemoryKube();
    await kube.create(configMap("a", { tier: "web" }));
    await kube.create(configMap("b", { tier: "db" }));
    await kube.create(configMap("c"));
    const names = async (options: { labelSelector?: string; fieldSelector?: string }) =>
      (await kube.listAll("v1", "ConfigMap", options)).items.map((item) => item.metadata.name);
    assert.deepEqual(await names({ labelSelector: "tier" }), ["a", "b"]);
    assert.deepEqual(await names({ labelSelector: "tier in (web),tier!=db" }), ["a"]);
    assert.deepEqual(await names({ labelSelector: "!tier" }), ["c"]);
    assert.deepEqual(await names({ fieldSelector: "metadata.name=b" }), ["b"]);
    await assert.rejects(names({ fieldSelector: "spec.x=1" }), apiError(400, "BadRequest"));
    await assert.rejects(names({ labelSelector: "tier in (" }), apiError(400, "BadRequest"));
  });

  it("watches from a resourceVersion, an object leaving a selector deleted for its watcher", async () => {
    const kube = new MemoryKube();
    await kube.create(configMap("before", { tier: "web" }));
    const from = kube.resourceVersion;
    const signal = AbortSignal.timeout(5_000);
    const all = take(kube.watch("v1", "ConfigMap", { resourceVersion: from, signal }), 4);
    const web = take(
      kube.watch("v1", "ConfigMap", { resourceVersion: from, labelSelector: "tier=web", signal }),
      3,
    );
    await kube.create(configMap("a", { tier: "web" }));
    await kube.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "other", namespace: "ns" } });
    await kube.patch(ref("a"), "merge", { metadata: { labels: { tier: "db" } } });
    await kube.patch(ref("a"), "merge", { metadata: { labels: { tier: "web" } } });
    await kube.delete(ref("a"));
    assert.deepEqual(await all, [
      { type: "ADDED", name: "a" },
      { type: "MODIFIED", name: "a" },
      { type: "MODIFIED", name: "a" },
      { type: "DELETED", name: "a" },
    ]);
    assert.deepEqual(await web, [
      { type: "ADDED", name: "a" },
      { type: "DELETED", name: "a" },
      { type: "ADDED", name: "a" },
    ]);
    assert.deepEqual(await take(kube.watch("v1", "ConfigMap", { signal }), 1), [
      { type: "ADDED", name: "before" },
    ]);
  });

  it("answers 410 Expired to a watch from before a compaction", async () => {
    const kube = new MemoryKube();
    const from = kube.resourceVersion;
    await kube.create(configMap("a"));
    kube.compact();
    await assert.rejects(
      take(kube.watch("v1", "ConfigMap", { resourceVersion: from }), 1),
      (error: unknown) => {
        return error instanceof KubeApiError && error.gone;
      },
    );
  });

  it("ends a watch when its signal aborts", async () => {
    const kube = new MemoryKube();
    const abort = new AbortController();
    const watching = take(
      kube.watch("v1", "ConfigMap", { resourceVersion: kube.resourceVersion, signal: abort.signal }),
      1,
    );
    abort.abort();
    await assert.rejects(watching, { name: "AbortError" });
  });
});
