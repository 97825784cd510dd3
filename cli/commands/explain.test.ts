import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { PlacementExplanation } from "./explain.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixtures = "test/fixtures/placement";

function bosun(...args: string[]) {
  const result = spawnSync(process.execPath, ["cli/bosun.ts", "explain", "placement", ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const placementFile = `${fixtures}/placement.yaml`;
const fleetFile = `${fixtures}/fleet.yaml`;

describe("bosun explain placement (offline)", () => {
  it("prints the status, the decisions and every candidate as JSON", () => {
    const { code, stdout } = bosun(
      "-f",
      placementFile,
      "--fleet",
      fleetFile,
      "--now",
      "2026-01-01T00:30:00Z",
      "-o",
      "json",
    );
    assert.equal(code, 0);
    const out = JSON.parse(stdout) as PlacementExplanation;
    assert.deepEqual(out.placement, { namespace: "default", name: "gpu-eu" });
    assert.equal(out.status.numberOfSelectedClusters, 2);
    assert.deepEqual(
      out.status.conditions!.map((c) => [c.type, c.status, c.reason]),
      [
        ["PlacementSatisfied", "True", "AllDecisionsScheduled"],
        ["PlacementMisconfigured", "False", "Succeedconfigured"],
      ],
    );
    assert.deepEqual(out.status.decisionGroups, [
      { decisionGroupIndex: 0, decisionGroupName: "", decisions: ["gpu-eu-decision-1"], clusterCount: 2 },
    ]);
    assert.equal(out.placementDecisions.length, 1);
    const pd = out.placementDecisions[0]!;
    assert.equal(pd.apiVersion, "cluster.open-cluster-management.io/v1beta1");
    assert.equal(pd.kind, "PlacementDecision");
    assert.deepEqual(pd.metadata.labels, {
      "cluster.open-cluster-management.io/placement": "gpu-eu",
      "cluster.open-cluster-management.io/decision-group-name": "",
      "cluster.open-cluster-management.io/decision-group-index": "0",
    });
    assert.deepEqual(
      pd.status!.decisions.map((d) => [d.clusterName, d.score]),
      [
        ["cluster1", 100],
        ["cluster2", -100],
      ],
    );
    // Candidates in name order; cluster6 is in no bound set.
    assert.deepEqual(
      out.clusters.map((c) => [c.name, c.selected, c.filteredBy?.plugin ?? null]),
      [
        ["cluster1", true, null],
        ["cluster2", true, null],
        ["cluster3", false, "TaintToleration"],
        ["cluster4", false, "Predicate"],
        ["cluster5", false, "Predicate"],
      ],
    );
    assert.deepEqual(out.clusters[0], {
      name: "cluster1",
      selected: true,
      filteredBy: null,
      scores: { Balance: -100, Steady: 0, ResourceAllocatableMemory: 100 },
      weights: { Balance: 1, Steady: 1, ResourceAllocatableMemory: 2 },
      total: 100,
      preferNoSelect: [],
    });
    assert.deepEqual(out.clusters[2]!.filteredBy, {
      plugin: "TaintToleration",
      reason: "taint key1=value1:NoSelect is not tolerated",
    });
    assert.deepEqual(out.clusters[3]!.filteredBy, {
      plugin: "Predicate",
      reason: "predicates[0]: celExpressions[0] evaluated to false",
    });
  });

  it("uses --now for tolerationSeconds", () => {
    const { code, stdout } = bosun(
      "-f",
      placementFile,
      "--fleet",
      fleetFile,
      "--now",
      "2026-01-01T01:00:00Z",
      "-o",
      "json",
    );
    assert.equal(code, 0);
    const out = JSON.parse(stdout) as PlacementExplanation;
    assert.deepEqual(out.clusters[1]!.filteredBy, {
      plugin: "TaintToleration",
      reason: "taint maintenance=true:NoSelect is not tolerated",
    });
    assert.equal(out.status.numberOfSelectedClusters, 1);
    assert.deepEqual(out.status.conditions![0]!.message, "1 cluster decisions unscheduled");
  });

  it("prints a table by default: selected first, then the rejected with the reason", () => {
    const { code, stdout } = bosun(
      "-f",
      placementFile,
      "--fleet",
      fleetFile,
      "--now",
      "2026-01-01T00:30:00Z",
    );
    assert.equal(code, 0);
    assert.match(stdout, /^Placement default\/gpu-eu: 2 of 5 candidate clusters selected/);
    assert.ok(stdout.indexOf("SELECTED") < stdout.indexOf("NOT SELECTED"));
    assert.match(stdout, /cluster1\s+100\s+gpu-eu-decision-1/);
    assert.match(stdout, /cluster3\s+TaintToleration\s+taint key1=value1:NoSelect is not tolerated/);
  });

  it("exits 0 with the condition for a misconfigured placement", () => {
    const { code, stdout } = bosun(
      "-f",
      `${fixtures}/misconfigured-placement.yaml`,
      "--fleet",
      fleetFile,
      "-o",
      "json",
    );
    assert.equal(code, 0);
    const out = JSON.parse(stdout) as PlacementExplanation;
    const misconfigured = out.status.conditions!.find((c) => c.type === "PlacementMisconfigured");
    assert.equal(misconfigured?.status, "True");
    assert.equal(
      misconfigured?.message,
      "PrioritizerPolicy:incorrect builtin prioritizer: MostExpensive (spec.prioritizerPolicy.configurations[0].scoreCoordinate.builtIn)",
    );
    assert.deepEqual(out.placementDecisions[0]!.status!.decisions, []);
  });

  const invalid: [string, string[], RegExp][] = [
    [
      "a Placement that is not valid",
      ["-f", `${fixtures}/invalid-placement.yaml`, "--fleet", fleetFile],
      /invalid-placement\.yaml: document 1 \(Placement invalid\): \.spec\.numberOfClusters: must be an integer/,
    ],
    [
      "a fleet object that is not valid",
      ["-f", placementFile, "--fleet", `${fixtures}/invalid-fleet.yaml`],
      /invalid-fleet\.yaml: document 2 \(ManagedCluster broken\): \.spec\.taints\[0\]\.effect: "Sometimes" is not in the enum/,
    ],
    [
      "YAML that does not parse",
      ["-f", placementFile, "--fleet", `${fixtures}/unparsable-fleet.txt`],
      /unparsable-fleet\.txt: document 2: /,
    ],
    [
      "a fleet file holding a Placement",
      ["-f", placementFile, "--fleet", placementFile],
      /document 1 \(Placement gpu-eu\): apiVersion\/kind .* is not one of/,
    ],
    ["a missing file", ["-f", `${fixtures}/nope.yaml`, "--fleet", fleetFile], /nope\.yaml: cannot read/],
  ];
  for (const [name, args, message] of invalid) {
    it(`exits 1 on ${name}`, () => {
      const { code, stderr } = bosun(...args);
      assert.equal(code, 1);
      assert.match(stderr, message);
    });
  }

  const usage: [string, string[], RegExp][] = [
    ["no --fleet", ["-f", placementFile], /-f PLACEMENT\.yaml and --fleet FLEET\.yaml are required/],
    [
      "a bad --output",
      ["-f", placementFile, "--fleet", fleetFile, "-o", "yaml"],
      /option '-o, --output <format>' argument 'yaml' is invalid\. Allowed formats: table, json\./,
    ],
    [
      "a bad --now",
      ["-f", placementFile, "--fleet", fleetFile, "--now", "yesterday"],
      /--now must be an RFC 3339 time/,
    ],
    [
      "both forms at once",
      ["p1", "-n", "default", "-f", "placement.yaml"],
      /either NAME \(live\) or -f\/--fleet \(offline\), not both/,
    ],
    ["an unknown option", ["--bogus"], /unknown option/],
  ];
  for (const [name, args, message] of usage) {
    it(`exits 2 on ${name}`, () => {
      const { code, stderr } = bosun(...args);
      assert.equal(code, 2);
      assert.match(stderr, message);
    });
  }
});
