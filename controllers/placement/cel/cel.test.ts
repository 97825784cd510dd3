import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cluster, addOnScore } from "../../../test/support/placement-fixtures.ts";
import { PlacementCel, type ScoreLookup } from "./environment.ts";

const subject = cluster("c1", {
  labels: { env: "prod", tier: "gold" },
  claims: { "region.open-cluster-management.io": "eu-west", gpu: "a100" },
  allocatable: { cpu: "3800m", memory: "16Gi" },
  version: "v1.30.2",
});
subject.spec!.leaseDurationSeconds = 60;
subject.metadata.annotations = { config: '{"replicas": 3, "zones": ["a", "b"]}' };

const scores: ScoreLookup = (clusterName, name) =>
  name === "load" ? addOnScore(clusterName, "load", { cpu: 30, mem: -10 }) : undefined;

function evaluate(expression: string, cel = new PlacementCel()) {
  const compiled = cel.compile(expression);
  if (!compiled.ok) return { compileError: compiled.message };
  return cel.matchCluster([compiled.program], subject, scores);
}

describe("CEL environment: expressions that match", () => {
  const cases: [string, string][] = [
    ["variable", "managedCluster.metadata.name == 'c1'"],
    ["labels", "managedCluster.metadata.labels['tier'] == 'gold'"],
    ["ints from JSON", "managedCluster.spec.leaseDurationSeconds == 60"],
    ["claims", "managedCluster.status.clusterClaims.exists(c, c.name == 'gpu' && c.value.startsWith('a1'))"],
    ["has", "has(managedCluster.metadata.labels.env) && !has(managedCluster.metadata.labels.nope)"],
    ["scores", "managedCluster.scores('load').exists(s, s.name == 'cpu' && s.value == 30)"],
    ["scores size", "managedCluster.scores('load').size() == 2"],
    ["parseJSON", "managedCluster.metadata.annotations.config.parseJSON().replicas == 3.0"],
    ["parseJSON list", "managedCluster.metadata.annotations.config.parseJSON().zones == ['a', 'b']"],
    [
      "semver normalize",
      "semver(managedCluster.status.version.kubernetes, true).isGreaterThan(semver('1.29.9'))",
    ],
    ["semver isLessThan", "semver('1.30.0').isLessThan(semver('1.31.0'))"],
    ["semver compareTo", "semver('1.30.0-rc.1').compareTo(semver('1.30.0')) == -1"],
    [
      "semver parts",
      "semver('1.30.2').major() == 1 && semver('1.30.2').minor() == 30 && semver('1.30.2').patch() == 2",
    ],
    ["semver equality ignores build", "semver('1.2.3+a') == semver('1.2.3+b')"],
    ["isSemver", "isSemver('1.2.3') && !isSemver('v1.2.3') && isSemver('v1.2', true)"],
    ["quantity compare", "quantity(managedCluster.status.allocatable.memory).isGreaterThan(quantity('8Gi'))"],
    ["quantity isLessThan", "quantity(managedCluster.status.allocatable.cpu).isLessThan(quantity('4'))"],
    ["quantity equality", "quantity('1Gi') == quantity('1024Mi')"],
    ["quantity compareTo", "quantity('500m').compareTo(quantity('0.5')) == 0"],
    ["quantity asInteger", "quantity('2k').asInteger() == 2000"],
    [
      "quantity arithmetic",
      "quantity('1Gi').add(quantity('1Gi')) == quantity('2Gi') && quantity('3').sub(1) == quantity('2')",
    ],
    ["quantity sign/isInteger", "quantity('-1').sign() == -1 && quantity('1.5').isInteger() == false"],
    // Kubernetes multiplies the digits by the power of ten in float64: 3800 × 0.001.
    ["quantity approximate", "quantity('3800m').asApproximateFloat() == 3.8000000000000003"],
    ["quantity huge exponent", "isQuantity('1e999') && quantity('1e999').isGreaterThan(quantity('1E'))"],
    ["isQuantity", "isQuantity('1Gi') && !isQuantity('1 Gi')"],
    ["lists isSorted", "[1, 2, 2, 3].isSorted() && !['b', 'a'].isSorted()"],
    ["lists sum", "[1, 2, 3].sum() == 6 && [0.5, 1.5].sum() == 2.0 && [].sum() == 0"],
    ["lists min/max", "[3, 1, 2].min() == 1 && ['a', 'c', 'b'].max() == 'c'"],
    ["lists indexOf", "[1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2 && [1].indexOf(5) == -1"],
    ["regex find", "'abc123def'.find('[0-9]+') == '123' && 'abc'.find('[0-9]') == ''"],
    ["regex findAll", "'a1b22c333'.findAll('[0-9]+') == ['1', '22', '333']"],
    ["regex findAll limit", "'a1b22c333'.findAll('[0-9]+', 2) == ['1', '22']"],
    ["regex inline flag", "'ABC'.find('(?i)b') == 'B'"],
    // Exponential for a backtracking engine on this input; the linear engine answers first.
    [
      "regex without a match never backtracks",
      "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'.find('(a+)+$') == ''",
    ],
    [
      "findAll stops when no further match exists",
      "'ab aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'.findAll('(a+)+b') == ['ab']",
    ],
    ["matches", "managedCluster.metadata.name.matches('^c[0-9]$')"],
    [
      "strings ext",
      "'a,b'.split(',') == ['a', 'b'] && 'Ab'.lowerAscii() == 'ab' && 'abc'.reverse() == 'cba'",
    ],
    ["strings.quote", "strings.quote('x') == '\"x\"'"],
    ["macros", "[1, 2, 3].filter(x, x > 1).map(x, x * 2) == [4, 6] && [1, 2].all(x, x > 0)"],
  ];
  for (const [name, expression] of cases) {
    it(name, () => assert.deepEqual(evaluate(expression), { matched: true }));
  }
});

