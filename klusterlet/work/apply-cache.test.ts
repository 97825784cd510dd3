import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApplyCache } from "./apply-cache.ts";

const owner = { name: "hash-work", uid: "u1" };
const job = {
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "once", namespace: "default" },
  spec: {},
};
const key = ApplyCache.key({ apiVersion: "batch/v1", kind: "Job", namespace: "default", name: "once" });

describe("ApplyCache", () => {
  it("skips only while the manifest and the object are as the agent wrote them", () => {
    const hash = ApplyCache.hash(job, owner, true);
    const cases: {
      what: string;
      setup: (cache: ApplyCache) => void;
      hash: string;
      rv?: string;
      want: boolean;
    }[] = [
      { what: "nothing recorded", setup: () => {}, hash, rv: "5", want: false },
      { what: "as written", setup: (c) => c.record(key, hash, "5"), hash, rv: "5", want: true },
      {
        what: "changed since (another writer, status)",
        setup: (c) => c.record(key, hash, "5"),
        hash,
        rv: "6",
        want: false,
      },
      {
        what: "the manifest changed",
        setup: (c) => c.record(key, hash, "5"),
        hash: ApplyCache.hash({ ...job, spec: { parallelism: 2 } }, owner, true),
        rv: "5",
        want: false,
      },
      {
        what: "no resourceVersion to compare",
        setup: (c) => c.record(key, hash, "5"),
        hash,
        rv: undefined,
        want: false,
      },
      {
        what: "forgotten after a failure",
        setup: (c) => (c.record(key, hash, "5"), c.forget(key)),
        hash,
        rv: "5",
        want: false,
      },
      {
        what: "a write without resourceVersion records nothing",
        setup: (c) => c.record(key, hash, undefined),
        hash,
        rv: "5",
        want: false,
      },
    ];
    for (const { what, setup, hash: asked, rv, want } of cases) {
      const cache = new ApplyCache();
      setup(cache);
      assert.equal(cache.unchanged(key, asked, rv), want, what);
    }
  });

  it("hashes the owner with the manifest: another work, or giving up ownership, is a new write", () => {
    const owned = ApplyCache.hash(job, owner, true);
    assert.equal(ApplyCache.hash(structuredClone(job), { ...owner }, true), owned, "same inputs, same hash");
    assert.notEqual(ApplyCache.hash(job, { name: "other", uid: "u2" }, true), owned);
    assert.notEqual(ApplyCache.hash(job, owner, false), owned);
    // Key order does not matter: the manifest is hashed in a canonical form.
    const reordered = {
      spec: {},
      metadata: { namespace: "default", name: "once" },
      kind: "Job",
      apiVersion: "batch/v1",
    };
    assert.equal(ApplyCache.hash(reordered, owner, true), owned);
  });

  it("keys objects by type, namespace and name", () => {
    const keys = new Set([
      key,
      ApplyCache.key({ apiVersion: "batch/v1", kind: "Job", namespace: "other", name: "once" }),
      ApplyCache.key({ apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "once" }),
      ApplyCache.key({ apiVersion: "v1", kind: "Namespace", name: "once" }),
    ]);
    assert.equal(keys.size, 4);
  });

  it("is bounded: it starts over once full", () => {
    const cache = new ApplyCache(2);
    cache.record("a", "h", "1");
    cache.record("b", "h", "1");
    cache.record("b", "h", "2");
    assert.equal(cache.size, 2, "updating an entry does not count");
    cache.record("c", "h", "1");
    assert.equal(cache.size, 1);
    assert.equal(cache.unchanged("a", "h", "1"), false);
    assert.equal(cache.unchanged("c", "h", "1"), true);
  });
});
