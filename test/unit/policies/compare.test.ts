import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ComplianceKind,
  complianceKind,
  deeplyEquivalent,
  handleSingleKey,
  mergeArrays,
} from "../../../policies/compare.ts";
import type { Json } from "../../../policies/gofmt.ts";

function compare(kind: ComplianceKind, desired: Json, existing: Json) {
  const result = handleSingleKey("spec", { spec: desired }, { spec: existing }, kind, false);
  return { update: result.update, missing: result.missing };
}

describe("the comparison of one key", () => {
  const cases: [string, ComplianceKind, Json, Json, { update: boolean; missing: boolean }][] = [
    ["equal maps", "musthave", { a: 1 }, { a: 1 }, { update: false, missing: false }],
    [
      "extra cluster keys under musthave",
      "musthave",
      { a: 1 },
      { a: 1, b: 2 },
      { update: false, missing: false },
    ],
    [
      "extra cluster keys under mustonlyhave",
      "mustonlyhave",
      { a: 1 },
      { a: 1, b: 2 },
      { update: true, missing: false },
    ],
    ["a key the cluster lacks", "musthave", { a: 1, c: 3 }, { a: 1 }, { update: true, missing: true }],
    [
      "a zero value the cluster omits",
      "musthave",
      { a: 1, c: 0, d: false, e: {} },
      { a: 1 },
      { update: false, missing: true },
    ],
    [
      "an empty string the cluster omits is not zero",
      "musthave",
      { a: "" },
      {},
      { update: true, missing: true },
    ],
    ["numbers compare by their text", "musthave", { a: 80 }, { a: 80 }, { update: false, missing: false }],
    ["a quoted number is not a number", "musthave", { a: "80" }, { a: 80 }, { update: true, missing: false }],
    [
      "quantities",
      "musthave",
      { mem: "1Gi", cpu: "1" },
      { mem: "1024Mi", cpu: "1000m" },
      { update: false, missing: false },
    ],
    [
      "a list item described partially",
      "musthave",
      { l: [{ n: "a" }] },
      { l: [{ n: "a", x: 1 }, { n: "b" }] },
      { update: false, missing: false },
    ],
    ["duplicates count", "musthave", { l: ["a", "a"] }, { l: ["a"] }, { update: true, missing: false }],
    ["list order", "mustonlyhave", { l: [2, 1] }, { l: [1, 2] }, { update: false, missing: false }],
    [
      "mustonlyhave list items are whole",
      "mustonlyhave",
      { l: [{ n: "a" }] },
      { l: [{ n: "a", x: 1 }] },
      { update: true, missing: false },
    ],
    [
      "nested lists ignore order",
      "musthave",
      { l: [{ n: "a", p: [2, 1] }] },
      { l: [{ n: "a", p: [1, 2] }] },
      { update: false, missing: false },
    ],
  ];
  for (const [name, kind, desired, existing, expected] of cases) {
    it(name, () => assert.deepEqual(compare(kind, desired, existing), expected));
  }
});

describe("list merging", () => {
  it("merges items that share a name and keeps the cluster's other items", () => {
    const { merged } = mergeArrays(
      [{ name: "web", image: "v2" }],
      [
        { name: "web", image: "v1", port: 80 },
        { name: "side", image: "s" },
      ],
      "musthave",
      false,
    );
    assert.deepEqual(merged, [
      { name: "web", image: "v2", port: 80 },
      { name: "side", image: "s" },
    ]);
  });
  it("keeps unmatched template items", () => {
    const { merged } = mergeArrays([{ name: "new" }], [{ name: "old" }], "musthave", false);
    assert.deepEqual(merged, [{ name: "new" }, { name: "old" }]);
  });
  it("mustonlyhave replaces the list", () => {
    assert.deepEqual(mergeArrays([1], [1, 2], "mustonlyhave", false).merged, [1]);
  });
});

describe("equivalence", () => {
  it("treats an empty list as matching an absent one", () =>
    assert.deepEqual(deeplyEquivalent([], undefined, false), { equal: true, missing: true }));
  it("compares scalars by their Go text", () => {
    assert.equal(deeplyEquivalent(true, "true", false).equal, true);
    assert.equal(deeplyEquivalent(1, "2", false).equal, false);
  });
  it("accepts every spelling of the compliance types", () => {
    assert.deepEqual(["MustHave", "Mustonlyhave", "mustnothave", "maybe"].map(complianceKind), [
      "musthave",
      "mustonlyhave",
      "mustnothave",
      undefined,
    ]);
  });
});
