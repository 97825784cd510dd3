// `bosun agent` (on a managed cluster): joins the hub with the bootstrap secret `bosun join`
// wrote, then keeps the cluster's lease, status and claims current and applies the cluster's
// ManifestWorks, until interrupted.
import { Option, type Command } from "commander";
import { BosunAgent } from "../../api/constants.ts";
import { collectDefaultMetrics, Registry } from "prom-client";
import { runAgent } from "../../klusterlet/agent.ts";
import { parseGoDuration } from "../../klusterlet/policy/interval.ts";
import { systemClock } from "../../runtime/clock.ts";
import { createLogger } from "../../runtime/logger.ts";
import { MetricsServer } from "../../runtime/server.ts";
import { addKubeFlags, clientFromFlags, type KubeFlags } from "../kube.ts";
import { parseBindAddress, untilSignalled } from "./hub.ts";

interface AgentFlags extends KubeFlags {
  clusterName: string;
  agentName?: string;
  metricsBindAddress?: string;
  clientCertExpirationSeconds?: string;
  externalServerUrls?: string;
  appliedmanifestworkEvictionGracePeriod: string;
  hubReconnectWindow: string;
  clockOffsetSeconds?: string;
  logLevel: string;
}

export function registerAgent(program: Command): void {
  addKubeFlags(
    program.command("agent").description("run the managed-cluster agent (registration, status and work)"),
    "the managed cluster",
  )
    .requiredOption("--cluster-name <name>", "this cluster's name on the hub")
    .option("--agent-name <name>", "this agent's name (default: the stored one, else random)")
    .option("--metrics-bind-address <host:port>", "serve /metrics, /healthz and /readyz here")
    .option("--client-cert-expiration-seconds <n>", "client certificate lifetime to request", "31536000")
    .option(
      "--external-server-urls <urls>",
      "comma-separated https URLs of this cluster's API server, for the hub",
    )
    .option(
      "--appliedmanifestwork-eviction-grace-period <duration>",
      "how long an AppliedManifestWork whose ManifestWork is gone is kept before it and what it applied are deleted (100 years or more: never)",
      "60m",
    )
    .option(
      "--hub-reconnect-window <duration>",
      "cut off from the hub's API server, retry once per this window in a slot of this agent's own, so that a fleet does not reconnect all at once",
      `${BosunAgent.hubReconnectWindowSeconds}s`,
    )
    .option("--log-level <level>", "trace, debug, info, warn or error", "info")
    // For fault tests: runs the agent as if its clock were this many seconds ahead (negative: behind).
    .addOption(new Option("--clock-offset-seconds <n>").hideHelp())
    .action(async (flags: AgentFlags) => {
      const logger = createLogger({ name: "bosun-agent", level: flags.logLevel as "info" });
      const expirationSeconds = Number(flags.clientCertExpirationSeconds);
      if (!Number.isInteger(expirationSeconds) || expirationSeconds < 0) {
        throw new Error(
          `--client-cert-expiration-seconds must be a whole number, got "${flags.clientCertExpirationSeconds}"`,
        );
      }
      const evictionGracePeriodMs = parseGoDuration(flags.appliedmanifestworkEvictionGracePeriod);
      if (evictionGracePeriodMs === undefined || evictionGracePeriodMs < 0) {
        throw new Error(
          `--appliedmanifestwork-eviction-grace-period must be a duration such as 60m or 24h, got "${flags.appliedmanifestworkEvictionGracePeriod}"`,
        );
      }
      const hubReconnectWindowMs = parseGoDuration(flags.hubReconnectWindow);
      if (hubReconnectWindowMs === undefined || hubReconnectWindowMs <= 0) {
        throw new Error(
          `--hub-reconnect-window must be a positive duration such as 60s or 2m, got "${flags.hubReconnectWindow}"`,
        );
      }
      const clockOffsetSeconds = Number(flags.clockOffsetSeconds ?? 0);
      if (!Number.isFinite(clockOffsetSeconds)) {
        throw new Error(`--clock-offset-seconds must be a number, got "${flags.clockOffsetSeconds}"`);
      }
      const managedClient = await clientFromFlags(flags);
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      let server: MetricsServer | undefined;
      let phase = "starting";
      if (flags.metricsBindAddress) {
        server = new MetricsServer({ registry, logger });
        server.addReadinessCheck("joined", () => phase === "running");
        await server.listen(parseBindAddress(flags.metricsBindAddress, "--metrics-bind-address"));
      }
      const stop = new AbortController();
      const running = runAgent({
        managedClient,
        clusterName: flags.clusterName,
        agentName: flags.agentName,
        clock: systemClock(),
        logger,
        signal: stop.signal,
        registry,
        expirationSeconds,
        workEvictionGracePeriodMs: evictionGracePeriodMs,
        hubReconnectWindowMs,
        clockOffsetMs: clockOffsetSeconds * 1000,
        externalServerUrls: flags.externalServerUrls
          ?.split(",")
          .map((url) => url.trim())
          .filter(Boolean),
        onPhase: (next) => {
          phase = next;
          logger.info({ phase: next }, "agent phase");
        },
      });
      const signal = await Promise.race([untilSignalled(), running.then(() => "done" as const)]);
      logger.info({ signal }, "stopping");
      stop.abort();
      await running;
      await server?.close();
      managedClient.close();
    });
}
