import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findResults, goFormat, GoNumber, goTypeName, parseTemplate } from "./jsonpath.ts";

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", labels: { "app.kubernetes.io/name": "web", tier: "front" } },
  status: {
    phase: "Running",
    conditions: [
      { type: "Ready", status: "True" },
      { type: "PodScheduled", status: "True" },
      { type: "Initialized", status: "False" },
    ],
    containerStatuses: [
      { name: "a", restartCount: 0, ready: true },
      { name: "b", restartCount: 3, ready: false },
    ],
    ratio: 0.5,
    nothing: null,
  },
};

function evaluate(template: string, data: unknown = pod, allowMissingKeys = true): unknown {
  const parsed = parseTemplate(template);
  if (!parsed.ok) return { parseError: parsed.error };
  const found = findResults(parsed.template, data, { allowMissingKeys });
  return found.ok ? found.results : { error: found.error };
}

describe("jsonpath: results", () => {
  const cases: [string, string, unknown][] = [
    ["dotted field", "{.status.phase}", [["Running"]]],
    ["whole list", "{.status.conditions}", [[pod.status.conditions]]],
    ["index", "{.status.conditions[1].type}", [["PodScheduled"]]],
    ["negative index", "{.status.conditions[-1].type}", [["Initialized"]]],
    ["slice", "{.status.conditions[0:2].type}", [["Ready", "PodScheduled"]]],
    ["slice with step", "{.status.conditions[::2].type}", [["Ready", "Initialized"]]],
    ["star index", "{.status.conditions[*].status}", [["True", "True", "False"]]],
    ["star field", "{.metadata.labels.*}", [["web", "front"]]],
    ["filter ==", '{.status.conditions[?(@.type=="Ready")].status}', [["True"]]],
    ["filter !=", '{.status.conditions[?(@.status!="True")].type}', [["Initialized"]]],
    ["filter on a number", "{.status.containerStatuses[?(@.restartCount>0)].name}", [["b"]]],
    ["filter on a bool", "{.status.containerStatuses[?(@.ready==true)].name}", [["a"]]],
    ["filter exists", "{.status.containerStatuses[?(@.restartCount)].name}", [["a", "b"]]],
    ["filter with spaces", '{.status.conditions[?(@.type == "Ready")].status }', [["True"]]],
    ["dictionary key", "{.metadata.labels['tier']}", [["front"]]],
    ["escaped dot in a key", "{.metadata.labels.app\\.kubernetes\\.io/name}", [["web"]]],
    ["union of indexes", "{.status.conditions[0,2].type}", [["Ready", "Initialized"]]],
    ["union of keys", "{.metadata['name','kind']}", [["p"]]],
    ["recursive descent", "{..restartCount}", [[0, 3]]],
    ["missing field", "{.status.nope}", [[]]],
    ["field of a scalar", "{.status.phase.length}", [[]]],
    ["null value", "{.status.nothing}", [[null]]],
    ["below null", "{.status.nothing.x}", [[]]],
    ["empty slice", "{.status.conditions[1:1]}", [[]]],
    ["literal text around an action", "phase={.status.phase}", [["phase="], ["Running"]]],
    ["quoted literal", '{"a\\tb"}', [["a\tb"]]],
    ["root", "{$.kind}", [["Pod"]]],
  ];
  for (const [name, template, expected] of cases) {
    it(name, () => assert.deepEqual(evaluate(template), expected));
  }

  it("template numbers keep Go's int and float64 kinds", () => {
    assert.deepEqual(evaluate("{1}"), [[new GoNumber("int", 1)]]);
    assert.deepEqual(evaluate("{1.5}"), [[new GoNumber("float64", 1.5)]]);
  });

  it("a missing field is an error without allowMissingKeys", () => {
    assert.deepEqual(evaluate("{.status.nope}", pod, false), { error: "nope is not found" });
  });
});

describe("jsonpath: evaluation errors", () => {
  const cases: [string, string, string][] = [
    ["index out of range", "{.status.conditions[5]}", "array index out of bounds: index 5, length 3"],
    ["end out of range", "{.status.conditions[0:9]}", "array index out of bounds: index 8, length 3"],
    ["reversed slice", "{.status.conditions[2:1]}", "starting index 2 is greater than ending index 1"],
    ["index on a map", "{.status[0]}", "map[string]interface {} is not array or slice"],
    ["index on a string", "{.status.phase[0]}", "string is not array or slice"],
    [
      "filter on a map",
      '{.metadata[?(@.x=="y")]}',
      "map[labels:map[app.kubernetes.io/name:web tier:front] name:p] is not array or slice and cannot be filtered",
    ],
    [
      "filter on null",
      '{.status.nothing[?(@.x=="y")]}',
      "<invalid reflect.Value> is not array or slice and cannot be filtered",
    ],
    [
      "incompatible comparison",
      '{.status.containerStatuses[?(@.restartCount=="3")]}',
      "incompatible types for comparison",
    ],
    [
      "int64 against a float literal",
      "{.status.containerStatuses[?(@.restartCount==3.0)]}",
      "incompatible types for comparison",
    ],
    ["unknown operator", '{.status.conditions[?(@.type="Ready")]}', "unrecognized filter operator ="],
    ["bool ordering", "{.status.containerStatuses[?(@.ready<true)]}", "invalid type for comparison"],
    ["identifier", "{status.phase}", "unrecognized identifier status"],
    ["range", "{range .status.conditions[*]}{.type}{end}", "range and end are not supported"],
  ];
  for (const [name, template, error] of cases) {
    it(name, () => assert.deepEqual(evaluate(template), { error }));
  }
});

describe("jsonpath: parse errors", () => {
  const cases: [string, string, string][] = [
    ["unclosed action", "{.status", "unclosed action"],
    ["unterminated array", "{.status[0}", "unterminated array"],
    ["invalid index", "{.status[a]}", "invalid array index a"],
    ["unterminated filter", "{.a[?(@.b}", "unterminated filter"],
    ["filter without ]", "{.a[?(@.b)x}", "unclosed array expect ]"],
    ["unterminated string", '{"abc}', "unterminated quoted string"],
    ["bad escape", '{"\\q"}', 'unquote string "\\q" error invalid syntax'],
    ["bad number", "{-}", "cannot parse number -"],
    ["unexpected character", "{#}", "unrecognized character in action: U+0023 '#'"],
  ];
  for (const [name, template, error] of cases) {
    it(name, () => assert.deepEqual(evaluate(template), { parseError: error }));
  }
});

describe("jsonpath: Go names of values", () => {
  const cases: [unknown, string, string][] = [
    [3, "int64", "3"],
    [0.5, "float64", "0.5"],
    [1e21, "float64", "1e+21"],
    [new GoNumber("int", 2), "int", "2"],
    ["s", "string", "s"],
    [true, "bool", "true"],
    [null, "<nil>", "<nil>"],
    [[1, "a"], "[]interface {}", "[1 a]"],
    [{ b: 1, a: [true] }, "map[string]interface {}", "map[a:[true] b:1]"],
  ];
  for (const [value, type, printed] of cases) {
    it(`${JSON.stringify(value)} is ${type}`, () => {
      assert.equal(goTypeName(value), type);
      assert.equal(goFormat(value), printed);
    });
  }
});
