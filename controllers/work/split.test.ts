import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Manifest, ManifestWorkSpec } from "../../api/types/work.ts";
import { splitTier } from "../../api/kind-rank.ts";
import { manifestSize, objectKey } from "./manifest.ts";
import {
  partLabels,
  partName,
  splitManifests,
  splitWorkSpec,
  templateHash,
  type SplitPart,
} from "./split.ts";

const kinds = {
  crd: ["apiextensions.k8s.io/v1", "CustomResourceDefinition", false],
  namespace: ["v1", "Namespace", false],
  role: ["rbac.authorization.k8s.io/v1", "Role", true],
  sa: ["v1", "ServiceAccount", true],
  configMap: ["v1", "ConfigMap", true],
  secret: ["v1", "Secret", true],
  service: ["v1", "Service", true],
  deployment: ["apps/v1", "Deployment", true],
  widget: ["example.com/v1", "Widget", true],
  webhook: ["admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", false],
} as const;
type KindName = keyof typeof kinds;

/** A manifest of exactly `size` bytes as OCM counts them. */
function sized(kind: KindName, name: string, size: number, apiVersion?: string): Manifest {
  const [defaultVersion, k, namespaced] = kinds[kind];
  const make = (pad: number): Manifest => ({
    apiVersion: apiVersion ?? defaultVersion,
    kind: k,
    metadata: namespaced ? { name, namespace: "app" } : { name },
    data: { pad: "x".repeat(pad) },
  });
  let pad = Math.max(0, size - manifestSize(make(0)));
  while (manifestSize(make(pad)) > size && pad > 0) pad--;
  const manifest = make(pad);
  assert.equal(manifestSize(manifest), size, `cannot build a ${size}-byte manifest`);
  return manifest;
}

const keysOf = (parts: readonly SplitPart[]) => parts.map((part) => part.manifests.map(objectKey));

/** Where each object is: key → part index. */
function placement(parts: readonly SplitPart[]): Map<string, number> {
  const map = new Map<string, number>();
  parts.forEach((part) => part.manifests.forEach((m) => map.set(objectKey(m), part.index)));
  return map;
}

function ok(result: ReturnType<typeof splitManifests>): SplitPart[] {
  assert.ok(result.ok, result.ok ? "" : result.error);
  return result.parts;
}

/** Every manifest once, parts within the budget, and tiers never going back across parts. */
function assertInvariants(manifests: readonly Manifest[], parts: readonly SplitPart[], budget: number) {
  const all = parts.flatMap((part) => part.manifests);
  assert.equal(all.length, manifests.length);
  assert.deepEqual(new Set(all), new Set(manifests));
  parts.forEach((part, index) => {
    assert.equal(part.index, index);
    assert.ok(part.manifests.length > 0, `part ${index} is empty`);
    assert.ok(part.size <= budget, `part ${index} is ${part.size} bytes, over ${budget}`);
    assert.equal(
      part.size,
      part.manifests.reduce((total, m) => total + manifestSize(m), 0),
    );
    const order = part.manifests.map((m) => manifests.indexOf(m));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `part ${index} is not in template order`,
    );
  });
  for (let i = 1; i < parts.length; i++) {
    const before = Math.max(...parts[i - 1]!.manifests.map(splitTier));
    const after = Math.min(...parts[i]!.manifests.map(splitTier));
    assert.ok(before <= after, `part ${i - 1} holds tier ${before}, part ${i} tier ${after}`);
  }
}

function moved(
  before: Map<string, number>,
  after: Map<string, number>,
  unchanged: Iterable<string>,
): string[] {
  return [...unchanged].filter((key) => before.get(key) !== after.get(key));
}