describe("CEL environment: clusters that do not match (never a throw)", () => {
  const cases: [string, string, string][] = [
    ["false", "managedCluster.metadata.name == 'other'", "evaluated to false"],
    ["non-bool", "managedCluster.metadata.name", "returned string, not bool"],
    ["missing field", "managedCluster.spec.nope == 1", "nope"],
    [
      "missing score object",
      "managedCluster.scores('absent').size() == 0",
      "AddOnPlacementScore c1/absent not found",
    ],
    ["bad semver", "semver('1.2') == semver('1.2.0')", "invalid semver"],
    ["bad quantity", "quantity('abc').sign() == 1", "invalid quantity"],
    ["asInteger of fraction", "quantity('1.5').asInteger() == 1", "cannot convert value to integer"],
    ["min of empty", "[].min() == 0", "min called on empty list"],
    ["bad JSON", "'{'.parseJSON() == 1", "parseJSON"],
    ["bad regex", "'a'.find('(') == ''", "invalid regular expression"],
    ["division by zero", "1 / 0 == 1", "divide by zero"],
    ["wrong method target", "'x'.major() == 1", "no such overload"],
  ];
  for (const [name, expression, reason] of cases) {
    it(name, () => {
      const result = evaluate(expression);
      assert.ok("matched" in result && !result.matched, JSON.stringify(result));
      assert.match(result.reason, new RegExp(reason.replace(/[()[\]]/g, "\\$&")));
    });
  }
});

describe("CEL environment: compilation", () => {
  const cases: [string, string][] = [
    ["syntax error", "managedCluster.metadata.name =="],
    ["unknown function", "foo(managedCluster) == 1"],
    ["unknown method", "managedCluster.metadata.name.frobnicate()"],
    ["unknown variable", "cluster.metadata.name == 'a'"],
    ["comprehension variable out of scope", "[1].exists(x, x == 1) && x == 1"],
  ];
  for (const [name, expression] of cases) {
    it(name, () => {
      const result = evaluate(expression);
      assert.ok("compileError" in result, JSON.stringify(result));
      assert.match(result.compileError, /^compilation failed: /);
    });
  }
  it("reports the unknown name", () => {
    assert.deepEqual(evaluate("foo(1) == 1"), {
      compileError: "compilation failed: undeclared reference to 'foo'",
    });
  });
  it("caches compiled programs", () => {
    const cel = new PlacementCel();
    const a = cel.compile("true");
    const b = cel.compile("true");
    assert.ok(a.ok && b.ok && a.program === b.program);
  });
});

describe("CEL environment: cost limits", () => {
  const nested =
    "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, true)))";
  it("a cheap expression passes under a small limit", () => {
    assert.deepEqual(evaluate("1 + 1 == 2", new PlacementCel({ perCallLimit: 10 })), { matched: true });
  });
  it("an expression over the per-call limit does not match", () => {
    const result = evaluate(nested, new PlacementCel({ perCallLimit: 500 }));
    assert.ok("matched" in result && !result.matched);
    assert.match(result.reason, /actual cost limit exceeded/);
  });
  it("the same expression passes with the default limit", () => {
    assert.deepEqual(evaluate(nested), { matched: true });
  });
  it("the per-cluster budget spans every expression of the cluster", () => {
    const cel = new PlacementCel({ perCallLimit: 2000, perClusterBudget: 2500 });
    const first = cel.compile(nested);
    const second = cel.compile(nested.replace("true", "a > 0"));
    assert.ok(first.ok && second.ok);
    const one = cel.matchCluster([first.program], subject, scores);
    assert.deepEqual(one, { matched: true });
    const both = cel.matchCluster([first.program, second.program], subject, scores);
    assert.ok(!both.matched && both.index === 1 && /cluster cost budget exceeded/.test(both.reason));
  });
});
