// The placement differential at scale: seeded random fleets and Placements scheduled by OCM's
// own placement controller and by bosun's scheduler on one real hub; prints the pairs tried,
// the mismatches (each with everything needed to replay it) and the deliberate differences.
//   node bench/placement-differential.ts [--pairs 3000] [--seed 1] [--placements 30] [--large-every 4]
//   node bench/placement-differential.ts --replay   (the recorded cases of the scheduler's tests)
// OCM's binaries are built once from the Go module proxy and cached (local/ocm/binaries.ts).
import { writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureKubeBinaries } from "../local/binaries.ts";
import { ControlPlane } from "../local/controlplane.ts";
import { ensureOcmBinaries } from "../local/ocm/binaries.ts";
import { installCrds } from "../runtime/crds.ts";
import { KubeClient } from "../runtime/kube/client.ts";
import { generateRound } from "../test/compat/fleet-generator.ts";
import {
  describeMismatch,
  PlacementDifferential,
  type PairResult,
} from "../test/compat/support/placement-harness.ts";
import { caseRound, loadRecordedCases } from "../test/compat/support/placement-cases.ts";
import { outcomeCoverage, outcomeDifferences } from "../test/compat/support/placement-outcome.ts";

const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: "3000" },
    seed: { type: "string", default: "1" },
    placements: { type: "string", default: "30" },
    /** Every n-th round has more than 100 clusters (PlacementDecisions split at 100). */
    "large-every": { type: "string", default: "4" },
    "ocm-version": { type: "string" },
    /** Write every pair (with its replay input) to this file as JSON. */
    dump: { type: "string" },
    /** Replay the recorded cases through OCM and print OCM's answers instead. */
    replay: { type: "boolean", default: false },
  },
});
const wantedPairs = Number(args.pairs);
const firstSeed = Number(args.seed);
const largeEvery = Number(args["large-every"]);

const started = Date.now();
const ocm = await ensureOcmBinaries({
  binaries: ["placement"],
  ...(args["ocm-version"] ? { version: args["ocm-version"] } : {}),
});
const plane = await ControlPlane.start({
  name: "placement-differential",
  binaries: await ensureKubeBinaries(),
});
const results: PairResult[] = [];
let rounds = 0;
try {
  const client = await KubeClient.fromFile(plane.kubeconfigPath);
  await installCrds(client, "hub");
  const differential = await PlacementDifferential.create({
    client,
    kubeconfigPath: plane.kubeconfigPath,
    placementBinary: ocm.path("placement"),
    logDir: join(plane.dir, "logs"),
  });
  try {
    if (args.replay) {
      for (const recorded of loadRecordedCases()) {
        const [pair] = await differential.runRound(caseRound(recorded, Date.now()));
        const same = recorded.ocm !== null && outcomeDifferences(recorded.ocm, pair!.ocm).length === 0;
        console.log(`${recorded.name}: recorded answer ${same ? "is" : "is NOT"} OCM's`);
        if (!same) console.log(`  OCM: ${JSON.stringify(pair!.ocm)}`);
        console.log(
          `  bosun: ${pair!.differences.length === 0 ? "agrees" : (pair!.deliberate ?? pair!.differences.join("; "))}`,
        );
      }
    }
    for (let seed = firstSeed; !args.replay && results.length < wantedPairs; seed++, rounds++) {
      const large = largeEvery > 0 && rounds % largeEvery === largeEvery - 1;
      const round = generateRound(seed, Date.now(), {
        placements: Number(args.placements),
        ...(large ? { clusters: [101, 140] as [number, number] } : {}),
      });
      const pairs = await differential.runRound(round);
      results.push(...pairs);
      const bad = pairs.filter((p) => p.differences.length > 0 && !p.deliberate).length;
      console.error(
        `seed ${seed}: ${pairs.length} pairs, ${bad} mismatches (${results.length} pairs so far)`,
      );
    }
  } finally {
    await differential.stop();
  }
  client.close();
} finally {
  await plane.stop();
}

if (args.dump) await writeFile(args.dump, JSON.stringify(results));
const mismatches = results.filter((r) => r.differences.length > 0 && !r.deliberate);
const deliberate = results.filter((r) => r.deliberate);
for (const m of mismatches) console.error(`\nMISMATCH ${describeMismatch(m)}`);
// One example of each kind of message difference (the condition messages, OCM's then bosun's).
const messagePairs = new Map<string, string>();
for (const d of deliberate) {
  const message = (o: PairResult["ocm"]) =>
    o.conditions.find((c) => c.type === "PlacementMisconfigured")?.message;
  const [ocmMessage, bosunMessage] = [message(d.ocm), message(d.bosun)];
  if (ocmMessage !== bosunMessage) messagePairs.set(ocmMessage ?? "", bosunMessage ?? "");
}
for (const [ocmMessage, bosunMessage] of messagePairs)
  console.error(`message  ocm: ${ocmMessage}\n       bosun: ${bosunMessage}`);
const byReason = new Map<string, number>();
for (const d of deliberate) byReason.set(d.deliberate!, (byReason.get(d.deliberate!) ?? 0) + 1);
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      ocmVersion: ocm.version,
      rounds,
      seeds: `${firstSeed}..${firstSeed + rounds - 1}`,
      pairsTried: results.length,
      act2Pairs: results.filter((r) => r.act === 2).length,
      coverage: outcomeCoverage(results.map((r) => r.ocm)),
      mismatches: mismatches.length,
      mismatchSeeds: [...new Set(mismatches.map((m) => m.seed))],
      deliberateDifferences: Object.fromEntries(byReason),
      seconds: Math.round((Date.now() - started) / 1000),
    },
    null,
    2,
  ),
);
