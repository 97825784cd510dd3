// deploy/ on a real control plane that is hub and managed cluster at once. Every manifest is
// accepted by the API server; the hub runs as ServiceAccount bosun-hub and the agent as
// bosun-agent, each with only the RBAC in deploy/, and each does its whole job: the hub serves
// and registers its ManifestWork webhook, and the agent applies the work the hub delivers,
// with the execution rights an operator grants for it. An audit log of their requests then
// shows that the RBAC is minimal: taking away any one permission denies a request they made, a
// right the hub grants to agents, or an admission check they passed.
import "reflect-metadata";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { after, afterEach, before, describe, test, type TestContext } from "node:test";
import { parseAllDocuments, stringify } from "yaml";
import {
  ClusterRBAC,
  Csr,
  Labels,
  Lease,
  ManagedClusterConditions,
  ManifestWorkConditions,
  Namespaces,
  Secrets,
  Taints,
  Work,
} from "../../api/constants.ts";
import type { ManagedCluster, ManagedClusterSet, ManagedClusterSetBinding } from "../../api/types/cluster.ts";
import type { Condition } from "../../api/types/meta.ts";
import type { Placement, PlacementDecision } from "../../api/types/placement.ts";
import type { ManifestWork } from "../../api/types/work.ts";
import { acceptCluster } from "../../cli/commands/accept.ts";
import { bootstrapKubeconfig } from "../../cli/commands/join.ts";
import { crdRoot, installCrds } from "../../runtime/crds.ts";
import { runHub, type RunningHub } from "../../controllers/hub.ts";
import {
  ensureBootstrapIdentity,
  hubEndpointOf,
  mintBootstrapToken,
} from "../../controllers/registration/bootstrap.ts";
import { registrationFieldManager } from "../../controllers/registration/controller.ts";
import type { CertificateSigningRequest } from "../../controllers/registration/csr.ts";
import { serviceOfUrl, workWebhookName, workWebhookSecret } from "../../controllers/work/webhook.ts";
import { runAgent } from "../../klusterlet/agent.ts";
import { renewClientCertificate, type HubConnection } from "../../klusterlet/bootstrap/join.ts";
import { applyServerSide } from "../../runtime/apply.ts";
import { systemClock } from "../../runtime/clock.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { KubeApiError } from "../../runtime/errors.ts";
import { KubeClient } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { useControlPlane } from "../support/controlplane.ts";
import { captureLogger } from "../support/log-capture.ts";
import { eventually } from "../support/wait.ts";

const repo = resolve(import.meta.dirname, "..", "..");
// The hub's and the agent's log, printed when a test fails.
const { logger, entries: logEntries } = captureLogger("debug");
afterEach((context) => {
  const t = context as TestContext & { passed?: boolean };
  if (t.passed !== false) return;
  const tail = logEntries.slice(-150).map((entry) => JSON.stringify(entry));
  console.error(`bosun's log before failed test "${t.name}":\n${tail.join("\n")}`);
});
const hubUser = `system:serviceaccount:${Namespaces.hub}:bosun-hub`;
const agentUser = `system:serviceaccount:${Namespaces.agent}:bosun-agent`;
const clusterName = "deploy-east";
const spareName = "deploy-spare";
const placementNamespace = "deploy-placements";
const clusterGroup = "cluster.open-cluster-management.io";
const workGroup = "work.open-cluster-management.io";
/** The ClusterRole of deploy/agent/15-work-execution.yaml, shipped without rules. */
const executionRole = "bosun:agent:execution";
/**
 * What an operator grants there for this test's one work, a ConfigMap with the default
 * options: read and watched, created, put back when edited, and deleted with the work.
 */
const workExecutionRules: PolicyRule[] = [
  {
    apiGroups: [""],
    resources: ["configmaps"],
    verbs: ["get", "list", "watch", "create", "update", "delete"],
  },
];

const clusterRef = (name: string) => ({ apiVersion: `${clusterGroup}/v1`, kind: "ManagedCluster", name });
const rbacRef = (kind: string, name: string, namespace?: string) => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind,
  name,
  ...(namespace ? { namespace } : {}),
});

const scratch = mkdtempSync(join(tmpdir(), "bosun-deploy-test-"));
const auditLog = join(scratch, "audit.log");
writeFileSync(
  join(scratch, "audit-policy.yaml"),
  stringify({
    apiVersion: "audit.k8s.io/v1",
    kind: "Policy",
    omitStages: ["RequestReceived"],
    rules: [{ level: "Metadata", users: [hubUser, agentUser] }, { level: "None" }],
  }),
);
const fixture = useControlPlane("deploy", {
  apiserverArgs: [
    `--audit-policy-file=${join(scratch, "audit-policy.yaml")}`,
    `--audit-log-path=${auditLog}`,
    // As on OpenShift: an ownerReference with blockOwnerDeletion needs update on the owner's finalizers.
    "--enable-admission-plugins=OwnerReferencesPermissionEnforcement",
  ],
});

// ---------------------------------------------------------------------------------------------
// The manifests

/** The objects of deploy/<component>/*.yaml, in file order; the agent's with its cluster name filled in. */
function manifests(component: "hub" | "agent"): Unstructured[] {
  const dir = join(repo, "deploy", component);
  return readdirSync(dir)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), "utf8").replaceAll("CLUSTER_NAME", clusterName)).map(
        (document) => document.toJS() as Unstructured | null,
      ),
    )
    .filter((object): object is Unstructured => object !== null);
}

/**
 * The objects of deploy/<component>/ as this test deploys them: the agent's execution role
 * holds workExecutionRules, as the operator of a cluster receiving the test's work would grant.
 */
function deployed(component: "hub" | "agent"): Unstructured[] {
  return manifests(component).map((object) =>
    object.kind === "ClusterRole" && object.metadata.name === executionRole
      ? { ...object, rules: workExecutionRules }
      : object,
  );
}

const ofKind = (objects: Unstructured[], kind: string) => objects.filter((object) => object.kind === kind);
/**
 * The roles the component's bindings grant. A role shipped unbound (bosun:hub:templates, which an
 * operator binds per namespace when policies use hub templates) grants nothing until then.
 */
const rolesOf = (objects: Unstructured[]) => {
  const bound = new Set(
    objects
      .filter((object) => ["ClusterRoleBinding", "RoleBinding"].includes(object.kind))
      .map((binding) => (binding as Unstructured & { roleRef?: { name?: string } }).roleRef?.name),
  );
  return objects.filter(
    (object): object is RoleManifest =>
      ["ClusterRole", "Role"].includes(object.kind) && bound.has(object.metadata.name),
  );
};

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

interface RoleManifest extends Unstructured {
  rules: PolicyRule[];
}

