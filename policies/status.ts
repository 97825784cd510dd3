// How OCM words a ConfigurationPolicy's compliance: per object template, the events of its
// objects are grouped by reason (in a fixed order) and by namespace into one condition; the
// compliance message joins every template's condition.
import { ConfigurationPolicyReasons, RelatedObjectReasons } from "../api/constants.ts";

export interface EvalEvent {
  compliant: boolean;
  reason: string;
  message: string;
}

export interface EvalResult {
  objectNames: string[];
  namespace: string;
  events: EvalEvent[];
}

/** The events of one batch, keyed by `namespace/name` (or another key for errors). */
export type EventBatch = Map<string, { result: EvalResult; event: EvalEvent }>;

const orderedReasons = [
  RelatedObjectReasons.foundAsExpected,
  RelatedObjectReasons.creationSuccess,
  RelatedObjectReasons.updateSuccess,
  RelatedObjectReasons.deletionSuccess,
  RelatedObjectReasons.notFoundShouldExist,
  RelatedObjectReasons.foundNotMatching,
  RelatedObjectReasons.notFoundAsExpected,
  RelatedObjectReasons.foundShouldNotExist,
] as const;

const reasonWording: Record<(typeof orderedReasons)[number], [conditionReason: string, phrase: string]> = {
  [RelatedObjectReasons.foundAsExpected]: [ConfigurationPolicyReasons.mustHaveExists, "found as specified"],
  [RelatedObjectReasons.creationSuccess]: [
    ConfigurationPolicyReasons.creationSuccess,
    "was created successfully",
  ],
  [RelatedObjectReasons.updateSuccess]: [
    ConfigurationPolicyReasons.updateSuccess,
    "was updated successfully",
  ],
  [RelatedObjectReasons.deletionSuccess]: [
    ConfigurationPolicyReasons.deletionSuccess,
    "was deleted successfully",
  ],
  [RelatedObjectReasons.notFoundShouldExist]: [ConfigurationPolicyReasons.mustHaveMissing, "not found"],
  [RelatedObjectReasons.foundNotMatching]: [
    ConfigurationPolicyReasons.mustHaveMissing,
    "found but not as specified",
  ],
  [RelatedObjectReasons.notFoundAsExpected]: [
    ConfigurationPolicyReasons.mustNotHaveMissing,
    "missing as expected",
  ],
  [RelatedObjectReasons.foundShouldNotExist]: [ConfigurationPolicyReasons.mustNotHaveExists, "found"],
};

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits batches of events: the n-th batch holds every object's n-th-from-last event. */
export function batchEvents(results: Map<string, EvalResult>): EventBatch[] {
  let depth = 0;
  for (const result of results.values()) depth = Math.max(depth, result.events.length);
  const batches: EventBatch[] = Array.from({ length: depth }, (): EventBatch => new Map());
  for (const key of [...results.keys()].sort(compareStrings)) {
    const result = results.get(key)!;
    result.events.forEach((event, i) => {
      batches[depth - result.events.length + i]!.set(key, { result, event });
    });
  }
  return batches.filter((batch) => batch.size > 0);
}

/** The template's compliance, condition reason and message for one batch of events. */
export function createStatus(
  resourceName: string,
  batch: EventBatch,
): { compliant: boolean; reason: string; message: string } {
  let compliant = true;
  for (const { event } of batch.values()) if (!event.compliant) compliant = false;
  // reason → namespace → entries
  const byReason = new Map<string, Map<string, { key: string; result: EvalResult; event: EvalEvent }[]>>();
  for (const key of [...batch.keys()].sort(compareStrings)) {
    const { result, event } = batch.get(key)!;
    if (event.compliant !== compliant) continue;
    const slash = key.indexOf("/");
    const namespace = slash < 0 ? key : key.slice(0, slash);
    let byNamespace = byReason.get(event.reason);
    if (!byNamespace) {
      byNamespace = new Map<string, { key: string; result: EvalResult; event: EvalEvent }[]>();
      byReason.set(event.reason, byNamespace);
    }
    let entries = byNamespace.get(namespace);
    if (!entries) byNamespace.set(namespace, (entries = []));
    entries.push({ key, result, event });
  }
  const others = [...byReason.keys()].filter(
    (reason) => !(orderedReasons as readonly string[]).includes(reason),
  );
  const reasons = [...orderedReasons, ...others.sort(compareStrings)];
  const conditionReasons: string[] = [];
  const messages: string[] = [];
  for (const reason of reasons) {
    const byNamespace = byReason.get(reason);
    if (!byNamespace) continue;
    const wording = reasonWording[reason as (typeof orderedReasons)[number]] as [string, string] | undefined;
    if (!wording) {
      // Errors and other reasons are reported with their own messages.
      conditionReasons.push(reason);
      for (const namespace of [...byNamespace.keys()].sort(compareStrings)) {
        for (const entry of byNamespace.get(namespace)!) messages.push(entry.event.message);
      }
      continue;
    }
    conditionReasons.push(wording[0]);
    const namespacesByNames = new Map<string, string[]>();
    for (const namespace of [...byNamespace.keys()].sort(compareStrings)) {
      const names = new Set<string>();
      for (const entry of byNamespace.get(namespace)!)
        for (const name of entry.result.objectNames) names.add(name);
      const namesText = names.size > 0 ? ` [${[...names].sort(compareStrings).join(", ")}]` : "";
      const list = namespacesByNames.get(namesText);
      if (list) list.push(namespace);
      else namespacesByNames.set(namesText, [namespace]);
    }
    for (const namesText of [...namespacesByNames.keys()].sort(compareStrings)) {
      const namespaces = namespacesByNames.get(namesText)!;
      let message = `${resourceName}${namesText} ${wording[1]}`;
      if (namespaces.length > 0 && namespaces[0] !== "") {
        message +=
          namespaces.length > 1
            ? ` in namespaces: ${namespaces.join(", ")}`
            : ` in namespace ${namespaces[0]}`;
      }
      messages.push(message);
    }
  }
  return { compliant, reason: conditionReasons.join("; "), message: messages.join("; ") };
}

/** `[name] in namespace ns`, the identifier OCM puts in create/delete messages. */
export function identifierString(names: string[], namespace: string): string {
  let text = names.length > 0 ? `[${[...names].sort(compareStrings).join(", ")}]` : "";
  if (namespace !== "") text += `${text ? " " : ""}in namespace ${namespace}`;
  return text;
}
