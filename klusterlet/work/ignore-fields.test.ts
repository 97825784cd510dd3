import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { IgnoreField } from "../../api/types/work.ts";
import {
  IgnoreFieldError,
  removeByJqPath,
  removeByJsonPath,
  removeByJsonPointer,
  removeIgnoredFields,
} from "./ignore-fields.ts";

type Item = { name?: string; image?: string; n?: number };
type Sample = {
  metadata: { name: string; annotations: Record<string, string> };
  spec: {
    replicas?: number;
    paused?: boolean;
    items: Item[];
    str: string;
    empty: null;
    map: Record<string, number>;
  };
};

function sample(): Sample {
  return {
    metadata: { name: "web", annotations: { "example.com/key": "1", plain: "2" } },
    spec: {
      replicas: 3,
      paused: false,
      items: [
        { name: "a", image: "x", n: 1 },
        { name: "b", image: "y", n: 2 },
      ],
      str: "text",
      empty: null,
      map: { x: 1, y: 2 },
    },
  };
}

/** The sample after `edit`, to state expected results as changes. */
function expect(edit: (o: Sample) => void): Sample {
  const o = sample();
  edit(o);
  return o;
}

type Case = [name: string, selector: string, expected: Sample | RegExp];

function run(remove: (o: Record<string, unknown>, s: string) => void, cases: Case[]) {
  for (const [name, selector, expected] of cases) {
    it(`${name}: ${selector}`, () => {
      const object = sample();
      if (expected instanceof RegExp) {
        assert.throws(
          () => remove(object, selector),
          (e: unknown) => e instanceof IgnoreFieldError && expected.test(e.message),
        );
      } else {
        remove(object, selector);
        assert.deepEqual(object, expected);
      }
    });
  }
}

describe("removeByJsonPath", () => {
  run(removeByJsonPath, [
    ["a field", ".spec.replicas", expect((o) => delete o.spec.replicas)],
    ["with a $ root", "$.spec.replicas", expect((o) => delete o.spec.replicas)],
    ["without the leading dot", "spec.replicas", expect((o) => delete o.spec.replicas)],
    ["a false value", ".spec.paused", expect((o) => delete o.spec.paused)],
    [
      "a field of every element",
      ".spec.items[*].image",
      expect((o) => o.spec.items.forEach((i) => delete i.image)),
    ],
    ["a field of one element", ".spec.items[1].image", expect((o) => delete o.spec.items[1]!.image)],
    ["a negative index", ".spec.items[-1].image", expect((o) => delete o.spec.items[1]!.image)],
    ["through a filter", '.spec.items[?(@.name=="a")].image', expect((o) => delete o.spec.items[0]!.image)],
    [
      "through a filter with spaces and single quotes",
      ".spec.items[?(@.name == 'b')].image",
      expect((o) => delete o.spec.items[1]!.image),
    ],
    [
      "through a != filter",
      '.spec.items[?(@.name!="a")].image',
      expect((o) => delete o.spec.items[1]!.image),
    ],
    ["through a number filter", ".spec.items[?(@.n==2)].name", expect((o) => delete o.spec.items[1]!.name)],
    [
      "through an existence filter",
      ".spec.items[?(@.n)].n",
      expect((o) => o.spec.items.forEach((i) => delete i.n)),
    ],
    [
      "a quoted key with dots and slashes",
      ".metadata.annotations['example.com/key']",
      expect((o) => delete o.metadata.annotations["example.com/key"]),
    ],
    [
      "a double-quoted key",
      '.metadata.annotations["plain"]',
      expect((o) => delete o.metadata.annotations.plain),
    ],
    ["a field of every map value", ".spec.*.name", expect(() => undefined)],
    ["a wildcard over a map", ".spec.map.*", /must end with a field name/],
    ["a missing field", ".spec.nothing", sample()],
    ["below a missing field", ".spec.nothing.deeper", sample()],
    ["below a scalar", ".spec.str.x", sample()],
    ["below null", ".spec.empty.x", sample()],
    ["an index out of range", ".spec.items[5].image", sample()],
    ["an index into a map", ".spec.map[0].x", sample()],
    ["a whole subtree", ".spec", expect((o) => delete (o as Partial<Sample>).spec)],
    ["ending with an index", ".spec.items[0]", /must end with a field name/],
    ["ending with a wildcard", ".spec.items[*]", /must end with a field name/],
    ["an empty path", "", /empty/],
    ["an empty field", ".spec..replicas", /recursive descent/],
    ["a trailing dot", ".spec.", /empty field name/],
    ["an unclosed bracket", ".spec.items[0", /unsupported subscript/],
    ["a slice", ".spec.items[0:1].name", /unsupported subscript/],
    ["an unterminated string", ".metadata.annotations['x", /unterminated/],
    ["braces", "{.spec.replicas}", /unexpected/],
  ]);
});

