import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareCrds, formatDifference, type Crd, type Schema } from "./crd-schema.ts";

function crd(schema: Schema, changes: (c: Crd) => void = () => undefined): Crd {
  const c: Crd = {
    metadata: { name: "things.example.com" },
    spec: {
      group: "example.com",
      scope: "Namespaced",
      names: { kind: "Thing", plural: "things" },
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: schema } }],
    },
  };
  changes(c);
  return c;
}

const object = (properties: Record<string, Schema>, extra: Partial<Schema> = {}): Schema => ({
  type: "object",
  properties,
  ...extra,
});

describe("compareCrds", () => {
  const base = object({
    spec: object({ size: { type: "integer", minimum: 1 }, mode: { type: "string", enum: ["A", "B"] } }),
  });
  const cases: [string, Crd, string[]][] = [
    ["the same CRD", crd(base), []],
    [
      "descriptions and key order do not count",
      crd(
        object(
          {
            spec: object({
              mode: { enum: ["A", "B"], type: "string", description: "x" },
              size: { minimum: 1, type: "integer" },
            }),
          },
          { description: "y" },
        ),
      ),
      [],
    ],
    [
      "a property only OCM has matters: bosun would prune it",
      crd(object({ spec: object({ size: { type: "integer", minimum: 1 } }) })),
      ['[matters] things.example.com v1 spec.mode: property: OCM "present" / bosun "absent"'],
    ],
    [
      "a property only bosun has is bosun-only, outside metadata",
      crd(
        object({
          spec: object({
            size: { type: "integer", minimum: 1 },
            mode: { type: "string", enum: ["A", "B"] },
            extra: { type: "string" },
          }),
        }),
      ),
      ['[bosun-only] things.example.com v1 spec.extra: property: OCM "absent" / bosun "present"'],
    ],
    [
      "a rule on metadata applies to every object",
      crd(
        object({
          metadata: object({ name: { type: "string", maxLength: 63 } }),
          spec: base.properties!.spec!,
        }),
      ),
      ['[matters] things.example.com v1 metadata: property: OCM "absent" / bosun "present"'],
    ],
    [
      "enums, bounds, required and defaults",
      crd(
        object({
          spec: object(
            { size: { type: "integer", minimum: 0, default: 3 }, mode: { type: "string", enum: ["A"] } },
            { required: ["size"] },
          ),
        }),
      ),
      [
        '[matters] things.example.com v1 spec: required: OCM [] / bosun ["size"]',
        '[matters] things.example.com v1 spec.mode: enum: OCM ["A","B"] / bosun ["A"]',
        "[matters] things.example.com v1 spec.size: minimum: OCM 1 / bosun 0",
        "[matters] things.example.com v1 spec.size: default: OCM undefined / bosun 3",
      ],
    ],
    [
      "versions, scope and names",
      crd(base, (c) => {
        c.spec.scope = "Cluster";
        c.spec.names.shortNames = ["th"];
        c.spec.versions.push({ name: "v2", served: true, storage: false });
      }),
      [
        '[matters] things.example.com spec.scope: scope: OCM "Namespaced" / bosun "Cluster"',
        '[cosmetic] things.example.com spec.names.shortNames: names: OCM [] / bosun ["th"]',
        '[matters] things.example.com spec.versions: versions: OCM ["v1 served storage"] / bosun ["v1 served storage","v2 served"]',
      ],
    ],
    [
      "list items are compared too",
      crd(
        object({
          spec: base.properties!.spec!,
          status: object({ list: { type: "array", items: { type: "string", pattern: "^a" } } }),
        }),
      ),
      ['[bosun-only] things.example.com v1 status: property: OCM "absent" / bosun "present"'],
    ],
  ];
  for (const [name, bosun, want] of cases) {
    it(name, () => assert.deepEqual(compareCrds(crd(base), bosun).map(formatDifference), want));
  }

  it("items of arrays both sides have", () => {
    const list = (pattern: string) =>
      crd(object({ list: { type: "array", items: { type: "string", pattern } } }));
    assert.deepEqual(compareCrds(list("^a"), list("^b")).map(formatDifference), [
      '[matters] things.example.com v1 list[]: pattern: OCM "^a" / bosun "^b"',
    ]);
  });
});