describe("splitManifests", () => {
  it("keeps a template that fits as one part, untouched and in order", () => {
    const manifests = [sized("deployment", "d", 300), sized("crd", "c", 300), sized("webhook", "w", 300)];
    const parts = ok(splitManifests(manifests, 900));
    assert.equal(parts.length, 1);
    assert.deepEqual(parts[0]!.manifests, manifests);
    assert.equal(parts[0]!.size, 900);
  });

  it("names a manifest that is bigger than a part can be", () => {
    const big = sized("deployment", "big", 2000);
    const result = splitManifests([sized("configMap", "c", 100), big], 1500, { marginBytes: 100 });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.manifest, big);
    assert.equal(result.size, 2000);
    assert.equal(result.budget, 1400);
    assert.match(
      result.error,
      /^manifest apps\/v1 Deployment app\/big is 2000 bytes, more than the 1400 bytes/,
    );
  });

  it("refuses a margin that leaves no room", () => {
    assert.throws(() => splitManifests([], 100, { marginBytes: 100 }), RangeError);
    assert.throws(() => splitManifests([], 100, { headroom: 1 }), RangeError);
  });

  it("puts dependencies in earlier parts and webhooks in the last", () => {
    const manifests = [
      sized("webhook", "hook", 400),
      sized("deployment", "web", 400),
      sized("widget", "w", 400),
      sized("configMap", "cfg", 400),
      sized("sa", "sa", 400),
      sized("role", "role", 400),
      sized("namespace", "app", 400),
      sized("crd", "widgets.example.com", 400),
      sized("service", "web", 400),
    ];
    const parts = ok(splitManifests(manifests, 1000, { headroom: 0 }));
    assertInvariants(manifests, parts, 1000);
    assert.deepEqual(keysOf(parts), [
      ["/Namespace//app", "apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com"],
      ["/ServiceAccount/app/sa", "rbac.authorization.k8s.io/Role/app/role"],
      ["/ConfigMap/app/cfg", "/Service/app/web"],
      ["apps/Deployment/app/web", "example.com/Widget/app/w"],
      ["admissionregistration.k8s.io/ValidatingWebhookConfiguration//hook"],
    ]);
  });

  it("leaves headroom in every part when it first splits", () => {
    const manifests = Array.from({ length: 20 }, (_, i) => sized("configMap", `c${i}`, 150));
    const parts = ok(splitManifests(manifests, 1500));
    assertInvariants(manifests, parts, 1500);
    assert.deepEqual(
      parts.map((p) => p.size),
      [1350, 1350, 300],
    );
    assert.deepEqual(
      ok(splitManifests(manifests, 1500, { headroom: 0 })).map((p) => p.size),
      [1500, 1500],
    );
  });

  it("counts the margin against every part", () => {
    const manifests = Array.from({ length: 10 }, (_, i) => sized("configMap", `c${i}`, 150));
    const parts = ok(splitManifests(manifests, 850, { marginBytes: 100, headroom: 0 }));
    assert.deepEqual(
      parts.map((p) => p.size),
      [750, 750],
    );
  });

  it("is deterministic whatever the template order", () => {
    const manifests = Array.from({ length: 30 }, (_, i) =>
      sized(i % 2 ? "secret" : "deployment", `m${i}`, 150 + i),
    );
    const a = keysOf(ok(splitManifests(manifests, 1000)));
    const b = keysOf(ok(splitManifests([...manifests].reverse(), 1000)));
    assert.deepEqual(
      a.map((keys) => [...keys].sort()),
      b.map((keys) => [...keys].sort()),
    );
  });
});

describe("splitManifests: stability against the previous parts", () => {
  const budget = 1500;
  const base = Array.from({ length: 27 }, (_, i) =>
    sized("configMap", `c${String(i).padStart(2, "0")}`, 150),
  );
  const first = ok(splitManifests(base, budget));
  const previous = first.map((part) => part.manifests);

  it("gives the same parts again for the same template", () => {
    assert.deepEqual(ok(splitManifests(base, budget, { previous })), first);
  });

  it("keeps every object in place when one is added in the middle", () => {
    const added = [...base, sized("configMap", "c04a", 150)];
    const parts = ok(splitManifests(added, budget, { previous }));
    assertInvariants(added, parts, budget);
    assert.deepEqual(moved(placement(first), placement(parts), placement(first).keys()), []);
    assert.equal(placement(parts).get("/ConfigMap/app/c04a"), 0);
    // Packing from scratch instead shifts the boundary objects of every later part.
    const fresh = ok(splitManifests(added, budget));
    assert.ok(moved(placement(first), placement(fresh), placement(first).keys()).length >= 2);
  });

  it("moves only the last objects of a part that grows over the budget, one part on", () => {
    const grown = base.map((m) =>
      objectKey(m) === "/ConfigMap/app/c03" ? sized("configMap", "c03", 400) : m,
    );
    const parts = ok(splitManifests(grown, budget, { previous }));
    assertInvariants(grown, parts, budget);
    const unchanged = [...placement(first).keys()].filter((k) => k !== "/ConfigMap/app/c03");
    assert.deepEqual(moved(placement(first), placement(parts), unchanged), ["/ConfigMap/app/c08"]);
    assert.equal(placement(parts).get("/ConfigMap/app/c08"), 1);
  });

  it("refills an emptied part from the next one instead of renaming every later part", () => {
    const inPart1 = new Set(previous[1]!.map(objectKey));
    const fewer = base.filter((m) => !inPart1.has(objectKey(m)));
    const parts = ok(splitManifests(fewer, budget, { previous }));
    assertInvariants(fewer, parts, budget);
    assert.equal(parts.length, 3);
    const remaining = [...placement(first).keys()].filter((k) => !inPart1.has(k));
    assert.deepEqual(moved(placement(first), placement(parts), remaining), ["/ConfigMap/app/c18"]);
  });

  it("keeps an object whose apiVersion changes in its part", () => {
    const crds = Array.from({ length: 12 }, (_, i) => sized("crd", `w${i}.example.com`, 200));
    const old = ok(splitManifests(crds, budget));
    const upgraded = crds.map((m, i) =>
      i === 7 ? sized("crd", "w7.example.com", 200, "apiextensions.k8s.io/v1beta1") : m,
    );
    const parts = ok(splitManifests(upgraded, budget, { previous: old.map((p) => p.manifests) }));
    assert.deepEqual(placement(parts), placement(old));
  });

  it("goes back to one work only below the headroom, so it does not flip at the limit", () => {
    const fits = base.slice(0, 10);
    assert.equal(ok(splitManifests(fits, budget, { previous })).length, 2);
    assert.equal(ok(splitManifests(fits, budget)).length, 1);
    assert.equal(ok(splitManifests(base.slice(0, 9), budget, { previous })).length, 1);
  });
});

