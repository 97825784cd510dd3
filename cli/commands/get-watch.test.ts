import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Placement } from "../../api/types/placement.ts";
import { placementTable, rowContext } from "./get-tables.ts";
import { changesBetween, DocumentWatch, TableWatch } from "./get-watch.ts";

describe("changesBetween", () => {
  const map = (entries: Record<string, number>) => new Map(Object.entries(entries));
  const cases: {
    name: string;
    before: Record<string, number>;
    after: Record<string, number>;
    expected: string[];
  }[] = [
    { name: "nothing changed", before: { a: 1, b: 2 }, after: { a: 1, b: 2 }, expected: [] },
    { name: "an addition", before: { a: 1 }, after: { a: 1, b: 2 }, expected: ["ADDED b 2"] },
    { name: "a modification", before: { a: 1 }, after: { a: 3 }, expected: ["MODIFIED a 3"] },
    {
      name: "a deletion carries the last value",
      before: { a: 1, b: 2 },
      after: { b: 2 },
      expected: ["DELETED a 1"],
    },
    {
      name: "several, in key order",
      before: { c: 1, a: 1 },
      after: { b: 1, c: 2 },
      expected: ["DELETED a 1", "ADDED b 1", "MODIFIED c 2"],
    },
    { name: "from nothing", before: {}, after: { a: 1 }, expected: ["ADDED a 1"] },
  ];
  for (const { name, before, after, expected } of cases)
    it(name, () =>
      assert.deepEqual(
        changesBetween(map(before), map(after), (x, y) => x === y).map(
          (change) => `${change.type} ${change.key} ${change.value}`,
        ),
        expected,
      ),
    );
});

const placement = (name: string, selected: number, resourceVersion = "1"): Placement => ({
  apiVersion: "cluster.open-cluster-management.io/v1beta1",
  kind: "Placement",
  metadata: { name, namespace: "default", creationTimestamp: "2026-12-06T19:00:00Z", resourceVersion },
  spec: {},
  status: {
    numberOfSelectedClusters: selected,
    conditions: [
      {
        type: "PlacementSatisfied",
        status: "True",
        reason: "AllDecisionsScheduled",
        message: "",
        lastTransitionTime: "2026-12-06T19:00:00Z",
      },
    ],
  },
});
const at = (iso: string) => rowContext(Date.parse(iso));

describe("TableWatch", () => {
  it("prints the table, then only rows whose cells other than AGE changed, aligned to it", () => {
    const view = new TableWatch(placementTable, {}, false);
    assert.deepEqual(
      view.start([placement("eu", 2), placement("us-long-name", 1)], at("2026-12-06T20:00:00Z")).split("\n"),
      [
        "NAME           SUCCEEDED   SELECTED   REASON                  AGE",
        "eu             True        2          AllDecisionsScheduled   60m",
        "us-long-name   True        1          AllDecisionsScheduled   60m",
      ],
    );
    // An hour later nothing but the age differs.
    assert.deepEqual(
      view.update([placement("eu", 2), placement("us-long-name", 1)], at("2026-12-06T21:00:00Z")),
      [],
    );
    assert.deepEqual(
      view.update([placement("eu", 3), placement("us-long-name", 1)], at("2026-12-06T21:00:00Z")),
      ["eu             True        3          AllDecisionsScheduled   120m"],
    );
    assert.deepEqual(view.update([placement("eu", 3)], at("2026-12-06T21:00:00Z")), [
      "us-long-name   True        1          AllDecisionsScheduled   120m",
    ]);
    assert.deepEqual(
      view.update([placement("eu", 3), placement("a-new-placement-name", 0)], at("2026-12-06T21:00:00Z")),
      ["a-new-placement-name   True        0          AllDecisionsScheduled   120m"],
    );
  });

  it("started empty, prints the header with the first row; with events, each row starts with its event", () => {
    const view = new TableWatch(placementTable, { withNamespace: true }, true);
    assert.equal(view.start([], at("2026-12-06T20:00:00Z")), "");
    assert.deepEqual(view.update([], at("2026-12-06T20:00:00Z")), []);
    assert.deepEqual(view.update([placement("eu", 1)], at("2026-12-06T20:00:00Z")), [
      "EVENT   NAMESPACE   NAME   SUCCEEDED   SELECTED   REASON   AGE",
      "ADDED   default     eu     True        1          AllDecisionsScheduled   60m",
    ]);
    assert.deepEqual(view.update([placement("eu", 2)], at("2026-12-06T20:00:00Z")), [
      "MODIFIED   default     eu     True        2          AllDecisionsScheduled   60m",
    ]);
    assert.deepEqual(view.update([], at("2026-12-06T20:00:00Z")), [
      "DELETED   default     eu     True        2          AllDecisionsScheduled   60m",
    ]);
  });
});

describe("DocumentWatch", () => {
  it("prints a document per object, then one per new resourceVersion", () => {
    const view = new DocumentWatch<Placement>("json", false);
    const first = view.start([placement("eu", 1, "5")]);
    assert.equal((JSON.parse(first) as Placement).metadata.name, "eu");
    assert.deepEqual(view.update([placement("eu", 1, "5")]), []);
    const [changed] = view.update([placement("eu", 2, "6")]);
    assert.equal((JSON.parse(changed!) as Placement).status?.numberOfSelectedClusters, 2);
  });

  it("in YAML with events, as the watch API sends them", () => {
    const view = new DocumentWatch<Placement>("yaml", true);
    assert.match(view.start([placement("eu", 1)]), /^---\ntype: ADDED\nobject:\n {2}apiVersion: cluster/);
    assert.match(view.update([])[0]!, /^---\ntype: DELETED\nobject:\n/);
  });
});
