// Schema pieces shared by several kinds: Kubernetes conditions, label selectors, quantities.
import type { ResourceDescriptor } from "../constants.ts";
import {
  array,
  crd,
  dateTime,
  enumOf,
  int64,
  map,
  object,
  required,
  string,
  type CrdDefinition,
  type CustomResourceDefinition,
  type Schema,
  type VersionDefinition,
} from "./dsl.ts";

/** A label key or other qualified name, optionally prefixed by a DNS subdomain. */
export const qualifiedNamePattern =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$";

/** A DNS-1123 label (namespace names). */
export const dns1123LabelPattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/** A DNS-1123 subdomain. */
export const dns1123SubdomainPattern = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$";

const quantityPattern =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

/** A resource.Quantity: an integer or a string like "500m" or "4Gi". */
export function quantity(): Schema {
  return {
    anyOf: [{ type: "integer" }, { type: "string" }],
    pattern: quantityPattern,
    "x-kubernetes-int-or-string": true,
  };
}

/** A ResourceList: resource name to quantity. */
export function resourceList(description: string): Schema {
  return map(quantity(), { description });
}

/** metav1.Condition. */
export function condition(): Schema {
  return object(
    {
      type: required(
        string({
          description: "The condition type, in CamelCase or foo.example.com/CamelCase.",
          maxLength: 316,
          pattern: qualifiedNamePattern,
        }),
      ),
      status: required(enumOf(["True", "False", "Unknown"], { description: "True, False or Unknown." })),
      observedGeneration: int64({
        description: "The metadata.generation the condition was computed from.",
        minimum: 0,
      }),
      lastTransitionTime: required(dateTime({ description: "When the status last changed." })),
      reason: required(
        string({
          description: "A CamelCase identifier of why the condition has its status.",
          maxLength: 1024,
          minLength: 1,
          pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
        }),
      ),
      message: required(
        string({ description: "A human-readable explanation; may be empty.", maxLength: 32768 }),
      ),
    },
    { description: "One aspect of the object's current state." },
  );
}

/** A list of conditions; keyed by type unless `keyed` is false (as some OCM kinds declare it). */
export function conditions(description: string, keyed = true): Schema {
  return keyed ? array(condition(), { description, mapKeys: ["type"] }) : array(condition(), { description });
}

function selectorRequirement(): Schema {
  return object({
    key: required(string({ description: "The label (or claim) key the requirement applies to." })),
    operator: required(string({ description: "In, NotIn, Exists or DoesNotExist." })),
    values: array(string(), {
      description: "Values for In and NotIn; empty for Exists and DoesNotExist.",
      listType: "atomic",
    }),
  });
}

export interface SelectorOptions {
  description?: string;
  /** Declares matchExpressions as an atomic list (SSA replaces it whole). */
  atomicExpressions?: boolean;
  /** Declares the selector as an atomic map. */
  atomic?: boolean;
}

/** A list of label selector requirements. */
export function matchExpressions(description: string, atomic = true): Schema {
  return array(selectorRequirement(), { description, ...(atomic ? { listType: "atomic" as const } : {}) });
}

/** metav1.LabelSelector. */
export function labelSelector(opts: SelectorOptions = {}): Schema {
  const s = object(
    {
      matchExpressions: matchExpressions(
        "Requirements that all must hold.",
        opts.atomicExpressions !== false,
      ),
      matchLabels: map(string(), { description: "Labels that must all be present with these values." }),
    },
    opts.atomic === false ? {} : { mapType: "atomic" },
  );
  if (opts.description) s.description = opts.description;
  return s;
}

/** A selector over ClusterClaim names and values. */
export function claimSelector(description: string): Schema {
  return object(
    {
      matchExpressions: array(selectorRequirement(), {
        description: "Requirements on claims that all must hold.",
      }),
    },
    { description },
  );
}

/** Every bosun CRD is in this category: `kubectl get bosun -A` lists all bosun objects. */
export const bosunCategory = "bosun";

/** The CRD of one bosun kind, named from its descriptor in constants.ts. */
export function kindCrd(
  r: ResourceDescriptor,
  version: Omit<VersionDefinition, "name">,
  extra: Pick<CrdDefinition, "labels" | "annotations"> = {},
): CustomResourceDefinition {
  return crd({
    group: r.group,
    kind: r.kind,
    listKind: r.listKind,
    plural: r.plural,
    singular: r.singular,
    shortNames: r.shortNames,
    categories: [bosunCategory],
    scope: r.scope,
    ...extra,
    versions: [{ name: r.version, ...version }],
  });
}
