// The hub's CA as a joining cluster learns it from kube-public/cluster-info: the embedded
// kubeconfig's certificate authority, trusted only when the hub signed that kubeconfig with
// the bootstrap token the cluster holds.
import { parse } from "yaml";
import { BosunBootstrapSigning } from "../../api/constants.ts";
import { detachedSignatureProblem, type BootstrapToken } from "../../runtime/bootstrap-signature.ts";

/** The CA (PEM) of cluster-info's kubeconfig, or undefined when it names none. */
export function clusterInfoCa(kubeconfig: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = parse(kubeconfig);
  } catch (error) {
    throw new Error(`kube-public/cluster-info: the kubeconfig is not YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const clusters = (parsed as { clusters?: unknown } | null)?.clusters;
  const first = Array.isArray(clusters)
    ? (clusters[0] as { cluster?: Record<string, unknown> } | undefined)
    : undefined;
  const data = first?.cluster?.["certificate-authority-data"];
  return typeof data === "string" && data ? Buffer.from(data, "base64").toString("utf8") : undefined;
}

/**
 * The CA of cluster-info's kubeconfig once its signature for `token` checks out; throws,
 * naming what is wrong, when the kubeconfig is unsigned for the token or the signature does
 * not match it (a CA swapped in transit).
 */
export function verifiedClusterInfoCa(
  data: Record<string, string> | undefined,
  token: BootstrapToken,
  server: string,
): string {
  const kubeconfig = data?.kubeconfig;
  if (!kubeconfig)
    throw new Error(`the hub at ${server} publishes no kubeconfig in kube-public/cluster-info`);
  const key = `${BosunBootstrapSigning.signatureKeyPrefix}${token.id}`;
  const signature = data[key];
  if (!signature) {
    throw new Error(
      `kube-public/cluster-info on ${server} is not signed for bootstrap token ${token.id} (no ${key}); ` +
        "refusing to trust its CA: check the token, or pass --ca-file",
    );
  }
  const problem = detachedSignatureProblem(signature, kubeconfig, token);
  if (problem) {
    throw new Error(
      `kube-public/cluster-info on ${server} fails verification with bootstrap token ${token.id} (${problem}); ` +
        "its CA may have been tampered with: refusing to join (pass --ca-file to pin the hub's CA)",
    );
  }
  const caPem = clusterInfoCa(kubeconfig);
  if (!caPem) throw new Error(`kube-public/cluster-info on ${server} names no certificate authority`);
  return caPem;
}
