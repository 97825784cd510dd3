// ManifestWork and ManifestWorkReplicaSet validation as OCM's hub answers it.
//
// Two kinds of check meet here. "webhook" checks are those of OCM's work webhook: emptiness,
// the summed manifest size, a decodable manifest with a name and no generateName, no
// duplicate manifest, and an executor with a ServiceAccount. OCM's webhook stops at the first
// failure and answers with its message alone. "schema" checks are what OCM's CRD schema makes
// the API server refuse before any webhook runs (enums, required fields, the `^work-agent`
// field manager, list-map keys, the CEL rule on condition rules); the API server answers with
// `<field>: <detail>`. Every error is returned, in the order OCM would meet them, so
// `admissionMessage` can give OCM's exact answer and callers can still show them all.
import {
  BosunBundleAnnotations,
  HubInfo,
  ManifestWorkMessages,
  ManifestWorkWebhookMessages,
  Permissions,
  Work,
} from "../../api/constants.ts";
import type {
  ManifestWork,
  ManifestWorkExecutor,
  ManifestWorkReplicaSet,
  ManifestWorkSpec,
} from "../../api/types/work.ts";
import { manifestIdentity, totalManifestSize } from "./manifest.ts";

export type FieldErrorType =
  | "FieldValueRequired"
  | "FieldValueForbidden"
  | "FieldValueNotSupported"
  | "FieldValueInvalid"
  | "FieldValueDuplicate"
  | "FieldValueTooLong";

export interface FieldError {
  type: FieldErrorType;
  /** The field path, e.g. `spec.workload.manifests[2]`. */
  field: string;
  /** The detail without the field path; for webhook errors, OCM's whole message. */
  message: string;
  /** Who refuses the object in OCM: its work webhook, or the API server's CRD schema check. */
  source: "webhook" | "schema";
}

export interface ValidateOptions {
  /** The limit on the summed manifest size; OCM's webhook flag `--manifestLimit`. */
  limitBytes?: number;
}

/** `<field>: <message>` for schema errors, the message alone for webhook errors. */
export function formatFieldError(error: FieldError): string {
  return error.source === "schema" ? `${error.field}: ${error.message}` : error.message;
}

/**
 * The answer OCM's hub gives for these errors: the API server's schema errors (one, or a
 * bracketed list) when there are any, since they are checked before the webhook is called;
 * otherwise the first webhook error; undefined when the object is valid.
 */
