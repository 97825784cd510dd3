// `--dry-run` for `bosun init` and `bosun join`: what a real run would write, worked out by
// reading each object (GET) and comparing it with what the command would apply. Nothing is
// written, not even as a server-side dry run.
import { BosunBootstrapSigning, HubInfo, Namespaces, Secrets } from "../../api/constants.ts";
import type { AppliedManifestWork } from "../../api/types/work.ts";
import type { BootstrapToken } from "../../runtime/bootstrap-signature.ts";
import type { KubeApi } from "../../runtime/kube/client.ts";
import { refOf } from "../../runtime/kube/client.ts";
import type { Unstructured } from "../../runtime/kube/types.ts";
import { objectAction, type ObjectAction } from "../../runtime/live-state.ts";

export { holdsFields, objectAction, type ObjectAction } from "../../runtime/live-state.ts";

/** One thing a real run would do (or find done already). */
export interface PlanStep {
  /** create/update/unchanged for an applied object; other verbs for what is not an object. */
  action: ObjectAction | "mint" | "sign" | "start" | "skip" | "stop" | "delete";
  kind: string;
  name: string;
  namespace?: string;
  detail?: string;
}

export function objectStep(desired: Unstructured, live: Unstructured | undefined): PlanStep {
  return {
    action: objectAction(desired, live),
    kind: desired.kind,
    name: desired.metadata.name ?? "",
    ...(desired.metadata.namespace ? { namespace: desired.metadata.namespace } : {}),
  };
}

/** Reads each object (GET only) and says what applying it would do. */
export async function planObjects(client: KubeApi, objects: readonly Unstructured[]): Promise<PlanStep[]> {
  const steps: PlanStep[] = [];
  for (const desired of objects)
    steps.push(objectStep(desired, await client.getOrUndefined<Unstructured>(refOf(desired))));
  return steps;
}

/** One line of the plan: `would create Secret ns/name`, `unchanged: ...`, `would not start ...`. */
export function describeStep(step: PlanStep): string {
  const name = step.namespace ? `${step.namespace}/${step.name}` : step.name;
  const detail = step.detail ? ` (${step.detail})` : "";
  if (step.action === "unchanged") return `unchanged: ${step.kind} ${name}${detail}`;
  if (step.action === "skip") return `would not start ${step.kind} ${name}${detail}`;
  return `would ${step.action} ${step.kind} ${name}${detail}`;
}

/** The steps as text lines, under a heading that says nothing was written. */
export function planLines(title: string, steps: readonly PlanStep[]): string[] {
  return [`${title} (dry run, nothing written):`, ...steps.map((step) => `  ${describeStep(step)}`)];
}

/** How many steps of each action, for a one-line summary. */
export function planSummary(steps: readonly PlanStep[]): string {
  const counts = new Map<string, number>();
  for (const step of steps) counts.set(step.action, (counts.get(step.action) ?? 0) + 1);
  return [...counts].map(([action, count]) => `${count} ${action}`).join(", ");
}

/** `--dry-run` cannot be combined with these flags; a usage error names them. */
export function checkDryRunFlags(flags: { dryRun?: boolean; deploy?: boolean; wait?: boolean }): void {
  if (!flags.dryRun) return;
  const stray = [flags.deploy ? "--deploy" : "", flags.wait ? "--wait" : ""].filter(Boolean);
  if (stray.length > 0) {
    throw new Error(
      `--dry-run does not go with ${stray.join(" or ")}` +
        (flags.deploy ? " (--deploy without --apply already prints and writes nothing)" : ""),
    );
  }
}

/** What `bosun init --use-bootstrap-token` would do about the token, from what the hub has. */
export interface BootstrapTokenState {
  /** kube-system's bootstrap token Secret, if there is one. */
  secret?: Unstructured;
  /** kube-public/cluster-info as it is now. */
  clusterInfo?: Unstructured;
  /** cluster-info's kubeconfig as init writes it. */
  kubeconfig: string;
  /** The group binding a new token gets, and what the hub has of it. */
  groupBinding: Unstructured;
  liveGroupBinding?: Unstructured;
}

