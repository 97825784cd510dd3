import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  array,
  checkStructural,
  checkValue,
  crd,
  embeddedResource,
  enumOf,
  int32,
  intOrString,
  map,
  object,
  required,
  rootSchema,
  schemaAt,
  string,
  type Schema,
} from "./dsl.ts";

describe("schema helpers", () => {
  it("list required properties in their parent", () => {
    const s = object({ a: required(string()), b: int32(), c: required(array(string())) });
    assert.deepEqual(s.required, ["a", "c"]);
    assert.deepEqual(Object.keys(s.properties ?? {}), ["a", "b", "c"]);
    assert.deepEqual(s.properties?.c, { type: "array", items: { type: "string" } });
  });

  it("build enums, int-or-strings, map lists and embedded resources", () => {
    assert.deepEqual(enumOf(["A", "B"], { default: "A" }), {
      type: "string",
      enum: ["A", "B"],
      default: "A",
    });
    assert.deepEqual(intOrString({ default: "100%", pattern: "^x$" }), {
      anyOf: [{ type: "integer" }, { type: "string" }],
      "x-kubernetes-int-or-string": true,
      default: "100%",
      pattern: "^x$",
    });
    const list = array(object({ name: required(string()) }), { mapKeys: ["name"] });
    assert.equal(list["x-kubernetes-list-type"], "map");
    assert.deepEqual(list["x-kubernetes-list-map-keys"], ["name"]);
    assert.deepEqual(embeddedResource(), {
      type: "object",
      "x-kubernetes-embedded-resource": true,
      "x-kubernetes-preserve-unknown-fields": true,
    });
  });

  it("find nested schemas by path", () => {
    const root = rootSchema({ spec: object({ items: array(object({ name: string({ minLength: 1 }) })) }) });
    assert.equal(schemaAt(root, ".spec.items[*].name")?.minLength, 1);
    assert.equal(schemaAt(root, ".spec.nothing"), undefined);
    assert.equal(schemaAt(map(int32()), ".anything")?.format, "int32");
  });
});

describe("crd()", () => {
  const version = { name: "v1", schema: rootSchema({}) };

  it("names the CRD plural.group and defaults served and storage to true", () => {
    const c = crd({
      group: "g.example.com",
      kind: "Thing",
      plural: "things",
      singular: "thing",
      scope: "Cluster",
      versions: [version],
    });
    assert.equal(c.metadata.name, "things.g.example.com");
    assert.equal(c.spec.names.listKind, "ThingList");
    assert.deepEqual(
      c.spec.versions.map((v) => [v.served, v.storage]),
      [[true, true]],
    );
  });

  it("refuses anything but exactly one storage version", () => {
    const def = { group: "g", kind: "T", plural: "ts", singular: "t", scope: "Cluster" as const };
    assert.throws(
      () => crd({ ...def, versions: [version, { ...version, name: "v2" }] }),
      /exactly one version/,
    );
    assert.throws(() => crd({ ...def, versions: [{ ...version, storage: false }] }), /exactly one version/);
  });
});

describe("checkStructural", () => {
  const cases: [string, Schema, RegExp][] = [
    ["a property without type", { type: "object", properties: { a: {} } }, /\.a: type must be set/],
    [
      "properties with additionalProperties",
      { type: "object", properties: { a: { type: "string" } }, additionalProperties: { type: "string" } },
      /mutually exclusive/,
    ],
    ["a type inside oneOf", { type: "object", oneOf: [{ type: "string" }] }, /type must not be set inside/],
    [
      "a property only inside a junctor",
      { type: "object", anyOf: [{ properties: { b: { maxLength: 1 } } }] },
      /property b is not declared outside/,
    ],
    [
      "an array without items",
      { type: "object", properties: { a: { type: "array" } } },
      /an array needs items/,
    ],
    [
      "a map list whose key is optional",
      { type: "object", properties: { a: array(object({ name: string() }), { mapKeys: ["name"] }) } },
      /must be required or defaulted/,
    ],
    [
      "a default outside the enum",
      { type: "object", properties: { a: { type: "string", enum: ["x"], default: "y" } } },
      /not in the enum/,
    ],
    [
      "a default that misses a required field",
      { type: "object", properties: { a: { ...object({ b: required(string()) }), default: {} } } },
      /\.b: required/,
    ],
    [
      "metadata constraints beyond name",
      { type: "object", properties: { metadata: object({ labels: map(string()) }) } },
      /only name and generateName/,
    ],
    [
      "an embedded resource that is not an object",
      { type: "object", properties: { a: { type: "string", "x-kubernetes-embedded-resource": true } } },
      /must be of type object/,
    ],
  ];
  for (const [name, schema, problem] of cases) {
    it(`reports ${name}`, () => {
      const problems = checkStructural(schema);
      assert.ok(
        problems.some((p) => problem.test(p)),
        `expected ${String(problem)} in ${JSON.stringify(problems)}`,
      );
    });
  }

  it("accepts a well-formed schema", () => {
    const s = rootSchema({
      spec: object({
        count: intOrString({ default: 1 }),
        items: array(object({ name: required(string()) }), { mapKeys: ["name"] }),
        labels: map(string()),
        mode: enumOf(["A", "B"], { default: "A" }),
        raw: embeddedResource(),
      }),
    });
    assert.deepEqual(checkStructural(s), []);
  });
});

describe("checkValue", () => {
  const s = object({
    name: required(string({ pattern: "^[a-z]+$" })),
    count: int32({ minimum: 1 }),
    tags: array(string(), { maxItems: 1 }),
  });

  it("accepts a valid value", () => {
    assert.deepEqual(checkValue(s, { name: "abc", count: 2, tags: ["x"] }, "v"), []);
  });

  it("reports every problem with its path", () => {
    assert.deepEqual(checkValue(s, { count: 0, tags: ["x", 1], extra: true }, "v").sort(), [
      "v.count: below minimum",
      "v.extra: unknown field",
      "v.name: required",
      "v.tags: too many items",
      "v.tags[1]: must be a string",
    ]);
  });
});
