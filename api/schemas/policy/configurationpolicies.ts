import { LabelValues, PolicyLabels, Resources } from "../../constants.ts";
import { kindCrd, labelSelector, matchExpressions } from "../common.ts";
import {
  array,
  boolean,
  column,
  dateTime,
  enumOf,
  freeObject,
  int64,
  map,
  object,
  required,
  rootSchema,
  rule,
  string,
  type Schema,
} from "../dsl.ts";
import { remediationActions } from "./policies.ts";

const r = Resources.ConfigurationPolicy;

const mustHave = [
  "MustHave",
  "Musthave",
  "musthave",
  "MustOnlyHave",
  "Mustonlyhave",
  "mustonlyhave",
] as const;
const complianceTypes = [...mustHave, "MustNotHave", "Mustnothave", "mustnothave"] as const;
const complianceStates = ["Compliant", "Pending", "NonCompliant", "Terminating"] as const;

const intervalPattern = "^(?:(?:(?:[0-9]+(?:.[0-9])?)(?:h|m|s|(?:ms)|(?:us)|(?:ns)))|never|watch)+$";

const namespaceSelector: Schema = object(
  {
    include: array(string({ minLength: 1 }), { description: "Namespace name globs to include." }),
    exclude: array(string({ minLength: 1 }), { description: "Namespace name globs to exclude." }),
    matchLabels: map(string(), { description: "Labels the namespaces must have." }),
    matchExpressions: matchExpressions("Label requirements the namespaces must meet."),
    terminatingInclusion: enumOf(["IfMatch", "Never", "Default"], {
      description: "Whether terminating namespaces are selected.",
      default: "Default",
    }),
  },
  {
    description: "The namespaces in which namespaced objects without a namespace are checked.",
    mapType: "atomic",
  },
);

const objectTemplate = object({
  complianceType: required(
    enumOf(complianceTypes, {
      description:
        "musthave: the object must exist and match; mustonlyhave: match exactly; mustnothave: must not exist.",
    }),
  ),
  metadataComplianceType: enumOf(mustHave, {
    description: "The compliance type for labels and annotations; defaults to complianceType.",
  }),
  objectDefinition: required(freeObject({ description: "The (partial) object to check or enforce." })),
  objectSelector: labelSelector({
    description: "Selects objects by label when objectDefinition has no name.",
  }),
  recordDiff: enumOf(["Log", "InStatus", "None"], { description: "Where to record the difference found." }),
  recreateOption: enumOf(["None", "IfRequired", "Always"], {
    description: "Whether to delete and create the object when an update is refused or always.",
    default: "None",
  }),
});

const spec = object(
  {
    remediationAction: required(
      enumOf(remediationActions, {
        description: "inform reports; enforce also makes it so.",
        default: "inform",
      }),
    ),
    severity: enumOf(["low", "Low", "medium", "Medium", "high", "High", "critical", "Critical"], {
      description: "The severity of a violation.",
    }),
    namespaceSelector,
    "object-templates": array(objectTemplate, { description: "The objects to check or enforce." }),
    "object-templates-raw": string({
      description: "A template that renders to a YAML list of object templates.",
    }),
    pruneObjectBehavior: enumOf(["DeleteAll", "DeleteIfCreated", "None"], {
      description: "What to delete when the policy is removed, in enforce mode.",
      default: "None",
    }),
    evaluationInterval: object(
      {
        compliant: string({
          description: "How often to evaluate while compliant: a duration, watch or never.",
          pattern: intervalPattern,
        }),
        noncompliant: string({
          description: "How often to evaluate while not compliant: a duration, watch or never.",
          pattern: intervalPattern,
        }),
      },
      { description: "How often to evaluate." },
    ),
    customMessage: object(
      {
        compliant: string({ description: "A template for the compliant message." }),
        noncompliant: string({ description: "A template for the non-compliant message." }),
      },
      { description: "Templates for the compliance message." },
    ),
  },
  {
    description: "What to check or enforce.",
    validations: [
      rule(
        "has(self.object__dash__templates) != has(self.object__dash__templates__dash__raw)",
        "exactly one of object-templates and object-templates-raw must be set",
      ),
    ],
  },
);

const status = object(
  {
    compliant: enumOf(complianceStates, { description: "The overall compliance." }),
    compliancyDetails: array(
      object({
        Compliant: enumOf(complianceStates, { description: "The template's compliance." }),
        Validity: object(
          {
            valid: boolean({ description: "Deprecated." }),
            reason: string({ description: "Deprecated." }),
          },
          { description: "Deprecated." },
        ),
        conditions: array(
          object({
            type: required(string({ description: "notification or violation." })),
            status: string({ description: "The condition's status." }),
            lastTransitionTime: dateTime({ description: "When the condition last changed." }),
            reason: string({ description: "The condition's reason." }),
            message: string({ description: "The condition's message." }),
          }),
          { description: "The template's condition." },
        ),
      }),
      { description: "Compliance per object template." },
    ),
    relatedObjects: array(
      object({
        object: object(
          {
            apiVersion: string({ description: "The object's API version." }),
            kind: string({ description: "The object's kind." }),
            metadata: object(
              {
                name: string({ description: "The object's name." }),
                namespace: string({ description: "The object's namespace." }),
              },
              { description: "The object's name and namespace." },
            ),
          },
          { description: "The object." },
        ),
        compliant: string({ description: "The object's compliance." }),
        reason: string({ description: "Why." }),
        properties: object(
          {
            createdByPolicy: boolean({ description: "Whether the policy created the object." }),
            uid: string({ description: "The object's UID." }),
            diff: string({ description: "The difference found." }),
            matchesAfterDryRun: boolean({ description: "Whether a dry-run update showed it matches." }),
          },
          { description: "Details." },
        ),
      }),
      { description: "The objects the policy looked at." },
    ),
    lastEvaluated: string({ description: "When the policy was last evaluated (RFC 3339)." }),
    lastEvaluatedGeneration: int64({ description: "The generation last evaluated." }),
    history: array(
      object({
        lastTimestamp: dateTime({ description: "When." }),
        message: string({ description: "The compliance message." }),
      }),
      { description: "Recent compliance messages, newest first." },
    ),
  },
  { description: "The observed compliance." },
);

export const configurationPolicies = kindCrd(
  r,
  {
    statusSubresource: true,
    printerColumns: [column("Compliance state", "string", ".status.compliant")],
    schema: rootSchema(
      { spec: required(spec), status },
      {
        description:
          "Checks, and in enforce mode creates, updates or deletes, objects on the managed cluster.",
      },
    ),
  },
  { labels: { [PolicyLabels.policyType]: LabelValues.policyTypeTemplate } },
);
