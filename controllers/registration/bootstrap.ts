// The hub's bootstrap identity: what `bosun init` creates so that a new cluster can join
// with a short-lived token that can do nothing but join.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import {
  BosunBootstrapSigning,
  Csr,
  HubInfo,
  Labels,
  LabelValues,
  Namespaces,
  RBAC,
  Secrets,
} from "../../api/constants.ts";
import { detachedSignature, type BootstrapToken } from "../../runtime/bootstrap-signature.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import type { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { managedClusterAdmissionBinding, managedClusterAdmissionPolicy } from "./admission.ts";
import { bootstrapClusterRole, bootstrapServiceAccountBinding, sharedClusterRoles } from "./rbac.ts";

export const setupFieldManager = "bosun-init";

/** The hub's server URL and CA (PEM), as joining clusters should see them. */
export interface HubEndpoint {
  server: string;
  caPem: string;
}

function clusterInfoKubeconfig(hub: HubEndpoint): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "",
        cluster: {
          server: hub.server,
          "certificate-authority-data": Buffer.from(hub.caPem).toString("base64"),
        },
      },
    ],
    contexts: [],
    users: [],
    "current-context": "",
  });
}

/**
 * The bootstrap ServiceAccount and its ClusterRole and binding, the shared per-cluster
 * ClusterRoles, the ManagedCluster admission policy, and kube-public/cluster-info carrying
 * the hub's CA with the Role that lets anonymous users read it: in the order they are applied.
 */
export function bootstrapIdentityObjects(hub: HubEndpoint): Unstructured[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: Namespaces.operator } },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: HubInfo.bootstrapServiceAccount, namespace: Namespaces.operator },
    },
    bootstrapClusterRole(),
    bootstrapServiceAccountBinding(Namespaces.operator, HubInfo.bootstrapServiceAccount),
    ...sharedClusterRoles(),
    // Enforced by the API server from the start, before any hub controller runs.
    managedClusterAdmissionPolicy(),
    managedClusterAdmissionBinding(),
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: HubInfo.clusterInfoConfigMap, namespace: Namespaces.kubePublic },
      data: { kubeconfig: clusterInfoKubeconfig(hub) },
    },
    // A joining cluster reads cluster-info before it trusts the hub, so without its token.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: BosunBootstrapSigning.clusterInfoReaderRole, namespace: Namespaces.kubePublic },
      rules: [
        {
          apiGroups: [""],
          resources: ["configmaps"],
          resourceNames: [HubInfo.clusterInfoConfigMap],
          verbs: ["get"],
        },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: BosunBootstrapSigning.clusterInfoReaderRole, namespace: Namespaces.kubePublic },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: BosunBootstrapSigning.clusterInfoReaderRole,
      },
      subjects: [
        { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: BosunBootstrapSigning.anonymousUser },
      ],
    },
  ];
}

/** Creates (or updates) the objects of bootstrapIdentityObjects, in order. */
export async function ensureBootstrapIdentity(client: KubeClient, hub: HubEndpoint): Promise<void> {
  for (const object of bootstrapIdentityObjects(hub))
    await applyServerSide(client, object, { fieldManager: setupFieldManager, force: true });
}

/** Its own manager, so that applying the signature leaves the kubeconfig's owner alone. */
const signerFieldManager = `${setupFieldManager}-signer`;

/**
 * Signs cluster-info's kubeconfig with a bootstrap token (`jws-kubeconfig-<token-id>`), as
 * Kubernetes' bootstrap signer does (which many hubs do not run), so that a cluster joining
 * with the token can verify the CA it reads there.
 */
