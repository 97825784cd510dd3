// Leader election on a real API server: one leader at a time, MicroTime stamps in the Lease, a
// released Lease handed over at once, an abandoned one only after it expires, and a candidate
// without RBAC that never leads and never gives up.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { Registry } from "prom-client";
import { KubeApiError } from "../../runtime/errors.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import { leaderReadiness, LeaderElector, type Lease } from "../../runtime/leader.ts";
import { MetricsServer } from "../../runtime/server.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { captureLogger, type CapturedLogger } from "../support/log-capture.ts";
import { eventually } from "../support/wait.ts";
import { parseMicroTime } from "../../runtime/time.ts";

const fixture = useControlPlane("leader");

const microTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const timing = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
const namespace = "default";

interface Candidate {
  identity: string;
  elector: LeaderElector;
  abort: AbortController;
  running: Promise<void>;
  log: CapturedLogger;
  /** Date.now() at each onStartedLeading. */
  startedAt: number[];
  stopped: number;
  terms: AbortSignal[];
}

/** Identities leading each Lease right now, by onStartedLeading/onStoppedLeading. */
const leading = new Map<string, Set<string>>();
const overlaps: string[] = [];
const started: Candidate[] = [];

function candidate(client: KubeClient, lease: string, identity: string): Candidate {
  const log = captureLogger();
  const leaders = leading.get(lease) ?? new Set<string>();
  leading.set(lease, leaders);
  const c: Candidate = {
    identity,
    log,
    startedAt: [],
    stopped: 0,
    terms: [],
    abort: new AbortController(),
    running: Promise.resolve(),
    elector: new LeaderElector({
      client,
      namespace,
      name: lease,
      identity,
      ...timing,
      logger: log.logger,
      onStartedLeading: (signal) => {
        c.startedAt.push(Date.now());
        c.terms.push(signal);
        leaders.add(identity);
        if (leaders.size > 1) overlaps.push(`${lease}: ${[...leaders].join(" and ")} lead at once`);
      },
      onStoppedLeading: () => {
        c.stopped++;
        leaders.delete(identity);
      },
    }),
  };
  c.running = c.elector.run(c.abort.signal);
  started.push(c);
  return c;
}

afterEach(async () => {
  for (const c of started.splice(0)) {
    c.abort.abort();
    await c.running;
  }
  assert.deepEqual(overlaps.splice(0), [], "two candidates led the same lease at once");
});

async function admin(): Promise<KubeClient> {
  return KubeClient.fromFile(fixture.plane.kubeconfigPath);
}