describe("removeByJsonPointer", () => {
  run(removeByJsonPointer, [
    ["a field", "/spec/replicas", expect((o) => delete o.spec.replicas)],
    ["an array element", "/spec/items/0", expect((o) => o.spec.items.splice(0, 1))],
    ["a negative index counts from the end", "/spec/items/-1", expect((o) => o.spec.items.splice(1, 1))],
    ["a field of an element", "/spec/items/1/image", expect((o) => delete o.spec.items[1]!.image)],
    [
      "an escaped slash",
      "/metadata/annotations/example.com~1key",
      expect((o) => delete o.metadata.annotations["example.com/key"]),
    ],
    ["a missing field", "/spec/nothing", sample()],
    ["below a missing field", "/spec/nothing/deeper", sample()],
    ["below a scalar", "/spec/str/x", sample()],
    ["through an invalid index", "/spec/items/x/image", sample()],
    ["through an out-of-range index", "/spec/items/7/image", sample()],
    ["an out-of-range last index", "/spec/items/2", /invalid array index "2"/],
    ["a non-numeric last index", "/spec/items/first", /invalid array index/],
    ["the append index", "/spec/items/-", /invalid array index/],
    ["a leading zero", "/spec/items/01", /invalid array index/],
    ["no leading slash", "spec/replicas", /must start with \//],
    ["the whole document", "", /must start with \//],
    ["a bad escape", "/spec/a~2b", /invalid escape/],
  ]);
});

// Expected results were checked against `jq 'del(<expression>)'`.
describe("removeByJqPath", () => {
  run(removeByJqPath, [
    ["a field", ".spec.replicas", expect((o) => delete o.spec.replicas)],
    [
      "a field of every element",
      ".spec.items[].image",
      expect((o) => o.spec.items.forEach((i) => delete i.image)),
    ],
    ["an element", ".spec.items[0]", expect((o) => o.spec.items.splice(0, 1))],
    ["the last element", ".spec.items[-1]", expect((o) => o.spec.items.splice(1, 1))],
    ["every element", ".spec.items[]", expect((o) => (o.spec.items = []))],
    ["every map value", ".spec.map[]", expect((o) => (o.spec.map = {}))],
    [
      "a bracketed key",
      '.metadata.annotations["example.com/key"]',
      expect((o) => delete o.metadata.annotations["example.com/key"]),
    ],
    ["a bracketed root key", '.["spec"].map', expect((o) => delete (o.spec as Partial<Sample["spec"]>).map)],
    ["a quoted key", '.spec."map".x', expect((o) => delete o.spec.map.x)],
    ["an out-of-range index", ".spec.items[5]", sample()],
    ["below a missing field", ".spec.nothing.x", sample()],
    ["an index below null", ".spec.empty[0]", sample()],
    ["a field of a string", ".spec.str.x", /Cannot index string with "x"/],
    ["a field of a string, optional", ".spec.str.x?", sample()],
    ["iterating a string, optional", ".spec.str[]?", sample()],
    ["a field of an array", ".spec.items.name", /Cannot index array with "name"/],
    ["a number index of an object", ".spec.map[0]", /Cannot index object with number/],
    ["iterating null", ".spec.nothing[]", /Cannot iterate over null/],
    ["iterating through a string", ".spec.str[].x", /Cannot iterate over string/],
    ["the identity", ".", /whole object/],
    ["a pipe", ".spec | .replicas", /only plain jq paths/],
    ["a function", "del(.spec)", /only plain jq paths/],
    ["select", '.spec.items[] | select(.name == "a")', /only plain jq paths/],
    ["no leading dot", "spec.replicas", /only plain jq paths/],
  ]);
});

describe("removeIgnoredFields", () => {
  it("removes OnSpokePresent selectors of every syntax, and entries default to OnSpokePresent", () => {
    const object = sample();
    const fields = [
      { condition: "OnSpokePresent", jsonPaths: [".spec.replicas"], jsonPointers: ["/spec/paused"] },
      { jqPathExpressions: [".spec.map.x"] } as IgnoreField,
      { condition: "OnSpokeChange", jsonPaths: [".spec.str"], jsonPointers: ["/spec/items"] },
    ] satisfies IgnoreField[];
    removeIgnoredFields(object, fields);
    assert.deepEqual(
      object,
      expect((o) => {
        delete o.spec.replicas;
        delete o.spec.paused;
        delete o.spec.map.x;
      }),
    );
  });

  const failures: [string, IgnoreField, string][] = [
    [
      "a JSONPath",
      { condition: "OnSpokePresent", jsonPaths: [".spec.items[0]"] },
      "JSON Path error in '.spec.items[0]': the path must end with a field name",
    ],
    [
      "a JSON Pointer",
      { condition: "OnSpokePresent", jsonPointers: ["spec"] },
      "JSON Pointer error in 'spec': a JSON Pointer must start with /",
    ],
    [
      "a jq expression",
      { condition: "OnSpokePresent", jqPathExpressions: [".spec.str.x"] },
      `JQ expression error in '.spec.str.x': Cannot index string with "x"`,
    ],
  ];
  for (const [name, field, message] of failures) {
    it(`names the failing selector: ${name}`, () => {
      assert.throws(() => removeIgnoredFields(sample(), [field]), { name: "IgnoreFieldError", message });
    });
  }

  it("does not check OnSpokeChange selectors", () => {
    const object = sample();
    removeIgnoredFields(object, [{ condition: "OnSpokeChange", jsonPaths: ["[broken"] }]);
    assert.deepEqual(object, sample());
  });
});
