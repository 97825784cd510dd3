import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Taint } from "../../../api/types/cluster.ts";
import type { ClusterPredicate, Toleration } from "../../../api/types/placement.ts";
import { PlacementCel } from "../cel/environment.ts";
import { predicateFilter } from "./predicate.ts";
import { compileLabelSelector, matches, recordLookup } from "./selectors.ts";
import { judgeTaints, taintTolerationFilter, validateTolerations } from "./taint-toleration.ts";
import { cluster, fleet, now, placement } from "../../../test/support/placement-fixtures.ts";
import type { PluginContext } from "./types.ts";

function context(
  p: ReturnType<typeof placement>,
  f: ReturnType<typeof fleet>,
  own: string[] = [],
): PluginContext {
  return {
    placement: p,
    namespace: "default",
    name: "p1",
    fleet: f,
    now,
    cel: new PlacementCel(),
    explain: true,
    ownDecisions: new Set(own),
  };
}

describe("label selectors", () => {
  const labels = { env: "prod", tier: "gold" };
  const cases: [string, Parameters<typeof compileLabelSelector>[0], boolean][] = [
    ["empty matches all", {}, true],
    ["absent matches all", undefined, true],
    ["matchLabels", { matchLabels: { env: "prod" } }, true],
    ["matchLabels mismatch", { matchLabels: { env: "dev" } }, false],
    ["In", { matchExpressions: [{ key: "tier", operator: "In", values: ["gold", "silver"] }] }, true],
    ["NotIn on present", { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["gold"] }] }, false],
    ["NotIn on absent", { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }, true],
    ["Exists", { matchExpressions: [{ key: "env", operator: "Exists" }] }, true],
    ["DoesNotExist", { matchExpressions: [{ key: "env", operator: "DoesNotExist" }] }, false],
    [
      "ANDed",
      { matchLabels: { env: "prod" }, matchExpressions: [{ key: "zone", operator: "Exists" }] },
      false,
    ],
  ];
  for (const [name, selector, want] of cases) {
    it(name, () => {
      const compiled = compileLabelSelector(selector, "s");
      assert.ok(compiled.ok);
      assert.equal(matches(compiled.selector, recordLookup(labels)), want);
    });
  }
  const invalid: [string, Parameters<typeof compileLabelSelector>[0], RegExp][] = [
    [
      "unknown operator",
      { matchExpressions: [{ key: "a", operator: "Near" as "In" }] },
      /s\.matchExpressions\[0\]\.operator.*not a valid label selector operator/,
    ],
    ["In without values", { matchExpressions: [{ key: "a", operator: "In" }] }, /values set can't be empty/],
    [
      "Exists with values",
      { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] },
      /values set must be empty/,
    ],
    ["bad key", { matchExpressions: [{ key: "-bad", operator: "Exists" }] }, /s\.matchExpressions\[0\]\.key/],
    ["bad value", { matchLabels: { a: "not ok" } }, /s\.matchLabels\[a\]\.values\[0\]/],
  ];
  for (const [name, selector, message] of invalid) {
    it(`rejects ${name}`, () => {
      const compiled = compileLabelSelector(selector, "s");
      assert.ok(!compiled.ok);
      assert.match(compiled.message, message);
    });
  }
});

