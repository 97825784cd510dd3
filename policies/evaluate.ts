// Evaluation of one ConfigurationPolicy against a cluster, as config-policy-controller does
// it: which objects each object template means, how each compares, what enforce mode
// changes, and the status (compliancyDetails, relatedObjects) and compliance message OCM
// would write. Pure: the cluster is read, and written, through a ClusterReader. A reader
// without a write hook makes the evaluation a dry run: enforce-mode policies are reported as
// the cluster is, with the changes enforcement would make listed; only a reader that really
// writes gets OCM's post-enforcement messages, built from what the API server answered.
import {
  ComplianceStates,
  ConfigurationPolicyConditionTypes,
  ConfigurationPolicyMessages,
  ConfigurationPolicyReasons,
  PolicyAnnotations,
  RelatedObjectReasons,
} from "../api/constants.ts";
import type { ObjectProperties, RelatedObject, TemplateStatus } from "../api/types/policy.ts";
import {
  type ClusterObject,
  type ClusterReader,
  labelsOf,
  metadataOf,
  nameOf,
  namespaceOf,
  ReadPending,
  type WriteOutcome,
  type WriteRequest,
} from "./cluster.ts";
import {
  complianceKind,
  type ComplianceKind,
  handleKeys,
  matchesTemplate,
  removeFieldsForComparison,
} from "./compare.ts";
import { objectDiff, redactedDiffNote } from "./diff.ts";
import { clone, isObject, type Json, type JsonObject } from "./gofmt.ts";
import { executeTemplate, StructValue, type Value } from "./gotemplate-exec.ts";
import { parseTemplate, TemplateParseError } from "./gotemplate-parse.ts";
import { groupVersion, type KindMapping } from "./kinds.ts";
import { compileLabelSelector, labelSelectorString, SelectorError } from "./labels.ts";
import { NamespaceSelectionError, namespaceSelectorIsEmpty, selectNamespaces } from "./namespaces.ts";
import { batchEvents, createStatus, type EvalEvent, type EvalResult, identifierString } from "./status.ts";
import { goJson, templateFunctions } from "./template-funcs.ts";
import { hasTemplate, hubTemplateStart, resolveTemplate, TemplateResolutionError } from "./templates.ts";
import { parseYamlV3 } from "./yaml.ts";

export type ComplianceState = "Compliant" | "NonCompliant" | "Terminating";

/**
 * One thing enforce mode does to the cluster: in a dry run what it would do, with a writing
 * reader what it did (or tried to: `error` holds the API server's refusal).
 */
export interface Change {
  action: "create" | "update" | "delete";
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The object a create or update would send (the merged object for updates). */
  object?: JsonObject;
  /** The update is a delete followed by a create (recreateOption). */
  recreate?: boolean;
  /** Why a delete happens: the object template says mustnothave, or pruning. */
  reason?: "mustnothave" | "prune";
  /** The API server refused the write, with this message. */
  error?: string;
}

export interface PolicyEvaluation {
  name: string;
  namespace?: string;
  /** Undefined while the compliance is unknown (no compliancy details). */
  compliant: ComplianceState | undefined;
  /** The compliance message a managed cluster sends for the final state. */
  message: string;
  compliancyDetails: TemplateStatus[];
  relatedObjects: RelatedObject[];
  changes: Change[];
  /** Every compliance message in the order a managed cluster would send them. */
  messages: string[];
  /**
   * Related objects that pruning, with a writing reader, could not delete or that finalizers
   * still hold, as OCM names them; absent when there are none.
   */
  pruneFailures?: string[];
}

export interface EvaluationOptions {
  /** lastTransitionTime of the conditions (RFC 3339); defaults to the epoch. */
  now?: string;
}

type RecordDiff = "InStatus" | "Log" | "None" | "Censored";

interface ObjectTemplate {
  index: number;
  complianceType: ComplianceKind;
  metadataComplianceType: ComplianceKind | undefined;
  objectDefinition: Json;
  objectSelector: unknown;
  recordDiff: RecordDiff | undefined;
  recreateOption: string;
}

interface Context {
  name: string;
  policy: JsonObject;
  spec: JsonObject;
  reader: ClusterReader;
  enforce: boolean;
  /** The reader's write hook; absent in a dry run. */
  writer: ((request: WriteRequest) => WriteOutcome) | undefined;
  changes: Change[];
  templatesEnabled: boolean;
  /** status.relatedObjects before this evaluation. */
  previousRelated: RelatedObject[];
}

/** One compliancyDetails condition; like OCM's JSON, empty reasons and messages are left out. */
const condition = (compliant: boolean, reason: string, message: string, now: string) => ({
  type: compliant
    ? ConfigurationPolicyConditionTypes.notification
    : ConfigurationPolicyConditionTypes.violation,
  status: "True",
  lastTransitionTime: now,
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});

