import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSpecHash, goValueString } from "./spec-hash.ts";

// Expected texts and hashes come from Go: fmt.Sprintf("%v", &unstructured.Unstructured{...})
// on the same JSON, numbers decoded as int64 when integral and float64 otherwise.
describe("goValueString", () => {
  const cases: [string, unknown, string][] = [
    ["a string is bare", "with space", "with space"],
    ["null", null, "<nil>"],
    ["booleans", [true, false], "[true false]"],
    ["integers", [0, -42, 3], "[0 -42 3]"],
    ["fractions in fixed notation", [1.5, -2.25, 0.0001, 123456.5], "[1.5 -2.25 0.0001 123456.5]"],
    ["fractions in exponent notation", [0.00001, 1e-7, 1234567.5], "[1e-05 1e-07 1.2345675e+06]"],
    ["an empty map and list", { e: {}, l: [] }, "map[e:map[] l:[]]"],
    ["keys in byte order", { a: 1, Z: 2, _: 3, "1": 4, é: 5 }, "map[1:4 Z:2 _:3 a:1 é:5]"],
    ["nesting", { l: [1, "two", null, { a: [] }] }, "map[l:[1 two <nil> map[a:[]]]]"],
    ["undefined keys are absent", { a: 1, b: undefined }, "map[a:1]"],
  ];
  for (const [name, value, expected] of cases) {
    it(name, () => assert.equal(goValueString(value), expected));
  }
});

describe("configSpecHash", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "a ConfigMap",
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "cm", namespace: "default", labels: { b: "2", a: "1" } },
        data: { k: "v" },
      },
      "367102fe2e9bc661bae1f51ca0b3c850",
    ],
    [
      "a Deployment",
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace: "default", annotations: { a: "b" } },
        spec: {
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
          },
        },
      },
      "ac03d12efae570f2f1518db0db0c12ae",
    ],
    [
      "every kind of value",
      JSON.parse(
        '{"x":1.5,"y":0.0001,"z":0.00001,"w":123456.5,"v":1234567.5,"u":-2.25,"t":1e-7,"n":null,"b":true,"f":false,"l":[1,"two",null,{"a":[]}],"e":{},"neg":-42,"i":3.0}',
      ) as Record<string, unknown>,
      "56d321aa7ff43b66f1951ba12b8faa9d",
    ],
    [
      "newlines and quotes stay raw",
      { s: "with space", q: 'quote"d', nl: "a\nb" },
      "c1995e74d40c958fd97a17bf3298eaa9",
    ],
  ];
  for (const [name, object, expected] of cases) {
    it(name, () => assert.equal(configSpecHash(object), expected));
  }

  it("does not depend on key order", () => {
    assert.equal(configSpecHash({ a: 1, b: { c: 2, d: 3 } }), configSpecHash({ b: { d: 3, c: 2 }, a: 1 }));
  });
});
