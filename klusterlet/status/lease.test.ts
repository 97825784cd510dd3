import assert from "node:assert/strict";
import { setImmediate as flush } from "node:timers/promises";
import { describe, it } from "node:test";
import { pino } from "pino";
import { KubeApiError } from "../../runtime/errors.ts";
import type { Lease } from "../../runtime/leader.ts";
import { ManualClock } from "../../test/support/manual-clock.ts";
import { LeaseRenewer, type LeaseClient } from "./lease.ts";

const logger = pino({ level: "silent" });

class FakeLeases {
  lease: Lease | undefined;
  writes: string[] = [];
  reads = 0;
  createForbidden = false;
  /** The hub's API server is unreachable: every request fails before reaching it. */
  down = false;
  #version = 0;

  /** Another writer (the hub) changes the lease: the renewer's copy is stale now. */
  writeElsewhere(): void {
    this.lease = {
      ...this.lease!,
      metadata: { ...this.lease!.metadata, resourceVersion: String(++this.#version) },
    };
  }

  #stored(object: Lease): Lease {
    this.lease = structuredClone({
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(++this.#version) },
    });
    return structuredClone(this.lease);
  }

  readonly client = {
    getOrUndefined: (ref: { name: string; namespace?: string }) => {
      assert.equal(ref.name, "managed-cluster-lease");
      assert.equal(ref.namespace, "c1");
      this.reads++;
      return Promise.resolve(this.lease ? structuredClone(this.lease) : undefined);
    },
    create: (object: Lease) => {
      if (this.createForbidden) return Promise.reject(new KubeApiError("forbidden", 403, "Forbidden"));
      this.writes.push(`create ${object.spec?.renewTime}`);
      return Promise.resolve(this.#stored(object));
    },
    replace: (object: Lease) => {
      if (this.down) return Promise.reject(new Error("connect ECONNREFUSED"));
      if (!this.lease) return Promise.reject(new KubeApiError("not found", 404, "NotFound"));
      if (object.metadata.resourceVersion !== this.lease.metadata.resourceVersion)
        return Promise.reject(new KubeApiError("conflict", 409, "Conflict"));
      this.writes.push(`update ${object.spec?.renewTime}`);
      return Promise.resolve(this.#stored(object));
    },
  } as unknown as LeaseClient;
}

/** The lease as the hub creates it for an accepted cluster. */
function hubMadeLease(): Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "managed-cluster-lease", namespace: "c1", resourceVersion: "0" },
    spec: { leaseDurationSeconds: 60 },
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await flush();
}

function setup(random = () => 0) {
  const clock = new ManualClock(Date.parse("2026-03-01T10:00:00Z"));
  const leases = new FakeLeases();
  const renewer = new LeaseRenewer({ client: leases.client, clusterName: "c1", clock, logger, random });
  return { clock, leases, renewer };
}

describe("LeaseRenewer", () => {
  it("renews with one write at rest, and reads the lease again once another writer changed it", async () => {
    const { clock, leases, renewer } = setup();
    leases.lease = hubMadeLease();
    renewer.update(true, 60);
    await settle();
    assert.equal(leases.reads, 1, "the first renewal reads the lease");
    clock.advance(60_000);
    await settle();
    clock.advance(60_000);
    await settle();
    assert.equal(leases.reads, 1, "later renewals write on what the last one wrote");
    assert.equal(leases.writes.length, 3);
    leases.writeElsewhere();
    clock.advance(60_000);
    await settle();
    assert.equal(leases.reads, 2, "a conflict reads the lease again");
    assert.equal(leases.writes.length, 4, "and the renewal is still written");
    assert.equal(leases.lease.spec?.renewTime, "2026-03-01T10:03:00.000000Z");
    await renewer.stop();
  });

  it("after renewals that never reached the server, writes again without reading first", async () => {
    const { clock, leases, renewer } = setup();
    leases.lease = hubMadeLease();
    renewer.update(true, 60);
    await settle();
    leases.down = true;
    clock.advance(60_000);
    await settle();
    clock.advance(60_000);
    await settle();
    assert.equal(leases.writes.length, 1, "nothing written during the outage");
    leases.down = false;
    clock.advance(60_000);
    await settle();
    assert.equal(leases.reads, 1, "no read after the outage: the server's copy never moved");
    assert.deepEqual(leases.writes.at(-1), "update 2026-03-01T10:03:00.000000Z");
    await renewer.stop();
  });

  it("does nothing while the cluster is not accepted", async () => {
    const { clock, leases, renewer } = setup();
    renewer.update(false, 60);
    await settle();
    clock.advance(600_000);
    await settle();
    assert.deepEqual(leases.writes, []);
    assert.equal(renewer.running, false);
  });

  it("renews at once when accepted, then every leaseDurationSeconds, in MicroTime", async () => {
    const { clock, leases, renewer } = setup();
    leases.lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "managed-cluster-lease", namespace: "c1", resourceVersion: "1" },
      spec: { holderIdentity: "managed-cluster-lease", renewTime: "2026-01-01T00:00:00.000000Z" },
    };
    renewer.update(true, 30);
    await settle();
    assert.deepEqual(leases.writes, ["update 2026-03-01T10:00:00.000000Z"]);
    assert.deepEqual(clock.pendingDelays, [30_000]);
    clock.advance(30_000);
    await settle();
    assert.deepEqual(leases.writes.at(-1), "update 2026-03-01T10:00:30.000000Z");
    assert.equal(leases.lease.spec?.holderIdentity, "managed-cluster-lease");
    await renewer.stop();
  });

  it("stretches the period by up to 25% at random", async () => {
    const { clock, renewer } = setup(() => 0.999);
    renewer.update(true, 0);
    await settle();
    const [delay] = clock.pendingDelays;
    assert.ok(delay! > 60_000 && delay! < 75_000, String(delay));
    await renewer.stop();
  });

  it("creates a missing lease, and waits for the hub when it may not", async () => {
    const created = setup();
    created.renewer.update(true, 60);
    await settle();
    assert.deepEqual(created.leases.writes, ["create 2026-03-01T10:00:00.000000Z"]);
    assert.deepEqual(created.leases.lease?.metadata.labels, {
      "open-cluster-management.io/cluster-name": "c1",
    });
    await created.renewer.stop();

    const forbidden = setup();
    forbidden.leases.createForbidden = true;
    forbidden.renewer.update(true, 60);
    await settle();
    assert.deepEqual(forbidden.leases.writes, []);
    assert.equal(forbidden.clock.pendingDelays.length, 1, "keeps trying");
    await forbidden.renewer.stop();
  });

  it("restarts when the duration changes and stops when the cluster is no longer accepted", async () => {
    const { clock, leases, renewer } = setup();
    renewer.update(true, 60);
    await settle();
    renewer.update(true, 60);
    await settle();
    assert.equal(leases.writes.length, 1, "an unchanged duration does not renew again");
    renewer.update(true, 10);
    await settle();
    assert.equal(leases.writes.length, 2);
    assert.deepEqual(clock.pendingDelays, [10_000]);
    renewer.update(false, 10);
    await settle();
    assert.deepEqual(clock.pendingDelays, []);
    clock.advance(120_000);
    await settle();
    assert.equal(leases.writes.length, 2);
  });
});