interface PodSpec {
  serviceAccountName: string;
  containers: {
    command: string[];
    env?: { name: string; value: string }[];
    ports?: { name: string; containerPort: number }[];
    volumeMounts?: { name: string; mountPath: string }[];
  }[];
  volumes?: { name: string; configMap?: { name: string } }[];
}

const podTemplate = (deployment: Unstructured) =>
  (deployment.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template;
const podSpec = (deployment: Unstructured) => podTemplate(deployment).spec;
/** The value that follows `flag` in a command line. */
const flagValue = (command: string[], flag: string) => {
  const index = command.indexOf(flag);
  return index < 0 ? undefined : command[index + 1];
};

// ---------------------------------------------------------------------------------------------
// Authorization: what a request asks, and what a role grants

/** One authorization question, as a SubjectAccessReview spells it. */
type Access = ResourceAccess | { path: string; verb: string };

interface ResourceAccess {
  group: string;
  resource: string;
  subresource: string;
  verb: string;
  namespace: string;
  name: string;
}

/** One permission: a verb on one resource (or URL) of one rule of one role. */
interface Grant {
  role: number;
  rule: number;
  verb: string;
  group?: string;
  resource?: string;
  resourceNames?: string[];
  url?: string;
}

function grantsOf(roles: RoleManifest[]): Grant[] {
  return roles.flatMap((role, roleIndex) =>
    role.rules.flatMap((rule, ruleIndex) =>
      rule.verbs.flatMap((verb): Grant[] =>
        rule.nonResourceURLs
          ? rule.nonResourceURLs.map((url) => ({ role: roleIndex, rule: ruleIndex, verb, url }))
          : (rule.apiGroups ?? []).flatMap((group) =>
              (rule.resources ?? []).map((resource) => ({
                role: roleIndex,
                rule: ruleIndex,
                verb,
                group,
                resource,
                ...(rule.resourceNames ? { resourceNames: rule.resourceNames } : {}),
              })),
            ),
      ),
    ),
  );
}

function describeGrant(grant: Grant, roles: RoleManifest[]): string {
  if (grant.url) return `${grant.verb} ${grant.url}`;
  const names = grant.resourceNames ? ` [${grant.resourceNames.join(", ")}]` : "";
  const role = roles[grant.role]!;
  const scope = role.kind === "Role" ? ` in ${role.metadata.namespace}` : "";
  return `${grant.verb} ${grant.group || "core"}/${grant.resource}${names}${scope}`;
}

/** Whether `grant` alone would allow `access` (used to pick which reviews to send). */
function grantCovers(grant: Grant, roles: RoleManifest[], access: Access): boolean {
  if (grant.verb !== access.verb) return false;
  if ("path" in access) return grant.url === access.path;
  if (grant.url !== undefined || grant.group !== access.group) return false;
  const resource = access.subresource ? `${access.resource}/${access.subresource}` : access.resource;
  if (grant.resource !== resource) return false;
  if (grant.resourceNames && !grant.resourceNames.includes(access.name)) return false;
  const role = roles[grant.role]!;
  return role.kind !== "Role" || role.metadata.namespace === access.namespace;
}

/** The roles with one grant taken away. */
function withoutGrant(roles: RoleManifest[], grant: Grant): RoleManifest[] {
  return roles.map((role, roleIndex) => {
    if (roleIndex !== grant.role) return role;
    const kept = grantsOf([{ ...role, rules: [role.rules[grant.rule]!] }])
      .filter(
        (other) =>
          other.verb !== grant.verb ||
          other.group !== grant.group ||
          other.resource !== grant.resource ||
          other.url !== grant.url,
      )
      .map((other): PolicyRule =>
        other.url !== undefined
          ? { nonResourceURLs: [other.url], verbs: [other.verb] }
          : {
              apiGroups: [other.group!],
              resources: [other.resource!],
              verbs: [other.verb],
              ...(other.resourceNames ? { resourceNames: other.resourceNames } : {}),
            },
      );
    return { ...role, rules: [...role.rules.filter((_rule, index) => index !== grant.rule), ...kept] };
  });
}

/** Every access a set of rules grants, in `namespace` ("" for cluster-wide). */
function accessesOfRules(rules: PolicyRule[], namespace: string): ResourceAccess[] {
  return rules.flatMap((rule) =>
    rule.verbs.flatMap((verb) =>
      (rule.apiGroups ?? []).flatMap((group) =>
        (rule.resources ?? []).flatMap((full) => {
          const [resource, subresource = ""] = full.split("/") as [string, string?];
          return (rule.resourceNames ?? [""]).map((name) => ({
            group,
            resource,
            subresource,
            verb,
            namespace,
            name,
          }));
        }),
      ),
    ),
  );
}

interface Identity {
  username: string;
  groups: string[];
}

async function isAllowed(admin: KubeClient, identity: Identity, access: Access): Promise<boolean> {
  const attributes =
    "path" in access
      ? { nonResourceAttributes: access }
      : {
          resourceAttributes: Object.fromEntries(Object.entries(access).filter(([, value]) => value !== "")),
        };
  const review = await admin.create<Unstructured>({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    metadata: {},
    spec: { user: identity.username, groups: identity.groups, ...attributes },
  });
  return (review.status as { allowed?: boolean }).allowed === true;
}

interface AuditEvent {
  verb: string;
  requestURI: string;
  user: Identity;
  objectRef?: {
    apiGroup?: string;
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
  };
  responseStatus?: { code?: number };
}

function readAudit(): AuditEvent[] {
  return readFileSync(auditLog, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as AuditEvent);
}

/** What the authorizer checked for one request. */
function accessesOfRequest(event: AuditEvent): Access[] {
  const ref = event.objectRef;
  if (!ref?.resource) return [{ path: event.requestURI.split("?")[0]!, verb: event.verb }];
  const base = {
    group: ref.apiGroup ?? "",
    resource: ref.resource,
    subresource: ref.subresource ?? "",
    namespace: ref.namespace ?? "",
    name: ref.name ?? "",
  };
  // A streamed list is a watch here; on a server that does not stream lists the same informer
  // lists, so the list right is needed as well.
  if (event.verb === "watch" && event.requestURI.includes("sendInitialEvents=true"))
    return [
      { ...base, verb: "watch" },
      { ...base, verb: "list" },
    ];
  // A server-side apply that creates its object is authorized as a create too.
  return event.verb === "patch" && event.responseStatus?.code === 201
    ? [
        { ...base, verb: "patch" },
        { ...base, verb: "create" },
      ]
    : [{ ...base, verb: event.verb }];
}

function unique(accesses: Access[]): Access[] {
  return [...new Map(accesses.map((access) => [JSON.stringify(access), access])).values()];
}

/** The identity (user and groups) the API server saw making these requests. */
function identityOf(requests: AuditEvent[]): Identity {
  const [first] = requests;
  assert.ok(first, "the ServiceAccount made requests");
  return { username: first.user.username, groups: first.user.groups ?? [] };
}

/**
 * Every right in the RBAC the hub wrote: the API server lets a subject write a role, or bind
 * one, only if it holds the role's rights (in the binding's namespace).
 */
async function grantedByWrittenRbac(admin: KubeClient, hubRequests: AuditEvent[]): Promise<Access[]> {
  const written = (resource: string) => [
    ...new Map(
      hubRequests
        .filter(
          (event) =>
            event.objectRef?.resource === resource &&
            (event.verb === "patch" || event.verb === "create") &&
            (event.responseStatus?.code ?? 0) < 300,
        )
        .map((event) => [`${event.objectRef!.namespace ?? ""}/${event.objectRef!.name}`, event.objectRef!]),
    ).values(),
  ];
  const rulesOf = async (kind: string, name: string, namespace?: string) =>
    (await admin.getOrUndefined<RoleManifest>(rbacRef(kind, name, namespace)))?.rules ?? [];
  const granted: Access[] = [];
  // Objects deleted since (a removed cluster's) are skipped: every cluster gets the same shape.
  for (const ref of written("clusterroles")) {
    granted.push(...accessesOfRules(await rulesOf("ClusterRole", ref.name!), ""));
  }
  for (const [resource, kind] of [
    ["clusterrolebindings", "ClusterRoleBinding"],
    ["rolebindings", "RoleBinding"],
  ] as const) {
    for (const ref of written(resource)) {
      const binding = await admin.getOrUndefined<Unstructured>(rbacRef(kind, ref.name!, ref.namespace));
      const roleRef = binding?.roleRef as { kind: string; name: string } | undefined;
      if (!roleRef) continue;
      const roleNamespace = roleRef.kind === "Role" ? ref.namespace : undefined;
      granted.push(
        ...accessesOfRules(await rulesOf(roleRef.kind, roleRef.name, roleNamespace), ref.namespace ?? ""),
      );
    }
  }
  return granted;
}

/** The authorization checks admission made on the hub's writes, which no audit event shows. */
async function admissionChecksPassed(
  admin: KubeClient,
  hubRequests: AuditEvent[],
): Promise<ResourceAccess[]> {
  const checks: ResourceAccess[] = [];
  const check = (resource: string, subresource: string, verb: string, name: string, namespace = "") =>
    checks.push({ group: clusterGroup, resource, subresource, verb, namespace, name });
  // Approving a CSR needs `approve` on its signer.
  for (const event of hubRequests) {
    const ref = event.objectRef;
    if (
      ref?.subresource !== "approval" ||
      event.verb !== "update" ||
      (event.responseStatus?.code ?? 0) >= 300
    )
      continue;
    const csr = await admin.get<CertificateSigningRequest>({
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      name: ref.name!,
    });
    checks.push({
      group: "certificates.k8s.io",
      resource: "signers",
      subresource: "",
      verb: "approve",
      namespace: "",
      name: csr.spec.signerName,
    });
  }
  // OwnerReferencesPermissionEnforcement: a blocking ownerReference needs update on the owner's finalizers.
  const { items: decisions } = await admin.listAll<PlacementDecision>(
    `${clusterGroup}/v1beta1`,
    "PlacementDecision",
    { namespace: placementNamespace },
  );
  for (const decision of decisions) {
    for (const owner of decision.metadata.ownerReferences ?? []) {
      if (owner.blockOwnerDeletion)
        check("placements", "finalizers", "update", owner.name, placementNamespace);
    }
  }
  // The ManagedCluster admission policy: labelling a cluster into a set needs managedclustersets/join.
  const { items: clusters } = await admin.listAll<ManagedCluster>(`${clusterGroup}/v1`, "ManagedCluster");
  for (const cluster of clusters) {
    const labelledByHub = cluster.metadata.managedFields?.some((entry) => {
      const metadata = entry.fieldsV1?.["f:metadata"] as Record<string, Record<string, unknown>> | undefined;
      return (
        entry.manager === registrationFieldManager &&
        metadata?.["f:labels"]?.[`f:${Labels.clusterSet}`] !== undefined
      );
    });
    if (labelledByHub)
      check("managedclustersets", "join", "create", cluster.metadata.labels![Labels.clusterSet]!);
  }
  return checks;
}

interface Component {
  name: string;
  identity: Identity;
  roles: RoleManifest[];
  /** Every access the component needs. */
  needed: Access[];
}

/**
 * The grants of each component that nothing needs: with the grant taken away, and the
 * rest bound to a user of its own, every needed access the grant covers is still allowed.
 */
async function unneededGrants(admin: KubeClient, components: Component[]): Promise<Record<string, string[]>> {
  const unneeded: Record<string, string[]> = {};
  const variants: { component: string; description: string; user: Identity; candidates: Access[] }[] = [];
  for (const { name: component, identity, roles, needed } of components) {
    const list: string[] = (unneeded[component] = []);
    for (const [index, grant] of grantsOf(roles).entries()) {
      const description = describeGrant(grant, roles);
      const candidates = needed.filter((access) => grantCovers(grant, roles, access));
      if (candidates.length === 0) {
        list.push(description);
        continue;
      }
      const user = { username: `deploy-test-${component}-without-${index}`, groups: identity.groups };
      for (const [roleIndex, role] of withoutGrant(roles, grant).entries()) {
        await bindRole(
          admin,
          `${user.username}-${roleIndex}`,
          role.kind as "ClusterRole" | "Role",
          role.metadata.namespace,
          role.rules,
          user.username,
        );
      }
      variants.push({ component, description, user, candidates });
    }
  }
  // The authorizer's caches see each kind's objects in order: once it sees the sentinel's
  // role and binding of each kind, bound last, it sees every variant's.
  const sentinel = { username: "deploy-test-sentinel", groups: [] };
  const sentinelAccess = (namespace: string): Access => ({
    group: "",
    resource: "configmaps",
    subresource: "",
    verb: "get",
    namespace,
    name: `sentinel-${namespace}`,
  });
  const sentinelRule = (namespace: string) => ({
    apiGroups: [""],
    resources: ["configmaps"],
    resourceNames: [`sentinel-${namespace}`],
    verbs: ["get"],
  });
  await bindRole(
    admin,
    "deploy-test-sentinel",
    "ClusterRole",
    undefined,
    [sentinelRule("default")],
    sentinel.username,
  );
  await bindRole(
    admin,
    "deploy-test-sentinel",
    "Role",
    Namespaces.agent,
    [sentinelRule(Namespaces.agent)],
    sentinel.username,
  );
  await eventually(async () => {
    for (const namespace of ["default", Namespaces.agent]) {
      assert.ok(await isAllowed(admin, sentinel, sentinelAccess(namespace)), namespace);
    }
  });
  for (const variant of variants) {
    let denied = false;
    for (const access of variant.candidates) {
      if (!(await isAllowed(admin, variant.user, access))) {
        denied = true;
        break;
      }
    }
    if (!denied) unneeded[variant.component]!.push(variant.description);
  }
  for (const list of Object.values(unneeded)) list.sort();
  return unneeded;
}

/** Creates a ClusterRole (or a Role in `namespace`) with `rules`, bound to the user `username`. */
async function bindRole(
  admin: KubeClient,
  name: string,
  kind: "ClusterRole" | "Role",
  namespace: string | undefined,
  rules: PolicyRule[],
  username: string,
): Promise<void> {
  const metadata = { name, ...(namespace ? { namespace } : {}) };
  await admin.create({ apiVersion: "rbac.authorization.k8s.io/v1", kind, metadata, rules });
  await admin.create({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: kind === "Role" ? "RoleBinding" : "ClusterRoleBinding",
    metadata,
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: username }],
  });
}

