import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { BosunBundleAnnotations, BosunBundleLabels } from "../../api/constants.ts";
import type { Manifest, ManifestWork, ManifestWorkReplicaSet } from "../../api/types/work.ts";
import { parseBundleRef, readBundle, type ContentObject } from "../../controllers/replicasets/bundle.ts";
import { partLabels, templateHash } from "../../controllers/work/split.ts";
import {
  ApplyInputError,
  applyManifests,
  checkDuplicates,
  deliveryProgress,
  formatResult,
  manifestFiles,
  nameFromPath,
  parseManifests,
  planApply,
  readManifests,
  runApply,
} from "./apply.ts";

const configMap = (name: string, payload = "v", namespace = "app"): Manifest => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  data: { payload },
});

const planOptions = { name: "web", namespace: "default", placement: "everywhere" };

describe("reading manifests from a file's text", () => {
  const cases: { what: string; file: string; text: string; sources?: string[]; error?: RegExp }[] = [
    {
      what: "YAML documents, empty ones skipped",
      file: "a.yaml",
      text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: app}\n",
      sources: ["a.yaml: document 1", "a.yaml: document 3"],
    },
    {
      what: "a JSON object",
      file: "b.json",
      text: JSON.stringify(configMap("c")),
      sources: ["b.json: document 1"],
    },
    {
      what: "a List's items",
      file: "list.yaml",
      text: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: b}\n",
      sources: ["list.yaml: document 1, item 1", "list.yaml: document 1, item 2"],
    },
    {
      what: "no apiVersion",
      file: "dir/x.yaml",
      text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: ConfigMap\nmetadata: {name: c}\n",
      error: /^dir\/x\.yaml: document 2: the object has no apiVersion$/,
    },
    {
      what: "no kind",
      file: "x.yaml",
      text: "apiVersion: v1\nmetadata: {name: c}\n",
      error: /^x\.yaml: document 1: the object has no kind$/,
    },
    {
      what: "no name",
      file: "x.yaml",
      text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: a}\n",
      error: /^x\.yaml: document 1: the object has no metadata.name$/,
    },
    {
      what: "generateName",
      file: "x.yaml",
      text: "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: c-}\n",
      error: /^x\.yaml: document 1: metadata.generateName is not supported/,
    },
    {
      what: "a scalar document",
      file: "x.yaml",
      text: "just text\n",
      error: /^x\.yaml: document 1: not an object$/,
    },
    {
      what: "a bad List item",
      file: "x.yaml",
      text: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n",
      error: /^x\.yaml: document 1, item 1: the object has no metadata.name$/,
    },
    {
      what: "YAML that does not parse",
      file: "x.yaml",
      text: "apiVersion: v1\nkind: [\n",
      error: /^x\.yaml: document 1: /,
    },
    {
      what: "JSON that does not parse",
      file: "x.json",
      text: "{",
      error: /^x\.json: not JSON: /,
    },
  ];
  for (const { what, file, text, sources, error } of cases) {
    test(what, () => {
      if (error) {
        assert.throws(
          () => parseManifests(text, file),
          (thrown: unknown) => {
            assert.ok(thrown instanceof ApplyInputError);
            assert.match(thrown.message, error);
            return true;
          },
        );
      } else {
        assert.deepEqual(
          parseManifests(text, file).map((m) => m.source),
          sources,
        );
      }
    });
  }
});

describe("duplicates", () => {
  const sourced = (manifest: Manifest, source: string) => ({ manifest, source });
  const cases: { what: string; list: ReturnType<typeof sourced>[]; error?: RegExp }[] = [
    {
      what: "the same object twice, naming both places",
      list: [
        sourced(configMap("c"), "a.yaml: document 1"),
        sourced(configMap("c", "other"), "b.yaml: document 4"),
      ],
      error: /^b\.yaml: document 4: v1 ConfigMap app\/c is already in a\.yaml: document 1$/,
    },
    {
      what: "one object under two versions of its group",
      list: [
        sourced({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "a" } }, "1"),
        sourced(
          { apiVersion: "apps/v1beta2", kind: "Deployment", metadata: { name: "d", namespace: "a" } },
          "2",
        ),
      ],
      error: /^2: apps\/v1beta2 Deployment a\/d is already in 1$/,
    },
    {
      what: "same name in other namespaces or kinds is fine",
      list: [
        sourced(configMap("c", "v", "a"), "1"),
        sourced(configMap("c", "v", "b"), "2"),
        sourced({ apiVersion: "v1", kind: "Secret", metadata: { name: "c", namespace: "a" } }, "3"),
      ],
    },
  ];
  for (const { what, list, error } of cases) {
    test(what, () => {
      if (error) assert.throws(() => checkDuplicates(list), { name: "ApplyInputError", message: error });
      else checkDuplicates(list);
    });
  }
});

