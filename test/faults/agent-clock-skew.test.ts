// `bosun agent` whose clock runs 10 minutes ahead of the hub's: its lease renewals carry
// renewTimes from the hub's future. The hub reports ManagedClusterConditionClockSynced=False
// (ManagedClusterClockOutOfSync) and keeps the cluster Available: the lease never looks
// expired, so Available and the taints do not flap while the agent keeps renewing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  ConditionStatus,
  Lease,
  ManagedClusterConditions,
  ManagedClusterMessages,
  ManagedClusterReasons,
} from "../../api/constants.ts";
import type { ManagedCluster } from "../../api/types/cluster.ts";
import type { Lease as LeaseObject } from "../../api/types/kube.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { eventually } from "../support/wait.ts";
import {
  assertAvailable,
  clusterRef,
  startProcessFleet,
  type ProcessFleet,
} from "./support/process-fleet.ts";

const cluster = "ahead";
const offsetSeconds = 600;

describe("agent clock ahead of the hub's", () => {
  let fleet: ProcessFleet;

  before(async () => {
    fleet = await startProcessFleet({
      name: "faults-clock-skew",
      clusters: [cluster],
      agentArgs: () => ["--clock-offset-seconds", String(offsetSeconds)],
    });
  });

  after(async () => {
    await fleet?.stop();
  });

  const leaseRef = {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    namespace: cluster,
    name: Lease.name,
  };

  test("ClockSynced=False, Available stays True across renewals", async () => {
    // Short leases: many renewals in little time, and a grace (20 s) far below the skew.
    await fleet.hub.patch(clusterRef(cluster), "merge", { spec: { leaseDurationSeconds: 4 } });

    const outOfSync = await eventually(
      async () => {
        const current = await fleet.hub.get<ManagedCluster>(clusterRef(cluster));
        const clockSynced = findCondition(current.status?.conditions, ManagedClusterConditions.clockSynced);
        assert.equal(clockSynced?.status, ConditionStatus.False, "ClockSynced turns False");
        assert.equal(clockSynced.reason, ManagedClusterReasons.clockOutOfSync);
        assert.equal(clockSynced.message, ManagedClusterMessages.clockOutOfSync);
        await assertAvailable(fleet.hub, cluster);
        return current;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "ClockSynced=False on an Available cluster" },
    );
    const ltt = (object: ManagedCluster, type: string) =>
      findCondition(object.status?.conditions, type)?.lastTransitionTime;
    const availableSince = ltt(outOfSync, ManagedClusterConditions.available);
    const outOfSyncSince = ltt(outOfSync, ManagedClusterConditions.clockSynced);

    // Wait for several more renewals; a flap would move Available's lastTransitionTime (Unknown
    // and back) or leave a taint, whether or not a poll happened to catch it.
    const renewals = new Set<string>();
    const notAvailable: string[] = [];
    await eventually(
      async () => {
        const lease = await fleet.hub.get<LeaseObject>(leaseRef);
        const renewTime = lease.spec?.renewTime ?? "";
        const aheadMs = Date.parse(renewTime) - Date.now();
        assert.ok(aheadMs > (offsetSeconds - 60) * 1000, `renewTime ${renewTime} is from the hub's future`);
        renewals.add(renewTime);
        const current = await fleet.hub.get<ManagedCluster>(clusterRef(cluster));
        const available = findCondition(current.status?.conditions, ManagedClusterConditions.available);
        if (available?.status !== ConditionStatus.True) notAvailable.push(available?.status ?? "missing");
        assert.ok(renewals.size >= 5, `renewals seen: ${renewals.size}`);
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "five lease renewals" },
    );

    const final = await fleet.hub.get<ManagedCluster>(clusterRef(cluster));
    assert.deepEqual(notAvailable, [], "Available never left True");
    await assertAvailable(fleet.hub, cluster);
    assert.equal(ltt(final, ManagedClusterConditions.available), availableSince, "Available did not flap");
    const clockSynced = findCondition(final.status?.conditions, ManagedClusterConditions.clockSynced);
    assert.equal(clockSynced?.status, ConditionStatus.False);
    assert.equal(clockSynced.lastTransitionTime, outOfSyncSince, "ClockSynced stayed False");
  });
});
