import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  describeManifest,
  goJsonLength,
  manifestIdentity,
  manifestSize,
  objectKey,
  totalManifestSize,
} from "./manifest.ts";

describe("goJsonLength", () => {
  const table: [name: string, value: unknown, length: number][] = [
    ["ASCII object", { a: "b" }, 9],
    ["two-byte UTF-8", { a: "é" }, 10],
    ["four-byte UTF-8", { a: "😀" }, 12],
    ["quote and backslash escapes", { a: '"\\' }, 12],
    ["newline escape", { a: "\n" }, 10],
    ["Go escapes < > & as \\u003c", { a: "<>&" }, 8 + 3 * 6],
    ["Go escapes U+2028 as \\u2028", { a: "\u2028" }, 8 + 6],
    ["numbers and literals", [1, 2.5, true, null], 17],
  ];
  for (const [name, value, length] of table) {
    it(name, () => assert.equal(goJsonLength(value), length));
  }
});

describe("manifestSize", () => {
  const withRawLength = (n: number) => {
    // {"a":"..."} is 8 bytes around the padding.
    const value = { a: "x".repeat(n - 8) };
    assert.equal(goJsonLength(value), n);
    return value;
  };
  it("adds the protobuf tag and varint length, as RawExtension.Size() does", () => {
    assert.equal(manifestSize(withRawLength(127)), 1 + 1 + 127);
    assert.equal(manifestSize(withRawLength(128)), 1 + 2 + 128);
    assert.equal(manifestSize(withRawLength(16383)), 1 + 2 + 16383);
    assert.equal(manifestSize(withRawLength(16384)), 1 + 3 + 16384);
  });

  it("matches OCM's fixture: a Secret with 300 KiB of data is 96 bytes more, less Encode's newline", () => {
    const secret = (n: number) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { namespace: "test", name: "test" },
      data: "a".repeat(n),
    });
    // OCM's test encodes with a trailing newline (92 bytes of JSON around the data, 96 with
    // the protobuf framing); a manifest decoded from a request has no newline.
    assert.equal(manifestSize(secret(300 * 1024)), 300 * 1024 + 95);
    assert.equal(totalManifestSize([secret(300 * 1024), secret(200 * 1024)]), 512000 + 190);
  });
});

describe("manifest identity", () => {
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default" },
  };
  it("reads group, version, kind, namespace and name", () => {
    assert.deepEqual(manifestIdentity(deployment), {
      apiVersion: "apps/v1",
      group: "apps",
      version: "v1",
      kind: "Deployment",
      namespace: "default",
      name: "web",
    });
  });
  it("tolerates malformed manifests", () => {
    assert.deepEqual(manifestIdentity({ apiVersion: 3, metadata: "x" }), {
      apiVersion: "",
      group: "",
      version: "",
      kind: "",
      namespace: "",
      name: "",
    });
  });
  it("keys an object without its version", () => {
    assert.equal(objectKey(deployment), "apps/Deployment/default/web");
    assert.equal(objectKey({ ...deployment, apiVersion: "apps/v1beta2" }), objectKey(deployment));
    assert.notEqual(objectKey({ ...deployment, kind: "StatefulSet" }), objectKey(deployment));
  });
  it("describes namespaced and cluster-scoped manifests", () => {
    assert.equal(describeManifest(deployment), "apps/v1 Deployment default/web");
    assert.equal(
      describeManifest({ apiVersion: "v1", kind: "Namespace", metadata: { name: "ns" } }),
      "v1 Namespace ns",
    );
  });
});
