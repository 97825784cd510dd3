// Placement scheduling time against fleet size: one placement with a label selector, a claim
// selector, one CEL expression and three prioritizers (Balance, Steady,
// ResourceAllocatableCPU), scheduled over 1k, 10k and 100k clusters.
//   node bench/placement.ts [sizes...]      e.g. node bench/placement.ts 1000 10000 100000
import { cpus } from "node:os";
import { PlacementCel } from "../controllers/placement/cel/environment.ts";
import { FleetIndex } from "../controllers/placement/scheduler/fleet.ts";
import { schedule } from "../controllers/placement/scheduler/scheduler.ts";
import { binding, cluster, clusterSet, decision, placement } from "../test/support/placement-fixtures.ts";

const regions = ["eu-west", "eu-central", "us-east", "us-west", "ap-south"];
const now = Date.parse("2026-06-01T12:00:00Z");

function makeFleet(size: number) {
  const clusters = Array.from({ length: size }, (_, i) =>
    cluster(`cluster-${String(i).padStart(6, "0")}`, {
      labels: { env: i % 4 === 0 ? "dev" : "prod", gpu: i % 3 === 0 ? "true" : "false" },
      claims: {
        "region.open-cluster-management.io": regions[i % regions.length]!,
        "kubeversion.open-cluster-management.io": `v1.${28 + (i % 5)}.0`,
        "id.k8s.io": `id-${i}`,
      },
      allocatable: { cpu: `${4 + (i % 61)}`, memory: `${16 + (i % 113)}Gi` },
      version: `v1.${28 + (i % 5)}.${i % 7}`,
    }),
  );
  // Other placements already use a tenth of the fleet.
  const decisions = Array.from({ length: Math.ceil(size / 1000) }, (_, k) =>
    decision(
      `other-${k}`,
      clusters.slice(k * 100, k * 100 + 100).map((c) => c.metadata.name!),
      "team",
      `other-${k}-decision-1`,
    ),
  );
  return {
    clusters,
    clusterSets: [clusterSet("default")],
    bindings: [binding("default")],
    scores: [],
    decisions,
  };
}

const subject = placement({
  numberOfClusters: 50,
  predicates: [
    {
      requiredClusterSelector: {
        labelSelector: { matchLabels: { env: "prod" } },
        claimSelector: {
          matchExpressions: [
            {
              key: "region.open-cluster-management.io",
              operator: "In",
              values: ["eu-west", "eu-central", "us-east"],
            },
          ],
        },
        celSelector: {
          celExpressions: [
            'semver(managedCluster.status.version.kubernetes, true).isGreaterThan(semver("1.29.0"))',
          ],
        },
      },
    },
  ],
  prioritizerPolicy: {
    mode: "Additive",
    configurations: [{ scoreCoordinate: { type: "BuiltIn", builtIn: "ResourceAllocatableCPU" }, weight: 2 }],
  },
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const sizes = process.argv.slice(2).map(Number);
console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"})`);
console.log(
  "clusters | index build | first schedule | schedule (median) | schedule, cold CEL cache (median) | selected",
);
for (const size of sizes.length > 0 ? sizes : [1000, 10000, 100000]) {
  const objects = makeFleet(size);
  let t = performance.now();
  const fleet = new FleetIndex(objects);
  const indexMs = performance.now() - t;
  const cel = new PlacementCel();
  t = performance.now();
  const first = schedule(subject, fleet, { now, cel });
  const firstMs = performance.now() - t;
  const runs = size >= 100000 ? 5 : 15;
  const warm: number[] = [];
  const cold: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    schedule(subject, fleet, { now, cel });
    warm.push(performance.now() - t);
    // A fresh index and CEL environment: nothing cached from earlier runs.
    const freshFleet = new FleetIndex(objects);
    t = performance.now();
    schedule(subject, freshFleet, { now, cel: new PlacementCel() });
    cold.push(performance.now() - t);
  }
  console.log(
    `${size} | ${indexMs.toFixed(1)} ms | ${firstMs.toFixed(1)} ms | ${median(warm).toFixed(1)} ms | ${median(cold).toFixed(1)} ms | ${first.status.numberOfSelectedClusters}`,
  );
}
