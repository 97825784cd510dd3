import assert from "node:assert/strict";
import { test } from "node:test";
import { OwnWrites } from "./own-writes.ts";

const at = (resourceVersion: string, status = "") => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "a", namespace: "n", resourceVersion },
  status,
});

test("the own write stands in for the cached object while the cache still holds what it replaced", () => {
  const writes = new OwnWrites<ReturnType<typeof at>>();
  writes.remember("n/a", at("5"), at("6", "written"));
  assert.equal(writes.latest("n/a", at("5"))?.status, "written");
  assert.equal(writes.size, 1);
});

test("once the cache moves on, to the write or past it, the cache wins and the entry goes", () => {
  for (const cached of [at("6", "echo"), at("7", "someone else")]) {
    const writes = new OwnWrites<ReturnType<typeof at>>();
    writes.remember("n/a", at("5"), at("6", "written"));
    assert.equal(writes.latest("n/a", cached)?.status, cached.status);
    assert.equal(writes.size, 0);
  }
});

test("a deleted object is not brought back by an own write", () => {
  const writes = new OwnWrites<ReturnType<typeof at>>();
  writes.remember("n/a", at("5"), at("6", "written"));
  assert.equal(writes.latest("n/a", undefined), undefined);
  assert.equal(writes.size, 0);
});

test("observe drops the entry when the cache receives another version, and keeps it otherwise", () => {
  const writes = new OwnWrites<ReturnType<typeof at>>();
  writes.remember("n/a", at("5"), at("6", "written"));
  writes.observe("n/a", at("5"));
  assert.equal(writes.size, 1);
  writes.observe("n/a", at("6", "echo"));
  assert.equal(writes.size, 0);
  assert.equal(writes.latest("n/a", at("5"))?.status, "");
});

test("keys do not interfere", () => {
  const writes = new OwnWrites<ReturnType<typeof at>>();
  writes.remember("n/a", at("5"), at("6", "written"));
  assert.equal(writes.latest("n/b", at("5"))?.status, "");
  assert.equal(writes.size, 1);
});