describe("Predicate filter", () => {
  const clusters = [
    cluster("a", { labels: { env: "prod" }, claims: { region: "eu" }, version: "v1.31.0" }),
    cluster("b", { labels: { env: "prod" }, claims: { region: "us" }, version: "v1.29.0" }),
    cluster("c", { labels: { env: "dev" }, claims: { region: "eu" }, version: "v1.31.0" }),
  ];
  const cases: [string, ClusterPredicate[], string[]][] = [
    ["no predicates: everything", [], ["a", "b", "c"]],
    [
      "labels",
      [{ requiredClusterSelector: { labelSelector: { matchLabels: { env: "prod" } } } }],
      ["a", "b"],
    ],
    [
      "claims",
      [
        {
          requiredClusterSelector: {
            claimSelector: { matchExpressions: [{ key: "region", operator: "In", values: ["eu"] }] },
          },
        },
      ],
      ["a", "c"],
    ],
    [
      "labels AND claims",
      [
        {
          requiredClusterSelector: {
            labelSelector: { matchLabels: { env: "prod" } },
            claimSelector: { matchExpressions: [{ key: "region", operator: "In", values: ["eu"] }] },
          },
        },
      ],
      ["a"],
    ],
    [
      "predicates ORed",
      [
        { requiredClusterSelector: { labelSelector: { matchLabels: { env: "dev" } } } },
        {
          requiredClusterSelector: {
            claimSelector: { matchExpressions: [{ key: "region", operator: "In", values: ["us"] }] },
          },
        },
      ],
      ["b", "c"],
    ],
    [
      "CEL expressions ANDed",
      [
        {
          requiredClusterSelector: {
            celSelector: {
              celExpressions: [
                "semver(managedCluster.status.version.kubernetes, true).isGreaterThan(semver('1.30.0'))",
                "managedCluster.metadata.labels.env == 'prod'",
              ],
            },
          },
        },
      ],
      ["a"],
    ],
    [
      "CEL runtime error fails only that cluster",
      [
        {
          requiredClusterSelector: {
            celSelector: {
              celExpressions: [
                "managedCluster.metadata.labels.env.startsWith('p') && managedCluster.scores('x').size() == 0",
              ],
            },
          },
        },
      ],
      [],
    ],
  ];
  for (const [name, predicates, want] of cases) {
    it(name, () => {
      const outcome = predicateFilter(context(placement({ predicates }), fleet({ clusters })), clusters);
      assert.ok(outcome.ok);
      assert.deepEqual(
        outcome.result.passed.map((c) => c.metadata.name),
        want,
      );
      for (const c of clusters) {
        if (!want.includes(c.metadata.name!))
          assert.equal(outcome.result.rejected.get(c.metadata.name!)?.plugin, "Predicate");
      }
    });
  }
  const misconfigured: [string, ClusterPredicate[], RegExp][] = [
    [
      "invalid label selector",
      [{ requiredClusterSelector: { labelSelector: { matchExpressions: [{ key: "a", operator: "In" }] } } }],
      /^spec\.predicates\[0\]\.requiredClusterSelector\.labelSelector\.matchExpressions\[0\]\.values/,
    ],
    [
      "invalid claim selector",
      [
        {},
        {
          requiredClusterSelector: {
            claimSelector: { matchExpressions: [{ key: "a", operator: "Maybe" as "In" }] },
          },
        },
      ],
      /^spec\.predicates\[1\]\.requiredClusterSelector\.claimSelector\.matchExpressions\[0\]\.operator/,
    ],
    [
      "CEL compile error",
      [{ requiredClusterSelector: { celSelector: { celExpressions: ["true", "nope("] } } }],
      /^compilation failed: .*\(spec\.predicates\[0\]\.requiredClusterSelector\.celSelector\.celExpressions\[1\]\)$/,
    ],
  ];
  for (const [name, predicates, message] of misconfigured) {
    it(`misconfigured: ${name}`, () => {
      const outcome = predicateFilter(context(placement({ predicates }), fleet({ clusters })), clusters);
      assert.ok(!outcome.ok);
      assert.equal(outcome.misconfigured.plugin, "Predicate");
      assert.match(outcome.misconfigured.message, message);
    });
  }
});

