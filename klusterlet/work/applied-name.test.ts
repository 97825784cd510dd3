import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  appliedManifestWorkName,
  appliedManifestWorkSpecUpdate,
  desiredAppliedManifestWork,
  hubHash,
  workNameOf,
} from "./applied-name.ts";

const hash = "badbd4de19b639898c31f168ba913abc5d9e2bbcf25d70e3ee016190492578ae";

describe("hubHash", () => {
  const cases: [string, string][] = [
    ["https://hub.example.com:6443", hash],
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ];
  for (const [url, expected] of cases) {
    it(`hashes ${JSON.stringify(url)}`, () => assert.equal(hubHash(url), expected));
  }

  it("is 64 hex characters and sensitive to every byte of the URL", () => {
    assert.match(hubHash("https://hub.example.com:6443/"), /^[0-9a-f]{64}$/);
    assert.notEqual(hubHash("https://hub.example.com:6443/"), hash);
  });
});

describe("AppliedManifestWork names", () => {
  it("joins the hub hash and the work name", () => {
    assert.equal(appliedManifestWorkName(hash, "web"), `${hash}-web`);
  });

  const cases: [string, string, string | undefined][] = [
    ["this hub's work", `${hash}-web`, "web"],
    ["a work name with dashes", `${hash}-my-web-1`, "my-web-1"],
    ["another hub", `${"0".repeat(64)}-web`, undefined],
    ["the hash without a dash", `${hash}web`, undefined],
    ["only the prefix", `${hash}-`, undefined],
    ["a bare hash", hash, undefined],
  ];
  for (const [name, applied, expected] of cases) {
    it(`workNameOf: ${name}`, () => assert.equal(workNameOf(applied, hash), expected));
  }
});

describe("desiredAppliedManifestWork", () => {
  it("names it after hub and work, adds the finalizer, copies labels and fills the spec", () => {
    const labels = { app: "web", "work.open-cluster-management.io/placementname": "p1" };
    const desired = desiredAppliedManifestWork({
      hubHash: hash,
      agentID: "agent-1",
      work: { metadata: { name: "web", labels } },
    });
    assert.deepEqual(desired, {
      apiVersion: "work.open-cluster-management.io/v1",
      kind: "AppliedManifestWork",
      metadata: {
        name: `${hash}-web`,
        finalizers: ["cluster.open-cluster-management.io/applied-manifest-work-cleanup"],
        labels,
      },
      spec: { hubHash: hash, agentID: "agent-1", manifestWorkName: "web" },
    });
    assert.notEqual(desired.metadata.labels, labels, "labels are copied, not shared");
  });

  it("leaves labels out when the work has none", () => {
    const desired = desiredAppliedManifestWork({
      hubHash: hash,
      agentID: "a",
      work: { metadata: { name: "w", labels: {} } },
    });
    assert.equal("labels" in desired.metadata, false);
  });
});

describe("appliedManifestWorkSpecUpdate", () => {
  const desired = desiredAppliedManifestWork({
    hubHash: hash,
    agentID: "agent-1",
    work: { metadata: { name: "web" } },
  });
  const cases: [
    string,
    { hubHash: string; agentID?: string; manifestWorkName: string } | undefined,
    boolean,
  ][] = [
    ["the same spec", { hubHash: hash, agentID: "agent-1", manifestWorkName: "web" }, false],
    ["another agent", { hubHash: hash, agentID: "agent-2", manifestWorkName: "web" }, true],
    ["no agent", { hubHash: hash, manifestWorkName: "web" }, true],
    ["another hub hash", { hubHash: "x", agentID: "agent-1", manifestWorkName: "web" }, true],
    ["another work", { hubHash: hash, agentID: "agent-1", manifestWorkName: "db" }, true],
    ["no spec", undefined, true],
  ];
  for (const [name, spec, changed] of cases) {
    it(name, () => {
      const update = appliedManifestWorkSpecUpdate({ spec }, desired);
      assert.deepEqual(update, changed ? desired.spec : undefined);
    });
  }
});
