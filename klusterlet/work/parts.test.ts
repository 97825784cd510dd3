import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BosunWorkAnnotations, BosunWorkLabels } from "../../api/constants.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { partGate, partOf } from "./parts.ts";

function part(
  index: number,
  options: { applied?: boolean; hash?: string; generation?: number; observed?: number } = {},
): ManifestWork {
  const generation = options.generation ?? 1;
  return {
    apiVersion: "work.open-cluster-management.io/v1",
    kind: "ManifestWork",
    metadata: {
      name: index === 0 ? "app" : `app-part-${index}`,
      generation,
      labels: {
        [BosunWorkLabels.partIndex]: String(index),
        [BosunWorkLabels.partCount]: "3",
        [BosunWorkLabels.templateHash]: options.hash ?? "h1",
      },
      annotations: { [BosunWorkAnnotations.partOf]: "app" },
    },
    status: options.applied
      ? {
          conditions: [
            {
              type: "Applied",
              status: "True",
              reason: "AppliedManifestWorkComplete",
              message: "",
              lastTransitionTime: "2026-01-01T00:00:00Z",
              observedGeneration: options.observed ?? generation,
            },
          ],
        }
      : {},
  };
}

describe("partOf", () => {
  test("reads the part labels and the whole's name", () => {
    assert.deepEqual(partOf(part(2).metadata), { whole: "app", index: 2, count: 3, templateHash: "h1" });
  });
  test("a work without part labels, or with an index beyond the count, is no part", () => {
    assert.equal(partOf({ name: "plain" }), undefined);
    const bad = part(1);
    bad.metadata.labels![BosunWorkLabels.partIndex] = "3";
    assert.equal(partOf(bad.metadata), undefined);
    bad.metadata.labels![BosunWorkLabels.partIndex] = "x";
    assert.equal(partOf(bad.metadata), undefined);
  });
});

describe("partGate", () => {
  test("part 0 and ordinary works are always ready", () => {
    assert.deepEqual(partGate(part(0), []), { ready: true });
    assert.deepEqual(partGate({ metadata: { name: "plain" } }, []), { ready: true });
  });

  test("part 2 waits for every earlier part to be Applied", () => {
    const gate = partGate(part(2), [part(0, { applied: true }), part(1)]);
    assert.equal(gate.ready, false);
    assert.deepEqual(!gate.ready && gate.waitingFor, [1]);
    assert.match(!gate.ready ? gate.message : "", /part 2 of 3 of app waits until part 1 is applied/);
    assert.deepEqual(partGate(part(2), [part(0, { applied: true }), part(1, { applied: true })]), {
      ready: true,
    });
  });

  test("parts of another template hash, or Applied for an older generation, do not count", () => {
    const gate = partGate(part(1), [part(0, { applied: true, hash: "h0" })]);
    assert.deepEqual(!gate.ready && gate.waitingFor, [0]);
    const stale = partGate(part(1), [part(0, { applied: true, generation: 2, observed: 1 })]);
    assert.equal(stale.ready, false);
  });

  test("a part already Applied for its generation stays ready", () => {
    assert.deepEqual(partGate(part(1, { applied: true }), []), { ready: true });
  });
});
