// The metrics and health endpoints of a hub or agent process: /metrics for Prometheus,
// /healthz for liveness and /readyz for readiness probes.
import type { AddressInfo } from "node:net";
import { fastify, type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import type { Registry, RegistryContentType } from "prom-client";
import { systemClock, type Clock } from "./clock.ts";

/** Passes when it returns (or resolves to) true; fails on false, on a throw, or when it outlasts the check timeout. */
export type HealthCheck = () => Promise<boolean> | boolean;

export interface MetricsServerOptions {
  registry: Registry<RegistryContentType>;
  logger: Logger;
  /** Times the checks out; the system clock when absent. */
  clock?: Clock;
  /** How long one check may take before it counts as failed. Default 5 s. */
  checkTimeoutMs?: number;
}

export interface ListenOptions {
  /** The address to bind: "0.0.0.0" to be scraped from other hosts, "127.0.0.1" for this one only. */
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface BoundAddress {
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:9443 */
  url: string;
}

const plainText = "text/plain; charset=utf-8";

export class MetricsServer {
  readonly #app: FastifyInstance;
  readonly #registry: Registry<RegistryContentType>;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #checkTimeoutMs: number;
  readonly #readinessChecks = new Map<string, HealthCheck>();
  readonly #livenessChecks = new Map<string, HealthCheck>();

  constructor(options: MetricsServerOptions) {
    this.#registry = options.registry;
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock();
    this.#checkTimeoutMs = options.checkTimeoutMs ?? 5_000;
    this.#app = fastify({ logger: false });
    this.#app.setErrorHandler(async (error, request, reply) => {
      this.#logger.error({ err: error, url: request.url }, "metrics server request failed");
      return reply.code(500).type(plainText).send("internal error\n");
    });
    this.#app.get("/metrics", async (_request, reply) => {
      const body = await this.#registry.metrics();
      return reply.type(this.#registry.contentType).send(body);
    });
    this.#app.get("/healthz", async (_request, reply) => this.#probe(reply, "healthz", this.#livenessChecks));
    this.#app.get("/readyz", async (_request, reply) => this.#probe(reply, "readyz", this.#readinessChecks));
  }

  /** The underlying fastify instance, to add routes or to `inject` requests. */
  get app(): FastifyInstance {
    return this.#app;
  }

  /** /readyz answers 200 only while every readiness check passes ("informers synced", "leader", ...). */
  addReadinessCheck(name: string, check: HealthCheck): void {
    addCheck(this.#readinessChecks, name, check);
  }

  removeReadinessCheck(name: string): boolean {
    return this.#readinessChecks.delete(name);
  }

  /** /healthz answers 200 while every liveness check passes (always, when there are none). */
  addLivenessCheck(name: string, check: HealthCheck): void {
    addCheck(this.#livenessChecks, name, check);
  }

  removeLivenessCheck(name: string): boolean {
    return this.#livenessChecks.delete(name);
  }

  async listen(options: ListenOptions): Promise<BoundAddress> {
    await this.#app.listen({ host: options.host, port: options.port });
    const address = this.#app.server.address() as AddressInfo;
    const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const bound = { host: address.address, port: address.port, url: `http://${urlHost}:${address.port}` };
    this.#logger.info({ url: bound.url }, "metrics server listening");
    return bound;
  }

  async close(): Promise<void> {
    await this.#app.close();
  }

  async #probe(
    reply: FastifyReply,
    endpoint: string,
    checks: ReadonlyMap<string, HealthCheck>,
  ): Promise<FastifyReply> {
    const failures = await this.#failingChecks(checks);
    if (failures.length === 0) return reply.code(200).type(plainText).send("ok\n");
    this.#logger.debug({ endpoint, failures }, "health checks failing");
    return reply
      .code(503)
      .type(plainText)
      .send(`${failures.map((failure) => `[-]${failure}\n`).join("")}${endpoint} check failed\n`);
  }

  /** One line per failing check: `<name> failed` or `<name> failed: <reason>`. */
  async #failingChecks(checks: ReadonlyMap<string, HealthCheck>): Promise<string[]> {
    const results = await Promise.all(
      [...checks].map(async ([name, check]) => {
        const verdict = await this.#run(check);
        if (verdict.passed) return undefined;
        return verdict.reason === undefined ? `${name} failed` : `${name} failed: ${verdict.reason}`;
      }),
    );
    return results.filter((line) => line !== undefined);
  }

  #run(check: HealthCheck): Promise<{ passed: boolean; reason?: string }> {
    const { promise, resolve } = Promise.withResolvers<{ passed: boolean; reason?: string }>();
    const timeoutMs = this.#checkTimeoutMs;
    const timer = this.#clock.setTimeout(
      () => resolve({ passed: false, reason: `timed out after ${timeoutMs} ms` }),
      timeoutMs,
    );
    void Promise.resolve()
      .then(check)
      .then(
        (passed) => resolve({ passed: passed === true }),
        (error: unknown) => resolve({ passed: false, reason: oneLine(error) }),
      )
      .finally(() => this.#clock.clearTimeout(timer));
    return promise;
  }
}

function addCheck(checks: Map<string, HealthCheck>, name: string, check: HealthCheck): void {
  if (name.trim() === "" || /[\r\n]/.test(name))
    throw new Error(`invalid health check name ${JSON.stringify(name)}`);
  if (checks.has(name)) throw new Error(`health check ${JSON.stringify(name)} is already registered`);
  checks.set(name, check);
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*[\r\n]+\s*/g, " ");
}