export async function signClusterInfo(client: KubeClient, token: BootstrapToken): Promise<void> {
  const info = await client.get<Unstructured>({
    apiVersion: "v1",
    kind: "ConfigMap",
    name: HubInfo.clusterInfoConfigMap,
    namespace: Namespaces.kubePublic,
  });
  const kubeconfig = (info.data as Record<string, string> | undefined)?.kubeconfig;
  if (!kubeconfig) throw new Error("kube-public/cluster-info has no kubeconfig to sign");
  await applyServerSide(
    client,
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: HubInfo.clusterInfoConfigMap, namespace: Namespaces.kubePublic },
      data: {
        [`${BosunBootstrapSigning.signatureKeyPrefix}${token.id}`]: detachedSignature(kubeconfig, token),
      },
    },
    { fieldManager: signerFieldManager, force: true },
  );
}

/** A fresh token for the bootstrap ServiceAccount (the TokenRequest API), valid for `seconds`. */
export async function mintBootstrapToken(client: KubeClient, seconds = 3600): Promise<string> {
  const response = await client.request<{ status: { token: string } }>({
    method: "POST",
    path: `/api/v1/namespaces/${Namespaces.operator}/serviceaccounts/${HubInfo.bootstrapServiceAccount}/token`,
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: seconds },
    },
  });
  return response.status.token;
}

/** Binds the bootstrap tokens' extra group to the bootstrap ClusterRole. */
export function bootstrapGroupBinding(): Unstructured {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: RBAC.bootstrapGroupBinding },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: RBAC.bootstrapClusterRole },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: Csr.bootstrapGroup }],
  };
}

/**
 * The alternative to service-account tokens: a Kubernetes bootstrap token
 * (`ocmhub.<secret>`) whose extra group is bound to the bootstrap ClusterRole.
 * Returns the existing token when there is one.
 */
export async function ensureBootstrapToken(client: KubeClient): Promise<string> {
  const ref = {
    apiVersion: "v1",
    kind: "Secret",
    name: Secrets.bootstrapToken,
    namespace: Namespaces.kubeSystem,
  };
  const existing = await client.getOrUndefined<Unstructured>(ref);
  const data = existing?.data as Record<string, string> | undefined;
  if (data?.["token-id"] && data["token-secret"]) {
    const decode = (value: string) => Buffer.from(value, "base64").toString("utf8");
    const token = { id: decode(data["token-id"]), secret: decode(data["token-secret"]) };
    if (!data[BosunBootstrapSigning.usageSigning]) {
      // A bootstrap signer, where one runs, removes signatures of tokens not marked for signing.
      await client.patch(ref, "merge", { stringData: { [BosunBootstrapSigning.usageSigning]: "true" } });
    }
    await signClusterInfo(client, token);
    return `${token.id}.${token.secret}`;
  }
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const secret = [...randomBytes(16)].map((byte) => alphabet[byte % alphabet.length]).join("");
  await client.create({
    apiVersion: "v1",
    kind: "Secret",
    type: "bootstrap.kubernetes.io/token",
    metadata: {
      name: Secrets.bootstrapToken,
      namespace: Namespaces.kubeSystem,
      labels: { [Labels.app]: LabelValues.bootstrapTokenApp },
    },
    stringData: {
      "token-id": Secrets.bootstrapTokenId,
      "token-secret": secret,
      "usage-bootstrap-authentication": "true",
      [BosunBootstrapSigning.usageSigning]: "true",
      "auth-extra-groups": Csr.bootstrapGroup,
    },
  });
  await signClusterInfo(client, { id: Secrets.bootstrapTokenId, secret });
  await applyServerSide(client, bootstrapGroupBinding(), { fieldManager: setupFieldManager, force: true });
  return `${Secrets.bootstrapTokenId}.${secret}`;
}

/** The hub endpoint from an admin kubeconfig's current cluster. */
export function hubEndpointOf(client: KubeClient): HubEndpoint {
  const cluster = client.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error("the hub kubeconfig has no current cluster");
  const caPem = cluster.caData
    ? Buffer.from(cluster.caData, "base64").toString("utf8")
    : cluster.caFile
      ? readFileSync(cluster.caFile, "utf8")
      : undefined;
  if (!caPem) throw new Error("the hub kubeconfig names no certificate authority for its server");
  return { server: client.server, caPem };
}