export function admissionMessage(errors: readonly FieldError[]): string | undefined {
  const schema = errors.filter((error) => error.source === "schema").map(formatFieldError);
  if (schema.length === 1) return schema[0];
  if (schema.length > 1) return `[${schema.join(", ")}]`;
  const first = errors[0];
  return first ? formatFieldError(first) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Manifests (OCM's shared ManifestValidator)

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** What `json.Unmarshal` into a map says about a JSON value that is not an object. */
function jsonTypeName(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (value === null) return "null";
  return typeof value === "string" ? "string" : typeof value === "boolean" ? "bool" : "number";
}

function decodeError(manifest: unknown): string | undefined {
  if (!isObject(manifest)) {
    if (manifest === null) return ManifestWorkWebhookMessages.kindMissing("null");
    return `json: cannot unmarshal ${jsonTypeName(manifest)} into Go value of type map[string]interface {}`;
  }
  if (typeof manifest.kind !== "string" || manifest.kind === "") {
    return ManifestWorkWebhookMessages.kindMissing(JSON.stringify(manifest));
  }
  return undefined;
}

/**
 * OCM's shared manifest checks, as its ManifestWorkReplicaSet webhook runs them on a
 * template: not empty, summed size within the limit (checked before anything else about the
 * manifests), then for each manifest in order: decodable, named, no generateName, and no
 * earlier manifest with the same apiVersion, kind, namespace and name.
 */
export function validateManifests(
  manifests: readonly unknown[] | undefined,
  path: string,
  options: ValidateOptions = {},
): FieldError[] {
  const limit = options.limitBytes ?? Work.manifestSizeLimit;
  if (manifests !== undefined && manifests !== null && !Array.isArray(manifests)) {
    // Only an object the CRD schema never saw can get here (an in-memory or bundled one).
    const type = jsonTypeName(manifests);
    return [
      {
        type: "FieldValueInvalid",
        field: path,
        message: `Invalid value: "${type}": ${path} in body must be of type array: "${type}"`,
        source: "schema",
      },
    ];
  }
  if (!manifests || manifests.length === 0) {
    return [
      {
        type: "FieldValueRequired",
        field: path,
        message: ManifestWorkWebhookMessages.workloadManifestsEmpty,
        source: "webhook",
      },
    ];
  }
  const errors: FieldError[] = [];
  const total = totalManifestSize(manifests);
  if (total > limit) {
    errors.push({
      type: "FieldValueTooLong",
      field: path,
      message: ManifestWorkWebhookMessages.sizeExceeded(total, limit),
      source: "webhook",
    });
  }
  const seen = new Set<string>();
  manifests.forEach((manifest, index) => {
    const field = `${path}[${index}]`;
    const decode = decodeError(manifest);
    if (decode) {
      errors.push({ type: "FieldValueInvalid", field, message: decode, source: "webhook" });
      return;
    }
    const id = manifestIdentity(manifest);
    const metadata = isObject(manifest) && isObject(manifest.metadata) ? manifest.metadata : {};
    if (id.name === "") {
      errors.push({
        type: "FieldValueRequired",
        field: `${field}.metadata.name`,
        message: ManifestWorkWebhookMessages.nameRequired,
        source: "webhook",
      });
      return;
    }
    if (typeof metadata.generateName === "string" && metadata.generateName !== "") {
      errors.push({
        type: "FieldValueForbidden",
        field: `${field}.metadata.generateName`,
        message: ManifestWorkWebhookMessages.generateNameForbidden,
        source: "webhook",
      });
      return;
    }
    const key = `${id.apiVersion}/${id.kind}/${id.namespace}/${id.name}`;
    if (seen.has(key)) {
      errors.push({
        type: "FieldValueDuplicate",
        field,
        message: ManifestWorkWebhookMessages.duplicateManifest(id.namespace, id.name, id.apiVersion, id.kind),
        source: "webhook",
      });
      return;
    }
    seen.add(key);
  });
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Schema checks (OCM's CRD, as the API server words them)

const quote = (value: unknown): string => JSON.stringify(typeof value === "string" ? value : String(value));

function required(field: string): FieldError {
  return { type: "FieldValueRequired", field, message: "Required value", source: "schema" };
}

function checkEnum(errors: FieldError[], field: string, value: unknown, allowed: readonly string[]): void {
  if (value === undefined || value === null) return;
  if (typeof value === "string" && allowed.includes(value)) return;
  errors.push({
    type: "FieldValueNotSupported",
    field,
    message: `Unsupported value: ${quote(value)}: supported values: ${allowed.map((v) => quote(v)).join(", ")}`,
    source: "schema",
  });
}

function checkRequired(errors: FieldError[], object: Record<string, unknown>, path: string, keys: string[]) {
  for (const key of keys) {
    if (object[key] === undefined || object[key] === null) errors.push(required(`${path}.${key}`));
  }
}

/** A list-map (x-kubernetes-list-type: map) may not hold two entries with the same key. */
function checkListMapKeys(errors: FieldError[], items: unknown[], path: string, key: string): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (!isObject(item) || typeof item[key] !== "string") return;
    const value = item[key];
    if (seen.has(value)) {
      errors.push({
        type: "FieldValueDuplicate",
        field: `${path}[${index}]`,
        message: `Duplicate value: map[string]interface {}{${quote(key)}:${quote(value)}}`,
        source: "schema",
      });
    }
    seen.add(value);
  });
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

const dnsSubdomain = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/;

function checkDnsSubdomainString(errors: FieldError[], field: string, value: unknown): void {
  if (typeof value !== "string") return;
  if (value.length < 1) {
    errors.push({
      type: "FieldValueInvalid",
      field,
      message: `Invalid value: "": ${field} in body should be at least 1 chars long`,
      source: "schema",
    });
    return;
  }
  if (value.length > 253) {
    errors.push({
      type: "FieldValueTooLong",
      field,
      message: "Too long: may not be more than 253 bytes",
      source: "schema",
    });
  }
  if (!dnsSubdomain.test(value)) {
    errors.push({
      type: "FieldValueInvalid",
      field,
      message: `Invalid value: ${quote(value)}: ${field} in body should match '${dnsSubdomain.source}'`,
      source: "schema",
    });
  }
}

function validateManifestConfig(errors: FieldError[], option: unknown, path: string): void {
  if (!isObject(option)) return;
  if (!isObject(option.resourceIdentifier)) errors.push(required(`${path}.resourceIdentifier`));
  else checkRequired(errors, option.resourceIdentifier, `${path}.resourceIdentifier`, ["name", "resource"]);

  const feedbackRules = asList(option.feedbackRules);
  feedbackRules.forEach((rule, j) => {
    const rulePath = `${path}.feedbackRules[${j}]`;
    if (!isObject(rule)) return;
    if (rule.type === undefined || rule.type === null) errors.push(required(`${rulePath}.type`));
    checkEnum(errors, `${rulePath}.type`, rule.type, ["WellKnownStatus", "JSONPaths"]);
    const jsonPaths = asList(rule.jsonPaths);
    jsonPaths.forEach((jsonPath, k) => {
      if (isObject(jsonPath))
        checkRequired(errors, jsonPath, `${rulePath}.jsonPaths[${k}]`, ["name", "path"]);
    });
    checkListMapKeys(errors, jsonPaths, `${rulePath}.jsonPaths`, "name");
  });

  if (isObject(option.updateStrategy)) {
    const strategyPath = `${path}.updateStrategy`;
    const strategy = option.updateStrategy;
    checkEnum(errors, `${strategyPath}.type`, strategy.type, [
      "Update",
      "CreateOnly",
      "ServerSideApply",
      "ReadOnly",
    ]);
    if (isObject(strategy.serverSideApply)) {
      const ssaPath = `${strategyPath}.serverSideApply`;
      const fieldManager = strategy.serverSideApply.fieldManager;
      if (typeof fieldManager === "string" && !fieldManager.startsWith(Work.defaultFieldManager)) {
        const field = `${ssaPath}.fieldManager`;
        errors.push({
          type: "FieldValueInvalid",
          field,
          message: `Invalid value: ${quote(fieldManager)}: ${field} in body should match '^${Work.defaultFieldManager}'`,
          source: "schema",
        });
      }
      const ignoreFields = asList(strategy.serverSideApply.ignoreFields);
      ignoreFields.forEach((ignore, k) => {
        if (isObject(ignore)) {
          checkEnum(errors, `${ssaPath}.ignoreFields[${k}].condition`, ignore.condition, [
            "OnSpokePresent",
            "OnSpokeChange",
          ]);
        }
      });
      checkListMapKeys(errors, ignoreFields, `${ssaPath}.ignoreFields`, "condition");
    }
  }

  const conditionRules = asList(option.conditionRules);
  conditionRules.forEach((rule, j) => {
    const rulePath = `${path}.conditionRules[${j}]`;
    if (!isObject(rule)) return;
    checkRequired(errors, rule, rulePath, ["condition", "type"]);
    checkEnum(errors, `${rulePath}.type`, rule.type, ["WellKnownConditions", "CEL"]);
    if (rule.type === "CEL" && rule.condition === "") {
      errors.push({
        type: "FieldValueInvalid",
        field: rulePath,
        message: 'Invalid value: "object": Condition is required for CEL rules',
        source: "schema",
      });
    }
  });
  checkListMapKeys(errors, conditionRules, `${path}.conditionRules`, "condition");

  checkEnum(errors, `${path}.feedbackScrapeType`, option.feedbackScrapeType, ["Poll", "Watch"]);
}

function validateSchema(errors: FieldError[], spec: ManifestWorkSpec, path: string): void {
  const deleteOption: unknown = spec.deleteOption;
  if (isObject(deleteOption)) {
    checkEnum(errors, `${path}.deleteOption.propagationPolicy`, deleteOption.propagationPolicy, [
      "Foreground",
      "Orphan",
      "SelectivelyOrphan",
    ]);
    const orphans = deleteOption.selectivelyOrphans;
    if (isObject(orphans)) {
      asList(orphans.orphaningRules).forEach((rule, i) => {
        const rulePath = `${path}.deleteOption.selectivelyOrphans.orphaningRules[${i}]`;
        if (isObject(rule)) checkRequired(errors, rule, rulePath, ["name", "resource"]);
      });
    }
  }
  asList(spec.manifestConfigs).forEach((option, i) => {
    validateManifestConfig(errors, option, `${path}.manifestConfigs[${i}]`);
  });
  const executor: unknown = spec.executor;
  if (isObject(executor) && isObject(executor.subject)) {
    const subjectPath = `${path}.executor.subject`;
    const subject = executor.subject;
    if (subject.type === undefined || subject.type === null) errors.push(required(`${subjectPath}.type`));
    checkEnum(errors, `${subjectPath}.type`, subject.type, [Work.executorSubjectServiceAccount]);
    if (isObject(subject.serviceAccount)) {
      const saPath = `${subjectPath}.serviceAccount`;
      checkRequired(errors, subject.serviceAccount, saPath, ["name", "namespace"]);
      checkDnsSubdomainString(errors, `${saPath}.name`, subject.serviceAccount.name);
      checkDnsSubdomainString(errors, `${saPath}.namespace`, subject.serviceAccount.namespace);
    }
  }
}

/** The webhook's executor check that needs no API call: a ServiceAccount subject needs one. */
function validateExecutorShape(
  errors: FieldError[],
  executor: ManifestWorkExecutor | undefined,
  path: string,
) {
  const subject = executor?.subject;
  if (subject?.type === Work.executorSubjectServiceAccount && !subject.serviceAccount) {
    errors.push({
      type: "FieldValueRequired",
      field: `${path}.executor.subject.serviceAccount`,
      message: ManifestWorkWebhookMessages.executorServiceAccountNil,
      source: "webhook",
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Whole objects

/**
 * A ManifestWork spec as OCM's hub checks it on create and update: the webhook refuses no
 * manifests with its own message, then runs the shared manifest checks and the executor
 * check; the schema checks are added for the fields the CRD constrains.
 */
export function validateManifestWorkSpec(
  spec: ManifestWorkSpec | undefined,
  options: ValidateOptions = {},
  path = "spec",
): FieldError[] {
  const errors: FieldError[] = [];
  const manifests = spec?.workload?.manifests;
  const manifestsPath = `${path}.workload.manifests`;
  if (!manifests || manifests.length === 0) {
    errors.push({
      type: "FieldValueRequired",
      field: manifestsPath,
      message: ManifestWorkMessages.manifestsEmpty,
      source: "webhook",
    });
  } else {
    errors.push(...validateManifests(manifests, manifestsPath, options));
  }
  if (spec) {
    validateExecutorShape(errors, spec.executor, path);
    validateSchema(errors, spec, path);
  }
  return errors;
}

export function validateManifestWork(work: ManifestWork, options: ValidateOptions = {}): FieldError[] {
  return validateManifestWorkSpec(work.spec, options);
}

/** A ManifestWorkReplicaSet as OCM checks it: its template's manifests, with the shared checks. */
export function validateManifestWorkReplicaSet(
  replicaSet: ManifestWorkReplicaSet,
  options: ValidateOptions = {},
): FieldError[] {
  const path = "spec.manifestWorkTemplate";
  const template = replicaSet.spec?.manifestWorkTemplate;
  const manifests = template?.workload?.manifests;
  // A bundle's manifests live in its content objects; the template may carry none of its own.
  const bundled = replicaSet.metadata?.annotations?.[BosunBundleAnnotations.content] !== undefined;
  const errors =
    bundled && (manifests === undefined || manifests.length === 0)
      ? []
      : validateManifests(manifests, `${path}.workload.manifests`, options);
  if (template) validateSchema(errors, template, path);
  const refs: unknown = replicaSet.spec?.placementRefs;
  if (!Array.isArray(refs)) errors.push(required("spec.placementRefs"));
  else if (refs.length === 0) {
    errors.push({
      type: "FieldValueInvalid",
      field: "spec.placementRefs",
      message: "Invalid value: 0: spec.placementRefs in body should have at least 1 items",
      source: "schema",
    });
  } else {
    refs.forEach((ref, i) => {
      if (isObject(ref)) checkRequired(errors, ref, `spec.placementRefs[${i}]`, ["name"]);
    });
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Executor permission (OCM's webhook asks a SubjectAccessReview; the caller makes the call)

export interface ExecutorAccessReview {
  /** ResourceAttributes of the SubjectAccessReview to create for the requesting user. */
  resourceAttributes: { group: string; resource: string; verb: string; namespace: string; name: string };
  serviceAccount: { namespace: string; name: string };
}

export interface ExecutorReviewOptions {
  /** OCM's hub gate NilExecutorValidating: also check works without an executor. */
  nilExecutorValidating?: boolean;
}

function sameExecutor(a: ManifestWorkExecutor | undefined, b: ManifestWorkExecutor | undefined): boolean {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : isObject(value)
        ? Object.fromEntries(
            Object.keys(value)
              .filter((key) => value[key] !== undefined)
              .sort()
              .map((key) => [key, canonical(value[key])]),
          )
        : value;
  return JSON.stringify(canonical(a ?? null)) === JSON.stringify(canonical(b ?? null));
}

/**
 * The SubjectAccessReview OCM's webhook makes before admitting a work, or undefined when it
 * makes none: on create or when the executor changed, and for a nil executor only with
 * NilExecutorValidating (then against the work agent's default ServiceAccount with an empty
 * namespace, as OCM does). The review asks whether the user may `execute-as`
 * `system:serviceaccount:<ns>:<name>` on manifestworks in the work's namespace.
 */
export function executorAccessReview(
  work: ManifestWork,
  oldWork: ManifestWork | undefined,
  options: ExecutorReviewOptions = {},
): ExecutorAccessReview | undefined {
  const executor = work.spec?.executor;
  if (oldWork && sameExecutor(oldWork.spec?.executor, executor)) return undefined;
  if (!executor && !options.nilExecutorValidating) return undefined;
  const serviceAccount = executor
    ? executor.subject?.serviceAccount
    : { namespace: "", name: HubInfo.workServiceAccount };
  if (!serviceAccount) return undefined;
  return {
    resourceAttributes: {
      group: Permissions.executeAs.group,
      resource: Permissions.executeAs.resource,
      verb: Permissions.executeAs.verb,
      namespace: work.metadata.namespace ?? "",
      name: `${Work.serviceAccountUserPrefix}${serviceAccount.namespace}:${serviceAccount.name}`,
    },
    serviceAccount: { namespace: serviceAccount.namespace, name: serviceAccount.name },
  };
}

/** OCM's answer when that review is denied. */
export function executorDeniedMessage(username: string, review: ExecutorAccessReview): string {
  return ManifestWorkWebhookMessages.executorDenied(
    username,
    review.serviceAccount.namespace,
    review.serviceAccount.name,
    review.resourceAttributes.namespace,
  );
}
