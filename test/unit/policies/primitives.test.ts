import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { objectDiff, unifiedDiff } from "../../../policies/diff.ts";
import { filepathMatch } from "../../../policies/glob.ts";
import { goFloat, goSprint } from "../../../policies/gofmt.ts";
import { toYamlV2, toYamlV3 } from "../../../policies/goyaml.ts";
import { compileLabelSelector, parseLabelSelector } from "../../../policies/labels.ts";
import { parseKubeYaml } from "../../../policies/yaml.ts";

describe("goSprint renders values as Go's fmt.Sprint of decoded JSON", () => {
  const cases: [unknown, string][] = [
    ["text", "text"],
    [80, "80"],
    [1.5, "1.5"],
    [true, "true"],
    [null, "<nil>"],
    [undefined, "<nil>"],
    [["a", 1, null], "[a 1 <nil>]"],
    [{ b: 2, a: { c: "x" } }, "map[a:map[c:x] b:2]"],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} → ${expected}`, () => assert.equal(goSprint(value), expected));
  }
  it("prints large and small floats with Go's exponent form", () => {
    assert.equal(goFloat(1234567.5), "1.2345675e+06");
    assert.equal(goFloat(0.00001), "1e-05");
    assert.equal(goFloat(123456.7), "123456.7");
  });
});

describe("filepathMatch follows Go's filepath.Match", () => {
  const cases: [string, string, boolean][] = [
    ["*", "default", true],
    ["kube-*", "kube-system", true],
    ["kube-*", "default", false],
    ["fa?e", "fake", true],
    ["fa?e", "faake", false],
    ["test[1-3]", "test2", true],
    ["test[1-3]", "test4", false],
    ["test[^1-3]", "test4", true],
    ["a\\*b", "a*b", true],
    ["a\\*b", "axb", false],
    ["[a-]", "-", false],
  ];
  for (const [pattern, name, expected] of cases.slice(0, -1)) {
    it(`${pattern} ${expected ? "matches" : "does not match"} ${name}`, () =>
      assert.equal(filepathMatch(pattern, name), expected));
  }
  for (const bad of ["kube-[system", "[]", "a\\", "[a-]", "[^]"]) {
    it(`"${bad}" is a syntax error`, () =>
      assert.throws(() => filepathMatch(bad, "x"), /syntax error in pattern/));
  }
});

describe("label selectors validate and match as Kubernetes does", () => {
  it("matches labels and expressions", () => {
    const matcher = compileLabelSelector({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["a", "b"] },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    });
    assert.ok(matcher({ app: "web", tier: "a" }));
    assert.ok(!matcher({ app: "web", tier: "c" }));
    assert.ok(!matcher({ app: "web", tier: "a", legacy: "" }));
  });
  it("selects nothing without a selector and everything with an empty one", () => {
    assert.ok(!compileLabelSelector(undefined)({ a: "b" }));
    assert.ok(compileLabelSelector({})({ a: "b" }));
  });
  const errors: [unknown, string][] = [
    [
      { matchExpressions: [{ key: "a", operator: "In" }] },
      "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] },
      'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
    ],
    [{ matchExpressions: [{ key: "a", operator: "Foo" }] }, '"Foo" is not a valid label selector operator'],
    [
      { matchLabels: { "bad key!": "x" } },
      "key: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ],
  ];
  for (const [selector, message] of errors) {
    it(`rejects ${JSON.stringify(selector)}`, () =>
      assert.throws(() => compileLabelSelector(selector as never), { message }));
  }
  it("parses the string form used by lookup", () => {
    const matcher = parseLabelSelector("app=web,tier in (a, b),!legacy");
    assert.ok(matcher({ app: "web", tier: "b" }));
    assert.ok(!matcher({ app: "web", tier: "b", legacy: "1" }));
    assert.ok(parseLabelSelector("is-hub")({ "is-hub": "" }));
    assert.ok(!parseLabelSelector("is-hub")({}));
  });
});

describe("YAML is read as kubectl reads it", () => {
  it("treats yes/on as booleans but keeps timestamps, e8 and 1:30 as strings", () => {
    const [document] = parseKubeYaml(
      "a: yes\nb: on\nc: 2024-01-01T00:00:00Z\nd: e8\ne: 1:30\nf: 0777\ng: 1e3\n",
    );
    assert.deepEqual(document!.value, {
      a: true,
      b: true,
      c: "2024-01-01T00:00:00Z",
      d: "e8",
      e: "1:30",
      f: 511,
      g: 1000,
    });
  });
  it("reports the document of a syntax error", () => {
    assert.throws(() => parseKubeYaml("a: 1\n---\nb: [\n"), /document 2/);
  });
});

describe("Go YAML writers", () => {
  const value = {
    spec: { containers: [{ name: "a", image: "{{ x }}" }] },
    data: { n: "80", multi: "a\nb\n", on: "yes" },
  };
  it("writes yaml.v3 text with indented sequences and sorted keys", () => {
    assert.equal(
      toYamlV3(value),
      'data:\n  multi: |\n    a\n    b\n  "n": "80"\n  "on": "yes"\nspec:\n  containers:\n    - image: \'{{ x }}\'\n      name: a\n',
    );
  });
  it("writes sigs.k8s.io/yaml text with sequences at their key's indentation", () => {
    assert.equal(toYamlV2({ spec: { containers: [{ name: "a" }] } }), "spec:\n  containers:\n  - name: a\n");
  });
});

describe("diffs", () => {
  it("is a unified diff with five lines of context", () => {
    const a = ["1\n", "2\n", "3\n", "4\n", "5\n", "6\n", "7\n", "8\n", "9\n"];
    const b = ["1\n", "x\n", "3\n", "4\n", "5\n", "6\n", "7\n", "8\n", "9\n"];
    assert.equal(
      unifiedDiff(a, b, "a", "b"),
      "--- a\n+++ b\n@@ -1,7 +1,7 @@\n 1\n-2\n+x\n 3\n 4\n 5\n 6\n 7\n",
    );
  });
  it("names the object and truncates long diffs to 50 lines", () => {
    const existing = { apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } };
    const annotations: Record<string, string> = {};
    for (let i = 1; i <= 60; i++) annotations[`message${i}`] = "message";
    const diff = objectDiff(existing, { ...existing, metadata: { name: "default", annotations } });
    assert.ok(diff.startsWith("# Truncated: showing 50/"), diff.slice(0, 60));
    assert.ok(diff.includes("--- default : existing\n+++ default : updated\n"));
    assert.equal(diff.split("\n").length, 54);
  });
});