function parseGoBool(text: unknown): boolean | undefined {
  if (typeof text !== "string") return undefined;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

function isEnforce(action: unknown): boolean {
  return typeof action === "string" && action.toLowerCase() === "enforce";
}

function recordDiffDefault(definition: Json): RecordDiff {
  if (!isObject(definition)) return "InStatus";
  const apiVersion = typeof definition.apiVersion === "string" ? definition.apiVersion : "";
  const kind = definition.kind;
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  if (group === "" && (kind === "ConfigMap" || kind === "Secret")) return "Censored";
  if (group === "oauth.openshift.io" && (kind === "OAuthAccessToken" || kind === "OAuthAuthorizeTokens"))
    return "Censored";
  if (group === "route.openshift.io" && kind === "Route") return "Censored";
  return "InStatus";
}

function readObjectTemplates(list: unknown): ObjectTemplate[] {
  if (!Array.isArray(list)) return [];
  return list.map((item, index) => {
    const template = isObject(item as Json) ? (item as JsonObject) : {};
    const recordDiff = template.recordDiff;
    return {
      index,
      complianceType: complianceKind(template.complianceType) ?? "musthave",
      metadataComplianceType: complianceKind(template.metadataComplianceType),
      objectDefinition: template.objectDefinition ?? null,
      objectSelector: template.objectSelector ?? undefined,
      recordDiff:
        recordDiff === "InStatus" || recordDiff === "Log" || recordDiff === "None" ? recordDiff : undefined,
      recreateOption: typeof template.recreateOption === "string" ? template.recreateOption : "None",
    };
  });
}

// Desired objects -----------------------------------------------------------------------------

interface Desired {
  objects: JsonObject[];
  mapping?: KindMapping;
  event?: EvalEvent;
  /** A template or system error: child objects are not pruned. */
  failed: boolean;
  /** Templates read sensitive data: the diff is redacted unless recordDiff is set. */
  sensitive: boolean;
}

const objectVariable = /(\.Object)\W/;
const objectNameVariable = /(\.ObjectName)\W/;
const objectNamespaceVariable = /(\.ObjectNamespace)/;

function templateContext(name: string, namespace: string, existing: ClusterObject | undefined): Value {
  const object: Record<string, Value> = {};
  if (existing) {
    for (const [key, value] of Object.entries(existing)) object[key] = value;
    if (isObject(existing.metadata)) {
      const metadata = { ...existing.metadata };
      delete metadata.managedFields;
      object.metadata = metadata;
    }
  }
  const objectType = "map[string]interface {}";
  if (name !== "" && namespace !== "") {
    return new StructValue(
      { Object: object, ObjectNamespace: namespace, ObjectName: name },
      { Object: objectType, ObjectNamespace: "string", ObjectName: "string" },
    );
  }
  if (name !== "")
    return new StructValue(
      { Object: object, ObjectName: name },
      { Object: objectType, ObjectName: "string" },
    );
  if (namespace !== "") return new StructValue({ ObjectNamespace: namespace }, { ObjectNamespace: "string" });
  return new StructValue({}, {});
}

function decodeError(ctx: Context, index: number, detail: string): EvalEvent {
  return {
    compliant: false,
    reason: ConfigurationPolicyReasons.decodeError,
    message: `Decoding error, please check your policy file! Aborting handling the object template at index [${index}] in policy \`${ctx.name}\` with error = \`${detail}\``,
  };
}

function determineDesiredObjects(ctx: Context, template: ObjectTemplate): Desired {
  const { reader, name: policyName } = ctx;
  const definition = template.objectDefinition;
  const fail = (event: EvalEvent, failed = true, mapping?: KindMapping): Desired => ({
    objects: [],
    mapping,
    event,
    failed,
    sensitive: false,
  });
  const metadata = isObject(definition) ? definition.metadata : undefined;
  if (
    !isObject(definition) ||
    (metadata !== undefined && metadata !== null && !isObject(metadata)) ||
    (isObject(metadata) &&
      ((metadata.name !== undefined && metadata.name !== null && typeof metadata.name !== "string") ||
        (metadata.namespace !== undefined &&
          metadata.namespace !== null &&
          typeof metadata.namespace !== "string"))) ||
    (definition.apiVersion !== undefined &&
      definition.apiVersion !== null &&
      typeof definition.apiVersion !== "string") ||
    (definition.kind !== undefined && definition.kind !== null && typeof definition.kind !== "string")
  ) {
    return fail({
      compliant: false,
      reason: ConfigurationPolicyReasons.decodeError,
      message: ConfigurationPolicyMessages.namespaceParseError,
    });
  }
  const apiVersion = typeof definition.apiVersion === "string" ? definition.apiVersion : "";
  const kind = typeof definition.kind === "string" ? definition.kind : "";
  const slash = apiVersion.indexOf("/");
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  if (kind === "" || version === "") {
    return fail(
      {
        compliant: false,
        reason: ConfigurationPolicyReasons.decodeError,
        message: `${ConfigurationPolicyMessages.kindAndApiVersionRequired} ${template.index} in policy ${policyName}`,
      },
      false,
    );
  }
  const mapping = reader.resolveKind(apiVersion, kind);
  if (!mapping) {
    return fail({
      compliant: false,
      reason: ConfigurationPolicyReasons.k8sError,
      message: `couldn't find mapping resource with kind ${kind} in API version ${groupVersion(group, version)}, please check if you have CRD deployed`,
    });
  }
  const rawMetadata = isObject(metadata) ? metadata : {};
  const rawNamespace = typeof rawMetadata.namespace === "string" ? rawMetadata.namespace : "";
  const rawName = typeof rawMetadata.name === "string" ? rawMetadata.name : "";
  let desiredNamespace = rawNamespace;
  let hasTemplatedNamespace = false;
  if (hasTemplate(desiredNamespace)) {
    desiredNamespace = "";
    hasTemplatedNamespace = true;
  }
  let desiredName = rawName;
  if (hasTemplate(desiredName)) desiredName = "";
  const objectSelector = template.objectSelector;
  const defaultNames = (): Map<string, ClusterObject | undefined> =>
    desiredName !== "" || objectSelector === undefined
      ? new Map([[desiredName, undefined]])
      : new Map<string, ClusterObject | undefined>();

  const rawJson = goJson(definition);
  const needsObject = objectVariable.test(rawJson);
  const relevant = new Map<string, Map<string, ClusterObject | undefined>>();
  const selector = ctx.spec.namespaceSelector;

  if (mapping.namespaced && desiredNamespace === "") {
    let selected: string[];
    try {
      selected = selectNamespaces(selector, reader.namespaces());
    } catch (error) {
      if (!(error instanceof NamespaceSelectionError)) throw error;
      return fail(
        {
          compliant: false,
          reason: ConfigurationPolicyReasons.namespaceSelectorError,
          message: `Error filtering namespaces with provided namespaceSelector: ${error.message}`,
        },
        true,
        mapping,
      );
    }
    const fetchObject = needsObject && desiredName !== "" && rawNamespace === "";
    for (const namespace of selected) {
      const existing = fetchObject ? reader.get(mapping, namespace, desiredName) : undefined;
      relevant.set(namespace, existing ? new Map([[desiredName, existing]]) : defaultNames());
    }
    if (relevant.size === 0 && hasTemplatedNamespace) relevant.set("", defaultNames());
  } else if (mapping.namespaced) {
    relevant.set(desiredNamespace, defaultNames());
  } else {
    relevant.set("", defaultNames());
  }

  if (relevant.size === 0) {
    const space = desiredName !== "" ? " " : "";
    return fail(
      {
        compliant: false,
        reason: ConfigurationPolicyReasons.missingNamespace,
        message: `namespaced object${space}${desiredName} of kind ${kind} has no namespace specified from the policy namespaceSelector nor the object metadata`,
      },
      false,
      mapping,
    );
  }

  if (needsObject && desiredName !== "" && (!mapping.namespaced || desiredNamespace !== "")) {
    const existing = reader.get(mapping, mapping.namespaced ? desiredNamespace : "", desiredName);
    if (existing) relevant.set(desiredNamespace, new Map([[desiredName, existing]]));
  } else if (desiredName === "" && objectSelector !== undefined) {
    let matcher;
    try {
      matcher = compileLabelSelector(objectSelector);
    } catch (error) {
      if (!(error instanceof SelectorError)) throw error;
      return fail(
        {
          compliant: false,
          reason: ConfigurationPolicyReasons.objectSelectorError,
          message: `Error parsing provided objectSelector in the object-template at index [${template.index}]: ${error.message}`,
        },
        true,
        mapping,
      );
    }
    const selectorText = labelSelectorString(objectSelector as never);
    for (const [namespace, names] of relevant) {
      const items = reader.list(mapping, mapping.namespaced ? namespace : "", selectorText || undefined);
      for (const item of items) {
        if (!matcher(labelsOf(item))) continue;
        names.set(nameOf(item), needsObject ? item : undefined);
      }
    }
  }

  const templated = ctx.templatesEnabled && hasTemplate(rawJson);
  const perName = templated && objectNameVariable.test(rawJson);
  const perNamespace = templated && objectNamespaceVariable.test(rawJson);
  let desiredObject: JsonObject | undefined;
  let skipCalled = false;
  let sensitive = false;
  const desired: JsonObject[] = [];
  const selectorIsEmpty = namespaceSelectorIsEmpty(selector);

  for (const namespace of [...relevant.keys()].sort()) {
    const names = relevant.get(namespace)!;
    if (perNamespace) desiredObject = undefined;
    for (const name of [...names.keys()].sort()) {
      const existing = names.get(name);
      if (perName || needsObject) desiredObject = undefined;
      let resolved: Json;
      if (templated && desiredObject === undefined) {
        let skip = false;
        const custom = {
          skipObject: {
            params: [],
            variadic: "any" as const,
            call: (...args: Value[]) => {
              if (args.length === 0) skip = true;
              else if (args.length === 1) {
                if (!skip) {
                  if (typeof args[0] === "boolean") skip = args[0];
                  else {
                    const shown =
                      args[0] === null
                        ? "<nil>"
                        : typeof args[0] === "string"
                          ? args[0]
                          : JSON.stringify(args[0]);
                    throw new Error(`expected boolean but received '${shown}'`);
                  }
                }
              } else {
                throw new Error(
                  `expected one optional boolean argument but received ${args.length} arguments`,
                );
              }
              return "";
            },
          },
        };
        try {
          resolved = resolveTemplate({
            definition,
            context: templateContext(name, namespace, existing),
            environment: { reader, onSensitiveData: () => (sensitive = true) },
            custom,
          });
        } catch (error) {
          if (skip) {
            skipCalled = true;
            continue;
          }
          if (error instanceof TemplateResolutionError) {
            return fail(
              { compliant: false, reason: ConfigurationPolicyReasons.templateError, message: error.message },
              true,
              mapping,
            );
          }
          throw error;
        }
        if (skip) {
          skipCalled = true;
          continue;
        }
      } else if (desiredObject === undefined) {
        resolved = clone(definition);
      } else {
        const copy = clone(desiredObject);
        setMetadata(copy, "name", name.trim());
        setMetadata(copy, "namespace", namespace.trim());
        desired.push(copy);
        continue;
      }
      if (!isObject(resolved)) {
        return fail(
          decodeError(
            ctx,
            template.index,
            `json: cannot unmarshal ${jsonKind(resolved)} into Go value of type map[string]interface {}`,
          ),
          true,
          mapping,
        );
      }
      if (typeof resolved.kind !== "string" || resolved.kind === "") {
        return fail(
          decodeError(ctx, template.index, `Object 'Kind' is missing in '${goJson(resolved)}'`),
          true,
          mapping,
        );
      }
      desiredObject = resolved;
      if (nameOf(desiredObject) === "" && name !== "") setMetadata(desiredObject, "name", name.trim());
      if (namespaceOf(desiredObject) === "" && namespace !== "")
        setMetadata(desiredObject, "namespace", namespace.trim());
      if (nameOf(desiredObject) !== nameOf(desiredObject).trim())
        setMetadata(desiredObject, "name", nameOf(desiredObject).trim());
      desiredObject.kind = (desiredObject.kind as string).trim();
      if (namespaceOf(desiredObject) !== namespaceOf(desiredObject).trim()) {
        setMetadata(desiredObject, "namespace", namespaceOf(desiredObject).trim());
      }
      if (!selectorIsEmpty && namespaceOf(desiredObject) !== namespace) {
        return fail(
          {
            compliant: false,
            reason: ConfigurationPolicyReasons.templateError,
            message: ConfigurationPolicyMessages.namespaceMustMatchSelector,
          },
          false,
          mapping,
        );
      }
      if (mapping.namespaced && hasTemplatedNamespace && namespaceOf(desiredObject) === "") {
        const space = desiredName !== "" ? " " : "";
        return fail(
          {
            compliant: false,
            reason: ConfigurationPolicyReasons.templateError,
            message: `namespaced object${space}${desiredName} of kind ${kind} has no namespace specified after template resolution`,
          },
          false,
          mapping,
        );
      }
      if (objectSelector !== undefined && nameOf(desiredObject) !== name) {
        return fail(
          {
            compliant: false,
            reason: ConfigurationPolicyReasons.templateError,
            message: ConfigurationPolicyMessages.nameMustMatchSelector,
          },
          false,
          mapping,
        );
      }
      desired.push(desiredObject);
    }
  }

  if (desired.length === 0) {
    let message: string;
    if (skipCalled)
      message = `All objects of kind ${kind} were skipped by the \`skipObject\` template function`;
    else if (objectSelector !== undefined)
      message = `No objects of kind ${kind} were matched from the policy objectSelector`;
    else message = `No objects of kind ${kind} were matched from the objectDefinition metadata`;
    return {
      objects: [],
      mapping,
      event: { compliant: true, reason: "", message },
      failed: false,
      sensitive,
    };
  }

  if (template.complianceType === "mustnothave" && rawName === "" && objectSelector !== undefined) {
    // Only the selected objects that also match the template's other fields are violations.
    // In a namespace where none does, the template stands for no object: an unnamed one,
    // reported missing as expected.
    const targeted: JsonObject[] = [];
    const untargeted = new Map<string, JsonObject>();
    for (const object of desired) {
      const unnamed = clone(object);
      setMetadata(unnamed, "name", "");
      if (matchingNames(ctx, unnamed, mapping, template).matching.includes(nameOf(object))) {
        targeted.push(object);
      } else if (!untargeted.has(namespaceOf(object))) {
        untargeted.set(namespaceOf(object), unnamed);
      }
    }
    for (const [namespace, unnamed] of untargeted) {
      if (!targeted.some((object) => namespaceOf(object) === namespace)) targeted.push(unnamed);
    }
    return { objects: targeted, mapping, failed: false, sensitive };
  }
  return { objects: desired, mapping, failed: false, sensitive };
}

function jsonKind(value: Json): string {
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "array";
  return "null";
}

function setMetadata(object: JsonObject, field: "name" | "namespace", value: string): void {
  const metadata = isObject(object.metadata) ? object.metadata : (object.metadata = {});
  if (value === "") delete metadata[field];
  else metadata[field] = value;
}

function matchingNames(
  ctx: Context,
  desired: JsonObject,
  mapping: KindMapping,
  template: ObjectTemplate,
): { matching: string[]; all: string[] } {
  let matcher: (labels: Record<string, string>) => boolean = () => true;
  let selectorText: string | undefined;
  if (template.objectSelector !== undefined) {
    try {
      matcher = compileLabelSelector(template.objectSelector);
      selectorText = labelSelectorString(template.objectSelector as never) || undefined;
    } catch {
      matcher = () => false;
    }
  }
  const namespace = mapping.namespaced ? namespaceOf(desired) : "";
  const items = ctx.reader.list(mapping, namespace, selectorText).filter((item) => matcher(labelsOf(item)));
  const all = items.map(nameOf);
  const matching = items
    .filter((item) => matchesTemplate(desired, item, template.complianceType))
    .map(nameOf)
    .sort();
  return { matching, all };
}

// Single objects ------------------------------------------------------------------------------

interface Checked {
  throwSpecViolation: boolean;
  message: string;
  diff: string;
  triedUpdate: boolean;
  updated: boolean;
  matchesAfterDryRun: boolean;
  /** The UID of the object a recreate made. */
  recreatedUid?: string;
}

/**
 * How an object that differs from its template is handled: reported (inform), reported with
 * the update enforcement would make listed (a dry run of enforce), or updated (enforce).
 */
type UpdateMode = "inform" | "plan" | "write";

function makeDiff(recordDiff: RecordDiff, existing: JsonObject, merged: JsonObject): string {
  switch (recordDiff) {
    case "None":
    case "Log":
      return "";
    case "Censored":
      return redactedDiffNote;
    case "InStatus":
      return objectDiff(existing, merged);
  }
}

function refOf(mapping: KindMapping, object: JsonObject): Omit<Change, "action"> {
  const namespace = namespaceOf(object);
  return {
    apiVersion: groupVersion(mapping.group, mapping.version),
    kind: typeof object.kind === "string" ? object.kind : mapping.kind,
    ...(mapping.namespaced && namespace ? { namespace } : {}),
    name: nameOf(object),
  };
}

function messagePrefix(mapping: KindMapping, name: string, namespace: string): string {
  return `${mapping.resource} [${name}]${mapping.namespaced ? ` in namespace ${namespace}` : ""}`;
}

function checkAndUpdate(
  ctx: Context,
  mapping: KindMapping,
  desired: JsonObject,
  existing: ClusterObject,
  template: ObjectTemplate,
  mode: UpdateMode,
  recordDiff: RecordDiff,
): Checked {
  const compareWith = clone(existing);
  removeFieldsForComparison(compareWith);
  const updated = clone(existing);
  const keys = handleKeys(
    desired,
    updated,
    compareWith,
    template.complianceType,
    template.metadataComplianceType,
  );
  const none: Checked = {
    throwSpecViolation: false,
    message: "",
    diff: "",
    triedUpdate: false,
    updated: false,
    matchesAfterDryRun: false,
  };
  if (keys.message !== "") {
    return { ...none, throwSpecViolation: true, message: keys.message, triedUpdate: true };
  }
  const mergedForDiff = () => {
    const copy = clone(updated);
    removeFieldsForComparison(copy);
    return copy;
  };
  if (!keys.updateNeeded && !keys.missing) {
    const diff =
      keys.throwSpecViolation && recordDiff !== "None"
        ? makeDiff(recordDiff, compareWith, mergedForDiff())
        : "";
    return { ...none, throwSpecViolation: keys.throwSpecViolation, diff };
  }
  let needsRecreate = false;
  let diff: string;
  const dryRun = ctx.reader.dryRunUpdate?.(mapping, updated);
  const name = nameOf(existing);
  const namespace = namespaceOf(existing);
  if (dryRun === undefined) {
    // No API server to ask: a difference that is only an absent zero value counts as equal,
    // as a server that omits empty fields would answer.
    if (!keys.updateNeeded) {
      const statusDiff =
        keys.throwSpecViolation && recordDiff !== "None"
          ? makeDiff(recordDiff, compareWith, mergedForDiff())
          : "";
      return { ...none, throwSpecViolation: keys.throwSpecViolation, diff: statusDiff };
    }
    diff = makeDiff(recordDiff, compareWith, mergedForDiff());
  } else if ("error" in dryRun) {
    const error = dryRun.error;
    if (error.reason !== "Invalid") {
      let message: string;
      if (error.status === 404)
        message = `\`${typeof existing.kind === "string" ? existing.kind : ""}\` is not present and must be created`;
      else if (error.message.includes("strict decoding error:"))
        message = `Error validating the object ${name}, the error is \`${error.message}\``;
      else
        message = `Error issuing a dry run update request for the object \`${name}\`, the error is \`${error.message}\``;
      return { ...none, throwSpecViolation: true, message, triedUpdate: keys.updateNeeded };
    }
    needsRecreate = true;
    const canRecreate = template.recreateOption === "Always" || template.recreateOption === "IfRequired";
    if (mode !== "write" || !canRecreate) {
      // Only enforcement itself reports that the update cannot be made; a dry run reports the
      // mismatch, and lists the recreate when recreateOption allows one.
      const message =
        mode === "write"
          ? `${messagePrefix(mapping, name, namespace)} ${ConfigurationPolicyMessages.immutableFields}`
          : "";
      if (mode === "plan" && canRecreate) {
        ctx.changes.push({
          action: "update",
          ...refOf(mapping, existing),
          object: clone(desired),
          recreate: true,
        });
      }
      return {
        ...none,
        throwSpecViolation: true,
        message,
        diff: makeDiff(recordDiff, compareWith, mergedForDiff()),
      };
    }
    diff = makeDiff(recordDiff, compareWith, mergedForDiff());
  } else {
    const result = clone(dryRun.object);
    removeFieldsForComparison(result);
    if (goJson(result) === goJson(compareWith)) {
      const statusDiff =
        keys.throwSpecViolation && recordDiff !== "None"
          ? makeDiff(recordDiff, compareWith, mergedForDiff())
          : "";
      return {
        ...none,
        throwSpecViolation: keys.throwSpecViolation,
        diff: statusDiff,
        matchesAfterDryRun: true,
      };
    }
    diff = makeDiff(recordDiff, compareWith, result);
  }
  if (mode === "inform") return { ...none, throwSpecViolation: true, diff };
  const recreate = needsRecreate || template.recreateOption === "Always";
  const object = recreate ? clone(desired) : updated;
  const change: Change = {
    action: "update",
    ...refOf(mapping, existing),
    object,
    ...(recreate ? { recreate: true } : {}),
  };
  if (mode === "plan") {
    ctx.changes.push(change);
    return { ...none, throwSpecViolation: true, diff };
  }
  const outcome = ctx.writer!({ op: recreate ? "recreate" : "update", mapping, object: clone(object) });
  const failed = (message: string): Checked => ({
    ...none,
    throwSpecViolation: true,
    message,
    diff,
    triedUpdate: keys.updateNeeded,
  });
  switch (outcome.result) {
    case "refused":
      ctx.changes.push({ ...change, error: outcome.error.message });
      return failed(
        outcome.error.status === 404
          ? `\`${typeof existing.kind === "string" ? existing.kind : ""}\` is not present and must be created`
          : `Error updating the object \`${name}\`, the error is \`${outcome.error.message}\``,
      );
    case "timedOut":
      ctx.changes.push({ ...change, error: ConfigurationPolicyMessages.recreateTimedOut });
      return failed(
        `${messagePrefix(mapping, name, namespace)} ${ConfigurationPolicyMessages.recreateTimedOut}`,
      );
    case "written":
    case "deleting": {
      ctx.changes.push(change);
      const uid = outcome.result === "written" ? metadataOf(outcome.object).uid : undefined;
      return {
        ...none,
        throwSpecViolation: keys.throwSpecViolation,
        diff,
        triedUpdate: keys.updateNeeded,
        updated: true,
        ...(recreate && typeof uid === "string" && uid !== "" ? { recreatedUid: uid } : {}),
      };
    }
  }
}

function createObject(
  ctx: Context,
  mapping: KindMapping,
  desired: JsonObject,
  name: string,
  namespace: string,
): { completed: boolean; reason: string; message: string; uid?: string } {
  const id = identifierString([name], mapping.namespaced ? namespace : "");
  const failure = (error: string) => ({
    completed: false,
    reason: ConfigurationPolicyReasons.creationError,
    message: `${mapping.resource} ${id} is missing, and cannot be created, reason: \`${error}\``,
  });
  const change: Change = { action: "create", ...refOf(mapping, desired), object: clone(desired) };
  if (ctx.writer) {
    const outcome = ctx.writer({ op: "create", mapping, object: clone(desired) });
    if (outcome.result === "refused") {
      ctx.changes.push({ ...change, error: outcome.error.message });
      return failure(outcome.error.message);
    }
    ctx.changes.push(change);
    const uid = outcome.result === "written" ? metadataOf(outcome.object).uid : undefined;
    return {
      completed: true,
      reason: ConfigurationPolicyReasons.creationSuccess,
      message: `${mapping.resource} ${id} was created successfully`,
      ...(typeof uid === "string" && uid !== "" ? { uid } : {}),
    };
  }
  // A dry run: enforcement runs the object templates in order, so a namespace an earlier
  // template would create exists by the time a later one creates objects in it.
  const namespacePlanned =
    mapping.namespaced &&
    ctx.changes.some(
      (change) => change.action === "create" && change.kind === "Namespace" && change.name === namespace,
    );
  if (
    mapping.namespaced &&
    !namespacePlanned &&
    !ctx.reader.namespaces().some((info) => info.name === namespace)
  ) {
    return failure(`namespaces "${namespace}" not found`);
  }
  // A server cannot dry-run a create into a namespace that does not exist yet.
  const dryRun = namespacePlanned ? undefined : ctx.reader.dryRunCreate?.(mapping, desired);
  if (dryRun && "error" in dryRun) return failure(dryRun.error.message);
  ctx.changes.push(change);
  return {
    completed: true,
    reason: ConfigurationPolicyReasons.creationSuccess,
    message: `${mapping.resource} ${id} was created successfully`,
  };
}

interface Handled {
  related: RelatedObject[];
  result: EvalResult;
}

function relatedObjects(
  compliant: boolean,
  mapping: KindMapping,
  kind: string,
  namespace: string,
  names: string[],
  reason: string,
  properties?: ObjectProperties,
): RelatedObject[] {
  return names.map((name) => ({
    object: {
      apiVersion: groupVersion(mapping.group, mapping.version),
      kind,
      metadata: mapping.namespaced && namespace ? { name, namespace } : { name },
    },
    compliant: compliant ? ComplianceStates.compliant : ComplianceStates.nonCompliant,
    reason,
    ...(properties ? { properties } : {}),
  }));
}

function objectKind(object: JsonObject, mapping: KindMapping): string {
  return typeof object.kind === "string" ? object.kind : mapping.kind;
}

function handleObject(
  ctx: Context,
  template: ObjectTemplate,
  desired: JsonObject,
  mapping: KindMapping,
  recordDiff: RecordDiff,
): Handled {
  const namespace = mapping.namespaced ? namespaceOf(desired) : "";
  const name = nameOf(desired);
  const kind = typeof desired.kind === "string" ? desired.kind : mapping.kind;
  let enforce = ctx.enforce;
  let existing: ClusterObject | undefined;
  let names: string[];
  let allNames: string[] = [];
  let exists: boolean;
  if (name !== "") {
    existing = ctx.reader.get(mapping, namespace, name);
    exists = existing !== undefined;
    names = [name];
  } else {
    ({ matching: names, all: allNames } = matchingNames(ctx, desired, mapping, template));
    enforce = false;
    exists = names.length > 0;
    if (names.length === 1) existing = ctx.reader.get(mapping, namespace, names[0]!);
  }
  const shouldExist = template.complianceType !== "mustnothave";
  if (names.length === 1) {
    const { result, properties } = handleSingleObject(
      ctx,
      template,
      desired,
      mapping,
      names[0]!,
      namespace,
      existing,
      shouldExist,
      enforce,
      recordDiff,
    );
    const last = result.events[result.events.length - 1];
    const related = last
      ? relatedObjects(last.compliant, mapping, kind, namespace, result.objectNames, last.reason, properties)
      : [];
    return { related, result };
  }
  let event: EvalEvent;
  let condensed = false;
  if (shouldExist) {
    if (exists) event = { compliant: true, reason: RelatedObjectReasons.foundAsExpected, message: "" };
    else {
      condensed = true;
      event = {
        compliant: false,
        reason:
          allNames.length > 0
            ? RelatedObjectReasons.foundNotMatching
            : RelatedObjectReasons.notFoundShouldExist,
        message: "",
      };
    }
  } else if (exists) {
    event = { compliant: false, reason: RelatedObjectReasons.foundShouldNotExist, message: "" };
  } else {
    condensed = true;
    event = { compliant: true, reason: RelatedObjectReasons.notFoundAsExpected, message: "" };
  }
  const result: EvalResult = { objectNames: names, namespace, events: [event] };
  const related = condensed
    ? relatedObjects(event.compliant, mapping, kind, namespace, ["-"], event.reason)
    : relatedObjects(event.compliant, mapping, kind, namespace, names, event.reason);
  return { related, result };
}

function handleSingleObject(
  ctx: Context,
  template: ObjectTemplate,
  desired: JsonObject,
  mapping: KindMapping,
  name: string,
  namespace: string,
  existing: ClusterObject | undefined,
  shouldExist: boolean,
  enforce: boolean,
  recordDiff: RecordDiff,
): { result: EvalResult; properties?: ObjectProperties } {
  const result: EvalResult = { objectNames: [name], namespace, events: [] };
  const exists = existing !== undefined;
  const push = (compliant: boolean, reason: string, message = "") =>
    result.events.push({ compliant, reason, message });
  if (!exists && shouldExist) {
    push(false, RelatedObjectReasons.notFoundShouldExist);
    if (!enforce) return { result };
    const created = createObject(ctx, mapping, desired, name, namespace);
    // A dry run reports the object missing; the create is among the changes.
    if (!ctx.writer) return { result };
    const hasStatus =
      isObject(template.objectDefinition) && Object.hasOwn(template.objectDefinition, "status");
    if (created.completed && hasStatus) {
      push(
        false,
        `${created.reason}, status unchecked`,
        `${created.message}${ConfigurationPolicyMessages.createdStatusUnchecked}`,
      );
    } else {
      push(created.completed, created.reason, created.message);
    }
    const properties: ObjectProperties | undefined = created.completed
      ? { createdByPolicy: true, ...(created.uid ? { uid: created.uid } : {}) }
      : undefined;
    return { result, properties };
  }
  if (exists && !shouldExist) {
    const change: Change = { action: "delete", ...refOf(mapping, existing), reason: "mustnothave" };
    const id = identifierString([name], mapping.namespaced ? namespace : "");
    if (enforce && ctx.writer) {
      const outcome = ctx.writer({ op: "delete", mapping, namespace, name });
      if (outcome.result === "refused") {
        ctx.changes.push({ ...change, error: outcome.error.message });
        push(
          false,
          ConfigurationPolicyReasons.deletionError,
          `${mapping.resource} ${id} exists, and cannot be deleted, reason: \`${outcome.error.message}\``,
        );
      } else {
        ctx.changes.push(change);
        push(
          true,
          RelatedObjectReasons.deletionSuccess,
          `${mapping.resource} ${id} was deleted successfully`,
        );
      }
    } else {
      push(false, RelatedObjectReasons.foundShouldNotExist);
      if (enforce) ctx.changes.push(change);
    }
    return { result };
  }
  if (!exists && !shouldExist) {
    push(true, RelatedObjectReasons.notFoundAsExpected);
    return { result };
  }
  const mode: UpdateMode = !enforce ? "inform" : ctx.writer ? "write" : "plan";
  const checked = checkAndUpdate(ctx, mapping, desired, existing!, template, mode, recordDiff);
  if (checked.triedUpdate && !checked.message.includes("Error validating the object")) {
    push(false, RelatedObjectReasons.foundNotMatching);
  }
  if (checked.throwSpecViolation) {
    if (checked.message !== "") push(false, RelatedObjectReasons.updateTemplateError, checked.message);
    else push(false, RelatedObjectReasons.foundNotMatching);
  } else if (enforce && checked.updated) {
    push(true, RelatedObjectReasons.updateSuccess);
  } else {
    push(true, RelatedObjectReasons.foundAsExpected);
  }
  const uid = checked.recreatedUid ?? metadataOf(existing).uid;
  // An object the policy created stays created by it when the policy recreates it.
  const createdByPolicy =
    checked.recreatedUid !== undefined &&
    ctx.previousRelated.some(
      (old) =>
        old.properties?.createdByPolicy === true &&
        sameObject(
          old,
          relatedObjects(true, mapping, objectKind(existing!, mapping), namespace, [name], "")[0]!,
        ),
    );
  const properties: ObjectProperties = { createdByPolicy };
  if (typeof uid === "string" && uid !== "") properties.uid = uid;
  if (checked.diff !== "") properties.diff = checked.diff;
  if (checked.matchesAfterDryRun) properties.matchesAfterDryRun = true;
  return { result, properties };
}

// The policy ----------------------------------------------------------------------------------

interface Detail {
  compliant: boolean;
  reason: string;
  message: string;
}

function statusOf(details: (Detail | undefined)[], ctx: { spec: JsonObject }, now: string): TemplateStatus[] {
  const interval = isObject(ctx.spec.evaluationInterval) ? ctx.spec.evaluationInterval : {};
  return details.map((detail) => {
    if (!detail) return { Compliant: undefined, conditions: [], Validity: {} };
    let message = detail.message;
    if (detail.compliant && interval.compliant === "never") {
      message += `. This policy will not be evaluated again due to spec.evaluationInterval.compliant being set to "never".`;
    } else if (!detail.compliant && interval.noncompliant === "never") {
      message += `. This policy will not be evaluated again due to spec.evaluationInterval.noncompliant being set to "never".`;
    }
    const terminating = detail.reason === ConfigurationPolicyReasons.cleanupError;
    return {
      Compliant: terminating
        ? ComplianceStates.terminating
        : detail.compliant
          ? ComplianceStates.compliant
          : ComplianceStates.nonCompliant,
      conditions: [condition(detail.compliant && !terminating, detail.reason, message, now)],
      Validity: {},
    };
  });
}

function overallCompliance(details: TemplateStatus[], deleting: boolean): ComplianceState | undefined {
  if (deleting) return ComplianceStates.terminating;
  if (details.length === 0) return undefined;
  if (details.some((detail) => detail.Compliant === ComplianceStates.nonCompliant))
    return ComplianceStates.nonCompliant;
  return ComplianceStates.compliant;
}

const maxMessageLength = 4096;

/** The default compliance message: `<state>; <type> - <message>` per template. */
export function complianceMessage(compliant: string | undefined, details: TemplateStatus[]): string {
  if (compliant === undefined) return ConfigurationPolicyMessages.complianceUnknown;
  let message = compliant;
  for (const detail of details) {
    const first = detail.conditions?.[0];
    if (first) message += `; ${first.type} - ${first.message ?? ""}`;
  }
  return message;
}

function truncate(message: string): string {
  if (message.length <= maxMessageLength) return message;
  const suffix = ConfigurationPolicyMessages.truncatedSuffix;
  return message.slice(0, maxMessageLength - suffix.length) + suffix;
}

function customizedMessage(
  ctx: Context,
  compliant: string | undefined,
  defaultMessage: string,
  status: JsonObject,
): string {
  const custom = isObject(ctx.spec.customMessage) ? ctx.spec.customMessage : {};
  const template = compliant === ComplianceStates.compliant ? custom.compliant : custom.noncompliant;
  if (typeof template !== "string" || template === "") return defaultMessage;
  const policy = { ...ctx.policy, status } as Record<string, Value>;
  try {
    const output = resolveCustom(template, { DefaultMessage: defaultMessage, Policy: policy }, ctx.reader);
    const prefix = `${compliant ?? "UnknownCompliancy"}; `;
    return output.startsWith(prefix) ? output : prefix + output;
  } catch (error) {
    if (error instanceof ReadPending) throw error;
    return `${defaultMessage} (failure processing the custom message: ${(error as Error).message})`;
  }
}

function resolveCustom(text: string, data: Record<string, Value>, reader: ClusterReader): string {
  const funcs = templateFunctions({ reader, onSensitiveData: () => undefined });
  let tree;
  try {
    tree = parseTemplate(text, (name) => Object.hasOwn(funcs, name));
  } catch (error) {
    if (error instanceof TemplateParseError)
      throw new Error(`failed to parse custom template: template: custom-msg:${error.message}`, {
        cause: error,
      });
    throw error;
  }
  try {
    return executeTemplate(tree, funcs, data).replaceAll('executing "tmpl"', 'executing "custom-msg"');
  } catch (error) {
    throw new Error(`failed to execute: ${(error as Error).message.replaceAll("tmpl", "custom-msg")}`, {
      cause: error,
    });
  }
}

function relatedKey(entry: RelatedObject): string {
  const object = entry.object;
  return `${object?.apiVersion}|${object?.kind}|${object?.metadata?.namespace ?? ""}|${object?.metadata?.name ?? ""}`;
}

/** Adds a related object once; a NonCompliant entry replaces a Compliant one. */
function addRelated(list: RelatedObject[], index: Map<string, number>, entry: RelatedObject): void {
  const key = relatedKey(entry);
  const same = index.get(key);
  if (same === undefined) {
    index.set(key, list.length);
    list.push(entry);
  } else if (list[same]!.compliant !== entry.compliant && entry.compliant === ComplianceStates.nonCompliant) {
    list[same] = entry;
  }
}

function sortRelated(list: RelatedObject[], previous: RelatedObject[]): RelatedObject[] {
  const key = (entry: RelatedObject) => [
    entry.object?.kind ?? "",
    entry.object?.metadata?.namespace ?? "",
    entry.object?.metadata?.name ?? "",
  ];
  const sorted = [...list].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    return 0;
  });
  for (const entry of sorted) {
    // What the policy created stays recorded as created, with the UID it had then, so that
    // DeleteIfCreated never deletes an object someone else made in its place.
    const old = previous.find((candidate) => sameObject(candidate, entry));
    if (old?.properties?.createdByPolicy === true && entry.properties?.createdByPolicy === false) {
      entry.properties.createdByPolicy = true;
      if (old.properties.uid !== undefined) entry.properties.uid = old.properties.uid;
    }
  }
  return sorted;
}

