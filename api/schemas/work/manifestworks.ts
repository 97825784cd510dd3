import { Resources } from "../../constants.ts";
import { condition, conditions, dns1123SubdomainPattern, kindCrd } from "../common.ts";
import {
  array,
  boolean,
  embeddedResource,
  enumOf,
  int32,
  int64,
  object,
  required,
  rootSchema,
  rule,
  string,
  type Schema,
} from "../dsl.ts";

const r = Resources.ManifestWork;

function deleteOption(): Schema {
  return object(
    {
      propagationPolicy: enumOf(["Foreground", "Orphan", "SelectivelyOrphan"], {
        description:
          "Foreground deletes the applied resources with the work; Orphan leaves them; SelectivelyOrphan " +
          "leaves those matched by selectivelyOrphans.",
        default: "Foreground",
      }),
      selectivelyOrphans: object(
        {
          orphaningRules: array(
            object({
              group: string({ description: "The API group; empty for the core group." }),
              resource: required(string({ description: "The resource (plural)." })),
              namespace: string({ description: "The namespace; empty for cluster-scoped resources." }),
              name: required(string({ description: "The name." })),
            }),
            { description: "Resources left in place when the work is deleted." },
          ),
        },
        { description: "Which resources to leave in place with SelectivelyOrphan." },
      ),
      ttlSecondsAfterFinished: int64({
        description: "Deletes the work this many seconds after its Complete condition turned True.",
      }),
    },
    { description: "What happens to the applied resources when the work is deleted." },
  );
}

function manifestConfig(): Schema {
  return object({
    resourceIdentifier: required(
      object(
        {
          group: string({ description: "The API group; empty for the core group." }),
          resource: required(string({ description: "The resource (plural)." })),
          name: required(string({ description: "The name; may contain * wildcards." })),
          namespace: string({ description: "The namespace; may contain * wildcards." }),
        },
        { description: "The manifest(s) the options apply to." },
      ),
    ),
    feedbackRules: array(
      object({
        type: required(
          enumOf(["WellKnownStatus", "JSONPaths"], {
            description:
              "WellKnownStatus reports the known fields of common kinds; JSONPaths reports jsonPaths.",
          }),
        ),
        jsonPaths: array(
          object({
            name: required(string({ description: "The name of the reported value." })),
            version: string({ description: "The API version to read the resource at." }),
            path: required(string({ description: "A JSONPath into the resource's status." })),
          }),
          { description: "Status fields to report.", mapKeys: ["name"] },
        ),
      }),
      { description: "Status fields of the applied resource reported back in the work's status." },
    ),
    updateStrategy: object(
      {
        type: required(
          enumOf(["Update", "CreateOnly", "ServerSideApply", "ReadOnly"], {
            description:
              "Update replaces the resource; CreateOnly creates it and never changes it; ServerSideApply " +
              "applies it server-side; ReadOnly only reads it for status.",
            default: "Update",
          }),
        ),
        serverSideApply: object(
          {
            force: boolean({ description: "Takes over fields owned by other managers." }),
            fieldManager: string({
              description: "The field manager; must start with work-agent.",
              default: "work-agent",
              pattern: "^work-agent",
            }),
            ignoreFields: array(
              object({
                condition: required(
                  enumOf(["OnSpokePresent", "OnSpokeChange"], {
                    description:
                      "OnSpokePresent ignores the fields whenever they exist on the managed cluster; " +
                      "OnSpokeChange ignores changes made on the managed cluster only.",
                    default: "OnSpokePresent",
                  }),
                ),
                jsonPaths: array(string(), { description: "Fields to ignore, as JSON paths." }),
                jsonPointers: array(string(), { description: "Fields to ignore, as JSON pointers." }),
                jqPathExpressions: array(string(), {
                  description: "Fields to ignore, as jq path expressions.",
                }),
              }),
              { description: "Fields not to apply or compare.", mapKeys: ["condition"] },
            ),
          },
          { description: "Options of ServerSideApply." },
        ),
      },
      { description: "How the manifest is applied." },
    ),
    conditionRules: array(
      object(
        {
          condition: required(string({ description: "The condition type the rule sets on the manifest." })),
          type: required(
            enumOf(["WellKnownConditions", "CEL"], {
              description:
                "WellKnownConditions uses built-in rules for common kinds; CEL uses celExpressions.",
            }),
          ),
          celExpressions: array(string(), { description: "CEL expressions over object; all must be true." }),
          message: string({ description: "The condition's message." }),
          messageExpression: string({
            description: "A CEL expression producing the message; overrides message when non-empty.",
          }),
        },
        {
          validations: [
            rule("self.type != 'CEL' || self.condition != \"\"", "Condition is required for CEL rules"),
          ],
        },
      ),
      { description: "Rules that compute conditions of the manifest.", mapKeys: ["condition"] },
    ),
    feedbackScrapeType: enumOf(["Poll", "Watch"], {
      description: "Whether status feedback is polled or watched.",
      default: "Poll",
    }),
  });
}

