import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Condition } from "../../api/types/meta.ts";
import type { ConditionRule } from "../../api/types/work.ts";
import {
  celGoErrorText,
  ConditionRuleCache,
  evaluateConditionRules,
  isConditionRuleCondition,
  pruneRuleConditions,
  wellKnownConditionRule,
} from "./condition-rules.ts";

const job = (conditions: { type: string; status: string }[]) => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "j" },
  status: { conditions },
});
const pod = (phase: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p" },
  status: { phase },
});
const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", labels: { tier: "web" } },
  spec: { replicas: 3 },
  status: { readyReplicas: 3, conditions: [{ type: "Available", status: "True" }] },
};
const wellKnown: ConditionRule = { condition: "Complete", type: "WellKnownConditions" };
const cel = (
  condition: string,
  celExpressions: string[],
  extra: Partial<ConditionRule> = {},
): ConditionRule => ({
  condition,
  type: "CEL",
  celExpressions,
  ...extra,
});

type Expected = { type: string; status: string; reason: string; message: string | RegExp };

function check(
  object: unknown,
  rules: ConditionRule[],
  expected: Expected[],
  cache = new ConditionRuleCache(),
) {
  const conditions = evaluateConditionRules(object, rules, cache, 7);
  assert.equal(conditions.length, expected.length, JSON.stringify(conditions));
  conditions.forEach((condition, i) => {
    const want = expected[i]!;
    assert.equal(condition.type, want.type);
    assert.equal(condition.status, want.status, JSON.stringify(condition));
    assert.equal(condition.reason, want.reason, JSON.stringify(condition));
    assert.equal(condition.observedGeneration, 7);
    if (typeof want.message === "string") assert.equal(condition.message, want.message);
    else assert.match(condition.message, want.message);
  });
}

describe("condition rules: WellKnownConditions", () => {
  const cases: [string, unknown, ConditionRule, Expected[]][] = [
    [
      "Job complete",
      job([{ type: "Complete", status: "True" }]),
      wellKnown,
      [{ type: "Complete", status: "True", reason: "ConditionRuleEvaluated", message: "Job is finished" }],
    ],
    [
      "Job failed counts as complete",
      job([{ type: "Failed", status: "True" }]),
      wellKnown,
      [{ type: "Complete", status: "True", reason: "ConditionRuleEvaluated", message: "Job is finished" }],
    ],
    [
      "Job still running",
      job([{ type: "Suspended", status: "True" }]),
      wellKnown,
      [
        {
          type: "Complete",
          status: "False",
          reason: "ConditionRuleEvaluated",
          message: "Job is not finished",
        },
      ],
    ],
    [
      "Job without conditions",
      job([]),
      wellKnown,
      [
        {
          type: "Complete",
          status: "False",
          reason: "ConditionRuleEvaluated",
          message: "Job is not finished",
        },
      ],
    ],
    [
      "Pod succeeded",
      pod("Succeeded"),
      wellKnown,
      [
        {
          type: "Complete",
          status: "True",
          reason: "ConditionRuleEvaluated",
          message: "Pod is in phase Succeeded",
        },
      ],
    ],
    [
      "Pod failed",
      pod("Failed"),
      wellKnown,
      [
        {
          type: "Complete",
          status: "True",
          reason: "ConditionRuleEvaluated",
          message: "Pod is in phase Failed",
        },
      ],
    ],
    [
      "Pod running",
      pod("Running"),
      wellKnown,
      [
        {
          type: "Complete",
          status: "False",
          reason: "ConditionRuleEvaluated",
          message: "Pod is in phase Running",
        },
      ],
    ],
    [
      "a built-in messageExpression still beats the rule's message",
      pod("Running"),
      { ...wellKnown, message: "still going", messageExpression: "" },
      [
        {
          type: "Complete",
          status: "False",
          reason: "ConditionRuleEvaluated",
          message: "Pod is in phase Running",
        },
      ],
    ],
    [
      "the rule's messageExpression replaces the built-in one",
      pod("Running"),
      { ...wellKnown, messageExpression: "'phase ' + object.status.phase" },
      [{ type: "Complete", status: "False", reason: "ConditionRuleEvaluated", message: "phase Running" }],
    ],
    ["a kind without a built-in rule sets nothing", deployment, wellKnown, []],
    [
      "a condition without a built-in rule sets nothing",
      pod("Failed"),
      { ...wellKnown, condition: "Ready" },
      [],
    ],
  ];
  for (const [name, object, rule, expected] of cases) it(name, () => check(object, [rule], expected));

  it("looks up built-in rules by exact group, version, kind and condition", () => {
    assert.ok(wellKnownConditionRule({ group: "batch", version: "v1", kind: "Job" }, "Complete"));
    assert.equal(
      wellKnownConditionRule({ group: "batch", version: "v1", kind: "Job" }, "complete"),
      undefined,
    );
    assert.equal(wellKnownConditionRule({ group: "", version: "v1", kind: "Job" }, "Complete"), undefined);
  });
});