describe("reading files and directories", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bosun-apply-test-"));
    await mkdir(join(dir, "bundle", "b-sub"), { recursive: true });
    await mkdir(join(dir, "empty"));
    const ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n";
    await writeFile(join(dir, "bundle", "10-ns.yaml"), ns);
    await writeFile(join(dir, "bundle", "b-sub", "cm.json"), JSON.stringify(configMap("from-json")));
    await writeFile(
      join(dir, "bundle", "a.yml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yml, namespace: app}\n",
    );
    await writeFile(join(dir, "bundle", "README.md"), "not a manifest");
    await writeFile(join(dir, "single.txt"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n");
    await writeFile(join(dir, "dup.yaml"), ns);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test("a directory's manifest files, recursively, in sorted order; a file as given", async () => {
    const files = await manifestFiles([join(dir, "bundle"), join(dir, "single.txt")]);
    assert.deepEqual(
      files.map((file) => file.slice(dir.length + 1)),
      ["bundle/10-ns.yaml", "bundle/a.yml", "bundle/b-sub/cm.json", "single.txt"],
    );
    const manifests = await readManifests([join(dir, "bundle")]);
    assert.deepEqual(
      manifests.map((m) => m.manifest.metadata.name),
      ["app", "from-yml", "from-json"],
    );
  });

  test("a missing path, a directory without manifests and a duplicate across files are refused", async () => {
    await assert.rejects(readManifests([join(dir, "nope")]), /nope: cannot be read/);
    await assert.rejects(
      readManifests([join(dir, "empty")]),
      /empty: no \*\.yaml, \*\.yml or \*\.json files/,
    );
    await assert.rejects(
      readManifests([join(dir, "bundle"), join(dir, "dup.yaml")]),
      /dup\.yaml: document 1: v1 Namespace app is already in .*10-ns\.yaml: document 1/,
    );
  });

  test("runApply with dryRun reads the files and prints what it would write", async () => {
    const printed: string[] = [];
    const result = await runApply(
      undefined,
      { ...planOptions, files: [join(dir, "bundle")], dryRun: true, output: "yaml" },
      { write: (text) => printed.push(text) },
    );
    assert.equal(result.manifests, 3);
    const list = parse(printed.join("")) as { items: ManifestWorkReplicaSet[] };
    assert.equal(list.items.length, 1);
    assert.equal(list.items[0]!.kind, "ManifestWorkReplicaSet");
    assert.equal(list.items[0]!.spec?.manifestWorkTemplate?.workload?.manifests?.length, 3);
  });
});

describe("a replica set name from a path", () => {
  const cases: [string, string][] = [
    ["web", "web"],
    ["./deploy/Web_App/", "web-app"],
    ["bundle.yaml", "bundle"],
    ["/tmp/x/my.bundle.json", "my-bundle"],
    ["___", ""],
    [`${"a".repeat(70)}.yaml`, "a".repeat(63)],
  ];
  for (const [path, name] of cases) {
    test(`${path} → ${JSON.stringify(name)}`, () => assert.equal(nameFromPath(path), name));
  }
});

describe("the plan", () => {
  test("small: the manifests inline, rollout All, no annotation", () => {
    const manifests = [configMap("a"), configMap("b")];
    const plan = planApply(manifests, planOptions);
    assert.equal(plan.bundle, undefined);
    assert.deepEqual(plan.replicaSet, {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      metadata: { name: "web", namespace: "default" },
      spec: {
        placementRefs: [{ name: "everywhere", rolloutStrategy: { type: "All" } }],
        manifestWorkTemplate: { workload: { manifests } },
        cascadeDeletionPolicy: "Background",
      },
    });
    assert.equal(plan.manifests, 2);
  });

  test("over the inline limit: a bundle named in the annotation, the template empty", () => {
    const manifests = Array.from({ length: 30 }, (_, i) => configMap(`c${i}`, String(i).repeat(100)));
    const plan = planApply(manifests, {
      ...planOptions,
      inlineLimitBytes: 1000,
      pack: { maxContentBytes: 300 },
    });
    assert.ok(plan.bundle);
    assert.ok(plan.bundle.chunks.length > 1, `${plan.bundle.chunks.length} content objects`);
    const annotation = plan.replicaSet.metadata.annotations?.[BosunBundleAnnotations.content] ?? "";
    assert.deepEqual(parseBundleRef(annotation), {
      ok: true,
      value: { hash: plan.bundle.hash, count: plan.bundle.chunks.length },
    });
    assert.deepEqual(plan.replicaSet.spec?.manifestWorkTemplate, { workload: { manifests: [] } });
    assert.ok(plan.bytes > 1000);
  });

  const refused: { what: string; manifests: Manifest[]; options: object; error: RegExp }[] = [
    {
      what: "a manifest no content object holds",
      manifests: [configMap("a"), configMap("huge", "z".repeat(5000))],
      options: { inlineLimitBytes: 10, pack: { maxContentBytes: 100_000, maxInflatedBytes: 1000 } },
      error: /^manifest 1 \(v1 ConfigMap app\/huge\) is \d+ bytes of JSON/,
    },
    {
      what: "a bundle whose name is no label value",
      manifests: [configMap("a", "x".repeat(200))],
      options: { name: "n".repeat(64), inlineLimitBytes: 10 },
      error: /at most 63 characters.*choose one with --name$/,
    },
    {
      what: "--max-concurrency without Progressive",
      manifests: [configMap("a")],
      options: { maxConcurrency: "2" },
      error: /--max-concurrency needs --rollout Progressive/,
    },
    {
      what: "a bad --max-concurrency",
      manifests: [configMap("a")],
      options: { rollout: "Progressive", maxConcurrency: "0" },
      error: /count or a percentage/,
    },
  ];
  for (const { what, manifests, options, error } of refused) {
    test(`refused: ${what}`, () => {
      assert.throws(
        () => planApply(manifests, { ...planOptions, ...options }),
        (thrown: unknown) => {
          assert.ok(thrown instanceof ApplyInputError);
          assert.match(thrown.message, error);
          return true;
        },
      );
    });
  }

  const rollouts: { options: object; strategy: object }[] = [
    { options: { rollout: "Progressive" }, strategy: { type: "Progressive", progressive: {} } },
    {
      options: { rollout: "Progressive", maxConcurrency: "3" },
      strategy: { type: "Progressive", progressive: { maxConcurrency: 3 } },
    },
    {
      options: { rollout: "Progressive", maxConcurrency: "25%" },
      strategy: { type: "Progressive", progressive: { maxConcurrency: "25%" } },
    },
  ];
  for (const { options, strategy } of rollouts) {
    test(`rollout ${JSON.stringify(options)}`, () => {
      const plan = planApply([configMap("a")], { ...planOptions, ...options });
      assert.deepEqual(plan.replicaSet.spec?.placementRefs[0]?.rolloutStrategy, strategy);
    });
  }
});

describe("a dry run", () => {
  const manifests = Array.from({ length: 30 }, (_, i) => configMap(`c${i}`, String(i).repeat(100)));
  const options = { ...planOptions, inlineLimitBytes: 1000, pack: { maxContentBytes: 300 }, dryRun: true };

  test("reports the replica set and its content objects, which read back as the manifests", async () => {
    const result = await applyManifests(undefined, manifests, options);
    assert.equal(result.objects[0]!.kind, "ManifestWorkReplicaSet");
    assert.ok(result.objects.every((object) => object.action === "dry run"));
    const contents = result.written.slice(1) as ContentObject[];
    assert.equal(contents.length, result.objects.length - 1);
    for (const object of contents) assert.equal(object.metadata.labels?.[BosunBundleLabels.bundle], "web");
    const ref = parseBundleRef(result.written[0]!.metadata.annotations![BosunBundleAnnotations.content]!);
    assert.ok(ref.ok);
    assert.deepEqual(readBundle(ref.value, contents, { bundle: "web", namespace: "default" }), {
      ok: true,
      manifests,
    });
  });

  test("the table names every object; yaml and json print them as a List", async () => {
    const result = await applyManifests(undefined, manifests, options);
    const table = formatResult(result, "table").split("\n");
    assert.match(
      table[0]!,
      new RegExp(
        `^ManifestWorkReplicaSet default/web: 30 manifests, [\\d.]+ KiB, bundled in ${contents(result)} content objects \\(bundle ${result.bundle}\\)$`,
      ),
    );
    assert.match(table[1]!, /^OBJECT\s+ACTION\s+MANIFESTS\s+BYTES$/);
    assert.match(table[2]!, /^manifestworkreplicaset\/web\s+dry run\s+30\s+\d+$/);
    assert.match(table[3]!, new RegExp(`^configmap/web-${result.bundle}-0\\s+dry run\\s+\\d+\\s+\\d+$`));
    for (const output of ["yaml", "json"] as const) {
      const text = formatResult(result, output);
      const list = (output === "json" ? JSON.parse(text) : parse(text)) as { kind: string; items: unknown[] };
      assert.equal(list.kind, "List");
      assert.equal(list.items.length, result.written.length);
    }
  });
  const contents = (result: { objects: { kind: string }[] }) =>
    result.objects.filter((object) => object.kind === "ConfigMap").length;
});

describe("delivery progress", () => {
  const template = { workload: { manifests: [] as Manifest[] } };
  const bundled = [configMap("a"), configMap("b")];
  const whole = { workload: { manifests: bundled } };
  const hash = templateHash(whole);
  const replicaSet: ManifestWorkReplicaSet = {
    apiVersion: "work.open-cluster-management.io/v1alpha1",
    kind: "ManifestWorkReplicaSet",
    metadata: { name: "web", namespace: "default" },
    spec: {
      placementRefs: [{ name: "p" }],
      manifestWorkTemplate: template,
      cascadeDeletionPolicy: "Background",
    },
    status: {
      summary: { desiredTotal: 2 },
      conditions: [
        {
          type: "ManifestworkApplied",
          status: "False",
          reason: "BundleContentMissing",
          message: "bundle content 1/2 missing",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    },
  };
  const work = (
    cluster: string,
    spec: object,
    applied: boolean,
    labels: Record<string, string> = {},
    name = "web",
  ): ManifestWork => ({
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "ManifestWork",
    metadata: { name, namespace: cluster, generation: 2, labels },
    spec,
    status: {
      conditions: applied
        ? [
            {
              type: "Applied",
              status: "True",
              reason: "r",
              message: "",
              observedGeneration: 2,
              lastTransitionTime: "2026-01-01T00:00:00Z",
            },
          ]
        : [],
    },
  });
  const cases: { what: string; works: ManifestWork[]; applied: number }[] = [
    { what: "nothing written yet", works: [], applied: 0 },
    {
      what: "one cluster applied, one not yet",
      works: [work("c1", whole, true), work("c2", whole, false)],
      applied: 1,
    },
    {
      what: "both applied, but one with the old template",
      works: [work("c1", whole, true), work("c2", { workload: { manifests: [configMap("old")] } }, true)],
      applied: 1,
    },
    {
      what: "parts of the template's hash, all applied",
      works: [
        work("c1", {}, true, partLabels(0, 2, hash), "web"),
        work("c1", {}, true, partLabels(1, 2, hash), "web-part-1"),
        work("c2", whole, true),
      ],
      applied: 2,
    },
  ];
  for (const { what, works, applied } of cases) {
    test(`${what}: ${applied}/2`, () => {
      const progress = deliveryProgress(replicaSet, bundled, works, hash);
      assert.deepEqual(progress, {
        clusters: 2,
        applied,
        works: works.length,
        message: "BundleContentMissing: bundle content 1/2 missing",
      });
    });
  }
});
