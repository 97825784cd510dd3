import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { BosunBundle, BosunBundleAnnotations, BosunBundleLabels } from "../../api/constants.ts";
import type { Manifest } from "../../api/types/work.ts";
import {
  bundleHash,
  bundleNameError,
  bundleRefOf,
  contentObjectName,
  contentObjects,
  formatBundleRef,
  packBundle,
  parseBundleRef,
  readBundle,
  withBundle,
  type BundleRef,
  type ContentObject,
} from "./bundle.ts";

/** Text that barely compresses (base64 of hashes), the same on every run. */
function noise(seed: string, bytes: number): string {
  let text = "";
  for (let i = 0; text.length < bytes; i++) {
    text += createHash("sha256").update(`${seed}:${i}`).digest("base64");
  }
  return text.slice(0, bytes);
}

function configMap(name: string, payload: string): Manifest {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "app" }, data: { payload } };
}

const owner = { name: "web", namespace: "default", uid: "1234-uid" };
const hash = "0123456789abcdef0123456789abcdef";

describe("the bundle annotation", () => {
  const cases: { value: string; parsed?: BundleRef; error?: RegExp }[] = [
    { value: `${hash}/7`, parsed: { hash, count: 7 } },
    { value: "deadbeef/1", parsed: { hash: "deadbeef", count: 1 } },
    { value: `${hash}/10000`, parsed: { hash, count: 10000 } },
    { value: `${hash}/10001`, error: /1 to 10000 content objects/ },
    { value: `${hash}/0`, error: /want <hash>\/<count>/ },
    { value: `${hash}/07`, error: /want <hash>\/<count>/ },
    { value: `${hash.toUpperCase()}/3`, error: /lower-case hex/ },
    { value: "abc/3", error: /want <hash>\/<count>/ },
    { value: hash, error: /want <hash>\/<count>/ },
    { value: `${hash}/3/4`, error: /want <hash>\/<count>/ },
    { value: "", error: /is "": want/ },
  ];
  for (const { value, parsed, error } of cases) {
    test(`${JSON.stringify(value)} → ${parsed ? formatBundleRef(parsed) : "error"}`, () => {
      const result = parseBundleRef(value);
      if (parsed) {
        assert.deepEqual(result, { ok: true, value: parsed });
        assert.equal(formatBundleRef(parsed), value, "printing gives the same text back");
      } else {
        assert.equal(result.ok, false);
        if (!result.ok) {
          assert.match(result.error, error!);
          assert.ok(result.error.includes(BosunBundleAnnotations.content), "names the annotation");
        }
      }
    });
  }

  test("a replica set without the annotation names no bundle; with it, the parsed bundle", () => {
    assert.equal(bundleRefOf({ metadata: { name: "web" } }), undefined);
    assert.deepEqual(
      bundleRefOf({ metadata: { annotations: { [BosunBundleAnnotations.content]: `${hash}/2` } } }),
      { ok: true, value: { hash, count: 2 } },
    );
    assert.equal(
      bundleRefOf({ metadata: { annotations: { [BosunBundleAnnotations.content]: "x" } } })?.ok,
      false,
    );
  });
});

describe("names", () => {
  test("a content object is named after its replica set, hash and index", () => {
    assert.equal(contentObjectName("web", hash, 3), `web-${hash}-3`);
  });
  const names: { name: string; ok: boolean }[] = [
    { name: "web", ok: true },
    { name: "web.v2-app", ok: true },
    { name: "a".repeat(63), ok: true },
    { name: "a".repeat(64), ok: false },
    { name: "Web", ok: false },
    { name: "-web", ok: false },
    { name: "web-", ok: false },
    { name: "", ok: false },
  ];
  for (const { name, ok } of names) {
    test(`${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)} ${ok ? "can" : "cannot"} name a bundle`, () => {
      const error = bundleNameError(name);
      if (ok) assert.equal(error, undefined);
      else assert.match(error ?? "", /at most 63 characters/);
    });
  }
});