// ---------------------------------------------------------------------------------------------
// Clients and fixtures

async function expectForbidden(promise: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(
    promise,
    (error: unknown) => error instanceof KubeApiError && error.status === 403,
    `${what} must be forbidden`,
  );
}

describe("deploy/ on a real control plane", () => {
  let admin: KubeClient;
  let hubClient: KubeClient;
  let agentClient: KubeClient;
  let hub: RunningHub | undefined;
  const agentStop = new AbortController();
  let agentDone: Promise<void> | undefined;
  let connection: HubConnection | undefined;

  /**
   * A client for a ServiceAccount configured as its pod would be: the component's kubeconfig
   * ConfigMap, with a minted token and the CA in the files the pod's token mount would hold.
   */
  async function serviceAccountClient(component: "hub" | "agent", namespace: string, name: string) {
    const { status } = await admin.request<{ status: { token: string } }>({
      method: "POST",
      path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 3600 },
      },
    });
    const mount = mkdtempSync(join(scratch, `${name}-`));
    writeFileSync(join(mount, "token"), status.token);
    writeFileSync(join(mount, "ca.crt"), fixture.plane.caPem);
    const [configMap] = ofKind(manifests(component), "ConfigMap");
    const kubeconfig = (configMap!.data as Record<string, string>).kubeconfig!;
    return KubeClient.fromString(
      kubeconfig
        .replace("https://kubernetes.default.svc", fixture.plane.server)
        .replaceAll("/var/run/secrets/kubernetes.io/serviceaccount", mount),
    );
  }

  /** Applies a component's manifests for real, all but its Deployment. */
  async function applyComponent(component: "hub" | "agent"): Promise<void> {
    for (const object of deployed(component).filter((object) => object.kind !== "Deployment")) {
      await applyServerSide(admin, object, { fieldManager: "deploy-test", force: true });
    }
  }

  const cluster = (name: string) => admin.get<ManagedCluster>(clusterRef(name));
  const conditionStatus = (object: { status?: { conditions?: Condition[] } }, type: string) =>
    findCondition(object.status?.conditions, type)?.status;

  async function assertAcceptedByHub(name: string): Promise<void> {
    await eventually(
      async () => {
        const current = await cluster(name);
        assert.equal(conditionStatus(current, ManagedClusterConditions.hubAccepted), "True");
        assert.equal(current.metadata.labels?.[Labels.clusterSet], "default");
      },
      { timeoutMs: 30_000, what: `${name} accepted by the hub` },
    );
    const namespace = await admin.get<Unstructured>({ apiVersion: "v1", kind: "Namespace", name });
    assert.equal(namespace.metadata.labels?.[Labels.clusterName], name);
    const role = await admin.get<RoleManifest>(rbacRef("ClusterRole", ClusterRBAC.clusterRole(name)));
    assert.ok(role.rules.some((rule) => rule.resources?.includes("certificatesigningrequests")));
    await admin.get(rbacRef("ClusterRoleBinding", ClusterRBAC.clusterRole(name)));
    for (const binding of [ClusterRBAC.registrationRoleBinding(name), ClusterRBAC.workRoleBinding(name)]) {
      await admin.get(rbacRef("RoleBinding", binding, name));
    }
    await admin.get({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      name: Lease.name,
      namespace: name,
    });
  }

  async function stopAll(): Promise<void> {
    agentStop.abort();
    await agentDone;
    await hub?.stop();
    hub = undefined;
  }

  before(async () => {
    admin = await KubeClient.fromFile(fixture.plane.kubeconfigPath);
    await installCrds(admin, "hub");
    await installCrds(admin, "managed");
  });

  after(async () => {
    await stopAll();
    connection?.client.close();
    hubClient?.close();
    agentClient?.close();
    admin?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test("every manifest in deploy/ is accepted by the API server", async () => {
    const objects = [...manifests("hub"), ...manifests("agent")];
    assert.deepEqual(
      ofKind(objects, "Namespace").map((namespace) => namespace.metadata.name),
      [Namespaces.hub, Namespaces.agent],
    );
    for (const namespace of ofKind(objects, "Namespace")) {
      await applyServerSide(admin, namespace, { fieldManager: "deploy-test" });
    }
    for (const object of objects.filter((object) => object.kind !== "Namespace")) {
      await admin.create(object, { dryRun: true });
    }
    // Each Deployment runs as its ServiceAccount and reads the kubeconfig its ConfigMap holds.
    for (const component of ["hub", "agent"] as const) {
      const own = manifests(component);
      const [deployment] = ofKind(own, "Deployment");
      const pod = podSpec(deployment!);
      assert.deepEqual(
        ofKind(own, "ServiceAccount").map((account) => account.metadata.name),
        [pod.serviceAccountName],
      );
      const container = pod.containers[0]!;
      const kubeconfigPath = container.env?.find((variable) => variable.name === "KUBECONFIG")?.value;
      const mount = container.volumeMounts?.find((volumeMount) =>
        kubeconfigPath?.startsWith(volumeMount.mountPath),
      );
      const volume = pod.volumes?.find((candidate) => candidate.name === mount?.name);
      const [configMap] = ofKind(own, "ConfigMap");
      assert.equal(volume?.configMap?.name, configMap!.metadata.name, `${component}: kubeconfig volume`);
      assert.equal(kubeconfigPath, `${mount!.mountPath}/kubeconfig`);
      assert.ok((configMap!.data as Record<string, string>).kubeconfig);
    }
    const agentCommand = podSpec(ofKind(manifests("agent"), "Deployment")[0]!).containers[0]!.command;
    assert.equal(flagValue(agentCommand, "--cluster-name"), clusterName);

    // The execution role ships empty, bound to the agent: the operator decides what works may do.
    const agentObjects = manifests("agent");
    const execution = rolesOf(agentObjects).find((role) => role.metadata.name === executionRole);
    assert.deepEqual(execution?.rules, []);
    const executionBinding = ofKind(agentObjects, "ClusterRoleBinding").find(
      (binding) => (binding.roleRef as { name: string }).name === executionRole,
    );
    assert.deepEqual(executionBinding?.subjects, [
      { kind: "ServiceAccount", name: "bosun-agent", namespace: Namespaces.agent },
    ]);

    // The hub registers its webhook at its Service, which reaches the pods' webhook port.
    const hubObjects = manifests("hub");
    const hubDeployment = ofKind(hubObjects, "Deployment")[0]!;
    const hubContainer = podSpec(hubDeployment).containers[0]!;
    type ServiceManifest = Unstructured & {
      spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
    };
    const services = ofKind(hubObjects, "Service") as ServiceManifest[];
    const webhookService = serviceOfUrl(
      flagValue(hubContainer.command, "--webhook-url") ?? "https://none.invalid",
    );
    const service = services.find((candidate) => candidate.metadata.name === webhookService?.name);
    assert.ok(service, "the webhook's Service");
    assert.deepEqual(webhookService, {
      name: service.metadata.name,
      namespace: service.metadata.namespace,
      port: service.spec.ports[0]!.port,
    });
    const labels = podTemplate(hubDeployment).metadata.labels;
    // Every Service of each component (the webhook's, the metrics') reaches its pods' named ports.
    for (const component of ["hub", "agent"] as const) {
      const own = manifests(component);
      const template = podTemplate(ofKind(own, "Deployment")[0]!);
      const portNames = template.spec.containers.flatMap((container) =>
        (container.ports ?? []).map((port) => port.name),
      );
      for (const candidate of ofKind(own, "Service") as ServiceManifest[]) {
        for (const [key, value] of Object.entries(candidate.spec.selector))
          assert.equal(template.metadata.labels[key], value, `${candidate.metadata.name}: ${key}`);
        for (const port of candidate.spec.ports)
          assert.ok(portNames.includes(port.targetPort), `${candidate.metadata.name}: ${port.targetPort}`);
      }
    }
    for (const [key, value] of Object.entries(service.spec.selector)) assert.equal(labels[key], value, key);
    const webhookPort = hubContainer.ports?.find((port) => port.name === service.spec.ports[0]!.targetPort);
    assert.equal(
      flagValue(hubContainer.command, "--webhook-bind-address"),
      `0.0.0.0:${webhookPort?.containerPort}`,
    );
  });

  test("the image holds every module and package the CLI imports", () => {
    const dockerfile = readFileSync(join(repo, "deploy", "Dockerfile"), "utf8");
    const copied = [...dockerfile.matchAll(/^COPY\s+(?!--)(\S+)\s+\S+\s*$/gm)].map((match) => match[1]!);
    const { dependencies = {} } = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    const inImage = (file: string) =>
      copied.some((source) => {
        const path = relative(repo, file);
        return path === source || path.startsWith(`${source}/`);
      });
    const seen = new Set<string>();
    const missing: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      if (!inImage(file)) missing.push(relative(repo, file));
      const source = readFileSync(file, "utf8");
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+"([^"]+)"/gm),
        ...source.matchAll(/^\s*import\s+"([^"]+)"/gm),
        ...source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
      ].map((match) => match[1]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier));
        else if (!specifier.startsWith("node:")) {
          const parts = specifier.split("/");
          const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
          if (!(name in dependencies)) missing.push(`package ${name} (not a production dependency)`);
        }
      }
    };
    visit(join(repo, "cli", "bosun.ts"));
    assert.ok(seen.size > 20, "the import graph was walked");
    assert.deepEqual(missing, []);
    assert.ok(inImage(join(crdRoot, "hub")), "the CRDs `bosun init` installs are in the image");
  });

  test("the hub, as ServiceAccount bosun-hub, accepts a cluster and keeps the cluster sets", async () => {
    await applyComponent("hub");
    hubClient = await serviceAccountClient("hub", Namespaces.hub, "bosun-hub");
    // The webhook on loopback, which the local API server can call; in a cluster, its Service.
    hub = await runHub({
      client: hubClient,
      clock: systemClock(),
      logger,
      metrics: { host: "127.0.0.1", port: 0 },
      webhook: { host: "127.0.0.1", port: 0 },
      identity: "deploy-test",
    });
    await eventually(() => assert.ok(hub?.isLeader()), { what: "the hub leading" });
    await eventually(async () => {
      const response = await fetch(`${hub!.metricsAddress.url}/readyz`);
      assert.equal(response.status, 200);
    });
    // `bosun init` after the hub started: the hub created the admission policy and shared roles itself.
    await ensureBootstrapIdentity(admin, hubEndpointOf(admin));

    await admin.create({
      apiVersion: `${clusterGroup}/v1`,
      kind: "ManagedCluster",
      metadata: { name: spareName, labels: { "deploy-test": "spare" } },
      spec: { hubAcceptsClient: true },
    });
    await assertAcceptedByHub(spareName);
    await eventually(async () => {
      const spare = await cluster(spareName);
      // No agent renews its lease: the hub marks it unreachable.
      assert.ok(spare.spec?.taints?.some((taint) => taint.key === Taints.unreachable));
    });

    await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: placementNamespace } });
    await admin.create({
      apiVersion: `${clusterGroup}/v1beta2`,
      kind: "ManagedClusterSetBinding",
      metadata: { name: "default", namespace: placementNamespace },
      spec: { clusterSet: "default" },
    });
    await eventually(async () => {
      const set = await admin.get<ManagedClusterSet>({
        apiVersion: `${clusterGroup}/v1beta2`,
        kind: "ManagedClusterSet",
        name: "default",
      });
      assert.equal(conditionStatus(set, "ClusterSetEmpty"), "False");
      const binding = await admin.get<ManagedClusterSetBinding>({
        apiVersion: `${clusterGroup}/v1beta2`,
        kind: "ManagedClusterSetBinding",
        name: "default",
        namespace: placementNamespace,
      });
      assert.equal(conditionStatus(binding, "Bound"), "True");
    });
  });

  test("the hub's ManifestWork webhook, registered as bosun-hub, refuses an oversized work", async () => {
    const registered = await admin.get<Unstructured>({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      name: workWebhookName,
    });
    const urls = (registered.webhooks as { clientConfig: { url?: string } }[]).map(
      (webhook) => webhook.clientConfig.url ?? "",
    );
    assert.ok(urls.length > 0 && urls.every((url) => url.startsWith(hub!.webhookUrl!)), urls.join(", "));
    const certificate = await admin.get<Unstructured & { data: Record<string, string> }>({
      apiVersion: "v1",
      kind: "Secret",
      name: workWebhookSecret,
      namespace: Namespaces.hub,
    });
    assert.ok(certificate.data["tls.crt"] && certificate.data["ca.crt"]);
    const payload = "x".repeat(Work.manifestSizeLimit / 2);
    const oversized = {
      apiVersion: `${workGroup}/v1`,
      kind: "ManifestWork",
      metadata: { name: "deploy-oversized", namespace: "default" },
      spec: {
        workload: {
          manifests: ["a", "b"].map((name) => ({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name, namespace: "default" },
            data: { payload },
          })),
        },
      },
    };
    // The API server calls the webhook once it has loaded the configuration.
    await eventually(
      async () => {
        const refusal = await admin.create(oversized).then(
          () => undefined,
          (error: unknown) => error,
        );
        if (refusal === undefined) {
          await admin.delete({
            apiVersion: oversized.apiVersion,
            kind: oversized.kind,
            ...oversized.metadata,
          });
          assert.fail("the oversized work was stored");
        }
        assert.ok(
          refusal instanceof KubeApiError &&
            refusal.message.includes(`bytes which exceeds the ${Work.manifestSizeLimit} limit`),
          refusal instanceof Error ? refusal.message : JSON.stringify(refusal),
        );
      },
      { what: "the oversized work refused by the webhook" },
    );
  });

  test("the agent, as ServiceAccount bosun-agent, joins that hub, reports its claims and renews its certificate", async () => {
    await applyComponent("agent");
    agentClient = await serviceAccountClient("agent", Namespaces.agent, "bosun-agent");
    // What `bosun join` writes with the managed cluster's admin credentials.
    const endpoint = hubEndpointOf(admin);
    await admin.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: Secrets.bootstrapHubKubeconfig, namespace: Namespaces.agent },
      stringData: {
        kubeconfig: bootstrapKubeconfig(endpoint.server, endpoint.caPem, await mintBootstrapToken(admin)),
      },
    });
    await admin.create({
      apiVersion: `${clusterGroup}/v1alpha1`,
      kind: "ClusterClaim",
      metadata: { name: "region.open-cluster-management.io" },
      spec: { value: "us-east-1" },
    });
    agentDone = runAgent({
      managedClient: agentClient,
      clusterName,
      clock: systemClock(),
      logger,
      signal: agentStop.signal,
      expirationSeconds: 3600,
      statusResyncMs: 1000,
      onPhase: (_phase, current) => {
        if (current) connection = current;
      },
    });

    const result = await acceptCluster(admin, clusterName, { waitMs: 60_000 });
    assert.equal(result.approved.length, 1);
    await assertAcceptedByHub(clusterName);
    await eventually(
      async () => {
        const current = await cluster(clusterName);
        assert.equal(conditionStatus(current, ManagedClusterConditions.joined), "True");
        assert.equal(conditionStatus(current, ManagedClusterConditions.available), "True");
        assert.deepEqual(
          current.status?.clusterClaims?.find((claim) => claim.name === "region.open-cluster-management.io"),
          { name: "region.open-cluster-management.io", value: "us-east-1" },
        );
      },
      { timeoutMs: 60_000, what: `${clusterName} joined, available and claiming` },
    );

    // A renewal: the hub approves it only after a SubjectAccessReview, and the agent stores the
    // new certificate in hub-kubeconfig-secret.
    assert.ok(connection, "the agent runs with its certificate");
    const stored = await admin.get<Unstructured>({
      apiVersion: "v1",
      kind: "Secret",
      name: Secrets.hubKubeconfig,
      namespace: Namespaces.agent,
    });
    const renewed = await renewClientCertificate(connection, {
      managedClient: agentClient,
      clock: systemClock(),
      logger,
      signal: AbortSignal.timeout(60_000),
      expirationSeconds: 3600,
    });
    renewed.client.close();
    const { items } = await admin.listAll<CertificateSigningRequest>(
      "certificates.k8s.io/v1",
      "CertificateSigningRequest",
      { labelSelector: `${Labels.clusterName}=${clusterName}` },
    );
    assert.ok(
      items.some((csr) =>
        csr.status?.conditions?.some(
          (condition) => condition.type === "Approved" && condition.reason === Csr.autoApprovedReason,
        ),
      ),
      "the hub approved the renewal",
    );
    const afterRenewal = await admin.get<Unstructured>({
      apiVersion: "v1",
      kind: "Secret",
      name: Secrets.hubKubeconfig,
      namespace: Namespaces.agent,
    });
    assert.notEqual(
      (afterRenewal.data as Record<string, string>)["tls.crt"],
      (stored.data as Record<string, string>)["tls.crt"],
    );
  });

  test("the hub places clusters: decisions created, relabelled, adopted and removed", async () => {
    const decisionRef = (name: string) => ({
      apiVersion: `${clusterGroup}/v1beta1`,
      kind: "PlacementDecision",
      name,
      namespace: placementNamespace,
    });
    const decisionsOf = async (placement: string) =>
      (
        await admin.listAll<PlacementDecision>(`${clusterGroup}/v1beta1`, "PlacementDecision", {
          namespace: placementNamespace,
          labelSelector: `${Labels.placement}=${placement}`,
        })
      ).items
        .map((decision) => ({
          name: decision.metadata.name,
          group: decision.metadata.labels?.[Labels.decisionGroupName],
          clusters: (decision.status?.decisions ?? []).map((d) => d.clusterName).sort(),
        }))
        .sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
    // A decision by the name the hub will choose, not yet labelled for it: the hub adopts it.
    await admin.create({
      apiVersion: `${clusterGroup}/v1beta1`,
      kind: "PlacementDecision",
      metadata: { name: "spread-decision-1", namespace: placementNamespace },
    });
    const placement: Placement = {
      apiVersion: `${clusterGroup}/v1beta1`,
      kind: "Placement",
      metadata: { name: "spread", namespace: placementNamespace },
      spec: {
        clusterSets: ["default"],
        tolerations: [{ key: Taints.unreachable, operator: "Exists" }],
        decisionStrategy: {
          groupStrategy: {
            decisionGroups: [
              {
                groupName: "spare",
                groupClusterSelector: { labelSelector: { matchLabels: { "deploy-test": "spare" } } },
              },
            ],
          },
        },
      },
    };
    await admin.create(placement);
    await eventually(async () =>
      assert.deepEqual(await decisionsOf("spread"), [
        { name: "spread-decision-1", group: "spare", clusters: [spareName] },
        { name: "spread-decision-2", group: "", clusters: [clusterName] },
      ]),
    );
    await admin.patch(
      { apiVersion: placement.apiVersion, kind: "Placement", name: "spread", namespace: placementNamespace },
      "merge",
      { spec: { decisionStrategy: null } },
    );
    await eventually(async () =>
      assert.deepEqual(await decisionsOf("spread"), [
        { name: "spread-decision-1", group: "", clusters: [clusterName, spareName].sort() },
      ]),
    );
    assert.equal(await admin.getOrUndefined(decisionRef("spread-decision-2")), undefined);

    // A decision the hub creates blocks its Placement's deletion.
    await admin.create({ ...placement, metadata: { name: "all", namespace: placementNamespace }, spec: {} });
    const owned = await eventually(() => admin.get<PlacementDecision>(decisionRef("all-decision-1")));
    assert.equal(owned.metadata.ownerReferences?.[0]?.blockOwnerDeletion, true);
  });

  test("the hub delivers a ManifestWorkReplicaSet, the agent applies its work, and both remove it", async () => {
    const replicaSetRef = {
      apiVersion: "work.open-cluster-management.io/v1alpha1",
      kind: "ManifestWorkReplicaSet",
      name: "deploy-app",
      namespace: placementNamespace,
    };
    const workRef = {
      apiVersion: `${workGroup}/v1`,
      kind: "ManifestWork",
      name: "deploy-app",
      namespace: clusterName,
    };
    const configMapRef = {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "deploy-app",
      namespace: placementNamespace,
    };
    const configMapData = async () =>
      (await admin.getOrUndefined<Unstructured & { data?: Record<string, string> }>(configMapRef))?.data;
    const appliedWorks = async () =>
      (await admin.listAll<Unstructured>(`${workGroup}/v1`, "AppliedManifestWork")).items.map(
        (applied) => applied.metadata.name ?? "",
      );
    const worksOf = async () =>
      (
        await admin.listAll<Unstructured>("work.open-cluster-management.io/v1", "ManifestWork", {
          labelSelector: `${Labels.manifestWorkReplicaSet}=${placementNamespace}.deploy-app`,
        })
      ).items.map((work) => `${work.metadata.namespace}/${work.metadata.name}`);
    await admin.create({
      ...replicaSetRef,
      metadata: { name: "deploy-app", namespace: placementNamespace },
      spec: {
        placementRefs: [{ name: "all" }],
        manifestWorkTemplate: {
          workload: {
            manifests: [
              {
                apiVersion: "v1",
                kind: "ConfigMap",
                metadata: { name: "deploy-app", namespace: placementNamespace },
                data: { key: "value" },
              },
            ],
          },
        },
      },
    });
    await eventually(async () => assert.deepEqual(await worksOf(), [`${clusterName}/deploy-app`]), {
      what: "the replica set's work",
    });
    await eventually(async () => {
      const replicaSet = await admin.get<Unstructured>(replicaSetRef);
      const conditions = (replicaSet.status as { conditions?: Condition[] } | undefined)?.conditions;
      assert.equal(findCondition(conditions, "PlacementVerified")?.status, "True");
    });

    // The agent applies the work on the managed cluster, owned by its AppliedManifestWork, and
    // reports it Applied on the hub.
    await eventually(
      async () => {
        assert.deepEqual(await configMapData(), { key: "value" });
        const work = await admin.get<ManifestWork>(workRef);
        assert.equal(findCondition(work.status?.conditions, ManifestWorkConditions.applied)?.status, "True");
      },
      { timeoutMs: 60_000, what: "the work applied and reported Applied" },
    );
    const [applied] = await appliedWorks();
    assert.ok(applied?.endsWith("-deploy-app"), applied);
    const configMap = await admin.get<Unstructured>(configMapRef);
    assert.deepEqual(
      configMap.metadata.ownerReferences?.map((owner) => `${owner.kind}/${owner.name}`),
      [`AppliedManifestWork/${applied}`],
    );
    // An edit on the managed cluster is undone.
    await admin.patch(configMapRef, "merge", { data: { key: "edited" } });
    await eventually(async () => assert.deepEqual(await configMapData(), { key: "value" }), {
      timeoutMs: 30_000,
      what: "the edited ConfigMap put back",
    });

    // Deleting the replica set deletes its work, and the agent deletes what the work applied.
    await admin.delete(replicaSetRef);
    await eventually(
      async () => {
        assert.equal(await admin.getOrUndefined(replicaSetRef), undefined);
        assert.deepEqual(await worksOf(), []);
        assert.equal(await configMapData(), undefined);
        assert.deepEqual(await appliedWorks(), []);
      },
      { timeoutMs: 60_000, what: "the replica set, its works and what they applied gone" },
    );
  });

  test("the hub propagates a Policy through a PolicySet, the agent evaluates and enforces it, and both remove it", async () => {
    const policyGroup = "policy.open-cluster-management.io";
    const policyRef = {
      apiVersion: `${policyGroup}/v1`,
      kind: "Policy",
      name: "deploy-policy",
      namespace: placementNamespace,
    };
    const configMapRef = {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "deploy-policy",
      namespace: placementNamespace,
    };
    const configurationPolicyRef = {
      apiVersion: `${policyGroup}/v1`,
      kind: "ConfigurationPolicy",
      name: "deploy-policy-config",
      namespace: clusterName,
    };
    type WithCompliance = Unstructured & { status?: { compliant?: string } };
    await admin.create({
      ...policyRef,
      metadata: { name: "deploy-policy", namespace: placementNamespace },
      spec: {
        disabled: false,
        remediationAction: "inform",
        "policy-templates": [
          {
            objectDefinition: {
              apiVersion: `${policyGroup}/v1`,
              kind: "ConfigurationPolicy",
              metadata: { name: "deploy-policy-config" },
              spec: {
                remediationAction: "inform",
                severity: "low",
                pruneObjectBehavior: "DeleteIfCreated",
                "object-templates": [
                  {
                    complianceType: "musthave",
                    objectDefinition: {
                      apiVersion: "v1",
                      kind: "ConfigMap",
                      metadata: { name: "deploy-policy", namespace: placementNamespace },
                      data: { key: "value" },
                    },
                  },
                ],
              },
            },
          },
        ],
      },
    });
    await admin.create({
      apiVersion: `${policyGroup}/v1beta1`,
      kind: "PolicySet",
      metadata: { name: "deploy-set", namespace: placementNamespace },
      spec: { policies: ["deploy-policy"] },
    });
    await admin.create({
      apiVersion: `${policyGroup}/v1`,
      kind: "PlacementBinding",
      metadata: { name: "deploy-set", namespace: placementNamespace },
      placementRef: { apiGroup: clusterGroup, kind: "Placement", name: "all" },
      subjects: [{ apiGroup: policyGroup, kind: "PolicySet", name: "deploy-set" }],
    });
    // inform: the agent reports the missing ConfigMap, and creates nothing.
    await eventually(
      async () => {
        assert.equal((await admin.get<WithCompliance>(policyRef)).status?.compliant, "NonCompliant");
        const set = await admin.get<WithCompliance>({
          ...policyRef,
          apiVersion: `${policyGroup}/v1beta1`,
          kind: "PolicySet",
          name: "deploy-set",
        });
        assert.equal(set.status?.compliant, "NonCompliant");
      },
      { timeoutMs: 60_000, what: "the policy NonCompliant on the root and the set" },
    );
    assert.equal(await admin.getOrUndefined(configMapRef), undefined);
    // enforce: the agent creates the ConfigMap and the root turns Compliant.
    await admin.patch(policyRef, "merge", { spec: { remediationAction: "enforce" } });
    await eventually(
      async () => {
        assert.equal((await admin.get<WithCompliance>(policyRef)).status?.compliant, "Compliant");
        assert.ok(await admin.getOrUndefined(configMapRef), "the enforced ConfigMap");
      },
      { timeoutMs: 60_000, what: "the policy enforced and Compliant" },
    );
    // A remediated object deleted out of band is created again (a repeated compliance message
    // updates its earlier Event).
    const created = (await admin.get<Unstructured>(configMapRef)).metadata.uid;
    await admin.delete(configMapRef);
    await eventually(
      async () => {
        const again = await admin.getOrUndefined<Unstructured>(configMapRef);
        assert.ok(again && again.metadata.uid !== created, "the ConfigMap created again");
        assert.equal((await admin.get<WithCompliance>(policyRef)).status?.compliant, "Compliant");
      },
      { timeoutMs: 60_000, what: "the deleted ConfigMap remediated" },
    );
    // Deleting the policy removes its replica, its work and the ConfigurationPolicy on the cluster.
    await admin.delete(policyRef);
    await eventually(
      async () => {
        assert.equal(
          await admin.getOrUndefined({
            ...policyRef,
            namespace: clusterName,
            name: `${placementNamespace}.deploy-policy`,
          }),
          undefined,
        );
        assert.equal(await admin.getOrUndefined(configurationPolicyRef), undefined);
        assert.equal(await admin.getOrUndefined(configMapRef), undefined, "pruned: the policy created it");
      },
      { timeoutMs: 60_000, what: "the replica, the ConfigurationPolicy and what it created gone" },
    );
  });

  test("the hub removes a deleted cluster's RBAC and lets it go", async () => {
    await admin.delete(clusterRef(spareName));
    await eventually(async () => {
      assert.equal(await admin.getOrUndefined(clusterRef(spareName)), undefined);
      for (const kind of ["ClusterRole", "ClusterRoleBinding"]) {
        assert.equal(
          await admin.getOrUndefined(rbacRef(kind, ClusterRBAC.clusterRole(spareName))),
          undefined,
        );
      }
      assert.equal(
        await admin.getOrUndefined(rbacRef("RoleBinding", ClusterRBAC.workRoleBinding(spareName), spareName)),
        undefined,
      );
    });
  });

  test("every permission in deploy/ is needed, and no request was refused", async () => {
    await stopAll();
    const events = readAudit();
    assert.deepEqual(
      events
        .filter((event) => event.responseStatus?.code === 403)
        .map((event) => `${event.user.username} ${event.verb} ${event.requestURI}`),
      [],
    );
    const hubRequests = events.filter((event) => event.user.username === hubUser);
    const agentRequests = events.filter((event) => event.user.username === agentUser);
    const admitted = await admissionChecksPassed(admin, hubRequests);
    assert.deepEqual(
      new Set(admitted.map((access) => `${access.resource}/${access.subresource}`)),
      new Set(["signers/", "placements/finalizers", "managedclustersets/join"]),
    );
    const granted = await grantedByWrittenRbac(admin, hubRequests);
    assert.ok(granted.length > 0, "the hub wrote RBAC");
    // The agent's roles include its execution role as deployed for the test's work: every rule
    // granted there for the work is proven needed too, like the agent's own.
    const components: Component[] = [
      {
        name: "hub",
        identity: identityOf(hubRequests),
        roles: rolesOf(deployed("hub")),
        needed: unique([...hubRequests.flatMap(accessesOfRequest), ...granted, ...admitted]),
      },
      {
        name: "agent",
        identity: identityOf(agentRequests),
        roles: rolesOf(deployed("agent")),
        needed: unique(agentRequests.flatMap(accessesOfRequest)),
      },
    ];

    // Sufficient: the ServiceAccounts hold everything needed, including what no request shows.
    for (const { name, identity, needed } of components) {
      const denied: string[] = [];
      for (const access of needed) {
        if (!(await isAllowed(admin, identity, access))) denied.push(JSON.stringify(access));
      }
      assert.deepEqual(denied, [], `${name}: needed but not granted`);
    }
    // Minimal, but for what every user is granted by the default system:public-info-viewer role,
    // which deploy/agent/10-rbac.yaml lists so that the agent does not depend on it.
    assert.deepEqual(await unneededGrants(admin, components), {
      hub: [],
      agent: ["get /healthz", "get /livez", "get /version"],
    });
  });

  test("neither ServiceAccount can read Secrets beyond its own", async () => {
    await admin.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "deploy-test-other", namespace: Namespaces.kubeSystem },
      stringData: { key: "value" },
    });
    await admin.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "deploy-test-other", namespace: Namespaces.agent },
      stringData: { key: "value" },
    });
    const secret = (namespace: string, name = "deploy-test-other") => ({
      apiVersion: "v1",
      kind: "Secret",
      name,
      namespace,
    });
    // The agent reads its own two Secrets and no other, in its namespace or elsewhere.
    await agentClient.get(secret(Namespaces.agent, Secrets.hubKubeconfig));
    await expectForbidden(agentClient.get(secret(Namespaces.agent)), "the agent reading another Secret");
    await expectForbidden(
      agentClient.list("v1", "Secret", { namespace: Namespaces.agent }),
      "the agent listing Secrets",
    );
    await expectForbidden(agentClient.get(secret(Namespaces.kubeSystem)), "the agent reading kube-system");
    await expectForbidden(agentClient.list("v1", "Secret", {}), "the agent listing Secrets everywhere");
    // The hub reads its webhook's serving certificate and no other Secret, and cannot grant
    // itself what it does not hold.
    await hubClient.get(secret(Namespaces.hub, workWebhookSecret));
    await admin.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "deploy-test-other", namespace: Namespaces.hub },
      stringData: { key: "value" },
    });
    await expectForbidden(hubClient.get(secret(Namespaces.hub)), "the hub reading another Secret");
    await expectForbidden(
      hubClient.list("v1", "Secret", { namespace: Namespaces.hub }),
      "the hub listing its namespace's Secrets",
    );
    await expectForbidden(hubClient.get(secret(Namespaces.kubeSystem)), "the hub reading kube-system");
    await expectForbidden(
      hubClient.list("v1", "Secret", { namespace: Namespaces.kubeSystem }),
      "the hub listing kube-system",
    );
    await expectForbidden(
      hubClient.create({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "deploy-test-escalation" },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
      }),
      "the hub writing a role that reads Secrets",
    );
  });
});
