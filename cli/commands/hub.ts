// `bosun hub`: runs the hub controllers until interrupted.
import type { Command } from "commander";
import { Work } from "../../api/constants.ts";
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

/** `--manifest-limit`: a positive whole number of bytes. */
export function parseManifestLimit(value: string): number {
  const bytes = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new Error(`--manifest-limit must be a positive number of bytes, got "${value}"`);
  }
  return bytes;
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
    .option(
      "--webhook-bind-address <host:port>",
      "where the ManifestWork admission webhook listens (HTTPS)",
      "127.0.0.1:9444",
    )
    .option(
      "--webhook-url <url>",
      "the URL the API server calls the webhook at (default: https://<bind address>); https://<service>.<namespace>.svc[:port] is registered as that Service",
    )
    .option("--no-webhook", "do not serve or register the ManifestWork admission webhook")
    .option(
      "--manifest-limit <bytes>",
      "the most manifest bytes one ManifestWork carries; ManifestWorkReplicaSet templates beyond it are split",
      String(Work.manifestSizeLimit),
    )
    .option("--log-level <level>", "trace, debug, info, warn or error", "info")
    .action(
      async (
        flags: KubeFlags & {
          metricsBindAddress: string;
          autoApprovedCsrUsers?: string;
          logLevel: string;
          webhook: boolean;
          webhookBindAddress: string;
          webhookUrl?: string;
          manifestLimit: string;
        },
      ) => {
        const manifestLimitBytes = parseManifestLimit(flags.manifestLimit);
        const logger = createLogger({ name: "bosun-hub", level: flags.logLevel as "info" });
        const client = await clientFromFlags(flags);
        const hub = await runHub({
          client,
          clock: systemClock(),
          logger,
          metrics: parseBindAddress(flags.metricsBindAddress, "--metrics-bind-address"),
          ...(flags.webhook
            ? {
                webhook: {
                  ...parseBindAddress(flags.webhookBindAddress, "--webhook-bind-address"),
                  url: flags.webhookUrl,
                  manifestLimitBytes,
                },
              }
            : {}),
          autoApprovedUsers: flags.autoApprovedCsrUsers
            ?.split(",")
            .map((user) => user.trim())
            .filter(Boolean),
          manifestLimitBytes,
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
