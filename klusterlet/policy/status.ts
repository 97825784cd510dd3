// The status a ConfigurationPolicy gets from an evaluation, as config-policy-controller
// writes it: compliance, compliancyDetails, relatedObjects, lastEvaluated(Generation) and the
// history of compliance messages (newest first, at most 10), plus which messages are new and
// so are sent as events. A condition keeps its lastTransitionTime while it stays the same.
import { ComplianceStates, PolicyEvents } from "../../api/constants.ts";
import type {
  ConfigurationPolicyCondition,
  ConfigurationPolicyStatus,
  HistoryEvent,
  TemplateStatus,
} from "../../api/types/policy.ts";
import type { PolicyEvaluation } from "../../policies/evaluate.ts";
import { statusPatch } from "../../runtime/status.ts";
import { formatMicroTime, formatTime } from "../../runtime/time.ts";

export const maxHistory = 10;

export interface StatusInput {
  previous: ConfigurationPolicyStatus | undefined;
  evaluation: PolicyEvaluation;
  generation: number | undefined;
  nowMs: number;
  /**
   * Refresh lastEvaluated even when nothing else changed: an interval policy schedules its next
   * evaluation from it. A watch policy's lastEvaluated moves only with a change, so that an
   * evaluation that finds everything as it was writes nothing.
   */
  refreshLastEvaluated: boolean;
}

export interface StatusResult {
  status: ConfigurationPolicyStatus;
  /** Compliance messages new to the history, oldest first: each is sent as an event. */
  sent: HistoryEvent[];
  /** Whether `status` differs from the previous status. */
  changed: boolean;
}

function sameCondition(
  a: ConfigurationPolicyCondition | undefined,
  b: ConfigurationPolicyCondition,
): boolean {
  return (
    a !== undefined &&
    a.type === b.type &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message
  );
}

/** The evaluation's details, each condition keeping the previous lastTransitionTime when unchanged. */
function details(previous: TemplateStatus[] | undefined, current: TemplateStatus[]): TemplateStatus[] {
  return current.map((detail, index) => {
    const before = previous?.[index]?.conditions?.[0];
    return {
      ...detail,
      conditions: (detail.conditions ?? []).map((condition) =>
        sameCondition(before, condition) && before?.lastTransitionTime
          ? { ...condition, lastTransitionTime: before.lastTransitionTime }
          : condition,
      ),
    };
  });
}

/** The history after an evaluation that sent `messages` (oldest first). */
function nextHistory(
  history: HistoryEvent[] | undefined,
  messages: string[],
  nowMs: number,
): { history: HistoryEvent[]; sent: HistoryEvent[] } {
  let result = [...(history ?? [])];
  const sent: HistoryEvent[] = [];
  messages.forEach((message, index) => {
    if (result[0]?.message === message) return;
    // Messages of one evaluation a microsecond apart, so that their order is their time order.
    const entry = { lastTimestamp: formatMicroTime(nowMs + index / 1000), message };
    sent.push(entry);
    result = [entry, ...result].slice(0, maxHistory);
  });
  return { history: result, sent };
}

export function nextStatus(input: StatusInput): StatusResult {
  const { previous, evaluation, nowMs } = input;
  const { history, sent } = nextHistory(previous?.history, evaluation.messages, nowMs);
  const content: ConfigurationPolicyStatus = {
    ...(evaluation.compliant ? { compliant: evaluation.compliant } : {}),
    compliancyDetails: details(previous?.compliancyDetails, evaluation.compliancyDetails),
    relatedObjects: evaluation.relatedObjects,
    ...(input.generation !== undefined ? { lastEvaluatedGeneration: input.generation } : {}),
    history,
  };
  const { lastEvaluated: previousLastEvaluated, ...previousContent } = previous ?? {};
  const contentChanged = statusPatch(comparable(previousContent), comparable(content)) !== undefined;
  const lastEvaluated =
    contentChanged || input.refreshLastEvaluated || !previousLastEvaluated
      ? formatTime(nowMs)
      : previousLastEvaluated;
  const status = { ...content, lastEvaluated };
  return { status, sent, changed: contentChanged || lastEvaluated !== previousLastEvaluated };
}

/** The fields an evaluation sets, for comparison (a status holds nothing else). */
function comparable(status: ConfigurationPolicyStatus): ConfigurationPolicyStatus {
  const { compliant, compliancyDetails, relatedObjects, lastEvaluatedGeneration, history } = status;
  return JSON.parse(
    JSON.stringify({ compliant, compliancyDetails, relatedObjects, lastEvaluatedGeneration, history }),
  ) as ConfigurationPolicyStatus;
}

/** The event type of a compliance message: Normal when Compliant, Warning otherwise. */
export function eventType(message: string): "Normal" | "Warning" {
  return message.startsWith(`${ComplianceStates.compliant};`) ? "Normal" : "Warning";
}

/** The reason of a compliance event about a ConfigurationPolicy: `policy: <namespace>/<name>`. */
export function eventReason(namespace: string | undefined, name: string): string {
  return `${PolicyEvents.complianceReasonPrefix}${namespace ? `${namespace}/` : ""}${name}`;
}