describe("packing", () => {
  test("manifests are packed in order into content objects within the compressed budget", () => {
    const manifests = Array.from({ length: 40 }, (_, i) => configMap(`cm-${i}`, noise(`p${i}`, 900)));
    const budget = 4000;
    const pack = packBundle(manifests, { maxContentBytes: budget });
    assert.ok(pack.ok);
    assert.ok(pack.chunks.length >= 8, `${pack.chunks.length} content objects for ~36 kB of noise`);
    for (const chunk of pack.chunks) {
      assert.ok(chunk.data.length <= budget, `content object ${chunk.index}: ${chunk.data.length} bytes`);
      assert.ok(chunk.manifests.length > 0);
    }
    assert.deepEqual(
      pack.chunks.map((chunk) => chunk.index),
      pack.chunks.map((_, i) => i),
    );
    assert.deepEqual(
      pack.chunks.flatMap((chunk) => chunk.manifests),
      manifests,
      "every manifest once, in order",
    );
    // Each object but the last is nearly full: adding the next manifest would not have fitted.
    const full = pack.chunks.slice(0, -1).filter((chunk) => chunk.data.length >= budget * 0.75);
    assert.ok(full.length >= pack.chunks.length - 2, `${full.length} of ${pack.chunks.length} well filled`);
    assert.equal(
      pack.inflatedBytes,
      pack.chunks.reduce((sum, chunk) => sum + chunk.inflatedBytes, 0),
    );
  });

  test("compressible manifests fill fewer objects, and none inflates beyond its limit", () => {
    const manifests = Array.from({ length: 200 }, (_, i) => configMap(`cm-${i}`, "x".repeat(5000)));
    const pack = packBundle(manifests, { maxContentBytes: 4000, maxInflatedBytes: 100_000 });
    assert.ok(pack.ok);
    for (const chunk of pack.chunks) {
      assert.ok(chunk.inflatedBytes <= 100_000, `${chunk.inflatedBytes} bytes inflated`);
      assert.ok(chunk.data.length <= 4000);
    }
    // About 1 MB inflated at most 100 kB each: the inflated limit decides, not the budget.
    assert.ok(pack.chunks.length >= 11 && pack.chunks.length <= 13, `${pack.chunks.length} objects`);
  });

  test("packing is deterministic and the hash follows the content", () => {
    const manifests = Array.from({ length: 20 }, (_, i) => configMap(`cm-${i}`, noise(`d${i}`, 500)));
    const first = packBundle(manifests, { maxContentBytes: 3000 });
    const second = packBundle(structuredClone(manifests), { maxContentBytes: 3000 });
    assert.ok(first.ok && second.ok);
    assert.equal(first.hash, second.hash);
    assert.equal(first.hash.length, BosunBundle.hashLength);
    assert.deepEqual(
      first.chunks.map((chunk) => chunk.data),
      second.chunks.map((chunk) => chunk.data),
    );
    const changed = structuredClone(manifests);
    (changed[7]!.data as Record<string, string>).payload += "!";
    const third = packBundle(changed, { maxContentBytes: 3000 });
    assert.ok(third.ok);
    assert.notEqual(third.hash, first.hash);
  });

  test("no manifests, no content objects", () => {
    const pack = packBundle([]);
    assert.ok(pack.ok);
    assert.deepEqual(pack.chunks, []);
  });

  const tooBig: { what: string; manifests: Manifest[]; options: object; index: number; error: RegExp }[] = [
    {
      what: "a manifest that does not compress under the budget",
      manifests: [configMap("small", "a"), configMap("huge", noise("h", 6000)), configMap("after", "b")],
      options: { maxContentBytes: 4000 },
      index: 1,
      error:
        /^manifest 1 \(v1 ConfigMap app\/huge\) is \d+ bytes compressed, more than one content object holds \(4000 bytes compressed/,
    },
    {
      what: "a manifest bigger than an object may inflate to",
      manifests: [configMap("big", "y".repeat(20_000))],
      options: { maxInflatedBytes: 10_000 },
      index: 0,
      error:
        /^manifest 0 \(v1 ConfigMap app\/big\) is 20\d\d\d bytes of JSON, more than one content object holds/,
    },
  ];
  for (const { what, manifests, options, index, error } of tooBig) {
    test(`${what} is an error naming it`, () => {
      const pack = packBundle(manifests, options);
      assert.equal(pack.ok, false);
      if (!pack.ok) {
        assert.equal(pack.index, index);
        assert.match(pack.error, error);
      }
    });
  }

  test("a budget that holds nothing is a RangeError", () => {
    assert.throws(() => packBundle([], { maxContentBytes: 0 }), RangeError);
  });
});

describe("content objects", () => {
  test("labelled, immutable, owned by the replica set without blocking its deletion", () => {
    const manifests = [configMap("a", "1"), configMap("b", "2")];
    const pack = packBundle(manifests);
    assert.ok(pack.ok);
    const [object, ...rest] = contentObjects(owner, pack);
    assert.equal(rest.length, 0);
    assert.deepEqual(object!.metadata, {
      name: `web-${pack.hash}-0`,
      namespace: "default",
      labels: {
        [BosunBundleLabels.bundle]: "web",
        [BosunBundleLabels.contentHash]: pack.hash,
        [BosunBundleLabels.contentIndex]: "0",
      },
      ownerReferences: [
        {
          apiVersion: "work.open-cluster-management.io/v1alpha1",
          kind: "ManifestWorkReplicaSet",
          name: "web",
          uid: "1234-uid",
          controller: false,
          blockOwnerDeletion: false,
        },
      ],
    });
    assert.equal(object!.immutable, true);
    assert.deepEqual(Object.keys(object!.binaryData ?? {}), [BosunBundle.dataKey]);
  });
});

describe("reading a bundle back", () => {
  const manifests = Array.from({ length: 12 }, (_, i) => configMap(`cm-${i}`, noise(`r${i}`, 700)));
  const pack = packBundle(manifests, { maxContentBytes: 2500 });
  assert.ok(pack.ok);
  const objects = contentObjects(owner, pack);
  const ref: BundleRef = { hash: pack.hash, count: objects.length };
  const options = { bundle: "web", namespace: "default" };
  const withData = (object: ContentObject, data: Buffer | string): ContentObject => ({
    ...object,
    binaryData: { [BosunBundle.dataKey]: Buffer.from(data).toString("base64") },
  });
  const withIndex = (object: ContentObject, index: string): ContentObject => ({
    ...object,
    metadata: {
      ...object.metadata,
      name: `${object.metadata.name}-copy`,
      labels: { ...object.metadata.labels, [BosunBundleLabels.contentIndex]: index },
    },
  });
  /** One content object holding `text`, with a hash that matches it. */
  const single = (text: string) => {
    const [object] = contentObjects(owner, {
      hash: bundleHash([text]),
      chunks: [{ index: 0, manifests: [], inflatedBytes: text.length, data: gzipSync(text) }],
    });
    return { ref: { hash: bundleHash([text]), count: 1 }, objects: [object!] };
  };

  test("every content object present: the manifests in order", () => {
    assert.ok(objects.length >= 3, `${objects.length} content objects`);
    const read = readBundle(ref, [...objects].reverse(), options);
    assert.deepEqual(read, { ok: true, manifests });
  });

  test("objects of another hash are not looked at", () => {
    const other = packBundle([configMap("other", "z")]);
    assert.ok(other.ok);
    const read = readBundle(ref, [...objects, ...contentObjects(owner, other)], options);
    assert.equal(read.ok, true);
  });

  const broken: {
    what: string;
    input: () => { ref: BundleRef; objects: ContentObject[] };
    problem: "missing" | "invalid";
    message: RegExp;
  }[] = [
    {
      what: "one object missing",
      input: () => ({ ref, objects: objects.filter((_, i) => i !== 1) }),
      problem: "missing",
      message: new RegExp(
        `^bundle content 1/${objects.length} missing: ConfigMap web-${pack.hash}-1 in namespace default`,
      ),
    },
    {
      what: "every object missing",
      input: () => ({ ref, objects: [] }),
      problem: "missing",
      message: new RegExp(`^bundle content ${objects.length}/${objects.length} missing: ConfigMaps web-`),
    },
    {
      what: "many missing, listed in short",
      input: () => ({ ref: { hash: pack.hash, count: 9 }, objects: [] }),
      problem: "missing",
      message: /-4 and 4 more in namespace default/,
    },
    {
      what: "two objects for one index",
      input: () => ({ ref, objects: [...objects, withIndex(objects[0]!, "0")] }),
      problem: "invalid",
      message: new RegExp(`ConfigMaps web-${pack.hash}-0 and web-${pack.hash}-0-copy both hold index 0`),
    },
    {
      what: "an index label that is not a number",
      input: () => ({ ref, objects: [...objects, withIndex(objects[0]!, "first")] }),
      problem: "invalid",
      message: /-0-copy has work.bosun.dev\/bundle-index="first", not an index below/,
    },
    {
      what: "an index beyond the count",
      input: () => ({ ref, objects: [...objects, withIndex(objects[0]!, String(objects.length))] }),
      problem: "invalid",
      message: new RegExp(`not an index below ${objects.length}$`),
    },
    {
      what: "no data",
      input: () => ({ ref, objects: objects.map((o, i) => (i === 0 ? { ...o, binaryData: {} } : o)) }),
      problem: "invalid",
      message: /ConfigMap web-\w+-0 has no binaryData manifests.json.gz$/,
    },
    {
      what: "data that is not gzip",
      input: () => ({ ref, objects: objects.map((o, i) => (i === 2 ? withData(o, "plain text") : o)) }),
      problem: "invalid",
      message: /ConfigMap web-\w+-2: manifests.json.gz is not gzip data: /,
    },
    {
      what: "content changed after it was written",
      input: () => ({
        ref,
        objects: objects.map((o, i) =>
          i === 1 ? withData(o, gzipSync(JSON.stringify([configMap("x", "y")]))) : o,
        ),
      }),
      problem: "invalid",
      message: /content objects hash to [0-9a-f]{32}: they were changed after they were written$/,
    },
    {
      what: "data that inflates too far",
      input: () => ({
        ref,
        objects: objects.map((o, i) =>
          i === 0 ? withData(o, gzipSync("[" + " ".repeat(2_000_000) + "]")) : o,
        ),
      }),
      problem: "invalid",
      message: /inflates to more than 1000000 bytes$/,
    },
    {
      what: "text that is not JSON",
      input: () => single("[{not json"),
      problem: "invalid",
      message: /manifests.json.gz is not JSON: /,
    },
    {
      what: "JSON that is not an array",
      input: () => single('{"kind":"ConfigMap"}'),
      problem: "invalid",
      message: /manifests.json.gz is not a JSON array$/,
    },
    {
      what: "an item that is not an object",
      input: () => single('[{"kind":"ConfigMap"},"text"]'),
      problem: "invalid",
      message: /item 1 of manifests.json.gz is not an object$/,
    },
  ];
  for (const { what, input, problem, message } of broken) {
    test(`${what}: ${problem}`, () => {
      const { ref: asked, objects: found } = input();
      const read = readBundle(asked, found, { ...options, maxInflatedBytes: 1_000_000 });
      assert.equal(read.ok, false);
      if (!read.ok) {
        assert.equal(read.problem, problem);
        assert.match(read.message, message);
        if (problem === "invalid") assert.ok(read.message.startsWith(`bundle content ${asked.hash}: `));
      }
    });
  }
});

test("the bundle's manifests follow the template's own; the rest of the template is kept", () => {
  const template = {
    workload: { manifests: [configMap("inline", "1")] },
    deleteOption: { propagationPolicy: "Orphan" as const },
    executor: { subject: { type: "ServiceAccount" as const, serviceAccount: { namespace: "a", name: "b" } } },
  };
  const result = withBundle(template, [configMap("bundled", "2")]);
  assert.deepEqual(
    result.workload?.manifests?.map((m) => m.metadata.name),
    ["inline", "bundled"],
  );
  assert.deepEqual(result.deleteOption, template.deleteOption);
  assert.deepEqual(result.executor, template.executor);
  assert.deepEqual(template.workload.manifests.length, 1, "the template itself is not changed");
  assert.deepEqual(withBundle({}, [configMap("only", "3")]).workload?.manifests?.length, 1);
});