describe("condition rules: CEL", () => {
  const cases: [string, ConditionRule, Expected][] = [
    [
      "all expressions true",
      cel("Ready", ["object.status.readyReplicas == object.spec.replicas", "hasConditions(object.status)"]),
      { type: "Ready", status: "True", reason: "ConditionRuleEvaluated", message: "Manifest is Ready" },
    ],
    [
      "the first false expression decides",
      cel("Ready", ["true", "object.metadata.labels.tier == 'db'", "1/0 == 1"]),
      { type: "Ready", status: "False", reason: "ConditionRuleEvaluated", message: "Manifest is not Ready" },
    ],
    [
      "message",
      cel("Ready", ["true"], { message: "ok" }),
      { type: "Ready", status: "True", reason: "ConditionRuleEvaluated", message: "ok" },
    ],
    [
      "messageExpression sees result",
      cel("Ready", ["false"], { message: "unused", messageExpression: "result ? 'yes' : 'no'" }),
      { type: "Ready", status: "False", reason: "ConditionRuleEvaluated", message: "no" },
    ],
    [
      "an empty messageExpression result falls back to message",
      cel("Ready", ["true"], { message: "fallback", messageExpression: "''" }),
      { type: "Ready", status: "True", reason: "ConditionRuleEvaluated", message: "fallback" },
    ],
    [
      "a non-string messageExpression",
      cel("Ready", ["true"], { message: "unused", messageExpression: "1" }),
      {
        type: "Ready",
        status: "True",
        reason: "ConditionRuleEvaluated",
        message: "expected message expression to have a string result, got int64",
      },
    ],
    [
      "a messageExpression that fails to evaluate",
      cel("Ready", ["true"], { messageExpression: "object.nope + 'x'" }),
      { type: "Ready", status: "True", reason: "ConditionRuleEvaluated", message: /nope/ },
    ],
    [
      "a messageExpression that does not compile keeps only the first line",
      cel("Ready", ["true"], { messageExpression: "bogus" }),
      {
        type: "Ready",
        status: "True",
        reason: "ConditionRuleEvaluated",
        message: "ERROR: <input>:1:1: undeclared reference to 'bogus' (in container '')",
      },
    ],
    [
      "messageExpression cannot see undeclared variables",
      cel("Ready", ["true"], { messageExpression: "statusFeedback.x" }),
      {
        type: "Ready",
        status: "True",
        reason: "ConditionRuleEvaluated",
        message: "ERROR: <input>:1:1: undeclared reference to 'statusFeedback' (in container '')",
      },
    ],
    [
      "a syntax error",
      cel("Ready", ["object.status =="]),
      {
        type: "Ready",
        status: "False",
        reason: "ConditionRuleExpressionError",
        message: /^ERROR: <input>:1:15: Syntax error: .*\n \| object\.status ==\n \| \.{14}\^$/,
      },
    ],
    [
      "an undeclared function",
      cel("Ready", ["true", "frob(object)"]),
      {
        type: "Ready",
        status: "False",
        reason: "ConditionRuleExpressionError",
        message:
          /^ERROR: <input>:1:\d+: undeclared reference to 'frob' \(in container ''\)\n \| frob\(object\)\n/,
      },
    ],
    [
      "result is not a bool",
      cel("Ready", ["object.metadata.name"]),
      {
        type: "Ready",
        status: "False",
        reason: "ConditionRuleExpressionError",
        message: "expected bool result, got string",
      },
    ],
    [
      "an evaluation error",
      cel("Ready", ["object.status.missing == 1"], { message: "unused" }),
      {
        type: "Ready",
        status: "False",
        reason: "ConditionRuleExpressionError",
        message: "no such key: missing",
      },
    ],
    [
      "no expressions",
      cel("Ready", []),
      { type: "Ready", status: "True", reason: "ConditionRuleEvaluated", message: "Manifest is Ready" },
    ],
    [
      "Kubernetes libraries",
      cel("Fits", ["quantity('1Gi').isGreaterThan(quantity('512Mi')) && [3, 1].max() == 3"]),
      { type: "Fits", status: "True", reason: "ConditionRuleEvaluated", message: "Manifest is Fits" },
    ],
    [
      "parseJSON is placement-only",
      cel("Json", ["'{}'.parseJSON() == {}"]),
      {
        type: "Json",
        status: "False",
        reason: "ConditionRuleExpressionError",
        message: /undeclared reference to 'parseJSON'/,
      },
    ],
    [
      "an unknown rule type",
      { condition: "Ready", type: "Magic" as ConditionRule["type"] },
      {
        type: "Ready",
        status: "Unknown",
        reason: "ConditionRuleInvalid",
        message: "unrecognized condition rule type Magic",
      },
    ],
  ];
  for (const [name, rule, expected] of cases) it(name, () => check(deployment, [rule], [expected]));

  it("hasConditions is false for a map without conditions", () =>
    check(
      pod("Running"),
      [cel("Has", ["!hasConditions(object.status) && !hasConditions(1)"])],
      [{ type: "Has", status: "True", reason: "ConditionRuleEvaluated", message: "Manifest is Has" }],
    ));

  it("rules keep their order and each produces one condition", () => {
    const conditions = evaluateConditionRules(
      deployment,
      [cel("B", ["true"]), cel("A", ["false"]), wellKnown],
      new ConditionRuleCache(),
      1,
    );
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status]),
      [
        ["B", "True"],
        ["A", "False"],
      ],
    );
  });

  it("no rules, no conditions", () => {
    assert.deepEqual(evaluateConditionRules(deployment, undefined, new ConditionRuleCache(), 1), []);
  });
});

