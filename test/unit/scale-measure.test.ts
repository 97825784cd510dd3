// The scale harness's readings: metric values picked from an exposition, request totals split
// into writes and watches, and the convergence curve.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseServedTotals } from "../../bench/apiserver-metrics.ts";
import { Curve, metricValue, requestCounts, writesBetween } from "../../bench/scale/measure.ts";

const exposition = [
  "# HELP bosun_controller_reconcile_total Reconciles.",
  'bosun_controller_reconcile_total{controller="placement",result="success"} 7',
  'bosun_controller_reconcile_total{controller="placement",result="error"} 2',
  'bosun_controller_reconcile_total{controller="propagation",result="success"} 40',
  "etcd_mvcc_db_total_size_in_bytes 1.048576e+06",
  'apiserver_request_total{code="200",resource="leases",verb="PUT"} 30',
  'apiserver_request_total{code="201",resource="manifestworks",verb="POST"} 5',
  'apiserver_request_total{code="200",resource="manifestworks",subresource="status",verb="PATCH"} 9',
  'apiserver_request_total{code="200",resource="manifestworks",verb="WATCH"} 4',
  'apiserver_request_total{code="200",resource="manifestworks",verb="LIST"} 3',
].join("\n");

describe("metricValue", () => {
  const cases: { name: string; labels?: Record<string, string>; want: number }[] = [
    { name: "bosun_controller_reconcile_total", labels: { controller: "placement" }, want: 9 },
    { name: "bosun_controller_reconcile_total", labels: { controller: "propagation" }, want: 40 },
    { name: "bosun_controller_reconcile_total", want: 49 },
    { name: "bosun_controller_reconcile_total", labels: { controller: "none" }, want: 0 },
    { name: "etcd_mvcc_db_total_size_in_bytes", want: 1_048_576 },
    { name: "bosun_controller", want: 0 },
  ];
  for (const c of cases)
    test(`${c.name} ${JSON.stringify(c.labels ?? {})} is ${c.want}`, () => {
      assert.equal(metricValue(exposition, c.name, c.labels), c.want);
    });
});

describe("requestCounts and writesBetween", () => {
  test("writes are POST, PUT, PATCH and DELETE; watches are counted apart", () => {
    assert.deepEqual(requestCounts(parseServedTotals(exposition)), { all: 51, writes: 44, watches: 4 });
  });

  test("the writes between two readings, the busiest first", () => {
    const before = parseServedTotals(exposition);
    const after = parseServedTotals(
      exposition
        .replace('verb="PUT"} 30', 'verb="PUT"} 90')
        .replace('subresource="status",verb="PATCH"} 9', 'subresource="status",verb="PATCH"} 19'),
    );
    assert.deepEqual(writesBetween(before, after), { "PUT leases": 60, "PATCH manifestworks/status": 10 });
  });
});

describe("Curve", () => {
  test("keeps a point only when the count changes, in tenths of a second", () => {
    const curve = new Curve(1000);
    curve.add(1000, 0);
    curve.add(1250, 0);
    curve.add(1500, 3);
    curve.add(3000, 10);
    assert.deepEqual(curve.points, [
      [0, 0],
      [0.5, 3],
      [2, 10],
    ]);
  });

  test("plots the count against time, full at the end", () => {
    const curve = new Curve(0);
    curve.add(0, 0);
    curve.add(1000, 5);
    curve.add(2000, 10);
    const rows = curve.plot(10, 4, 2).split("\n");
    // Columns at 0.5, 1, 1.5 and 2 s hold 0, 5, 5 and 10; rows are the levels 10 and 5.
    assert.deepEqual(rows, ["    10 |   #", "       | ###", "     0 +---- 2.0 s"]);
  });
});
