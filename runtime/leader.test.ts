import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { captureLogger, logLevels } from "../test/support/log-capture.ts";
import { ManualClock } from "../test/support/manual-clock.ts";
import { KubeApiError } from "./errors.ts";
import type { RequestSpec } from "./kube/client.ts";
import {
  leaderReadiness,
  LeaderElector,
  leaseValid,
  mayAcquire,
  recordOf,
  type Lease,
  type LeaderElectorOptions,
} from "./leader.ts";
import { formatMicroTime, parseMicroTime } from "./time.ts";

const microTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

describe("formatMicroTime", () => {
  it("writes RFC 3339 in UTC with exactly six fractional digits", () => {
    assert.equal(formatMicroTime(Date.UTC(2026, 10, 21, 20, 11, 3, 123)), "2026-11-21T20:11:03.123000Z");
    assert.equal(formatMicroTime(0), "1970-01-01T00:00:00.000000Z");
    assert.equal(formatMicroTime(Date.UTC(2026, 0, 2, 3, 4, 5)), "2026-01-02T03:04:05.000000Z");
    assert.match(formatMicroTime(Date.now()), microTime);
  });

  it("keeps microseconds carried as a fraction of a millisecond", () => {
    assert.equal(
      formatMicroTime(Date.UTC(2026, 10, 21, 20, 11, 3, 123) + 0.456),
      "2026-11-21T20:11:03.123456Z",
    );
    assert.equal(formatMicroTime(999.9996), "1970-01-01T00:00:01.000000Z");
  });

  it("refuses times it cannot write as four-digit years", () => {
    assert.throws(() => formatMicroTime(Number.NaN), RangeError);
    assert.throws(() => formatMicroTime(Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => formatMicroTime(Date.UTC(10000, 0, 1)), RangeError);
    assert.throws(() => formatMicroTime(Date.UTC(-1, 0, 1)), RangeError);
  });
});

describe("parseMicroTime", () => {
  it("reads back what formatMicroTime writes, to the microsecond", () => {
    for (const ms of [0, 1_700_000_000_123, Date.UTC(2026, 10, 21, 20, 11, 3, 123) + 0.456]) {
      const parsed = parseMicroTime(formatMicroTime(ms));
      assert.ok(parsed !== undefined);
      assert.ok(Math.abs(parsed - ms) < 0.001, `${parsed} vs ${ms}`);
    }
  });

  it("reads RFC 3339 Times, offsets and nanoseconds too", () => {
    assert.equal(parseMicroTime("2026-11-21T20:11:03Z"), Date.UTC(2026, 10, 21, 20, 11, 3));
    assert.equal(parseMicroTime("2026-11-21T22:11:03.5+02:00"), Date.UTC(2026, 10, 21, 20, 11, 3, 500));
    assert.equal(parseMicroTime("2026-11-21T19:41:03-00:30"), Date.UTC(2026, 10, 21, 20, 11, 3));
    assert.equal(
      parseMicroTime("2026-11-21T20:11:03.123456789Z"),
      Date.UTC(2026, 10, 21, 20, 11, 3, 123) + 0.456,
    );
  });

  it("rejects what is not an RFC 3339 time", () => {
    for (const text of [
      "",
      "2026-11-21",
      "2026-11-21 20:11:03Z",
      "2026-11-21T20:11:03",
      "2026-11-21T20:11:03.Z",
      "2026-02-30T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-11-21T24:00:00Z",
      "yesterday",
    ]) {
      assert.equal(parseMicroTime(text), undefined, text);
    }
  });
});

describe("the expiry decision", () => {
  it("holds a lease for its duration after the local time it was observed", () => {
    assert.equal(leaseValid(1_000, 15, 15_999), true);
    assert.equal(leaseValid(1_000, 15, 16_000), false);
    assert.equal(leaseValid(1_000, 0, 1_000), false);
  });

  it("may acquire a free lease, its own, or an expired one, but not one held by another", () => {
    const held = { holderIdentity: "a", leaseDurationSeconds: 15 };
    assert.equal(mayAcquire(held, "b", 0, 14_999), false);
    assert.equal(mayAcquire(held, "b", 0, 15_000), true);
    assert.equal(mayAcquire(held, "a", 0, 1), true);
    assert.equal(mayAcquire({ holderIdentity: "", leaseDurationSeconds: 15 }, "b", 0, 1), true);
  });

  it("ignores the renewTime written in the lease", () => {
    // A holder whose clock runs far behind still holds its lease while it renews.
    const lease = {
      spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: "2000-01-01T00:00:00.000000Z" },
    };
    assert.equal(mayAcquire(recordOf(lease), "b", Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 1_000), false);
  });

  it("reads missing fields of a lease as a free lease", () => {
    assert.deepEqual(recordOf({}), {
      holderIdentity: "",
      leaseDurationSeconds: 0,
      acquireTime: undefined,
      renewTime: undefined,
      leaseTransitions: 0,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The elector against an in-memory Lease API and a manual clock

type Mode = "ok" | "error" | "forbidden" | "hang";

class FakeLeaseApi {
  lease: Lease | undefined;
  mode: Mode = "ok";
  readonly calls: string[] = [];
  #resourceVersion = 0;

  async request<T>(spec: RequestSpec): Promise<T> {
    this.calls.push(spec.method);
    await Promise.resolve();
    switch (this.mode) {
      case "ok":
        break;
      case "error":
        throw new Error("connect ECONNREFUSED");
      case "forbidden":
        throw new KubeApiError("leases is forbidden", 403, "Forbidden");
      case "hang":
        return new Promise((_resolve, reject) =>
          spec.signal?.addEventListener("abort", () => reject(new Error("aborted"))),
        );
    }
    const body = spec.body as Lease | undefined;
    switch (spec.method) {
      case "GET":
        if (!this.lease) throw new KubeApiError("not found", 404, "NotFound");
        return structuredClone(this.lease) as T;
      case "POST":
        if (this.lease) throw new KubeApiError("already exists", 409, "AlreadyExists");
        return this.#store(body!) as T;
      case "PUT":
        if (body!.metadata.resourceVersion !== this.lease?.metadata.resourceVersion)
          throw new KubeApiError("the object has been modified", 409, "Conflict");
        return this.#store(body!) as T;
      case "PATCH":
      case "DELETE":
        throw new Error(`unexpected ${spec.method}`);
    }
  }

  /** Another process writes the lease. */
  write(spec: Lease["spec"]): void {
    this.#store({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "bosun", namespace: "ns", ...this.lease?.metadata },
      spec: { ...this.lease?.spec, ...spec },
    });
  }

  #store(lease: Lease): Lease {
    this.#resourceVersion++;
    this.lease = structuredClone({
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(this.#resourceVersion) },
    });
    return structuredClone(this.lease);
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Advances the clock timer by timer, letting the elector's promises settle after each one. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  let left = ms;
  await flush();
  for (;;) {
    const next = clock.nextDueIn;
    if (next === undefined || next > left) {
      clock.advance(left);
      await flush();
      return;
    }
    clock.advance(next);
    left -= next;
    await flush();
  }
}

function setup(
  options: Partial<Omit<LeaderElectorOptions, "clock">> & { api?: FakeLeaseApi; clock?: ManualClock } = {},
) {
  const { api = new FakeLeaseApi(), clock = new ManualClock(Date.UTC(2026, 0, 1)), ...overrides } = options;
  const log = captureLogger();
  const events: string[] = [];
  const terms: AbortSignal[] = [];
  const leaders: string[] = [];
  const elector = new LeaderElector({
    client: api,
    namespace: "ns",
    name: "bosun",
    identity: "me",
    clock,
    logger: log.logger,
    random: () => 0,
    onStartedLeading: (signal) => {
      events.push("started");
      terms.push(signal);
    },
    onStoppedLeading: () => {
      events.push("stopped");
    },
    onNewLeader: (identity) => leaders.push(identity),
    ...overrides,
  });
  const abort = new AbortController();
  let settled = false;
  const running = elector.run(abort.signal).then(() => (settled = true));
  return { api, clock, log, events, terms, leaders, elector, abort, running, settled: () => settled };
}

describe("LeaderElector", () => {
  it("creates a missing lease and leads", async () => {
    const { api, clock, elector, events, leaders, abort, running } = setup();
    await advance(clock, 0);
    assert.equal(elector.isLeader, true);
    assert.deepEqual(events, ["started"]);
    assert.deepEqual(leaders, ["me"]);
    const spec = api.lease?.spec;
    assert.equal(spec?.holderIdentity, "me");
    assert.equal(spec?.leaseDurationSeconds, 15);
    assert.equal(spec?.leaseTransitions, 0);
    assert.equal(spec?.renewTime, formatMicroTime(clock.now()));
    assert.equal(spec?.acquireTime, spec?.renewTime);
    assert.match(spec?.renewTime ?? "", microTime);
    abort.abort();
    await running;
    assert.deepEqual(events, ["started", "stopped"]);
  });

  it("renews while leading, keeping acquireTime and leaseTransitions", async () => {
    const { api, clock, abort, running } = setup();
    await advance(clock, 0);
    const acquired = structuredClone(api.lease!.spec!);
    await advance(clock, 10_000);
    const renewed = api.lease!.spec!;
    assert.equal(renewed.acquireTime, acquired.acquireTime);
    assert.equal(renewed.leaseTransitions, 0);
    assert.equal(renewed.renewTime, formatMicroTime(clock.now()));
    // Renewals write on top of the last write without reading the lease first.
    assert.deepEqual(api.calls, ["GET", "POST", "PUT", "PUT", "PUT", "PUT", "PUT"]);
    abort.abort();
    await running;
  });

  it("takes a lease held by another only after it expires by local observation", async () => {
    const api = new FakeLeaseApi();
    // The renewTime is ancient; a candidate that trusted it would take the lease at once.
    api.write({
      holderIdentity: "other",
      leaseDurationSeconds: 15,
      renewTime: "2000-01-01T00:00:00.000000Z",
      acquireTime: "2000-01-01T00:00:00.000000Z",
      leaseTransitions: 4,
    });
    const { clock, elector, leaders, abort, running } = setup({ api });
    await advance(clock, 14_000);
    assert.equal(elector.isLeader, false);
    assert.equal(elector.leader, "other");
    assert.deepEqual(leaders, ["other"]);
    assert.equal(api.lease?.spec?.holderIdentity, "other");
    await advance(clock, 2_000);
    assert.equal(elector.isLeader, true);
    assert.equal(api.lease?.spec?.holderIdentity, "me");
    assert.equal(api.lease?.spec?.leaseTransitions, 5);
    assert.equal(api.lease?.spec?.acquireTime, formatMicroTime(clock.now()));
    assert.deepEqual(leaders, ["other", "me"]);
    abort.abort();
    await running;
  });

  it("restarts the expiry clock each time it sees the holder renew", async () => {
    const api = new FakeLeaseApi();
    api.write({
      holderIdentity: "other",
      leaseDurationSeconds: 15,
      renewTime: "2000-01-01T00:00:00.000000Z",
    });
    const { clock, elector, abort, running } = setup({ api });
    await advance(clock, 9_000);
    api.write({ renewTime: "2000-01-01T00:00:09.000000Z" });
    // Seen by the attempt at 10 s: the lease is good until 25 s.
    await advance(clock, 15_000);
    assert.equal(elector.isLeader, false);
    await advance(clock, 2_000);
    assert.equal(elector.isLeader, true);
    abort.abort();
    await running;
  });

  it("takes a released lease at once", async () => {
    const api = new FakeLeaseApi();
    api.write({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 1 });
    const { clock, elector, abort, running } = setup({ api });
    await advance(clock, 0);
    assert.equal(elector.isLeader, true);
    assert.equal(api.lease?.spec?.leaseTransitions, 2);
    abort.abort();
    await running;
  });

  it("jitters every wait by 1.2 × retryPeriod", async () => {
    const api = new FakeLeaseApi();
    api.write({ holderIdentity: "other", leaseDurationSeconds: 60 });
    const { clock, abort, running } = setup({ api, random: () => 0.5, retryPeriodMs: 1_000 });
    await advance(clock, 20_000);
    const renewDeadlineTimers = (d: number) => d !== 10_000;
    const waits = clock.requestedDelays.filter(renewDeadlineTimers);
    assert.ok(waits.length >= 5, `${waits.length} waits`);
    assert.ok(
      waits.every((d) => d === 1_600),
      `${waits.join(", ")}`,
    );
    abort.abort();
    await running;
  });

  for (const mode of ["error", "hang"] as const) {
    it(`stops leading when renewals fail (${mode}) until the renew deadline`, async () => {
      const { api, clock, elector, events, terms, abort, running } = setup();
      await advance(clock, 2_000); // acquired at 0, renewed at 2 s
      const renewedAt = clock.now();
      api.mode = mode;
      await advance(clock, 9_999);
      assert.equal(elector.isLeader, true);
      assert.equal(terms[0]?.aborted, false);
      await advance(clock, 1);
      assert.equal(clock.now(), renewedAt + 10_000);
      assert.equal(elector.isLeader, false);
      assert.equal(terms[0]?.aborted, true);
      assert.deepEqual(events, ["started", "stopped"]);
      // The campaign goes on: once the API answers again, it leads again (a hanging attempt
      // started meanwhile times out after renewDeadline first).
      api.mode = "ok";
      await advance(clock, 12_000);
      assert.equal(elector.isLeader, true);
      assert.deepEqual(events, ["started", "stopped", "started"]);
      abort.abort();
      await running;
    });
  }

  it("stops leading at once when a renewal finds another holder", async () => {
    const { api, clock, elector, events, leaders, abort, running } = setup();
    await advance(clock, 0);
    api.write({ holderIdentity: "usurper" });
    await advance(clock, 2_000);
    assert.equal(elector.isLeader, false);
    assert.equal(elector.leader, "usurper");
    assert.deepEqual(events, ["started", "stopped"]);
    assert.deepEqual(leaders, ["me", "usurper"]);
    assert.equal(api.lease?.spec?.holderIdentity, "usurper");
    abort.abort();
    await running;
  });

  it("lets exactly one of two candidates win a race for a missing lease", async () => {
    const api = new FakeLeaseApi();
    const clock = new ManualClock();
    const a = setup({ api, clock, identity: "a" });
    const b = setup({ api, clock, identity: "b" });
    await advance(clock, 30_000);
    assert.deepEqual([a.elector.isLeader, b.elector.isLeader], [true, false]);
    assert.equal(b.elector.leader, "a");
    a.abort.abort();
    b.abort.abort();
    await Promise.all([a.running, b.running]);
  });

  it("releases the lease after ending the term", async () => {
    const { api, clock, elector, events, terms, settled } = setup({
      onStoppedLeading: () => {
        events.push(`stopped while the lease names ${api.lease?.spec?.holderIdentity}`);
      },
    });
    await advance(clock, 0);
    await elector.release();
    assert.equal(settled(), true);
    assert.equal(terms[0]?.aborted, true);
    assert.deepEqual(events, ["started", "stopped while the lease names me"]);
    assert.equal(api.lease?.spec?.holderIdentity, "");
    assert.equal(api.lease?.spec?.leaseDurationSeconds, 1);
    assert.equal(api.lease?.spec?.leaseTransitions, 0);
    assert.equal(elector.isLeader, false);
  });

  it("does not release a lease it does not hold", async () => {
    const api = new FakeLeaseApi();
    api.write({ holderIdentity: "other", leaseDurationSeconds: 15 });
    const { clock, elector } = setup({ api });
    await advance(clock, 0);
    await elector.release();
    assert.equal(api.lease?.spec?.holderIdentity, "other");
  });

  it("keeps retrying, without throwing, when it may not read the lease", async () => {
    const api = new FakeLeaseApi();
    api.mode = "forbidden";
    const { clock, elector, log, abort, running, settled } = setup({ api });
    await advance(clock, 30_000);
    assert.equal(elector.isLeader, false);
    assert.equal(elector.leader, undefined);
    assert.equal(await leaderReadiness(elector)(), false);
    assert.equal(settled(), false);
    assert.ok(api.calls.length >= 10, `${api.calls.length} calls`);
    // The first failure is a warning; repeats of it are debug entries.
    const warnings = log.entries.filter((e) => e.level === logLevels.warn);
    assert.equal(warnings.length, 1);
    assert.match(JSON.stringify(warnings[0]), /forbidden/);
    abort.abort();
    await running;
  });

  it("checks its timing options", () => {
    const base = { client: new FakeLeaseApi(), namespace: "ns", name: "l", identity: "me" };
    const callbacks = { logger: captureLogger().logger, onStartedLeading() {}, onStoppedLeading() {} };
    assert.throws(() => new LeaderElector({ ...base, ...callbacks, identity: "" }), RangeError);
    assert.throws(
      () => new LeaderElector({ ...base, ...callbacks, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
      RangeError,
    );
    assert.throws(
      () => new LeaderElector({ ...base, ...callbacks, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }),
      RangeError,
    );
    new LeaderElector({
      ...base,
      ...callbacks,
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 500,
    });
  });
});

describe("leaderReadiness", () => {
  it("is ready while leading or once a leader is known", () => {
    assert.equal(leaderReadiness({ isLeader: false, leader: undefined })(), false);
    assert.equal(leaderReadiness({ isLeader: true, leader: "me" })(), true);
    assert.equal(leaderReadiness({ isLeader: false, leader: "other" })(), true);
  });
});