/** mulberry32: a small seeded PRNG, so random cases replay. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("splitManifests: seeded random templates", () => {
  const budget = 20000;
  const kindNames = Object.keys(kinds) as KindName[];
  const template = (random: () => number, count: number, maxSize: number): Manifest[] =>
    Array.from({ length: count }, (_, i) =>
      sized(
        kindNames[Math.floor(random() * kindNames.length)]!,
        `m${i}`,
        200 + Math.floor(random() * (maxSize - 200)),
      ),
    );

  it("keeps every unchanged object in place under a few small changes", () => {
    let freshMoves = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const random = prng(seed);
      const manifests = template(random, 250, budget * 0.02);
      const before = ok(splitManifests(manifests, budget));
      assertInvariants(manifests, before, budget);
      const next = [...manifests];
      const touched = new Set<string>();
      const changes = 1 + Math.floor(random() * 3);
      for (let c = 0; c < changes; c++) {
        const choice = random();
        const at = Math.floor(random() * next.length);
        const victim = next[at]!;
        touched.add(objectKey(victim));
        if (choice < 0.34) {
          const kind = kindNames[Math.floor(random() * kindNames.length)]!;
          const added = sized(kind, `new${seed}-${c}`, 200 + Math.floor(random() * (budget * 0.02 - 200)));
          next.splice(at, 0, added);
        } else if (choice < 0.67) {
          next.splice(at, 1);
        } else {
          const kind = kindNames.find((k) => kinds[k][1] === victim.kind)!;
          next[at] = sized(kind, victim.metadata.name!, 200 + Math.floor(random() * (budget * 0.02 - 200)));
        }
      }
      const after = ok(splitManifests(next, budget, { previous: before.map((p) => p.manifests) }));
      assertInvariants(next, after, budget);
      const unchanged = [...placement(before).keys()].filter((k) => !touched.has(k));
      assert.deepEqual(moved(placement(before), placement(after), unchanged), [], `seed ${seed}`);
      freshMoves += moved(placement(before), placement(ok(splitManifests(next, budget))), unchanged).length;
    }
    // The same changes packed from scratch move objects: the stable split is doing the work.
    assert.ok(freshMoves > 40, `packing from scratch moved only ${freshMoves} objects`);
  });

  it("stays valid, and moves a fraction of what packing from scratch moves, under heavy changes", () => {
    let stable = 0;
    let fresh = 0;
    for (let seed = 100; seed < 130; seed++) {
      const random = prng(seed);
      const manifests = template(random, 150, budget * 0.3);
      const before = ok(splitManifests(manifests, budget));
      let next = manifests.filter(() => random() > 0.2);
      next = next.map((m) => {
        if (random() > 0.2) return m;
        const kind = kindNames.find((k) => kinds[k][1] === m.kind)!;
        return sized(kind, m.metadata.name!, 200 + Math.floor(random() * (budget * 0.3 - 200)));
      });
      const additions = Math.floor(random() * 30);
      for (let c = 0; c < additions; c++) {
        next.push(
          sized(
            kindNames[Math.floor(random() * kindNames.length)]!,
            `add${c}`,
            200 + Math.floor(random() * 3000),
          ),
        );
      }
      const previous = before.map((p) => p.manifests);
      const after = ok(splitManifests(next, budget, { previous }));
      assertInvariants(next, after, budget);
      assert.deepEqual(
        ok(splitManifests(next, budget, { previous })),
        after,
        `seed ${seed} is not deterministic`,
      );
      const original = new Set(manifests);
      const unchanged = next.filter((m) => original.has(m)).map(objectKey);
      stable += moved(placement(before), placement(after), unchanged).length;
      fresh += moved(placement(before), placement(ok(splitManifests(next, budget))), unchanged).length;
    }
    assert.ok(stable * 5 < fresh, `stable split moved ${stable} objects, packing from scratch ${fresh}`);
  });
});

describe("part names and labels", () => {
  it("keeps the base name for part 0 and suffixes the others", () => {
    assert.equal(partName("app", 0, 1), "app");
    assert.equal(partName("app", 0, 3), "app");
    assert.equal(partName("app", 2, 3), "app-part-2");
  });
  it("shortens a long base to fit 253 characters", () => {
    const name = partName(`${"a".repeat(240)}-${"b".repeat(20)}`, 11, 12);
    assert.equal(name.length <= 253, true);
    assert.ok(name.endsWith("-part-11"));
    assert.equal(partName(`${"a".repeat(245)}-bbbb`, 3, 4), `${"a".repeat(245)}-part-3`);
  });
  it("refuses a part that does not exist", () => {
    assert.throws(() => partName("app", 3, 3), RangeError);
    assert.throws(() => partName("app", -1, 3), RangeError);
    assert.throws(() => partName("app", 0, 0), RangeError);
  });
  it("hashes the template regardless of key order, and changes with it", () => {
    const spec: ManifestWorkSpec = {
      workload: { manifests: [sized("configMap", "a", 200)] },
      deleteOption: { propagationPolicy: "Orphan" },
    };
    const reordered = { deleteOption: { propagationPolicy: "Orphan" as const }, workload: spec.workload };
    assert.equal(templateHash(spec), templateHash(reordered));
    assert.match(templateHash(spec), /^[0-9a-f]{20}$/);
    assert.notEqual(
      templateHash(spec),
      templateHash({ ...spec, deleteOption: { propagationPolicy: "Foreground" } }),
    );
  });
  it("labels a part with its index, the count and the hash", () => {
    assert.deepEqual(partLabels(1, 3, "abc"), {
      "work.bosun.dev/part-index": "1",
      "work.bosun.dev/part-count": "3",
      "work.bosun.dev/template-hash": "abc",
    });
  });
});

describe("splitWorkSpec", () => {
  const manifestConfigs = [{ resourceIdentifier: { resource: "configmaps", name: "c1", namespace: "app" } }];
  it("carries a template that fits as the one work named after the base, without part labels", () => {
    const spec: ManifestWorkSpec = {
      workload: { manifests: [sized("configMap", "c1", 300)] },
      manifestConfigs,
    };
    const result = splitWorkSpec(spec, "app", 1000);
    assert.ok(result.ok);
    assert.deepEqual(result.parts, [{ name: "app", labels: {}, annotations: {}, spec, size: 300 }]);
  });
  it("gives every part the template's other fields and the same hash", () => {
    const manifests = Array.from({ length: 6 }, (_, i) => sized("configMap", `c${i}`, 300));
    const spec: ManifestWorkSpec = {
      workload: { manifests },
      manifestConfigs,
      deleteOption: { propagationPolicy: "Orphan" },
      executor: { subject: { type: "ServiceAccount", serviceAccount: { namespace: "ns", name: "sa" } } },
    };
    const result = splitWorkSpec(spec, "app", 700);
    assert.ok(result.ok);
    assert.deepEqual(
      result.parts.map((p) => p.name),
      ["app", "app-part-1", "app-part-2"],
    );
    const hash = templateHash(spec);
    result.parts.forEach((part, index) => {
      assert.deepEqual(part.labels, partLabels(index, 3, hash));
      assert.deepEqual(part.annotations, { "work.bosun.dev/part-of": "app" });
      assert.equal(part.spec.manifestConfigs, manifestConfigs);
      assert.deepEqual(part.spec.deleteOption, { propagationPolicy: "Orphan" });
      assert.equal(part.spec.executor, spec.executor);
      assert.equal(part.spec.workload?.manifests?.length, 2);
    });
    assert.deepEqual(
      result.parts.flatMap((p) => p.spec.workload!.manifests!),
      manifests,
    );
  });
  it("passes the error through", () => {
    const result = splitWorkSpec({ workload: { manifests: [sized("configMap", "c1", 3000)] } }, "app", 1000);
    assert.equal(result.ok, false);
  });
});