async function readLease(client: KubeClient, name: string): Promise<Lease> {
  return client.request<Lease>({
    method: "GET",
    path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`,
  });
}

/** Waits until exactly one of the candidates leads and the others know it; returns [leader, others]. */
async function oneLeader(candidates: Candidate[]): Promise<[Candidate, Candidate[]]> {
  return eventually(
    () => {
      const leaders = candidates.filter((c) => c.elector.isLeader);
      assert.equal(leaders.length, 1, `leaders: ${leaders.map((c) => c.identity).join(", ")}`);
      const leader = leaders[0]!;
      const others = candidates.filter((c) => c !== leader);
      for (const other of others) assert.equal(other.elector.leader, leader.identity);
      return [leader, others] as [Candidate, Candidate[]];
    },
    { what: "exactly one leader" },
  );
}

async function readyz(check: () => boolean | Promise<boolean>): Promise<number> {
  const server = new MetricsServer({ registry: new Registry(), logger: captureLogger().logger });
  server.addReadinessCheck("leader", check);
  const response = await server.app.inject({ method: "GET", url: "/readyz" });
  await server.close();
  return response.statusCode;
}

describe("leader election", () => {
  test("exactly one of two candidates leads, and a release hands the lease over at once", async () => {
    const kube = await admin();
    const a = candidate(kube, "handover", "candidate-a");
    const b = candidate(kube, "handover", "candidate-b");
    const [leader, [follower]] = await oneLeader([a, b]);

    // Through several renewals (each moves renewTime), the same single leader.
    const first = await readLease(kube, "handover");
    let renewals = 0;
    let lastRenewTime = first.spec?.renewTime;
    await eventually(async () => {
      const current = (await readLease(kube, "handover")).spec?.renewTime;
      if (current !== lastRenewTime) renewals++;
      lastRenewTime = current;
      assert.ok(renewals >= 2, `renewals seen: ${renewals}`);
    });
    assert.deepEqual(
      [a, b].filter((c) => c.elector.isLeader),
      [leader],
    );
    const lease = await readLease(kube, "handover");
    assert.equal(lease.spec?.holderIdentity, leader.identity);
    assert.equal(lease.spec?.leaseDurationSeconds, 4);
    assert.equal(lease.spec?.leaseTransitions, 0);
    assert.match(lease.spec?.renewTime ?? "", microTime);
    assert.match(lease.spec?.acquireTime ?? "", microTime);
    await eventually(async () => {
      const renewed = await readLease(kube, "handover");
      assert.notEqual(renewed.spec?.renewTime, lease.spec?.renewTime);
      assert.equal(renewed.spec?.acquireTime, lease.spec?.acquireTime);
    });

    // Both are ready: one leads, the other knows who does.
    assert.equal(await readyz(leaderReadiness(leader.elector)), 200);
    assert.equal(await readyz(leaderReadiness(follower!.elector)), 200);

    await leader.elector.release();
    assert.equal(leader.terms[0]?.aborted, true);
    assert.equal(leader.stopped, 1);
    // The release frees the lease (no holder), so the follower may take it at once rather than
    // wait for an expiry: what it acts on is the record, not the time.
    const released = await readLease(kube, "handover");
    if (released.spec?.holderIdentity !== follower!.identity) assert.equal(released.spec?.holderIdentity, "");
    await eventually(() => assert.equal(follower!.elector.isLeader, true), { what: "the takeover" });
    const after = await readLease(kube, "handover");
    assert.equal(after.spec?.holderIdentity, follower!.identity);
    assert.equal(after.spec?.leaseTransitions, 1);
    assert.equal(after.spec?.leaseDurationSeconds, 4);
    assert.notEqual(after.spec?.acquireTime, lease.spec?.acquireTime);
    assert.equal(leader.elector.isLeader, false);
    kube.close();
  });

  test("a leader that stops renewing is succeeded only after its lease expires", async () => {
    const kube = await admin();
    const a = candidate(kube, "expiry", "candidate-a");
    const b = candidate(kube, "expiry", "candidate-b");
    const [leader, [follower]] = await oneLeader([a, b]);
    const before = await readLease(kube, "expiry");

    // Stop the leader's campaign without releasing: the lease still names it.
    leader.abort.abort();
    await leader.running;
    assert.equal(leader.terms[0]?.aborted, true);
    const abandoned = await readLease(kube, "expiry");
    assert.equal(abandoned.spec?.holderIdentity, leader.identity);
    const lastRenewal = parseMicroTime(abandoned.spec?.renewTime ?? "");
    assert.ok(lastRenewal !== undefined, `renewTime ${abandoned.spec?.renewTime}`);

    // The follower saw that renewal no earlier than it was written, so it must wait a full lease
    // duration from it: the acquireTime it writes into the lease says when it took over.
    const expiresAt = lastRenewal + timing.leaseDurationMs;
    await eventually(() => assert.equal(follower!.elector.isLeader, true), { what: "the takeover" });
    const after = await readLease(kube, "expiry");
    const acquiredAt = parseMicroTime(after.spec?.acquireTime ?? "");
    assert.ok(acquiredAt !== undefined && acquiredAt >= expiresAt, "took over a lease that had not expired");
    assert.equal(after.spec?.holderIdentity, follower!.identity);
    assert.equal(after.spec?.leaseTransitions, (before.spec?.leaseTransitions ?? 0) + 1);
    kube.close();
  });

  test("a candidate without RBAC for leases never leads and keeps retrying without throwing", async () => {
    const kube = await admin();
    await kube.request({
      method: "POST",
      path: `/api/v1/namespaces/${namespace}/serviceaccounts`,
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "nobody" } },
    });
    const tokenRequest = await kube.request<{ status: { token: string } }>({
      method: "POST",
      path: `/api/v1/namespaces/${namespace}/serviceaccounts/nobody/token`,
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 3600 },
      },
    });
    const kubeconfig = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "leader",
          cluster: {
            server: fixture.plane.server,
            "certificate-authority-data": Buffer.from(fixture.plane.caPem).toString("base64"),
          },
        },
      ],
      users: [{ name: "nobody", user: { token: tokenRequest.status.token } }],
      contexts: [{ name: "nobody", context: { cluster: "leader", user: "nobody" } }],
      "current-context": "nobody",
    };
    const nobody = await KubeClient.fromString(JSON.stringify(kubeconfig));
    await assert.rejects(readLease(nobody, "forbidden"), (error: unknown) => {
      assert.ok(error instanceof KubeApiError);
      assert.equal(error.status, 403);
      return true;
    });

    // A third candidate, next to two that may use the lease: it is refused and stays a candidate.
    const a = candidate(kube, "shared", "candidate-a");
    const b = candidate(kube, "shared", "candidate-b");
    const forbidden = candidate(nobody, "shared", "candidate-nobody");
    // And alone on a lease nobody holds, where any permitted candidate would lead at once.
    const alone = candidate(nobody, "forbidden", "candidate-alone");
    let settled = false;
    void Promise.all([forbidden.running, alone.running]).finally(() => (settled = true));
    await oneLeader([a, b]);

    // Wait for attempts, not for time: each refused read is logged.
    await eventually(() => {
      for (const c of [forbidden, alone]) {
        const attempts = c.log.entries.filter((entry) => entry.msg === "could not read the lease");
        assert.ok(attempts.length >= 4, `${c.identity} tried ${attempts.length} times`);
      }
    });
    for (const c of [forbidden, alone]) {
      assert.equal(c.elector.isLeader, false);
      assert.deepEqual(c.startedAt, []);
      assert.equal(c.elector.leader, undefined);
      const attempts = c.log.entries.filter((entry) => entry.msg === "could not read the lease");
      assert.ok(attempts.length >= 4, `${c.identity} tried ${attempts.length} times`);
      assert.match(JSON.stringify(attempts[0]), /forbidden/);
      assert.equal(await readyz(leaderReadiness(c.elector)), 503);
    }
    assert.equal(settled, false, "run() ended");
    await assert.rejects(readLease(kube, "forbidden"), (error: unknown) => isNotFound(error));
    assert.ok(a.elector.isLeader || b.elector.isLeader);

    // Stopping it ends run() without an error.
    forbidden.abort.abort();
    alone.abort.abort();
    await Promise.all([forbidden.running, alone.running]);
    nobody.close();
    kube.close();
  });
});

function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}
