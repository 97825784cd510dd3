import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celEnv, isCelError } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { jsonLibrary, kubernetesLibrary } from "./library.ts";
import {
  compileExpression,
  formatProblems,
  iterationCostLibrary,
  meteredEnv,
  type CostMeter,
} from "./program.ts";
import { jsonToCel } from "./values.ts";

function environment(meter: CostMeter = { call: Infinity, budget: Infinity }, withJson = false) {
  const base = celEnv({
    funcs: [
      ...strings,
      ...kubernetesLibrary(),
      ...(withJson ? jsonLibrary() : []),
      ...iterationCostLibrary(),
    ],
  });
  return meteredEnv(base, meter, { call: "call limit", budget: "budget spent" });
}

const variables = new Set(["x"]);

describe("compileExpression", () => {
  const failures: [string, string, string, string][] = [
    ["syntax", "x ==", "parse", "<input>:1:3: found = but expecting end of input"],
    ["unknown variable", "y + 1", "check", "undeclared reference to 'y'"],
    ["unknown function", "frob(x)", "check", "undeclared reference to 'frob'"],
    ["unknown method", "x.frob()", "check", "undeclared reference to 'frob'"],
    [
      "comprehension variable out of scope",
      "[1].all(i, i > 0) && i > 0",
      "check",
      "undeclared reference to 'i'",
    ],
    [
      "problems listed once",
      "y + y + z",
      "check",
      "undeclared reference to 'y'; undeclared reference to 'z'",
    ],
  ];
  for (const [name, expression, stage, summary] of failures) {
    it(`rejects: ${name}`, () => {
      const compiled = compileExpression(environment(), expression, variables);
      assert.ok(!compiled.ok);
      assert.equal(compiled.stage, stage);
      assert.equal(compiled.summary, summary);
    });
  }

  const successes: [string, string, unknown][] = [
    ["declared variable", "x.a + 1", 3n],
    ["qualified function", "strings.quote('a')", '"a"'],
    ["type identifiers", "type(x.a) == int", true],
    ["comprehension", "[1, 2].exists(i, i == x.a)", true],
    ["Kubernetes library", "[1, 5, 2].max() == 5 && quantity('1k').asInteger() == 1000", true],
  ];
  for (const [name, expression, expected] of successes) {
    it(`evaluates: ${name}`, () => {
      const compiled = compileExpression(environment(), expression, variables);
      assert.ok(compiled.ok, JSON.stringify(compiled));
      assert.deepEqual(compiled.evaluate({ x: jsonToCel({ a: 2 }) }), expected);
    });
  }

  it("parseJSON is only in jsonLibrary", () => {
    assert.equal(compileExpression(environment(), "'1'.parseJSON() == 1.0", variables).ok, false);
    const compiled = compileExpression(environment(undefined, true), "'1'.parseJSON() == 1.0", variables);
    assert.ok(compiled.ok);
    assert.equal(compiled.evaluate({}), true);
  });

  it("records where each problem is", () => {
    const compiled = compileExpression(environment(), "1 +\n  y", variables);
    assert.ok(!compiled.ok);
    assert.equal(compiled.problems[0]?.offset, 6);
  });
});

describe("formatProblems", () => {
  const cases: [string, number | undefined, string][] = [
    ["x + y", 4, "ERROR: <input>:1:5: oops\n | x + y\n | ....^"],
    ["x +\n\ty", 4, "ERROR: <input>:2:1: oops\n |  y\n | ^"],
    ["x", undefined, "ERROR: <input>: oops"],
  ];
  for (const [expression, offset, text] of cases) {
    it(JSON.stringify(expression), () =>
      assert.equal(formatProblems(expression, [{ message: "oops", offset }]), text),
    );
  }

  it("joins several problems with newlines", () => {
    const text = formatProblems("a b", [
      { message: "one", offset: 0 },
      { message: "two", offset: 2 },
    ]);
    assert.equal(text.split("\n").length, 6);
  });
});

describe("meteredEnv", () => {
  const loop = "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, true))";

  it("charges calls and iterations to both counters", () => {
    const meter = { call: 1_000, budget: 5_000 };
    const compiled = compileExpression(environment(meter), loop, variables);
    assert.ok(compiled.ok);
    assert.equal(compiled.evaluate({}), true);
    assert.ok(meter.call < 1_000 - 100, `call ${meter.call}`);
    assert.equal(5_000 - meter.budget, 1_000 - meter.call);
  });

  const limits: [string, CostMeter, string][] = [
    ["the per-expression limit", { call: 50, budget: 5_000 }, "call limit"],
    ["the budget", { call: 5_000, budget: 50 }, "budget spent"],
  ];
  for (const [name, meter, message] of limits) {
    it(`stops at ${name}`, () => {
      const compiled = compileExpression(environment(meter), loop, variables);
      assert.ok(compiled.ok);
      let text: string;
      try {
        const result = compiled.evaluate({});
        text = isCelError(result)
          ? result.message
          : JSON.stringify(typeof result === "boolean" ? result : null);
      } catch (error) {
        text = (error as Error).message;
      }
      assert.match(text, new RegExp(message));
    });
  }
});
