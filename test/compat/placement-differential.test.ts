// The placement differential: OCM's own placement controller (v1.0.0, built from the Go module
// proxy and cached) is the oracle. On one real hub with bosun's CRDs, seeded random fleets and
// Placements are scheduled by OCM's controller, and bosun's pure scheduler computes its answer
// from the same objects as the API server returns them; the PlacementDecisions (names, group
// labels, cluster order) and the Placement status must be the same, apart from the differences
// bosun makes on purpose (see placement-outcome.ts). The recorded cases of the scheduler's unit
// tests are replayed through OCM too, so their recorded answers stay OCM's.
//
// BOSUN_COMPAT_PAIRS (default 300) sets how many pairs to try and BOSUN_COMPAT_SEED (default 1)
// the first seed; bench/placement-differential.ts runs the same harness for thousands.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ensureOcmBinaries } from "../../local/ocm/binaries.ts";
import { installCrds } from "../../runtime/crds.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { generateRound } from "./fleet-generator.ts";
import { caseRound, loadRecordedCases } from "./support/placement-cases.ts";
import { describeMismatch, PlacementDifferential, type PairResult } from "./support/placement-harness.ts";
import { outcomeCoverage, outcomeDifferences } from "./support/placement-outcome.ts";

const wantedPairs = Number(process.env.BOSUN_COMPAT_PAIRS ?? 300);
const firstSeed = Number(process.env.BOSUN_COMPAT_SEED ?? 1);
/** Every fourth round has more than 100 clusters, so groups split over PlacementDecisions. */
const largeEvery = 4;

const fixture = useControlPlane("placement-differential");

describe("placement scheduling agrees with OCM's placement controller", () => {
  let client: KubeClient;
  let differential: PlacementDifferential;
  let logDir: string;

  before(async () => {
    const ocm = await ensureOcmBinaries({ binaries: ["placement"] });
    client = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(client, "hub");
    logDir = join(fixture.plane.dir, "logs");
    differential = await PlacementDifferential.create({
      client,
      kubeconfigPath: fixture.plane.kubeconfigPath,
      placementBinary: ocm.path("placement"),
      logDir,
    });
  });

  after(async () => {
    await differential?.stop();
    client?.close();
  });

  test("the recorded cases of the scheduler's tests are OCM's answers", async () => {
    const cases = loadRecordedCases();
    const wrong: string[] = [];
    for (const recorded of cases) {
      const [pair] = await differential.runRound(caseRound(recorded, Date.now()));
      if (!recorded.ocm) {
        wrong.push(`${recorded.name}: no recorded answer; OCM's is ${JSON.stringify(pair!.ocm)}`);
        continue;
      }
      const differences = outcomeDifferences(recorded.ocm, pair!.ocm);
      if (differences.length > 0) {
        wrong.push(
          `${recorded.name}:\n    ${differences.join("\n    ")}\n    OCM now: ${JSON.stringify(pair!.ocm)}`,
        );
      }
    }
    assert.ok(cases.length > 0);
    assert.deepEqual(wrong, [], `recorded answers that are not OCM's:\n  ${wrong.join("\n  ")}`);
  });

  test(`${wantedPairs} random fleet and placement pairs`, async (t) => {
    const results: PairResult[] = [];
    for (let seed = firstSeed, round = 0; results.length < wantedPairs; seed++, round++) {
      const large = round % largeEvery === largeEvery - 1;
      results.push(
        ...(await differential.runRound(
          generateRound(seed, Date.now(), large ? { clusters: [101, 140] } : {}),
        )),
      );
    }
    const mismatches = results.filter((r) => r.differences.length > 0 && !r.deliberate);
    if (mismatches.length > 0) {
      const file = join(logDir, "placement-mismatches.json");
      await writeFile(file, JSON.stringify(mismatches, null, 1));
      for (const m of mismatches.slice(0, 5)) console.error(`MISMATCH ${describeMismatch(m)}\n`);
      console.error(`${mismatches.length} mismatches; every one with its replay input in ${file}`);
    }
    const deliberate = new Map<string, number>();
    for (const r of results)
      if (r.deliberate) deliberate.set(r.deliberate, (deliberate.get(r.deliberate) ?? 0) + 1);
    const coverage = outcomeCoverage(results.map((r) => r.ocm));
    t.diagnostic(`pairs: ${results.length} (act 2: ${results.filter((r) => r.act === 2).length})`);
    t.diagnostic(`coverage: ${JSON.stringify(coverage)}`);
    for (const [reason, count] of deliberate) t.diagnostic(`deliberate, ${count}×: ${reason}`);

    assert.deepEqual(
      mismatches.map((m) => `seed ${m.seed} act ${m.act} ${m.placement}: ${m.differences[0]}`),
      [],
    );
    // The comparison must not pass for want of anything to compare.
    assert.ok(coverage.selecting > results.length / 3, JSON.stringify(coverage));
    for (const key of [
      "noneSelected",
      "unscheduled",
      "severalGroups",
      "namedGroups",
      "misconfigured",
    ] as const) {
      assert.ok(coverage[key] > 0, `no pair with ${key}: ${JSON.stringify(coverage)}`);
    }
    if (results.length >= 250)
      assert.ok(coverage.splitGroups > 0, `no group over 100: ${JSON.stringify(coverage)}`);
    assert.ok(results.some((r) => r.act === 2 && r.ocm.numberOfSelectedClusters > 0));
    assert.ok(results.some((r) => r.kind === "sequential" && r.ocm.numberOfSelectedClusters > 0));
  });
});
