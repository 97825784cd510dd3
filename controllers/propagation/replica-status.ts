// A replicated Policy's status from its ManifestWorks, as OCM's status sync writes it from
// compliance events (§4.1): per template a history of compliance messages, newest first and at
// most ten, the template's compliance from the prefix of its newest message, and the Policy's
// compliance from its templates'. Here the messages come from the works' status feedback (the
// newest history entry of each delivered template), from the agent's Applied condition when it
// could not apply a template, and from the hub's own verdicts on templates it did not deliver.
import {
  BosunWorkReasons,
  ComplianceStates,
  ConditionStatus,
  ConfigurationPolicyMessages,
  ManifestWorkConditions,
  ManifestWorkMessages,
  PolicyTemplateSyncMessages,
  PolicyTemplates,
  BosunGatekeeperFeedback,
  BosunPolicyWork,
  ForeignKinds,
  GatekeeperMessages,
} from "../../api/constants.ts";
import type {
  ComplianceHistory,
  ComplianceState,
  DetailsPerTemplate,
  Policy,
  PolicyStatus,
} from "../../api/types/policy.ts";
import type { FeedbackValue, ManifestWork } from "../../api/types/work.ts";
import { findCondition } from "../../runtime/conditions.ts";
import { formatTime, parseMicroTime } from "../../runtime/time.ts";
import { sortParts } from "../replicasets/status.ts";
import { manifestIdentity } from "../work/manifest.ts";
import { templateKey } from "./dependencies.ts";
import { unnamedTemplate, type TemplateProblem } from "./policy-works.ts";

export interface TemplateFeedback {
  name: string;
  kind: string;
  /** The template's API group; absent where the caller did not say (policy kinds). */
  group?: string;
  /** The manifest's Applied condition for the work's generation; undefined when not known yet. */
  applied: boolean | undefined;
  /** The Applied=False message. */
  applyMessage?: string;
  /** Feedback values: the template's status.compliant and its newest history entry. */
  compliant?: string;
  message?: string;
  lastTimestamp?: string;
  /** A Gatekeeper constraint's audit, once Gatekeeper has posted one. */
  audit?: GatekeeperAudit;
}

export interface GatekeeperViolation {
  enforcementAction?: string;
  message?: string;
  kind?: string;
  namespace?: string;
  name?: string;
}

export interface GatekeeperAudit {
  totalViolations: number;
  /** The violations the audit listed (at most BosunGatekeeperFeedback.violationLimit are read). */
  violations: GatekeeperViolation[];
}

function stringValue(values: readonly FeedbackValue[] | undefined, name: string): string | undefined {
  const value = values?.find((entry) => entry.name === name)?.fieldValue;
  return value?.type === "String" && typeof value.string === "string" ? value.string : undefined;
}

function integerValue(values: readonly FeedbackValue[] | undefined, name: string): number | undefined {
  const value = values?.find((entry) => entry.name === name)?.fieldValue;
  return value?.type === "Integer" && typeof value.integer === "number" ? value.integer : undefined;
}

/** The audit a constraint's feedback carries; undefined until `status.totalViolations` is set. */
export function gatekeeperAudit(values: readonly FeedbackValue[] | undefined): GatekeeperAudit | undefined {
  const { totalViolations, violationLimit, violationFields, violation } = BosunGatekeeperFeedback;
  const total = integerValue(values, totalViolations.name);
  if (total === undefined) return undefined;
  const violations: GatekeeperViolation[] = [];
  for (let index = 0; index < violationLimit; index++) {
    const entry: GatekeeperViolation = {};
    for (const field of violationFields) {
      const value = stringValue(values, violation(index, field).name);
      if (value !== undefined) entry[field] = value;
    }
    if (Object.keys(entry).length === 0) break;
    violations.push(entry);
  }
  return { totalViolations: total, violations };
}