/** ManifestWorkSpec, shared with ManifestWorkReplicaSet's template. */
export function manifestWorkSpec(description: string): Schema {
  return object(
    {
      workload: object(
        {
          manifests: array(embeddedResource({ description: "A complete Kubernetes object." }), {
            description: "The resources to apply on the managed cluster.",
          }),
        },
        { description: "The resources to apply." },
      ),
      deleteOption: deleteOption(),
      manifestConfigs: array(manifestConfig(), { description: "Per-resource apply and status options." }),
      executor: object(
        {
          subject: object(
            {
              type: required(enumOf(["ServiceAccount"], { description: "The kind of identity." })),
              serviceAccount: object(
                {
                  namespace: required(
                    string({
                      description: "The ServiceAccount's namespace on the managed cluster.",
                      minLength: 1,
                      maxLength: 253,
                      pattern: dns1123SubdomainPattern,
                    }),
                  ),
                  name: required(
                    string({
                      description: "The ServiceAccount's name.",
                      minLength: 1,
                      maxLength: 253,
                      pattern: dns1123SubdomainPattern,
                    }),
                  ),
                },
                { description: "The ServiceAccount to act as." },
              ),
            },
            { description: "The identity the agent applies the manifests as." },
          ),
        },
        { description: "Applies the manifests as this identity instead of the agent's own." },
      ),
    },
    { description },
  );
}

const status = object(
  {
    conditions: conditions("Conditions of the work: Applied, Available, and those from condition rules."),
    resourceStatus: object(
      {
        manifests: array(
          object({
            resourceMeta: required(
              object(
                {
                  ordinal: required(
                    int32({ description: "The manifest's index in spec.workload.manifests." }),
                  ),
                  group: string({ description: "The API group." }),
                  version: string({ description: "The API version." }),
                  kind: string({ description: "The kind." }),
                  resource: string({ description: "The resource (plural)." }),
                  name: string({ description: "The name." }),
                  namespace: string({ description: "The namespace." }),
                },
                { description: "Which manifest this is." },
              ),
            ),
            statusFeedback: object(
              {
                values: array(
                  object({
                    name: required(string({ description: "The value's name." })),
                    fieldValue: required(
                      object(
                        {
                          type: required(
                            enumOf(["Integer", "String", "Boolean", "JsonRaw"], {
                              description: "Which field holds the value.",
                            }),
                          ),
                          integer: int64({ description: "An integer value." }),
                          string: string({ description: "A string value." }),
                          boolean: boolean({ description: "A boolean value." }),
                          jsonRaw: string({ description: "A JSON value.", maxLength: 1024 }),
                        },
                        { description: "The value." },
                      ),
                    ),
                  }),
                  { description: "The reported values.", mapKeys: ["name"] },
                ),
              },
              { description: "Status fields reported by feedback rules." },
            ),
            conditions: required(
              array(condition(), { description: "Conditions of the manifest.", mapKeys: ["type"] }),
            ),
          }),
          { description: "One entry per manifest." },
        ),
      },
      { description: "Status of each manifest." },
    ),
  },
  { description: "The observed state of the work, reported by the agent." },
);

export const manifestWorks = kindCrd(r, {
  statusSubresource: true,
  schema: rootSchema(
    { spec: manifestWorkSpec("The resources to apply and how."), status },
    {
      description:
        "Resources for the agent of one managed cluster to apply; lives in the cluster's namespace on the hub.",
    },
  ),
});