describe("TaintToleration: toleration timing", () => {
  const added = "2026-06-01T11:00:00Z"; // one hour before `now`
  const taint = (effect: Taint["effect"], key = "k", value = "v"): Taint => ({
    key,
    value,
    effect,
    timeAdded: added,
  });
  const hour = Date.parse(added) + 3600_000;
  const cases: [string, Toleration[], Taint, boolean, number | undefined, number][] = [
    // name, tolerations, taint, already decided, expect expiry, clock (ms)
    ["untolerated NoSelect", [], taint("NoSelect"), false, undefined, now],
    [
      "Equal matches value",
      [{ key: "k", operator: "Equal", value: "v" }],
      taint("NoSelect"),
      false,
      Infinity,
      now,
    ],
    ["Equal with another value", [{ key: "k", value: "w" }], taint("NoSelect"), false, undefined, now],
    ["Exists matches any value", [{ key: "k", operator: "Exists" }], taint("NoSelect"), false, Infinity, now],
    [
      "empty key Exists matches all",
      [{ operator: "Exists" }],
      taint("NoSelect", "other"),
      false,
      Infinity,
      now,
    ],
    [
      "effect must match",
      [{ key: "k", operator: "Exists", effect: "NoSelectIfNew" }],
      taint("NoSelect"),
      false,
      undefined,
      now,
    ],
    [
      "tolerationSeconds still running",
      [{ key: "k", operator: "Exists", tolerationSeconds: 7200 }],
      taint("NoSelect"),
      false,
      hour + 3600_000,
      now,
    ],
    [
      "tolerationSeconds one second before expiry",
      [{ key: "k", operator: "Exists", tolerationSeconds: 3600 }],
      taint("NoSelect"),
      false,
      hour,
      hour - 1000,
    ],
    [
      "tolerationSeconds at the expiry instant",
      [{ key: "k", operator: "Exists", tolerationSeconds: 3600 }],
      taint("NoSelect"),
      false,
      undefined,
      hour,
    ],
    [
      "tolerationSeconds expired",
      [{ key: "k", operator: "Exists", tolerationSeconds: 60 }],
      taint("NoSelect"),
      false,
      undefined,
      now,
    ],
    [
      "the longest matching toleration wins",
      [
        { key: "k", operator: "Exists", tolerationSeconds: 60 },
        { operator: "Exists", tolerationSeconds: 7200 },
      ],
      taint("NoSelect"),
      false,
      hour + 3600_000,
      now,
    ],
    // As in OCM: an operator it does not know is no error, and it tolerates nothing.
    [
      "unknown operator",
      [{ key: "k", operator: "Near" as "Equal", value: "v" }],
      taint("NoSelect"),
      false,
      undefined,
      now,
    ],
    [
      "explicit empty operator is Equal",
      [{ key: "k", operator: "", value: "v" }],
      taint("NoSelect"),
      false,
      Infinity,
      now,
    ],
    ["NoSelectIfNew on a new cluster", [], taint("NoSelectIfNew"), false, undefined, now],
    ["NoSelectIfNew on a decided cluster", [], taint("NoSelectIfNew"), true, Infinity, now],
    ["NoSelect on a decided cluster", [], taint("NoSelect"), true, undefined, now],
  ];
  for (const [name, tolerations, t, decided, expiry, clock] of cases) {
    it(name, () => {
      const verdict = judgeTaints(tolerations, [t], decided, clock);
      assert.equal(verdict.ok, expiry !== undefined);
      if (expiry !== undefined) assert.equal(verdict.expiresAt, expiry === Infinity ? undefined : expiry);
    });
  }
  it("PreferNoSelect never filters; untolerated it is reported", () => {
    const verdict = judgeTaints([], [taint("PreferNoSelect")], false, now);
    assert.equal(verdict.ok, true);
    assert.deepEqual(
      verdict.preferNot.map((x) => x.key),
      ["k"],
    );
    const tolerated = judgeTaints([{ key: "k", operator: "Exists" }], [taint("PreferNoSelect")], false, now);
    assert.deepEqual(tolerated.preferNot, []);
  });
  it("every taint must be tolerated", () => {
    const verdict = judgeTaints(
      [{ key: "a", operator: "Exists" }],
      [taint("NoSelect", "a"), taint("NoSelect", "b")],
      false,
      now,
    );
    assert.equal(verdict.ok, false);
    assert.equal(verdict.blocking?.key, "b");
  });
});

describe("TaintToleration filter", () => {
  it("filters, reports the reason and requeues at the earliest expiry", () => {
    const added = "2026-06-01T11:30:00Z";
    const clusters = [
      cluster("a"),
      cluster("b", { taints: [{ key: "key1", value: "value1", effect: "NoSelect", timeAdded: added }] }),
      cluster("c", { taints: [{ key: "maint", effect: "NoSelect", timeAdded: added }] }),
      cluster("d", { taints: [{ key: "new", effect: "NoSelectIfNew", timeAdded: added }] }),
    ];
    const p = placement({ tolerations: [{ key: "maint", operator: "Exists", tolerationSeconds: 3600 }] });
    const outcome = taintTolerationFilter(context(p, fleet({ clusters }), ["d"]), clusters);
    assert.ok(outcome.ok);
    assert.deepEqual(
      outcome.result.passed.map((c) => c.metadata.name),
      ["a", "c", "d"],
    );
    assert.deepEqual(outcome.result.rejected.get("b"), {
      plugin: "TaintToleration",
      reason: "taint key1=value1:NoSelect is not tolerated",
    });
    assert.equal(outcome.result.requeueAt, Date.parse(added) + 3600_000);
  });
  const bad: [string, Toleration[], RegExp][] = [
    [
      "empty key without Exists",
      [{ value: "x" }],
      /^If the key is empty, operator must be Exists\. \(spec\.tolerations\[0\]\)$/,
    ],
    ["empty key with empty operator", [{ operator: "" }], /operator must be Exists/],
    [
      "Exists with a value",
      [{ key: "a" }, { key: "a", operator: "Exists", value: "x" }],
      /^If the operator is Exists, the value should be empty\. \(spec\.tolerations\[1\]\)$/,
    ],
    ["unknown operator with an empty key", [{ operator: "Near" as "Equal" }], /operator must be Exists/],
  ];
  it("an unknown operator is not a misconfiguration", () => {
    assert.equal(validateTolerations([{ key: "a", operator: "Near" as "Equal", value: "x" }]), undefined);
  });
  for (const [name, tolerations, message] of bad) {
    it(`misconfigured: ${name}`, () => {
      const problem = validateTolerations(tolerations);
      assert.equal(problem?.plugin, "TaintToleration");
      assert.match(problem.message, message);
    });
  }
});
