import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compileLabelSelector,
  labelKeyErrors,
  labelSelectorString,
  labelValueErrors,
  mapLookup,
  matches,
  matchesLabels,
  parseSelector,
  requirementMessage,
  requirementProblems,
  selectorString,
  type Operator,
  type RequirementProblem,
} from "./selectors.ts";
import type { LabelSelector } from "./types/meta.ts";

const nameRegex =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const valueRegex =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe("label keys and values", () => {
  const keys: [string, string[]][] = [
    ["app", []],
    ["example.com/app", []],
    ["a".repeat(63), []],
    ["a".repeat(64), ["name part must be no more than 63 bytes"]],
    ["-bad", [nameRegex]],
    ["", ["name part must be non-empty", nameRegex]],
    ["/b", ["prefix part must be non-empty"]],
    ["example.com/", ["name part must be non-empty", nameRegex]],
    [
      "Ex.com/b",
      [
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    [
      "a/b/c",
      [
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
    ],
  ];
  for (const [key, errors] of keys) {
    it(`key ${JSON.stringify(key)}`, () => assert.deepEqual(labelKeyErrors(key), errors));
  }
  const values: [string, string[]][] = [
    ["", []],
    ["web-1.a_b", []],
    ["a".repeat(64), ["must be no more than 63 bytes"]],
    ["not ok", [valueRegex]],
    ["-x", [valueRegex]],
  ];
  for (const [value, errors] of values) {
    it(`value ${JSON.stringify(value)}`, () => assert.deepEqual(labelValueErrors(value), errors));
  }
});

describe("requirements are validated as labels.NewRequirement does", () => {
  const cases: [string, Operator, string[], string | undefined][] = [
    ["a", "in", ["x"], undefined],
    ["a", "in", [], "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"],
    ["a", "notin", [], "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"],
    [
      "a",
      "exists",
      ["x"],
      'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
    ],
    ["a", "!", [], undefined],
    [
      "a",
      "=",
      ["x", "y"],
      'values: Invalid value: ["x","y"]: exact-match compatibility requires one single value',
    ],
    ["a", "gt", ["1"], undefined],
    [
      "a",
      "lt",
      ["x"],
      "values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
    [
      "a",
      "gt",
      ["1", "2"],
      "values: Invalid value: [\"1\",\"2\"]: for 'Gt', 'Lt' operators, exactly one value is required",
    ],
    // Go's json.Marshal escapes HTML characters in the bad value
    [
      "a",
      "exists",
      ["<&>"],
      `[values: Invalid value: ["\\u003c\\u0026\\u003e"]: values set must be empty for exists and does not exist, values[0]: Invalid value: "<&>": ${valueRegex}]`,
    ],
    ["a", "in", ["x", "not ok"], `values[1]: Invalid value: "not ok": ${valueRegex}`],
    ["bad key!", "exists", [], `key: Invalid value: "bad key!": ${nameRegex}`],
    // every problem, aggregated
    [
      "-bad",
      "in",
      [],
      `[key: Invalid value: "-bad": ${nameRegex}, values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty]`,
    ],
  ];
  for (const [key, operator, values, message] of cases) {
    it(`${key} ${operator} ${JSON.stringify(values)}`, () => {
      const problems = requirementProblems({ key, operator, values });
      assert.equal(problems.length > 0 ? requirementMessage(problems) : undefined, message);
    });
  }
});

describe("compileLabelSelector follows LabelSelectorAsSelector", () => {
  // Which of these label sets each selector selects, by index.
  const labelSets: Record<string, string>[] = [
    {},
    { env: "prod", tier: "gold", gpu: "" },
    { env: "dev", tier: "silver" },
    { env: "prod", zone: "a" },
  ];
  const cases: [unknown, number[]][] = [
    [{}, [0, 1, 2, 3]],
    [{ matchLabels: { env: "prod" } }, [1, 3]],
    [{ matchLabels: { gpu: "" } }, [1]],
    [{ matchExpressions: [{ key: "tier", operator: "In", values: ["gold", "silver"] }] }, [1, 2]],
    [{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["gold"] }] }, [0, 2, 3]],
    [{ matchExpressions: [{ key: "gpu", operator: "Exists" }] }, [1]],
    [{ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, [0, 1, 2]],
    [{ matchLabels: { env: "prod" }, matchExpressions: [{ key: "zone", operator: "Exists" }] }, [3]],
  ];
  for (const [selector, selected] of cases) {
    it(`${JSON.stringify(selector)} selects ${JSON.stringify(selected)}`, () => {
      const compiled = compileLabelSelector(selector);
      assert.ok(compiled.ok);
      const byRecord = labelSets.flatMap((labels, i) =>
        matchesLabels(compiled.selector, labels) ? [i] : [],
      );
      const byLookup = labelSets.flatMap((labels, i) =>
        matches(compiled.selector, mapLookup(new Map(Object.entries(labels)))) ? [i] : [],
      );
      assert.deepEqual(byRecord, selected);
      assert.deepEqual(byLookup, selected);
    });
  }

  const invalid: [string, unknown, string, string, RequirementProblem["kind"] | "operator" | "shape"][] = [
    ["not an object", [], "", "the label selector must be an object", "shape"],
    [
      "matchLabels not a map",
      { matchLabels: ["a"] },
      "matchLabels",
      "matchLabels must be a map of strings",
      "shape",
    ],
    [
      "matchExpressions not a list",
      { matchExpressions: {} },
      "matchExpressions",
      "matchExpressions must be a list",
      "shape",
    ],
    [
      "unknown operator",
      { matchExpressions: [{ key: "a", operator: "Foo" }] },
      "matchExpressions[0]",
      '"Foo" is not a valid label selector operator',
      "operator",
    ],
    // the operator is checked before the key, as Kubernetes does
    [
      "unknown operator and bad key",
      { matchExpressions: [{ key: "-bad", operator: "Near" }] },
      "matchExpressions[0]",
      '"Near" is not a valid label selector operator',
      "operator",
    ],
    [
      "missing operator",
      { matchExpressions: [{ key: "a" }] },
      "matchExpressions[0]",
      '"" is not a valid label selector operator',
      "operator",
    ],
    [
      "bad matchLabels value",
      { matchLabels: { a: "not ok" } },
      "matchLabels[a]",
      `values[0]: Invalid value: "not ok": ${valueRegex}`,
      "value",
    ],
    [
      "first bad matchLabels key in key order",
      { matchLabels: { "z!": "x", "b!": "x" } },
      "matchLabels[b!]",
      `key: Invalid value: "b!": ${nameRegex}`,
      "key",
    ],
    [
      "Exists with values",
      {
        matchExpressions: [
          { key: "a", operator: "Exists" },
          { key: "b", operator: "Exists", values: ["x"] },
        ],
      },
      "matchExpressions[1]",
      'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
      "values",
    ],
  ];
  for (const [name, selector, path, message, kind] of invalid) {
    it(`rejects: ${name}`, () => {
      const compiled = compileLabelSelector(selector);
      assert.ok(!compiled.ok);
      assert.equal(compiled.error.path, path);
      assert.equal(compiled.error.message, message);
      const found =
        compiled.error.operator !== undefined ? "operator" : (compiled.error.problems[0]?.kind ?? "shape");
      assert.equal(found, kind);
    });
  }
});

describe("the string form", () => {
  const written: [LabelSelector, string][] = [
    [{}, ""],
    [{ matchLabels: { b: "2", a: "1" } }, "a=1,b=2"],
    // by key, as Selector.String() sorts them; values sorted
    [
      {
        matchLabels: { b: "2", a: "1" },
        matchExpressions: [
          { key: "t", operator: "NotIn", values: ["y", "x"] },
          { key: "e", operator: "Exists" },
          { key: "d", operator: "DoesNotExist" },
          { key: "a", operator: "In", values: ["z"] },
        ],
      },
      "a=1,a in (z),b=2,!d,e,t notin (x,y)",
    ],
  ];
  for (const [selector, text] of written) {
    it(`writes ${JSON.stringify(text)}`, () => assert.equal(labelSelectorString(selector), text));
  }

  const parsed: [string, string, Record<string, string>, boolean][] = [
    // text, written back, labels, matches
    ["", "", { a: "b" }, true],
    ["  ", "", {}, true],
    ["app=web,tier in (a, b),!legacy", "app=web,!legacy,tier in (a,b)", { app: "web", tier: "b" }, true],
    [
      "app=web,tier in (a, b),!legacy",
      "app=web,!legacy,tier in (a,b)",
      { app: "web", tier: "b", legacy: "1" },
      false,
    ],
    ["is-hub", "is-hub", { "is-hub": "" }, true],
    ["is-hub", "is-hub", {}, false],
    ["a==b", "a==b", { a: "b" }, true],
    ["a!=b", "a!=b", {}, true],
    ["a=", "a=", { a: "" }, true],
    ["a = b", "a=b", { a: "b" }, true],
    ["a notin (x),b", "a notin (x),b", { b: "1" }, true],
    ["a in (x,y,z)", "a in (x,y,z)", { a: "y" }, true],
    ["a>1", "a>1", { a: "2" }, true],
    ["a>1", "a>1", { a: "x" }, false],
    ["a<5", "a<5", { a: "-5" }, true],
    ["example.com/a=b", "example.com/a=b", { "example.com/a": "b" }, true],
  ];
  for (const [text, back, labels, want] of parsed) {
    it(`reads ${JSON.stringify(text)} against ${JSON.stringify(labels)}`, () => {
      const result = parseSelector(text);
      assert.ok(result.ok);
      assert.equal(selectorString(result.selector), back);
      assert.equal(matchesLabels(result.selector, labels), want);
    });
  }

  const errors: [string, string][] = [
    ["a=b,", "found '', expected: identifier after ','"],
    ["a b", "found 'b', expected: ',' or 'end of string'"],
    ["x=a b", "found 'b', expected: ',' or 'end of string'"],
    ["(", "unable to parse requirement: found '(', expected: identifier"],
    [
      "a in ()",
      "unable to parse requirement: values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty",
    ],
    [
      "a>x",
      "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
    ["a-=b", `unable to parse requirement: key: Invalid value: "a-": ${nameRegex}`],
  ];
  for (const [text, message] of errors) {
    it(`rejects ${JSON.stringify(text)}`, () =>
      assert.deepEqual(parseSelector(text), { ok: false, message }));
  }
});
