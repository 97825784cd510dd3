// Health and version of the managed cluster's API server. The health endpoints answer plain
// text, which the JSON client cannot read, so they are fetched with the client's credentials
// over a plain request.
import { request as httpRequest } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeApi, KubeClient } from "../../runtime/kube/client.ts";
import type { HealthProbe } from "./cluster-status.ts";

interface RawResponse {
  statusCode: number;
  body: string;
}

async function getText(client: KubeClient, path: string, timeoutMs: number): Promise<RawResponse> {
  const options: RequestOptions = {};
  await client.kubeConfig.applyToHTTPSOptions(options);
  const url = new URL(client.server + path);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: "GET",
        headers: { ...(options.headers as Record<string, string> | undefined), accept: "text/plain" },
        ...(url.protocol === "https:"
          ? {
              ca: options.ca,
              cert: options.cert,
              key: options.key,
              rejectUnauthorized: options.rejectUnauthorized,
              servername: options.servername,
            }
          : {}),
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        response.on("end", () => resolve({ statusCode: response.statusCode ?? 0, body }));
        response.on("error", reject);
      },
    );
    request.setTimeout(timeoutMs, () =>
      request.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)),
    );
    request.on("error", reject);
    request.end();
  });
}

/** GET /livez, falling back to /healthz on 403 or 404 (servers older than 1.16, restricted RBAC). */
export async function probeApiServer(client: KubeClient, timeoutMs = 10_000): Promise<HealthProbe> {
  try {
    let response = await getText(client, "/livez", timeoutMs);
    if (response.statusCode === 403 || response.statusCode === 404)
      response = await getText(client, "/healthz", timeoutMs);
    return { statusCode: response.statusCode, detail: response.body.trim() };
  } catch (error) {
    return { statusCode: 0, detail: (error as Error).message };
  }
}

/** The managed cluster's Kubernetes version, e.g. `v1.36.3`. */
export async function kubernetesVersion(client: KubeApi): Promise<string> {
  const info = await client.request<{ gitVersion?: string }>({ method: "GET", path: "/version" });
  if (!info?.gitVersion) throw new Error("the managed API server's /version has no gitVersion");
  return info.gitVersion;
}