export function bootstrapTokenSteps(
  state: BootstrapTokenState,
  sign: (content: string, token: BootstrapToken) => string,
): PlanStep[] {
  const data = state.secret?.data as Record<string, string> | undefined;
  const secretStep = {
    kind: "Secret",
    name: Secrets.bootstrapToken,
    namespace: Namespaces.kubeSystem,
  };
  const signStep = {
    kind: "ConfigMap",
    name: HubInfo.clusterInfoConfigMap,
    namespace: Namespaces.kubePublic,
  };
  if (!data?.["token-id"] || !data["token-secret"]) {
    return [
      { action: "create", ...secretStep, detail: "a new bootstrap token" },
      { action: "sign", ...signStep, detail: "with the new token" },
      objectStep(state.groupBinding, state.liveGroupBinding),
    ];
  }
  const decode = (value: string) => Buffer.from(value, "base64").toString("utf8");
  const token = { id: decode(data["token-id"]), secret: decode(data["token-secret"]) };
  const key = `${BosunBootstrapSigning.signatureKeyPrefix}${token.id}`;
  const signature = (state.clusterInfo?.data as Record<string, string> | undefined)?.[key];
  return [
    data[BosunBootstrapSigning.usageSigning]
      ? { action: "unchanged", ...secretStep, detail: "the existing token is used" }
      : { action: "update", ...secretStep, detail: `the existing token, marked for signing` },
    signature === sign(state.kubeconfig, token)
      ? { action: "unchanged", ...signStep, detail: `signed with token ${token.id}` }
      : { action: "sign", ...signStep, detail: `with token ${token.id}` },
  ];
}

/** What `bosun join` would do about the agent: start it (stopping one already running), or not. */
export function agentStep(options: {
  mode: string;
  clusterName: string;
  logFile: string;
  runningPid?: number;
}): PlanStep {
  const name = `agent-${options.clusterName}`;
  if (options.mode !== "background")
    return { action: "skip", kind: "agent", name, detail: `--agent ${options.mode}` };
  const running =
    options.runningPid === undefined ? "" : `, stopping the one running as pid ${options.runningPid}`;
  return {
    action: "start",
    kind: "agent",
    name,
    detail: `background process, log ${options.logFile}${running}`,
  };
}

/** What `bosun unjoin` finds on the managed cluster, read with GETs and a list only. */
export interface UnjoinState {
  clusterName: string;
  keepApplied: boolean;
  /** The background agent's pid, if one runs. */
  runningPid?: number;
  applied: readonly AppliedManifestWork[];
  /** The agent's Secrets that exist. */
  secrets: readonly string[];
  namespacePresent: boolean;
}

/** What `bosun unjoin` would do, in the order it does it. */
export function unjoinSteps(state: UnjoinState): PlanStep[] {
  const steps: PlanStep[] = [];
  if (state.runningPid !== undefined)
    steps.push({
      action: "stop",
      kind: "agent",
      name: `agent-${state.clusterName}`,
      detail: `pid ${state.runningPid}`,
    });
  for (const record of state.applied) {
    const count = record.status?.appliedResources?.length ?? 0;
    const resources = `${count} applied resource${count === 1 ? "" : "s"}`;
    steps.push({
      action: "delete",
      kind: "AppliedManifestWork",
      name: record.metadata.name ?? "",
      detail: state.keepApplied
        ? `its ${resources} kept, without this owner reference`
        : `its ${resources} deleted; one another record also owns only loses this reference`,
    });
  }
  for (const name of state.secrets)
    steps.push({ action: "delete", kind: "Secret", name, namespace: Namespaces.agent });
  if (state.namespacePresent) steps.push({ action: "delete", kind: "Namespace", name: Namespaces.agent });
  return steps;
}
