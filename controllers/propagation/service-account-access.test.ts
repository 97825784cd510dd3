import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { pino } from "pino";
import { KubeApiError } from "../../runtime/errors.ts";
import type { KubeApi, RequestSpec } from "../../runtime/kube/client.ts";
import { ManualClock } from "../../test/support/manual-clock.ts";
import { MemoryKube } from "../../test/support/memory-kube.ts";
import { ServiceAccountAccess, ServiceAccountAccessError } from "./service-account-access.ts";

const logger = pino({ level: "silent" });

/** A hub that answers TokenRequests for the accounts it has, with tokens valid `lifetimeMs`. */
function tokenHub(clock: ManualClock, accounts: string[], lifetimeMs = 7_200_000) {
  const requests: RequestSpec[] = [];
  let minted = 0;
  const hub = {
    request: (spec: RequestSpec) => {
      requests.push(spec);
      const match = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/.exec(spec.path);
      if (!match || spec.method !== "POST") throw new Error(`unexpected request ${spec.method} ${spec.path}`);
      if (!accounts.includes(`${match[1]}/${match[2]}`))
        return Promise.reject(new KubeApiError(`serviceaccounts "${match[2]}" not found`, 404, "NotFound"));
      minted++;
      return Promise.resolve({
        status: {
          token: `token-${minted}`,
          expirationTimestamp: new Date(clock.now() + lifetimeMs).toISOString(),
        },
      });
    },
  } as unknown as KubeApi;
  return { hub, requests, minted: () => minted };
}

function access(clock: ManualClock, hub: KubeApi, random: number, renewed: string[][] = []) {
  const clients: { token: string; closed: boolean }[] = [];
  const accounts = new ServiceAccountAccess({
    client: hub,
    clientWithToken: (token) => {
      const entry = { token, closed: false };
      clients.push(entry);
      return Object.assign(new MemoryKube(), { close: () => (entry.closed = true) });
    },
    clock,
    logger,
    random: () => random,
    onRenewed: (roots) => renewed.push([...roots].sort()),
  });
  return { accounts, clients };
}

describe("ServiceAccountAccess", () => {
  it("mints one two-hour token per account for every root that reads as it", async () => {
    const clock = new ManualClock();
    const { hub, requests } = tokenHub(clock, ["policies/reader"]);
    const { accounts, clients } = access(clock, hub, 0.5);
    const [a, b] = await Promise.all([
      accounts.informersFor("policies", "reader", "policies/one"),
      accounts.informersFor("policies", "reader", "policies/two"),
    ]);
    assert.equal(a, b, "the roots share the account's informers");
    assert.equal(requests.length, 1);
    assert.deepEqual(requests[0]!.body, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 7200 },
    });
    assert.deepEqual(clients, [{ token: "token-1", closed: false }]);
    assert.deepEqual([...accounts.accounts], [["policies/reader", 2]]);
    await accounts.stop();
  });

  const renewals: { name: string; random: number; minutesBeforeExpiry: number }[] = [
    { name: "at the earliest", random: 1, minutesBeforeExpiry: 10 },
    { name: "half way", random: 0.5, minutesBeforeExpiry: 7.5 },
    { name: "at the latest", random: 0, minutesBeforeExpiry: 5 },
  ];
  for (const { name, random, minutesBeforeExpiry } of renewals) {
    it(`renews the token ${name} of its window: ${minutesBeforeExpiry} minutes before it expires`, async () => {
      const clock = new ManualClock();
      const { hub } = tokenHub(clock, ["policies/reader"]);
      const renewed: string[][] = [];
      const { accounts, clients } = access(clock, hub, random, renewed);
      await accounts.informersFor("policies", "reader", "policies/one");
      const dueMs = 7_200_000 - minutesBeforeExpiry * 60_000;
      clock.advance(dueMs - 1);
      await tick();
      assert.deepEqual(renewed, [], "not yet");
      clock.advance(1);
      await tick();
      await tick();
      assert.deepEqual(renewed, [["policies/one"]], "its roots resolve again");
      assert.equal(clients[0]!.closed, true, "the old token's client is closed");
      assert.deepEqual([...accounts.accounts], []);
      // The next resolution sets the account up with a new token.
      await accounts.informersFor("policies", "reader", "policies/one");
      assert.equal(clients[1]!.token, "token-2");
      await accounts.stop();
    });
  }

  it("says with OCM's message that an account does not exist, and sets nothing up", async () => {
    const clock = new ManualClock();
    const { hub } = tokenHub(clock, []);
    const { accounts, clients } = access(clock, hub, 0);
    await assert.rejects(
      accounts.informersFor("policies", "ghost", "policies/one"),
      (error: unknown) =>
        error instanceof ServiceAccountAccessError &&
        error.missing &&
        error.message ===
          "the service account in hubTemplateOptions.serviceAccountName (policies/ghost) does not exist",
    );
    assert.deepEqual(clients, []);
    assert.deepEqual([...accounts.accounts], []);
  });

  it("names the account and the API server's reason when a token cannot be minted", async () => {
    const clock = new ManualClock();
    const hub = {
      request: () =>
        Promise.reject(
          new KubeApiError('serviceaccounts "reader" is forbidden: cannot create token', 403, "Forbidden"),
        ),
    } as unknown as KubeApi;
    const { accounts } = access(clock, hub, 0);
    await assert.rejects(
      accounts.informersFor("policies", "reader", "policies/one"),
      (error: unknown) =>
        error instanceof ServiceAccountAccessError &&
        !error.missing &&
        error.message ===
          'failed to set up the template resolver for the service account in hubTemplateOptions.serviceAccountName (policies/reader): serviceaccounts "reader" is forbidden: cannot create token',
    );
  });

  it("stops an account once no root reads as it, and moves a root that names another account", async () => {
    const clock = new ManualClock();
    const { hub } = tokenHub(clock, ["policies/reader", "policies/other"]);
    const { accounts, clients } = access(clock, hub, 0);
    await accounts.informersFor("policies", "reader", "policies/one");
    await accounts.informersFor("policies", "reader", "policies/two");
    accounts.release("policies/one");
    assert.equal(clients[0]!.closed, false, "still read as by policies/two");
    await accounts.informersFor("policies", "other", "policies/two");
    await tick();
    assert.equal(clients[0]!.closed, true, "nobody reads as reader any more");
    assert.deepEqual([...accounts.accounts], [["policies/other", 1]]);
    assert.deepEqual(clock.pendingDelays.length, 1, "only the remaining account's renewal is pending");
    await accounts.stop();
    assert.equal(clients[1]!.closed, true);
  });
});
