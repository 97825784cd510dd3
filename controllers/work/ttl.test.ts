import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ManifestWork } from "../../api/types/work.ts";
import { deletionDueAt } from "./ttl.ts";

const finishedAt = "2026-12-06T20:00:00Z";
const finishedMs = Date.parse(finishedAt);

function work(options: {
  ttl?: number;
  complete?: "True" | "False";
  labels?: Record<string, string>;
  deleting?: boolean;
}): ManifestWork {
  return {
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "ManifestWork",
    metadata: {
      name: "w",
      namespace: "cluster1",
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.deleting ? { deletionTimestamp: finishedAt } : {}),
    },
    spec: {
      workload: { manifests: [] },
      ...(options.ttl !== undefined ? { deleteOption: { ttlSecondsAfterFinished: options.ttl } } : {}),
    },
    status: options.complete
      ? {
          conditions: [
            {
              type: "Complete",
              status: options.complete,
              reason: "ConditionRulesAggregated",
              message: "",
              lastTransitionTime: finishedAt,
            },
          ],
        }
      : {},
  };
}

describe("deletionDueAt", () => {
  const cases: [string, ManifestWork, number | undefined][] = [
    ["ttl after Complete turned True", work({ ttl: 30, complete: "True" }), finishedMs + 30_000],
    ["ttl 0: as soon as it is Complete", work({ ttl: 0, complete: "True" }), finishedMs],
    ["no ttl: never", work({ complete: "True" }), undefined],
    ["not Complete yet", work({ ttl: 30 }), undefined],
    ["Complete False", work({ ttl: 30, complete: "False" }), undefined],
    [
      "a replica set's work is left to the replica set",
      work({
        ttl: 30,
        complete: "True",
        labels: { "work.open-cluster-management.io/manifestworkreplicaset": "ns.a" },
      }),
      undefined,
    ],
    ["already being deleted", work({ ttl: 30, complete: "True", deleting: true }), undefined],
  ];
  for (const [name, input, due] of cases) it(name, () => assert.equal(deletionDueAt(input), due));
});
