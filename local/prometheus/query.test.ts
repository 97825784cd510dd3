import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseInstantQuery, PrometheusQueryError, sampleValue } from "./query.ts";

describe("sampleValue", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["1", 1],
    ["-1", -1],
    ["0.3333333333333333", 1 / 3],
    ["1e+06", 1e6],
    ["+Inf", Number.POSITIVE_INFINITY],
    ["-Inf", Number.NEGATIVE_INFINITY],
  ];
  for (const [text, want] of cases) {
    test(`reads ${text}`, () => assert.equal(sampleValue(text), want));
  }
  test("reads NaN", () => assert.ok(Number.isNaN(sampleValue("NaN"))));
  for (const text of ["", "one", "1,5"]) {
    test(`refuses ${JSON.stringify(text)}`, () =>
      assert.throws(() => sampleValue(text), /unreadable sample value/));
  }
});

describe("parseInstantQuery", () => {
  test("a vector: labels, values and timestamps of every sample", () => {
    const body = JSON.stringify({
      status: "success",
      data: {
        resultType: "vector",
        result: [
          {
            metric: { __name__: "policy_governance_info", cluster_namespace: "east" },
            value: [1700000000.5, "1"],
          },
          { metric: { cluster_namespace: "west" }, value: [1700000000.5, "-1"] },
        ],
      },
    });
    assert.deepEqual(parseInstantQuery("q", 200, body), [
      {
        metric: { __name__: "policy_governance_info", cluster_namespace: "east" },
        value: 1,
        timestamp: 1700000000.5,
      },
      { metric: { cluster_namespace: "west" }, value: -1, timestamp: 1700000000.5 },
    ]);
  });

  test("an empty vector", () => {
    const body = JSON.stringify({ status: "success", data: { resultType: "vector", result: [] } });
    assert.deepEqual(parseInstantQuery("q", 200, body), []);
  });

  test("a scalar is one sample without labels", () => {
    const body = JSON.stringify({ status: "success", data: { resultType: "scalar", result: [12, "0.5"] } });
    assert.deepEqual(parseInstantQuery("q", 200, body), [{ metric: {}, value: 0.5, timestamp: 12 }]);
  });

  test("a range result is refused", () => {
    const body = JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } });
    assert.throws(() => parseInstantQuery("up[5m]", 200, body), /up\[5m\] gave a matrix result/);
  });

  test("a refusal carries Prometheus' error type and message", () => {
    const body = JSON.stringify({
      status: "error",
      errorType: "bad_data",
      error: 'parse error: unexpected "}"',
    });
    assert.throws(
      () => parseInstantQuery("up}", 400, body),
      (error: unknown) =>
        error instanceof PrometheusQueryError &&
        error.errorType === "bad_data" &&
        /Prometheus refused up\} \(HTTP 400, bad_data\): parse error/.test(error.message),
    );
  });

  test("an answer that is not JSON", () => {
    assert.throws(() => parseInstantQuery("up", 502, "Bad Gateway"), /HTTP 502 and no JSON: Bad Gateway/);
  });
});