function sameObject(a: RelatedObject, b: RelatedObject): boolean {
  return (
    a.object?.apiVersion === b.object?.apiVersion &&
    a.object?.kind === b.object?.kind &&
    (a.object?.metadata?.name ?? "") === (b.object?.metadata?.name ?? "") &&
    (a.object?.metadata?.namespace ?? "") === (b.object?.metadata?.namespace ?? "")
  );
}

/**
 * The deletions pruneObjectBehavior makes for related objects that are no longer related
 * (all of them when `current` is undefined: the policy is being deleted). Returns, as OCM
 * names them, the objects a writing reader could not delete or that finalizers still hold.
 */
function prunes(ctx: Context, previous: RelatedObject[], current: RelatedObject[] | undefined): string[] {
  const failures: string[] = [];
  const behavior = ctx.spec.pruneObjectBehavior;
  if (!ctx.enforce || (behavior !== "DeleteAll" && behavior !== "DeleteIfCreated")) return failures;
  const candidates =
    current && current.length > 0
      ? previous.filter((old) => !current.some((entry) => sameObject(old, entry)))
      : previous;
  for (const entry of candidates) {
    const apiVersion = entry.object?.apiVersion ?? "";
    const kind = entry.object?.kind ?? "";
    const name = entry.object?.metadata?.name ?? "";
    const namespace = entry.object?.metadata?.namespace ?? "";
    const mapping = ctx.reader.resolveKind(apiVersion, kind);
    if (!mapping || name === "" || name === "-") continue;
    const existing = ctx.reader.get(mapping, namespace, name);
    if (!existing) continue;
    if (behavior === "DeleteIfCreated") {
      const uid = metadataOf(existing).uid;
      if (!(entry.properties?.createdByPolicy === true && entry.properties.uid === uid)) continue;
    }
    const change: Change = {
      action: "delete",
      apiVersion,
      kind,
      ...(namespace ? { namespace } : {}),
      name,
      reason: "prune",
    };
    if (!ctx.writer) {
      ctx.changes.push(change);
      continue;
    }
    // schema.GroupVersionKind's String(), as OCM lists what it could not delete.
    const failure = `${mapping.group}/${mapping.version}, Kind=${kind} "${name}" in namespace ${namespace}`;
    if (typeof metadataOf(existing).deletionTimestamp === "string") {
      // Deleted before and held by finalizers: asking again changes nothing.
      failures.push(failure);
      continue;
    }
    // The UID read is a precondition: an object made since in its place is not the one to prune.
    const uid = metadataOf(existing).uid;
    const outcome = ctx.writer({
      op: "delete",
      mapping,
      namespace,
      name,
      ...(typeof uid === "string" && uid !== "" ? { uid } : {}),
    });
    if (outcome.result === "refused") {
      ctx.changes.push({ ...change, error: outcome.error.message });
      failures.push(failure);
    } else {
      ctx.changes.push(change);
      if (outcome.result === "deleting") failures.push(failure);
    }
  }
  return failures;
}

