// `bosun hub`: runs the hub controllers until interrupted.
import type { Command } from "commander";
import { runHub } from "../../controllers/hub.ts";
import { systemClock } from "../../runtime/clock.ts";
import { createLogger } from "../../runtime/logger.ts";
import { addKubeFlags, clientFromFlags, type KubeFlags } from "../kube.ts";

export function parseBindAddress(value: string, flag: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${flag} must be host:port (e.g. 127.0.0.1:9443), got "${value}"`);
  }
  return { host: match[1] || "0.0.0.0", port };
}

/** Resolves when the process is asked to stop (SIGINT or SIGTERM). */
export function untilSignalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export function registerHub(program: Command): void {
  addKubeFlags(
    program.command("hub").description("run the hub controllers (registration, ...) with leader election"),
    "the hub",
  )
    .option(
      "--metrics-bind-address <host:port>",
      "where /metrics, /healthz and /readyz listen",
      "127.0.0.1:9443",
    )
    .option(
      "--auto-approved-csr-users <users>",
      "comma-separated CSR requesters whose clusters are accepted automatically",
    )
    .option("--log-level <level>", "trace, debug, info, warn or error", "info")
    .action(
      async (
        flags: KubeFlags & { metricsBindAddress: string; autoApprovedCsrUsers?: string; logLevel: string },
      ) => {
        const logger = createLogger({ name: "bosun-hub", level: flags.logLevel as "info" });
        const client = await clientFromFlags(flags);
        const hub = await runHub({
          client,
          clock: systemClock(),
          logger,
          metrics: parseBindAddress(flags.metricsBindAddress, "--metrics-bind-address"),
          autoApprovedUsers: flags.autoApprovedCsrUsers
            ?.split(",")
            .map((user) => user.trim())
            .filter(Boolean),
        });
        logger.info({ metrics: hub.metricsAddress.url }, "hub running");
        const outcome = await Promise.race([untilSignalled(), hub.failed]);
        if (outcome instanceof Error) {
          await hub.stop();
          client.close();
          throw new Error(`bosun hub cannot serve: ${outcome.message}`, { cause: outcome });
        }
        logger.info({ signal: outcome }, "stopping");
        await hub.stop();
        client.close();
      },
    );
}
