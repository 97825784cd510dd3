// The permission checks for a work's executor: before applying a manifest the agent asks, with
// one SubjectAccessReview per verb, whether the executor ServiceAccount may create, update,
// patch and get the resource (and delete it when the work owns it). For RBAC roles and
// bindings it also dry-runs the create as the ServiceAccount, since a review cannot see
// privilege escalation. A denied manifest is Applied=False and retried after 60 s.
import { ManifestWorkMessages, Work } from "../../api/constants.ts";
import type { ManifestWorkExecutor, ManifestWorkSubjectServiceAccount } from "../../api/types/work.ts";

/** The resource a manifest applies. */
export interface ExecutorTarget {
  group?: string;
  version?: string;
  /** The plural resource name. */
  resource: string;
  namespace?: string;
  name: string;
}

/** authorization.k8s.io/v1 ResourceAttributes; empty strings are sent as OCM sends them. */
export interface ResourceAttributes {
  namespace: string;
  verb: string;
  group: string;
  version: string;
  resource: string;
  name: string;
}

export interface SubjectAccessReview {
  apiVersion: "authorization.k8s.io/v1";
  kind: "SubjectAccessReview";
  spec: { resourceAttributes: ResourceAttributes; user: string; groups: string[] };
}

export type ExecutorCheck =
  /** No executor: the agent applies with its own identity and checks nothing. */
  | { check: false }
  | { check: true; serviceAccount: ManifestWorkSubjectServiceAccount }
  /** An unusable executor: the manifest fails with this message. */
  | { check: false; error: string };

/** Whether and as whom the agent must check permissions before applying. */
export function executorCheck(executor: ManifestWorkExecutor | undefined): ExecutorCheck {
  if (!executor) return { check: false };
  if (executor.subject?.type !== Work.executorSubjectServiceAccount) {
    return {
      check: false,
      error: `only support ${Work.executorSubjectServiceAccount} type for the executor`,
    };
  }
  const serviceAccount = executor.subject.serviceAccount;
  if (!serviceAccount) return { check: false, error: "the executor service account is nil" };
  return { check: true, serviceAccount };
}

/** `system:serviceaccount:<namespace>:<name>`. */
export function serviceAccountUser(serviceAccount: ManifestWorkSubjectServiceAccount): string {
  return `${Work.serviceAccountUserPrefix}${serviceAccount.namespace}:${serviceAccount.name}`;
}

/** The groups Kubernetes gives every ServiceAccount of a namespace. */
export function serviceAccountGroups(serviceAccount: ManifestWorkSubjectServiceAccount): string[] {
  return [
    "system:serviceaccounts",
    "system:authenticated",
    `system:serviceaccounts:${serviceAccount.namespace}`,
  ];
}

/** The verbs to check: create, update, patch and get, plus delete when the work owns the resource. */
export function executorVerbs(owned: boolean): string[] {
  return owned ? ["create", "update", "patch", "get", "delete"] : ["create", "update", "patch", "get"];
}

/** One ResourceAttributes per verb, in the order they are checked. */
export function executorResourceAttributes(target: ExecutorTarget, owned: boolean): ResourceAttributes[] {
  return executorVerbs(owned).map((verb) => ({
    namespace: target.namespace ?? "",
    verb,
    group: target.group ?? "",
    version: target.version ?? "",
    resource: target.resource,
    name: target.name,
  }));
}

/** The SubjectAccessReviews to create, in order; the executor is denied at the first one not allowed. */
export function executorAccessReviews(
  serviceAccount: ManifestWorkSubjectServiceAccount,
  target: ExecutorTarget,
  owned: boolean,
): SubjectAccessReview[] {
  const user = serviceAccountUser(serviceAccount);
  return executorResourceAttributes(target, owned).map((resourceAttributes) => ({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: { resourceAttributes, user, groups: serviceAccountGroups(serviceAccount) },
  }));
}

const escalationResources = new Set(["roles", "rolebindings", "clusterroles", "clusterrolebindings"]);

/**
 * True for RBAC roles and bindings: after the reviews pass, the agent creates the manifest
 * with dryRun=All impersonating the ServiceAccount. 403 is a denial (reported with
 * `escalation`); 409 AlreadyExists counts as allowed.
 */
export function needsEscalationCheck(target: Pick<ExecutorTarget, "group" | "resource">): boolean {
  return target.group === "rbac.authorization.k8s.io" && escalationResources.has(target.resource);
}

/** A whole number of seconds written as Go writes a time.Duration: "0s", "45s", "1m0s", "1h2m3s". */
export function goDuration(seconds: number): string {
  const whole = Math.trunc(seconds);
  if (whole === 0) return "0s";
  const sign = whole < 0 ? "-" : "";
  let rest = Math.abs(whole);
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const secs = rest - minutes * 60;
  if (hours > 0) return `${sign}${hours}h${minutes}m${secs}s`;
  if (minutes > 0) return `${sign}${minutes}m${secs}s`;
  return `${sign}${secs}s`;
}

/**
 * The error of a denied executor, e.g. `not allowed to apply the resource apps deployments,
 * default web, will try again in 1m0s`. Empty group or namespace leave their place empty, as
 * in OCM. The Applied condition's message is this text after "Failed to apply manifest: ".
 */
export function notAllowedMessage(
  target: Pick<ExecutorTarget, "group" | "resource" | "namespace" | "name">,
  options: { escalation?: boolean; requeueSeconds?: number } = {},
): string {
  const requeue = options.requeueSeconds ?? Work.executorDeniedRequeueSeconds;
  let message =
    `${ManifestWorkMessages.notAllowedToApply} ${target.group ?? ""} ${target.resource}, ` +
    `${target.namespace ?? ""} ${target.name}`;
  if (options.escalation) message += ", error: permission escalation";
  if (requeue > 0) message += `${ManifestWorkMessages.willTryAgainIn}${goDuration(requeue)}`;
  return message;
}