describe("condition rules: compilation cache", () => {
  it("compiles each distinct expression once per kind", () => {
    const cache = new ConditionRuleCache();
    const a = cache.compile("object.spec.replicas > 1", "rule");
    assert.equal(cache.compile("object.spec.replicas > 1", "rule"), a);
    assert.notEqual(cache.compile("object.spec.replicas > 1", "message"), a);
    assert.equal(cache.size, 2);
  });

  it("rule expressions may not use result", () => {
    const cache = new ConditionRuleCache();
    assert.equal(cache.compile("result", "rule").ok, false);
    assert.equal(cache.compile("result", "message").ok, true);
  });

  it("evaluating a work twice reuses the compiled programs", () => {
    const cache = new ConditionRuleCache();
    const rules = [cel("Ready", ["object.spec.replicas == 3"], { messageExpression: "'r'" })];
    evaluateConditionRules(deployment, rules, cache, 1);
    const size = cache.size;
    evaluateConditionRules(deployment, rules, cache, 2);
    assert.equal(size, 2);
    assert.equal(cache.size, 2);
  });

  it("separate caches do not share programs", () => {
    const first = new ConditionRuleCache();
    const second = new ConditionRuleCache();
    first.compile("true", "rule");
    assert.equal(second.size, 0);
  });
});

describe("condition rules: cost", () => {
  const nested =
    "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, true)))";

  it("an expression over the per-call limit fails with cel-go's message", () =>
    check(
      deployment,
      [cel("Heavy", [nested])],
      [
        {
          type: "Heavy",
          status: "False",
          reason: "ConditionRuleExpressionError",
          message: "operation cancelled: actual cost limit exceeded",
        },
      ],
      new ConditionRuleCache({ perCallLimit: 500 }),
    ));

  it("the default limits allow it", () =>
    check(
      deployment,
      [cel("Heavy", [nested])],
      [{ type: "Heavy", status: "True", reason: "ConditionRuleEvaluated", message: "Manifest is Heavy" }],
    ));

  it("the budget spans the manifest's rules, and later rules fail once it is spent", () =>
    check(
      deployment,
      [cel("One", [nested]), cel("Two", [nested]), cel("Three", ["true"])],
      [
        { type: "One", status: "True", reason: "ConditionRuleEvaluated", message: "Manifest is One" },
        {
          type: "Two",
          status: "False",
          reason: "ConditionRuleExpressionError",
          message: "CEL evaluation budget exceeded",
        },
        {
          type: "Three",
          status: "False",
          reason: "ConditionRuleExpressionError",
          message: "CEL evaluation budget exceeded",
        },
      ],
      new ConditionRuleCache({ perCallLimit: 2000, budget: 1500 }),
    ));

  it("each manifest starts with a full budget", () => {
    const cache = new ConditionRuleCache({ perCallLimit: 2000, budget: 1500 });
    for (let i = 0; i < 3; i++) {
      const [condition] = evaluateConditionRules(deployment, [cel("One", [nested])], cache, 1);
      assert.equal(condition?.status, "True");
    }
  });
});

describe("condition rules: pruning", () => {
  const condition = (type: string, reason: string, observedGeneration?: number): Condition => ({
    type,
    status: "True",
    reason,
    message: "",
    lastTransitionTime: "2024-01-01T00:00:00Z",
    ...(observedGeneration === undefined ? {} : { observedGeneration }),
  });

  it("recognises rule conditions by reason", () => {
    for (const reason of [
      "ConditionRuleEvaluated",
      "ConditionRuleInvalid",
      "ConditionRuleExpressionError",
      "ConditionRuleInternalError",
      "ConditionRulesAggregated",
    ]) {
      assert.ok(isConditionRuleCondition({ reason }), reason);
    }
    assert.ok(!isConditionRuleCondition({ reason: "ResourceAvailable" }));
  });

  it("drops rule conditions of other generations only", () => {
    const pruned = pruneRuleConditions(
      [
        condition("Applied", "AppliedManifestComplete", 1),
        condition("Old", "ConditionRuleEvaluated", 1),
        condition("Current", "ConditionRuleEvaluated", 2),
        condition("Unstamped", "ConditionRuleExpressionError"),
      ],
      2,
    );
    assert.deepEqual(
      pruned.map((c) => c.type),
      ["Applied", "Current"],
    );
  });
});

describe("celGoErrorText", () => {
  it("words evaluation errors as cel-go does where they differ", () => {
    const cases: [string, string][] = [
      ["field not found: nothing", "no such key: nothing"],
      ["field not found: a.b", "no such key: a.b"],
      ["division by zero", "division by zero"],
      ["no such overload", "no such overload"],
    ];
    for (const [message, goText] of cases) assert.equal(celGoErrorText(message), goText);
  });
});
