import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { Counter, Gauge, Registry } from "prom-client";
import { captureLogger, logLevels } from "../test/support/log-capture.ts";
import { ManualClock } from "../test/support/manual-clock.ts";
import { MetricsServer, type MetricsServerOptions } from "./server.ts";

function setup(options: Partial<MetricsServerOptions> = {}) {
  const registry = new Registry();
  const { logger, entries } = captureLogger();
  const server = new MetricsServer({ registry, logger, ...options });
  const get = (url: string) => server.app.inject({ method: "GET", url });
  return { server, registry, entries, get };
}

async function listening(t: TestContext, server: MetricsServer) {
  const bound = await server.listen({ host: "127.0.0.1", port: 0 });
  t.after(() => server.close());
  return bound;
}

describe("MetricsServer", () => {
  describe("over real HTTP", () => {
    it("binds a free port when asked for port 0 and returns the bound address", async (t) => {
      const { server } = setup();
      const bound = await listening(t, server);
      assert.equal(bound.host, "127.0.0.1");
      assert.ok(bound.port > 0 && bound.port < 65536);
      assert.equal(bound.url, `http://127.0.0.1:${bound.port}`);
    });

    it("serves the injected registry at /metrics in the Prometheus text format", async (t) => {
      const { server, registry } = setup();
      const requests = new Counter({ name: "test_requests_total", help: "requests", registers: [registry] });
      requests.inc(3);
      const elsewhere = new Registry();
      new Counter({ name: "test_elsewhere_total", help: "not served", registers: [elsewhere] });

      const { url } = await listening(t, server);
      const response = await fetch(`${url}/metrics`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      const body = await response.text();
      assert.ok(body.split("\n").includes("test_requests_total 3"), body);
      assert.ok(!body.includes("test_elsewhere_total"));
    });

    it("answers /healthz with 200 and /readyz with 503 while a readiness check fails", async (t) => {
      const { server } = setup();
      server.addReadinessCheck("informers synced", () => false);
      const { url } = await listening(t, server);

      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), "ok\n");
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(await ready.text(), "[-]informers synced failed\nreadyz check failed\n");
    });

    it("stops answering after close", async () => {
      const { server } = setup();
      const { url } = await server.listen({ host: "127.0.0.1", port: 0 });
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      await server.close();
      await assert.rejects(fetch(`${url}/healthz`));
    });
  });

  describe("/readyz", () => {
    it("answers 200 when there are no checks", async () => {
      const { get } = setup();
      const response = await get("/readyz");
      assert.equal(response.statusCode, 200);
      assert.equal(response.body, "ok\n");
    });

    it("answers 200 when every check passes, synchronous or not", async () => {
      const { server, get } = setup();
      server.addReadinessCheck("informers synced", () => true);
      server.addReadinessCheck("leader", () => Promise.resolve(true));
      const response = await get("/readyz");
      assert.equal(response.statusCode, 200);
      assert.equal(response.body, "ok\n");
    });

    it("answers 503 listing only the failing checks, with the reasons of those that threw", async () => {
      const { server, get } = setup();
      server.addReadinessCheck("informers synced", () => Promise.resolve(false));
      server.addReadinessCheck("cache", () => true);
      server.addReadinessCheck("leader", () => Promise.reject(new Error("not the leader\nyet")));
      server.addReadinessCheck("hub", () => {
        throw new Error("hub unreachable");
      });
      const response = await get("/readyz");
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers["content-type"], "text/plain; charset=utf-8");
      assert.equal(
        response.body,
        [
          "[-]informers synced failed",
          "[-]leader failed: not the leader yet",
          "[-]hub failed: hub unreachable",
          "readyz check failed",
          "",
        ].join("\n"),
      );
    });

    it("becomes ready when its checks start passing, or when the failing one is removed", async () => {
      const { server, get } = setup();
      let synced = false;
      server.addReadinessCheck("informers synced", () => synced);
      server.addReadinessCheck("leader", () => false);
      assert.equal((await get("/readyz")).statusCode, 503);
      synced = true;
      assert.equal((await get("/readyz")).body, "[-]leader failed\nreadyz check failed\n");
      assert.equal(server.removeReadinessCheck("leader"), true);
      assert.equal((await get("/readyz")).statusCode, 200);
      assert.equal(server.removeReadinessCheck("leader"), false);
    });

    it("fails a check that outlasts the check timeout", async () => {
      const clock = new ManualClock();
      const { server, get } = setup({ clock, checkTimeoutMs: 1000 });
      const called = Promise.withResolvers<void>();
      server.addReadinessCheck("leader", () => {
        called.resolve();
        return new Promise<boolean>(() => {});
      });
      const response = get("/readyz");
      await called.promise;
      assert.deepEqual(clock.pendingDelays, [1000]);
      clock.advance(1000);
      const answered = await response;
      assert.equal(answered.statusCode, 503);
      assert.equal(answered.body, "[-]leader failed: timed out after 1000 ms\nreadyz check failed\n");
    });

    it("cancels the timeout of a check that answers in time", async () => {
      const clock = new ManualClock();
      const { server, get } = setup({ clock, checkTimeoutMs: 1000 });
      server.addReadinessCheck("leader", () => Promise.resolve(true));
      assert.equal((await get("/readyz")).statusCode, 200);
      assert.deepEqual(clock.requestedDelays, [1000]);
      assert.equal(clock.nextDueIn, undefined);
    });

    it("refuses a duplicate or unprintable check name", () => {
      const { server } = setup();
      server.addReadinessCheck("leader", () => true);
      assert.throws(() => server.addReadinessCheck("leader", () => true), /already registered/);
      assert.throws(() => server.addReadinessCheck("two\nlines", () => true), /invalid/);
      assert.throws(() => server.addReadinessCheck(" ", () => true), /invalid/);
    });
  });

  describe("/healthz", () => {
    it("answers 503 while a liveness check fails, and 200 again once it is removed", async () => {
      const { server, get } = setup();
      server.addLivenessCheck("informer watch", () => false);
      const failing = await get("/healthz");
      assert.equal(failing.statusCode, 503);
      assert.equal(failing.body, "[-]informer watch failed\nhealthz check failed\n");
      server.removeLivenessCheck("informer watch");
      assert.equal((await get("/healthz")).statusCode, 200);
    });

    it("does not depend on the readiness checks", async () => {
      const { server, get } = setup();
      server.addReadinessCheck("leader", () => false);
      assert.equal((await get("/healthz")).statusCode, 200);
    });
  });

  describe("/metrics", () => {
    it("answers 500 and logs the error when collecting a metric fails", async () => {
      const { registry, entries, get } = setup();
      new Gauge({
        name: "test_broken",
        help: "a gauge whose collect throws",
        registers: [registry],
        collect() {
          throw new Error("collector broke");
        },
      });
      const response = await get("/metrics");
      assert.equal(response.statusCode, 500);
      const logged = entries.find((entry) => entry.level === logLevels.error);
      assert.equal(logged?.url, "/metrics");
      assert.equal((logged?.err as { message?: string } | undefined)?.message, "collector broke");
    });
  });
});
