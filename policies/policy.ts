// From the documents a user gives to the ConfigurationPolicies a managed cluster evaluates:
// a Policy's policy-templates become ConfigurationPolicies with the Policy's
// remediationAction applied (informOnly wins), and a template the API server would refuse
// becomes the template-error a managed cluster reports.
import { ConfigurationPolicyMessages, PolicyMessages, Resources } from "../api/constants.ts";
import { isObject, type Json, type JsonObject } from "./gofmt.ts";

const complianceTypes = [
  "MustHave",
  "Musthave",
  "musthave",
  "MustOnlyHave",
  "Mustonlyhave",
  "mustonlyhave",
  "MustNotHave",
  "Mustnothave",
  "mustnothave",
];
const metadataComplianceTypes = complianceTypes.slice(0, 6);
const remediationActions = ["Inform", "inform", "Enforce", "enforce"];
const intervalPattern = /^(?:(?:(?:[0-9]+(?:.[0-9])?)(?:h|m|s|(?:ms)|(?:us)|(?:ns)))|never|watch)+$/;

function quoteList(values: string[]): string {
  return values.map((value) => JSON.stringify(value)).join(", ");
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "object";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** The field errors an API server with OCM's ConfigurationPolicy CRD reports, in its wording. */
export function configurationPolicyErrors(policy: JsonObject): string[] {
  const errors: string[] = [];
  const typeError = (path: string, value: unknown, expected: string) =>
    errors.push(
      `${path}: Invalid value: "${typeName(value)}": ${path} in body must be of type ${expected}: "${typeName(value)}"`,
    );
  const enumError = (path: string, value: unknown, allowed: string[]) =>
    errors.push(
      `${path}: Unsupported value: ${JSON.stringify(value)}: supported values: ${quoteList(allowed)}`,
    );
  const checkString = (path: string, value: unknown, allowed?: string[]) => {
    if (value === undefined) return;
    if (typeof value !== "string") typeError(path, value, "string");
    else if (allowed && !allowed.includes(value)) enumError(path, value, allowed);
  };
  const metadata = policy.metadata;
  if (!isObject(metadata) || typeof metadata.name !== "string" || metadata.name === "") {
    errors.push("metadata.name: Required value: name or generateName is required");
  }
  const spec = policy.spec;
  if (spec === undefined) return errors;
  if (!isObject(spec)) {
    typeError("spec", spec, "object");
    return errors;
  }
  checkString("spec.remediationAction", spec.remediationAction, remediationActions);
  checkString("spec.severity", spec.severity, [
    "low",
    "Low",
    "medium",
    "Medium",
    "high",
    "High",
    "critical",
    "Critical",
  ]);
  checkString("spec.pruneObjectBehavior", spec.pruneObjectBehavior, ["DeleteAll", "DeleteIfCreated", "None"]);
  checkString("spec.object-templates-raw", spec["object-templates-raw"]);
  const selector = spec.namespaceSelector;
  if (selector !== undefined) {
    if (!isObject(selector)) typeError("spec.namespaceSelector", selector, "object");
    else {
      for (const field of ["include", "exclude"] as const) {
        const list = selector[field];
        if (list === undefined) continue;
        if (!Array.isArray(list)) typeError(`spec.namespaceSelector.${field}`, list, "array");
        else {
          list.forEach((item, i) => {
            const path = `spec.namespaceSelector.${field}[${i}]`;
            if (typeof item !== "string") typeError(path, item, "string");
            else if (item.length < 1)
              errors.push(`${path}: Invalid value: "": ${path} in body should be at least 1 chars long`);
          });
        }
      }
      checkString("spec.namespaceSelector.terminatingInclusion", selector.terminatingInclusion, [
        "IfMatch",
        "Never",
        "Default",
      ]);
    }
  }
  const interval = spec.evaluationInterval;
  if (isObject(interval)) {
    for (const field of ["compliant", "noncompliant"] as const) {
      const value = interval[field];
      const path = `spec.evaluationInterval.${field}`;
      if (value === undefined) continue;
      if (typeof value !== "string") typeError(path, value, "string");
      else if (!intervalPattern.test(value)) {
        errors.push(
          `${path}: Invalid value: ${JSON.stringify(value)}: ${path} in body should match '${intervalPattern.source}'`,
        );
      }
    }
  }
  const templates = spec["object-templates"];
  if (templates !== undefined && spec["object-templates-raw"] !== undefined) {
    errors.push(`spec: Invalid value: "object": ${PolicyMessages.objectTemplatesExclusive}`);
  }
  if (templates !== undefined) {
    if (!Array.isArray(templates)) typeError("spec.object-templates", templates, "array");
    else {
      templates.forEach((template, i) => {
        const path = `spec.object-templates[${i}]`;
        if (!isObject(template)) {
          typeError(path, template, "object");
          return;
        }
        if (template.complianceType === undefined) errors.push(`${path}.complianceType: Required value`);
        else checkString(`${path}.complianceType`, template.complianceType, complianceTypes);
        checkString(
          `${path}.metadataComplianceType`,
          template.metadataComplianceType,
          metadataComplianceTypes,
        );
        checkString(`${path}.recordDiff`, template.recordDiff, ["Log", "InStatus", "None"]);
        checkString(`${path}.recreateOption`, template.recreateOption, ["None", "IfRequired", "Always"]);
        if (template.objectDefinition === undefined) errors.push(`${path}.objectDefinition: Required value`);
        else if (!isObject(template.objectDefinition))
          typeError(`${path}.objectDefinition`, template.objectDefinition, "object");
        if (
          template.objectSelector !== undefined &&
          template.objectSelector !== null &&
          !isObject(template.objectSelector)
        ) {
          typeError(`${path}.objectSelector`, template.objectSelector, "object");
        }
      });
    }
  }
  return errors;
}

/** The API server's answer for an invalid object: `Kind.group "name" is invalid: ...`. */
export function invalidMessage(kind: string, group: string, name: string, errors: string[]): string {
  const detail = errors.length === 1 ? errors[0]! : `[${errors.join(", ")}]`;
  return `${kind}.${group} "${name}" is invalid: ${detail}`;
}

export interface ExpandedTemplate {
  /** The ConfigurationPolicy to evaluate (remediationAction already overridden). */
  policy?: JsonObject;
  /** The template-error message a managed cluster sends instead. */
  templateError?: string;
  name: string;
}

export interface ExpandedPolicy {
  templates: ExpandedTemplate[];
  /** Templates of other kinds (OperatorPolicy, CertificatePolicy, Gatekeeper...), not evaluated. */
  skipped: { kind: string; name: string }[];
}

/** The remediationAction a template runs with on a managed cluster (informOnly wins). */
export function effectiveRemediationAction(templateAction: unknown, policyAction: unknown): unknown {
  if (typeof templateAction === "string" && templateAction.toLowerCase() === "informonly") return "inform";
  if (typeof policyAction === "string" && policyAction !== "") return policyAction;
  return templateAction;
}

/** Problems that make a Policy document invalid (the webhook's and the schema's). */
export function policyErrors(policy: JsonObject): string[] {
  const errors: string[] = [];
  const spec = policy.spec;
  if (!isObject(spec)) return ["spec: Required value"];
  if (typeof spec.disabled !== "boolean") {
    errors.push(
      spec.disabled === undefined
        ? "spec.disabled: Required value"
        : `spec.disabled: Invalid value: "${typeName(spec.disabled)}": spec.disabled in body must be of type boolean: "${typeName(spec.disabled)}"`,
    );
  }
  if (
    spec.remediationAction !== undefined &&
    !remediationActions.includes(spec.remediationAction as string)
  ) {
    errors.push(
      `spec.remediationAction: Unsupported value: ${JSON.stringify(spec.remediationAction)}: supported values: ${quoteList(remediationActions)}`,
    );
  }
  const templates = spec["policy-templates"];
  if (!Array.isArray(templates)) {
    errors.push(
      templates === undefined
        ? "spec.policy-templates: Required value"
        : `spec.policy-templates: Invalid value: "${typeName(templates)}": spec.policy-templates in body must be of type array: "${typeName(templates)}"`,
    );
    return errors;
  }
  templates.forEach((template, i) => {
    if (!isObject(template) || !isObject(template.objectDefinition)) {
      errors.push(`spec.policy-templates[${i}].objectDefinition: Required value`);
    }
  });
  if (errors.length > 0) return errors;
  if (spec.remediationAction === undefined || spec.remediationAction === "") {
    for (const template of templates as JsonObject[]) {
      const definition = template.objectDefinition as JsonObject;
      if (definition.kind !== Resources.ConfigurationPolicy.kind) continue;
      const templateSpec = isObject(definition.spec) ? definition.spec : {};
      if (templateSpec.remediationAction === undefined || templateSpec.remediationAction === "") {
        errors.push(PolicyMessages.remediationActionUnset);
        break;
      }
    }
  }
  return errors;
}

/** The ConfigurationPolicies a Policy puts on a managed cluster. Assumes policyErrors is empty. */
export function expandPolicy(policy: JsonObject): ExpandedPolicy {
  const spec = policy.spec as JsonObject;
  const policyAction = spec.remediationAction;
  const result: ExpandedPolicy = { templates: [], skipped: [] };
  const seen = new Set<string>();
  for (const template of spec["policy-templates"] as JsonObject[]) {
    const definition = template.objectDefinition as JsonObject;
    const metadata = isObject(definition.metadata) ? definition.metadata : {};
    const name = typeof metadata.name === "string" ? metadata.name : "";
    if (
      definition.kind !== Resources.ConfigurationPolicy.kind ||
      definition.apiVersion !== Resources.ConfigurationPolicy.apiVersion
    ) {
      result.skipped.push({ kind: typeof definition.kind === "string" ? definition.kind : "", name });
      continue;
    }
    if (seen.has(name)) {
      result.templates.push({ name, templateError: PolicyMessages.templateNamesUnique });
      continue;
    }
    seen.add(name);
    const copy = structuredClone(definition);
    const copySpec: JsonObject = isObject(copy.spec) ? copy.spec : (copy.spec = {});
    const action = effectiveRemediationAction(copySpec.remediationAction, policyAction);
    if (action !== undefined) copySpec.remediationAction = action as Json;
    const errors = configurationPolicyErrors(copy);
    if (errors.length > 0) {
      const message = invalidMessage(
        Resources.ConfigurationPolicy.kind,
        Resources.ConfigurationPolicy.group,
        name,
        errors,
      );
      result.templates.push({
        name,
        templateError: `${ConfigurationPolicyMessages.failedToCreateTemplate}${message}`,
      });
      continue;
    }
    result.templates.push({ name, policy: copy });
  }
  return result;
}
