// The two kubeconfigs of the join: the bootstrap kubeconfig (a token for the hub) that the
// agent reads, and the hub kubeconfig (its own client certificate) that it writes.
import { readFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { KubeconfigNames } from "../../api/constants.ts";

export interface HubEndpoint {
  /** The name of the kubeconfig cluster entry, kept in the hub kubeconfig. */
  clusterName: string;
  server: string;
  /** Base64 PEM bundle; undefined when the kubeconfig trusts the system roots. */
  caData?: string;
  insecureSkipTlsVerify?: boolean;
  proxyUrl?: string;
}

/** The hub's address and CA from a kubeconfig's current context; throws naming what is missing. */
export function hubEndpoint(kubeconfigText: string): HubEndpoint {
  const config = new KubeConfig();
  try {
    config.loadFromString(kubeconfigText);
  } catch {
    // Without the parser's error: it quotes the text, which holds credentials.
    throw new Error("the kubeconfig cannot be parsed");
  }
  const context = config.getContextObject(config.getCurrentContext());
  if (!context) throw new Error("the kubeconfig has no current-context");
  const cluster = config.getCluster(context.cluster);
  if (!cluster?.server) throw new Error(`the kubeconfig's cluster "${context.cluster}" has no server`);
  let caData = cluster.caData || undefined;
  if (!caData && cluster.caFile) caData = readFileSync(cluster.caFile).toString("base64");
  return {
    clusterName: cluster.name,
    server: cluster.server,
    caData,
    insecureSkipTlsVerify: cluster.skipTLSVerify || undefined,
    proxyUrl: cluster.proxyUrl || undefined,
  };
}

/**
 * The hub kubeconfig stored in the hub secret. OCM's agent points `default-auth` at the files
 * tls.crt and tls.key of the mounted secret; a Node process reads the secret through the API
 * rather than a mount, so the certificate and key are embedded as data instead.
 */
export function hubKubeconfig(endpoint: HubEndpoint, certPem: string, keyPem: string): string {
  const cluster: Record<string, unknown> = { server: endpoint.server };
  if (endpoint.caData) cluster["certificate-authority-data"] = endpoint.caData;
  if (endpoint.insecureSkipTlsVerify) cluster["insecure-skip-tls-verify"] = true;
  if (endpoint.proxyUrl) cluster["proxy-url"] = endpoint.proxyUrl;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: endpoint.clusterName, cluster }],
    users: [
      {
        name: KubeconfigNames.hubUser,
        user: {
          "client-certificate-data": Buffer.from(certPem).toString("base64"),
          "client-key-data": Buffer.from(keyPem).toString("base64"),
        },
      },
    ],
    contexts: [
      {
        name: KubeconfigNames.hubContext,
        context: {
          cluster: endpoint.clusterName,
          user: KubeconfigNames.hubUser,
          namespace: KubeconfigNames.hubContextNamespace,
        },
      },
    ],
    "current-context": KubeconfigNames.hubContext,
  });
}

/** True when both kubeconfigs point at the same server with the same CA. */
export function sameEndpoint(a: HubEndpoint, b: HubEndpoint): boolean {
  return a.server === b.server && (a.caData ?? "") === (b.caData ?? "");
}
