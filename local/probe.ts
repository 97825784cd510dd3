import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import type { ManagedProcess } from "./process.ts";

export interface ProbeOptions {
  timeoutMs: number;
  /** Fails at once when this process exits instead of waiting out the timeout. */
  process?: ManagedProcess;
  caPem?: string;
  token?: string;
  /** Skips certificate verification: only for health probes of loopback components with self-signed serving certs. */
  insecure?: boolean;
}

function get(url: string, options: ProbeOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const request = (target.protocol === "https:" ? httpsRequest : httpRequest)(
      target,
      {
        headers,
        timeout: 5000,
        ...(target.protocol === "https:" ? { ca: options.caPem, rejectUnauthorized: !options.insecure } : {}),
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on("timeout", () => request.destroy(new Error("probe timed out")));
    request.on("error", reject);
    request.end();
  });
}

/** Polls url until it answers 200. */
export async function waitForHttpOk(url: string, options: ProbeOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    const exited = options.process?.exited;
    if (exited)
      throw new Error(
        `${options.process!.options.name} exited with code ${exited.code} before ${url} was ready`,
      );
    try {
      const { status, body } = await get(url, options);
      if (status === 200) return;
      last = `HTTP ${status}: ${body.slice(0, 500)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${url} was not ready after ${options.timeoutMs} ms (last: ${last})`);
}
