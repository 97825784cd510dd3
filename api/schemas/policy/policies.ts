import { Resources } from "../../constants.ts";
import { kindCrd } from "../common.ts";
import {
  ageColumn,
  array,
  boolean,
  column,
  dateTime,
  enumOf,
  freeObject,
  object,
  required,
  rootSchema,
  rule,
  string,
  type Schema,
} from "../dsl.ts";

const r = Resources.Policy;

const complianceStates = ["Compliant", "Pending", "NonCompliant"] as const;

/** Values a Policy's and ConfigurationPolicy's remediationAction may take. */
export const remediationActions = ["Inform", "inform", "Enforce", "enforce"] as const;

function dependencies(description: string): Schema {
  return array(
    object(
      {
        apiVersion: required(string({ description: "The object's API version." })),
        kind: required(string({ description: "The object's kind." })),
        name: required(string({ description: "The object's name." })),
        namespace: string({
          description:
            "The object's namespace; defaults to the Policy's. Must be empty for CertificatePolicy and " +
            "ConfigurationPolicy, which are looked up in the cluster namespace.",
        }),
        compliance: required(
          enumOf(complianceStates, { description: "The compliance the object must report." }),
        ),
      },
      {
        validations: [
          rule(
            "!(self.kind in ['CertificatePolicy', 'ConfigurationPolicy']) || !has(self.namespace) || size(self.namespace) == 0",
            "namespace must be empty when kind is CertificatePolicy or ConfigurationPolicy",
            { fieldPath: ".namespace" },
          ),
        ],
      },
    ),
    { description },
  );
}

const spec = object(
  {
    disabled: required(boolean({ description: "true removes the Policy from every cluster." })),
    remediationAction: enumOf(remediationActions, {
      description: "Overrides the remediationAction of every template when set.",
    }),
    "policy-templates": required(
      array(
        object({
          objectDefinition: required(
            freeObject({
              description: "The object to create on the managed cluster, usually a ConfigurationPolicy.",
            }),
          ),
          extraDependencies: dependencies("Dependencies of this template only."),
          ignorePending: boolean({
            description: "Counts the template as Compliant while its dependencies are unmet.",
          }),
        }),
        { description: "The policy objects the Policy delivers to each cluster." },
      ),
    ),
    dependencies: dependencies("Objects whose compliance every template waits for."),
    copyPolicyMetadata: boolean({
      description:
        "Copies the Policy's labels and annotations to the replicated Policies; absent means true. When " +
        "false only policy.open-cluster-management.io/ keys are copied.",
    }),
    hubTemplateOptions: object(
      {
        serviceAccountName: string({
          description: "A ServiceAccount in the Policy's namespace whose permissions hub templates use.",
        }),
      },
      { description: "Options of hub templates." },
    ),
  },
  { description: "What the Policy delivers and how." },
);

const compliant = (description: string) => enumOf(complianceStates, { description });

const status = object(
  {
    placement: array(
      object({
        placementBinding: string({ description: "The PlacementBinding's name." }),
        placement: string({ description: "The Placement's name." }),
        placementRule: string({ description: "The PlacementRule's name." }),
        policySet: string({ description: "The PolicySet through which the Policy is bound." }),
        decisions: array(
          object({
            clusterName: string({ description: "The cluster's name." }),
            clusterNamespace: string({ description: "The cluster's namespace." }),
          }),
          { description: "The clusters chosen through this binding." },
        ),
        exclusions: array(object({ clusterName: string({ description: "The cluster's name." }) }), {
          description: "Clusters excluded by the PolicySet.",
        }),
      }),
      { description: "The bindings that place a root Policy." },
    ),
    status: array(
      object({
        compliant: compliant("The cluster's compliance."),
        clustername: string({ description: "The cluster's name." }),
        clusternamespace: string({ description: "The cluster's namespace." }),
        remainingBindings: array(
          object({ placementBinding: string({ description: "The binding's name." }) }),
          {
            description: "Bindings that still place the Policy on an excluded cluster.",
          },
        ),
      }),
      { description: "Compliance per cluster of a root Policy." },
    ),
    compliant: compliant("The overall compliance."),
    details: array(
      object({
        templateMeta: freeObject({ description: "The template's metadata." }),
        compliant: compliant("The template's compliance."),
        history: array(
          object({
            lastTimestamp: dateTime({ description: "When the event happened." }),
            message: string({ description: "The compliance message." }),
            eventName: string({ description: "The event's name." }),
          }),
          { description: "Recent compliance events, newest first." },
        ),
      }),
      { description: "Compliance per template of a replicated Policy." },
    ),
  },
  { description: "The observed compliance." },
);

export const policies = kindCrd(r, {
  statusSubresource: true,
  printerColumns: [
    column("Remediation action", "string", ".spec.remediationAction"),
    column("Compliance state", "string", ".status.compliant"),
    ageColumn,
  ],
  schema: rootSchema(
    { metadata: required({ type: "object" }), spec: required(spec), status },
    {
      description:
        "Policy templates to enforce or check on the clusters a PlacementBinding chooses. The hub copies a " +
        "root Policy into each chosen cluster's namespace as <namespace>.<name>.",
    },
  ),
});