/**
 * A constraint's compliance message as OCM's gatekeeper sync words it: Compliant when the audit
 * lists no violation, else NonCompliant with each violation, `<action> - <message> (on <kind>
 * <namespace/name>)`, joined by "; ".
 */
export function gatekeeperMessage(audit: GatekeeperAudit): string {
  if (audit.violations.length === 0)
    return `${ComplianceStates.compliant}; ${GatekeeperMessages.noViolations}`;
  const listed = audit.violations.map((violation) =>
    GatekeeperMessages.violation(
      violation.enforcementAction ?? "",
      violation.message ?? "",
      violation.kind ?? "",
      violation.namespace !== undefined
        ? `${violation.namespace}/${violation.name ?? ""}`
        : (violation.name ?? ""),
    ),
  );
  return `${ComplianceStates.nonCompliant}; ${listed.join(GatekeeperMessages.separator)}`;
}

function hasStatus(feedback: TemplateFeedback): boolean {
  return (
    feedback.audit !== undefined ||
    feedback.applied !== undefined ||
    feedback.compliant !== undefined ||
    feedback.message !== undefined ||
    feedback.lastTimestamp !== undefined
  );
}

/**
 * Per delivered template (every manifest in the works' specs), by `<Kind>/<name>`, what the
 * works' status says: the Applied condition of its manifest and its feedback values. Status
 * entries are read only for manifests the work still carries (a template moved to another part
 * is read from the part that carries it now), an Applied condition of an older generation is
 * not known yet, nor is one of a part still waiting for the parts before it. Deleted works
 * are ignored.
 */