/** Evaluates one ConfigurationPolicy; never throws for bad policy content. */
export function evaluateConfigurationPolicy(
  policy: JsonObject,
  reader: ClusterReader,
  options: EvaluationOptions = {},
): PolicyEvaluation {
  const now = options.now ?? "1970-01-01T00:00:00Z";
  const metadata = metadataOf(policy);
  const name = typeof metadata.name === "string" ? metadata.name : "";
  const namespace =
    typeof metadata.namespace === "string" && metadata.namespace !== "" ? metadata.namespace : undefined;
  const spec = isObject(policy.spec) ? policy.spec : {};
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const previousStatus = isObject(policy.status) ? policy.status : {};
  const previousRelated = (
    Array.isArray(previousStatus.relatedObjects) ? previousStatus.relatedObjects : []
  ) as RelatedObject[];
  const remediationAction = spec.remediationAction === undefined ? "inform" : spec.remediationAction;
  const ctx: Context = {
    name,
    policy,
    spec,
    reader,
    enforce: isEnforce(remediationAction),
    writer: reader.write ? (request) => reader.write!(request) : undefined,
    changes: [],
    templatesEnabled: parseGoBool(annotations[PolicyAnnotations.disableTemplates]) !== true,
    previousRelated,
  };
  const deleting = typeof metadata.deletionTimestamp === "string";
  const messages: string[] = [];
  const finish = (details: (Detail | undefined)[], related: RelatedObject[]): PolicyEvaluation => {
    const compliancyDetails = statusOf(details, ctx, now);
    const compliant = overallCompliance(compliancyDetails, deleting);
    const status: JsonObject = {
      ...(compliant ? { compliant } : {}),
      compliancyDetails: compliancyDetails as unknown as Json,
      relatedObjects: related as unknown as Json,
    };
    const message = truncate(
      customizedMessage(ctx, compliant, complianceMessage(compliant, compliancyDetails), status),
    );
    messages.push(message);
    return {
      name,
      ...(namespace ? { namespace } : {}),
      compliant,
      message,
      compliancyDetails,
      relatedObjects: related,
      changes: ctx.changes,
      messages,
    };
  };

  if (ctx.templatesEnabled && goJson(spec).includes(hubTemplateStart)) {
    return finish(
      [
        {
          compliant: false,
          reason: ConfigurationPolicyReasons.hubTemplateFailure,
          message: ConfigurationPolicyMessages.hubTemplatesNeedAddon,
        },
      ],
      previousRelated,
    );
  }
  if (typeof remediationAction !== "string" || remediationAction === "") {
    return finish(
      [
        {
          compliant: false,
          reason: ConfigurationPolicyReasons.invalidSpec,
          message: ConfigurationPolicyMessages.remediationActionMissing,
        },
      ],
      previousRelated,
    );
  }
  if (deleting) {
    const failures = prunes(ctx, previousRelated, undefined);
    if (failures.length > 0) {
      const failed = finish(
        [
          {
            compliant: false,
            reason: ConfigurationPolicyReasons.cleanupError,
            message: `${ConfigurationPolicyMessages.deleteObjectsFailed}${failures.join(", ")}`,
          },
        ],
        previousRelated,
      );
      return { ...failed, pruneFailures: failures };
    }
    const previousDetails = (
      Array.isArray(previousStatus.compliancyDetails) ? previousStatus.compliancyDetails : []
    ) as TemplateStatus[];
    const result = finish([], previousRelated);
    return { ...result, compliancyDetails: previousDetails, compliant: ComplianceStates.terminating };
  }

  let objectTemplates = readObjectTemplates(spec["object-templates"]);
  let templatesEnabled = ctx.templatesEnabled;
  const raw = spec["object-templates-raw"];
  if (templatesEnabled && typeof raw === "string" && raw !== "") {
    let parsed: Json;
    let sensitive = false;
    try {
      if (hasTemplate(raw)) {
        parsed = resolveTemplate({
          yaml: raw,
          environment: { reader, onSensitiveData: () => (sensitive = true) },
        });
      } else {
        try {
          parsed = parseYamlV3(raw);
        } catch (error) {
          return finish(
            [
              {
                compliant: false,
                reason: ConfigurationPolicyReasons.templateError,
                message: `Error parsing object-templates-raw YAML: error converting YAML to JSON: ${(error as Error).message}`,
              },
            ],
            [],
          );
        }
      }
    } catch (error) {
      if (error instanceof TemplateResolutionError) {
        return finish(
          [{ compliant: false, reason: ConfigurationPolicyReasons.templateError, message: error.message }],
          [],
        );
      }
      throw error;
    }
    if (parsed !== null && !Array.isArray(parsed)) {
      return finish(
        [
          {
            compliant: false,
            reason: ConfigurationPolicyReasons.templateError,
            message: `failed unmarshalling resolved object-templates-raw template: json: cannot unmarshal ${isObject(parsed) ? "object" : jsonKind(parsed)} into Go value of type []*v1.ObjectTemplate`,
          },
        ],
        [],
      );
    }
    objectTemplates = readObjectTemplates(parsed ?? []);
    if (sensitive) for (const template of objectTemplates) template.recordDiff ??= "Censored";
    templatesEnabled = false;
  }

  if (objectTemplates.length === 0) {
    const related: RelatedObject[] = [];
    prunes(ctx, previousRelated, related);
    return finish(
      [
        {
          compliant: true,
          reason: ConfigurationPolicyReasons.noObjectTemplates,
          message: `${name} contains no object templates to check, and thus has no violations`,
        },
      ],
      related,
    );
  }

  const details: (Detail | undefined)[] = [];
  let related: RelatedObject[] = [];
  const relatedIndex = new Map<string, number>();
  let skipCleanup = false;
  const templateCtx: Context = { ...ctx, templatesEnabled };
  for (const template of objectTemplates) {
    const results = new Map<string, EvalResult>();
    const desired = determineDesiredObjects(templateCtx, template);
    if (desired.failed) skipCleanup = true;
    if (desired.event) results.set("ns", { objectNames: [], namespace: "", events: [desired.event] });
    const recordDiff: RecordDiff =
      template.recordDiff ?? (desired.sensitive ? "Censored" : recordDiffDefault(template.objectDefinition));
    for (const object of desired.objects) {
      const handled = handleObject(templateCtx, template, object, desired.mapping!, recordDiff);
      results.set(`${namespaceOf(object)}/${nameOf(object)}`, handled.result);
      for (const entry of handled.related) addRelated(related, relatedIndex, entry);
    }
    const batches = batchEvents(results);
    const resource = desired.mapping?.resource ?? "";
    batches.forEach((batch, i) => {
      const status = createStatus(resource, batch);
      details[template.index] = status;
      if (i < batches.length - 1) {
        const snapshot = statusOf(details.slice(0, template.index + 1), ctx, now);
        messages.push(truncate(complianceMessage(overallCompliance(snapshot, false), snapshot)));
      }
    });
  }
  related = sortRelated(related, previousRelated);
  const failures = skipCleanup ? [] : prunes(ctx, previousRelated, related);
  const result = finish(details, related);
  return failures.length > 0 ? { ...result, pruneFailures: failures } : result;
}