export function templateFeedback(works: readonly ManifestWork[]): Map<string, TemplateFeedback> {
  const result = new Map<string, TemplateFeedback>();
  for (const work of sortParts(works.filter((w) => !w.metadata.deletionTimestamp))) {
    const generation = work.metadata.generation ?? 0;
    const workApplied = findCondition(work.status?.conditions, ManifestWorkConditions.applied);
    const waiting =
      workApplied?.status === ConditionStatus.False &&
      workApplied.reason === BosunWorkReasons.earlierPartsNotApplied;
    const carried = new Map<string, TemplateFeedback>();
    for (const manifest of work.spec?.workload?.manifests ?? []) {
      const id = manifestIdentity(manifest);
      const identity = JSON.stringify([id.group, id.kind, id.namespace, id.name]);
      carried.set(identity, { name: id.name, kind: id.kind, group: id.group, applied: undefined });
    }
    for (const entry of work.status?.resourceStatus?.manifests ?? []) {
      const meta = entry.resourceMeta;
      const identity = JSON.stringify([
        meta.group ?? "",
        meta.kind ?? "",
        meta.namespace ?? "",
        meta.name ?? "",
      ]);
      const feedback = carried.get(identity);
      if (!feedback) continue;
      const applied = findCondition(entry.conditions, ManifestWorkConditions.applied);
      const current = applied && (applied.observedGeneration ?? generation) === generation;
      if (applied && current && !waiting) {
        if (applied.status === ConditionStatus.True) feedback.applied = true;
        else if (applied.status === ConditionStatus.False) {
          feedback.applied = false;
          feedback.applyMessage = applied.message ?? "";
        }
      }
      const values = entry.statusFeedback?.values;
      const { compliant, message, lastTimestamp } = BosunPolicyWork.feedback;
      const fields = {
        compliant: stringValue(values, compliant.name),
        message: stringValue(values, message.name),
        lastTimestamp: stringValue(values, lastTimestamp.name),
      };
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) feedback[key as keyof typeof fields] = value;
      }
      if (meta.group === ForeignKinds.GatekeeperConstraintsGroup) {
        const audit = gatekeeperAudit(values);
        if (audit) feedback.audit = audit;
      }
    }
    for (const feedback of carried.values()) {
      const key = templateKey(feedback.kind, feedback.name);
      const existing = result.get(key);
      if (!existing || (!hasStatus(existing) && hasStatus(feedback))) result.set(key, feedback);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Compliance messages

const combinedPrefix = "(combined from similar events):";

/** A template's compliance from the prefix of a compliance message, as OCM's status sync reads it. */
export function complianceFromMessage(message: string): ComplianceState {
  let text = message;
  if (text.startsWith(combinedPrefix)) text = text.slice(combinedPrefix.length);
  text = text.trim().toLowerCase();
  if (text.startsWith("compliant")) return ComplianceStates.compliant;
  if (text.startsWith("pending")) return ComplianceStates.pending;
  return ComplianceStates.nonCompliant;
}

const statePrefix = /^(?:compliant|noncompliant|pending|terminating)\s*;/i;

/**
 * The compliance message of a feedback entry: the agent's message when it starts with a state
 * (the policy agent writes `<State>; …`), else `<compliant>; <message>`; undefined when the
 * state is unknown.
 */
export function feedbackMessage(
  compliant: string | undefined,
  message: string | undefined,
): string | undefined {
  if (message !== undefined && statePrefix.test(message.trim())) return message;
  if (!compliant) return undefined;
  return message ? `${compliant}; ${message}` : compliant;
}

/**
 * The template error of a manifest the agent could not apply: OCM's mapping error when the
 * kind is not served on the cluster (worded for Gatekeeper's kinds as OCM words them), else its
 * create error, with the agent's reason.
 */
export function applyErrorMessage(
  applyMessage: string,
  template: { group?: string; kind?: string } = {},
): string {
  let error = applyMessage;
  if (error.startsWith(ManifestWorkMessages.appliedManifestFailed)) {
    error = error.slice(ManifestWorkMessages.appliedManifestFailed.length);
  }
  const unknownKind =
    /the server doesn't have a resource type|no matches for kind|could not find the requested resource/i;
  const mapping =
    template.group === ForeignKinds.GatekeeperConstraintsGroup
      ? PolicyTemplateSyncMessages.constraintMappingNotFound
      : template.group === ForeignKinds.ConstraintTemplate.group &&
          template.kind === ForeignKinds.ConstraintTemplate.kind
        ? PolicyTemplateSyncMessages.gatekeeperMappingNotFound
        : PolicyTemplateSyncMessages.mappingNotFound;
  const reason = unknownKind.test(error)
    ? mapping + error
    : ConfigurationPolicyMessages.failedToCreateTemplate + error;
  return ConfigurationPolicyMessages.templateErrorPrefix + reason;
}

// ---------------------------------------------------------------------------------------------
// History

const nanosPerMs = 1_000_000n;

function nanosOfMs(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}

function msOfNanos(nanos: bigint): number {
  return Number(nanos / nanosPerMs);
}

/** When an entry happened, to the nanosecond where its event name says (`<name>.<hex nanos>`). */
function entryNanos(entry: ComplianceHistory): bigint {
  const suffix = entry.eventName?.slice(entry.eventName.lastIndexOf(".") + 1) ?? "";
  if (/^[0-9a-f]{1,16}$/.test(suffix)) return BigInt(`0x${suffix}`);
  const ms = entry.lastTimestamp ? parseMicroTime(entry.lastTimestamp) : undefined;
  return ms === undefined ? 0n : nanosOfMs(ms);
}

/** `<replica name>.<hex unix nanos>`, as OCM names compliance events. */
export function complianceEventName(replicaName: string, nanos: bigint): string {
  return `${replicaName}.${nanos.toString(16)}`;
}

interface Candidate {
  compliant: ComplianceState;
  message: string;
  /** The agent's time of the message; undefined when it has none (the hub's own verdicts). */
  nanos?: bigint;
}

/** What the template's status says now, if anything. */
function candidateOf(
  problem: TemplateProblem | undefined,
  feedback: TemplateFeedback | undefined,
): Candidate | undefined {
  if (problem) {
    return { compliant: problem.compliant, message: `${problem.compliant}; ${problem.message}` };
  }
  if (!feedback) return undefined;
  if (feedback.applied === false) {
    return {
      compliant: ComplianceStates.nonCompliant,
      message: `${ComplianceStates.nonCompliant}; ${applyErrorMessage(feedback.applyMessage ?? "", feedback)}`,
    };
  }
  if (
    feedback.applied === true &&
    feedback.group === ForeignKinds.ConstraintTemplate.group &&
    feedback.kind === ForeignKinds.ConstraintTemplate.kind
  ) {
    return {
      compliant: ComplianceStates.compliant,
      message: `${ComplianceStates.compliant}; ${GatekeeperMessages.templateCreated(feedback.name)}`,
    };
  }
  if (feedback.audit) {
    const message = gatekeeperMessage(feedback.audit);
    return { compliant: complianceFromMessage(message), message };
  }
  const message = feedbackMessage(feedback.compliant, feedback.message);
  if (message === undefined) return undefined;
  const ms = feedback.lastTimestamp ? parseMicroTime(feedback.lastTimestamp) : undefined;
  return {
    compliant: complianceFromMessage(message),
    message,
    ...(ms !== undefined ? { nanos: nanosOfMs(ms) } : {}),
  };
}

/**
 * Whether the candidate is news to the history: not when the newest entry already says it, nor
 * when this very report is recorded (an entry with its message, stamped at its time or later:
 * later when it was stamped after a newer entry). The same message reported again later, even
 * within the same second, is news: Compliant, NonCompliant and Compliant again in one second
 * must end Compliant.
 */
function isNew(candidate: Candidate, history: readonly ComplianceHistory[]): boolean {
  if (history[0]?.message === candidate.message) return false;
  const at = candidate.nanos;
  if (at === undefined) return true;
  return !history.some((entry) => entry.message === candidate.message && entryNanos(entry) >= at);
}

function sortHistory(history: ComplianceHistory[]): ComplianceHistory[] {
  const sorted = history
    .map((entry, position) => ({ entry, position, nanos: entryNanos(entry) }))
    .sort((a, b) => (a.nanos === b.nanos ? a.position - b.position : a.nanos > b.nanos ? -1 : 1))
    .map(({ entry }) => entry);
  // As OCM: drop an entry repeating the one before it (same event, same message).
  return sorted.filter(
    (entry, i) =>
      i === 0 || entry.eventName !== sorted[i - 1]!.eventName || entry.message !== sorted[i - 1]!.message,
  );
}

export interface AddedHistory {
  template: string;
  compliant: ComplianceState;
  message: string;
  /** RFC 3339 seconds, as in the history. */
  timestamp: string;
  eventName: string;
}

export interface ReplicaStatusResult {
  status: PolicyStatus;
  /** History entries added by this computation, oldest first, for events and metrics. */
  added: AddedHistory[];
}

function templateIdentity(replica: Policy, index: number): { name: string; kind: string } {
  const definition: Record<string, unknown> | undefined =
    replica.spec["policy-templates"][index]?.objectDefinition;
  const kind = typeof definition?.kind === "string" ? definition.kind : "";
  const metadata = definition?.metadata as Record<string, unknown> | undefined;
  const name =
    typeof metadata?.name === "string" && metadata.name !== "" ? metadata.name : unnamedTemplate(index);
  return { name, kind };
}

/**
 * The policy compliance from its templates' (§4.1 step 4): NonCompliant if any is, else Pending
 * if any is, else Compliant if all are; while some template has no status yet, the previous
 * value stays.
 */
export function policyCompliance(
  details: readonly DetailsPerTemplate[],
  previous: ComplianceState | undefined,
): ComplianceState | undefined {
  if (details.some((detail) => detail.compliant === ComplianceStates.nonCompliant)) {
    return ComplianceStates.nonCompliant;
  }
  if (details.some((detail) => detail.compliant === ComplianceStates.pending))
    return ComplianceStates.pending;
  if (details.every((detail) => detail.compliant === ComplianceStates.compliant))
    return ComplianceStates.compliant;
  return previous;
}

/**
 * The replicated Policy's status: one detail per template in template order, each with the
 * previous history (found by template name) plus what the template's status says now when that
 * is news: the hub's problem with it, else the agent's failure to apply it (NonCompliant
 * `template-error; …`), else its feedback (the newest history entry of the template on the
 * cluster). Entries are sorted newest first and kept to PolicyTemplates.maxHistory, stamped to
 * the second and named `<replica name>.<hex unix nanos>`. The hub's own verdicts are stamped
 * `now`, the agent's with their own time; a new entry that would sort below the newest one
 * recorded (the hub's and the agent's clocks differ) is stamped just after it instead, as it
 * is what the template reports now.
 */
export function replicaStatus(
  replica: Policy,
  feedback: ReadonlyMap<string, TemplateFeedback>,
  problems: readonly TemplateProblem[],
  now: Date,
): ReplicaStatusResult {
  const replicaName = replica.metadata.name ?? "";
  const previousDetails = replica.status?.details ?? [];
  const nowNanos = nanosOfMs(now.getTime());
  const added: (AddedHistory & { nanos: bigint })[] = [];
  const details: DetailsPerTemplate[] = (replica.spec["policy-templates"] ?? []).map((_, index) => {
    const { name, kind } = templateIdentity(replica, index);
    const previous = previousDetails.find((detail) => detail.templateMeta?.name === name);
    let history = sortHistory([...(previous?.history ?? [])]);
    const candidate = candidateOf(
      problems.find((problem) => problem.index === index),
      feedback.get(templateKey(kind, name)),
    );
    if (candidate && isNew(candidate, history)) {
      let nanos = candidate.nanos ?? nowNanos;
      const newest = history[0] ? entryNanos(history[0]) : undefined;
      if (newest !== undefined && nanos <= newest) nanos = newest + 1000n;
      const entry: ComplianceHistory = {
        lastTimestamp: formatTime(msOfNanos(nanos)),
        message: candidate.message,
        eventName: complianceEventName(replicaName, nanos),
      };
      history = sortHistory([entry, ...history]);
      added.push({
        template: name,
        compliant: candidate.compliant,
        message: candidate.message,
        timestamp: entry.lastTimestamp!,
        eventName: entry.eventName!,
        nanos,
      });
    }
    history = history.slice(0, PolicyTemplates.maxHistory);
    const detail: DetailsPerTemplate = { templateMeta: { name } };
    if (history.length > 0) {
      detail.compliant = complianceFromMessage(history[0]!.message ?? "");
      detail.history = history;
    }
    return detail;
  });
  added.sort((a, b) => (a.nanos === b.nanos ? 0 : a.nanos < b.nanos ? -1 : 1));
  const compliant = policyCompliance(details, replica.status?.compliant);
  const status: PolicyStatus = { ...(compliant ? { compliant } : {}), details };
  return { status, added: added.map(({ nanos: _, ...entry }) => entry) };
}

/**
 * Whether a replica's new status would only name its templates: nothing has reported yet and the
 * replica has no status. Such a write is skipped: an OCM replica carries no status until its
 * cluster reports, and at creation it would cost one write per cluster for nothing.
 */
export function nothingToReport(previous: PolicyStatus | undefined, next: PolicyStatus): boolean {
  const reported = (status: PolicyStatus | undefined) =>
    status?.compliant !== undefined || (status?.details ?? []).some((detail) => detail.history?.length);
  return (previous?.details ?? []).length === 0 && !reported(previous) && !reported(next);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => [key, canonical(record[key])]),
    );
  }
  return value;
}

/** Whether two replica statuses differ (compliance or details; key order does not matter). */
export function replicaStatusDiffers(a: PolicyStatus | undefined, b: PolicyStatus | undefined): boolean {
  const view = (status: PolicyStatus | undefined) =>
    JSON.stringify(canonical({ compliant: status?.compliant, details: status?.details ?? [] }));
  return view(a) !== view(b);
}
