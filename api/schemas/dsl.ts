// A small builder for structural OpenAPI v3 schemas and CustomResourceDefinitions.
// Every helper returns plain data; `crd()` assembles the apiextensions.k8s.io/v1 object and
// `checkStructural()` reports what kube-apiserver would refuse as non-structural.

export type ListType = "atomic" | "set" | "map";
export type MapType = "atomic" | "granular";

export type ValidationReason =
  "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";

/** One `x-kubernetes-validations` entry (a CEL rule). */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: ValidationReason;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

/** The subset of JSONSchemaProps that CRDs use. */
export interface Schema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  format?: string;
  description?: string;
  default?: unknown;
  nullable?: boolean;
  enum?: readonly unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  not?: Schema;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-list-type"?: ListType;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: MapType;
  "x-kubernetes-validations"?: ValidationRule[];
}

const requiredMark: unique symbol = Symbol("required");

/** A property that its parent object lists under `required`. */
export interface RequiredField {
  readonly [requiredMark]: Schema;
}

export type Field = Schema | RequiredField;

/** Marks a property as required in the object that holds it. */
export function required(schema: Schema): RequiredField {
  return { [requiredMark]: schema };
}

function isRequired(field: Field): field is RequiredField {
  return requiredMark in field;
}

interface Common {
  description?: string;
  nullable?: boolean;
  validations?: ValidationRule[];
}

function common(schema: Schema, opts: Common): Schema {
  if (opts.description !== undefined) schema.description = opts.description;
  if (opts.nullable) schema.nullable = true;
  if (opts.validations?.length) schema["x-kubernetes-validations"] = opts.validations;
  return schema;
}

export interface StringOptions extends Common {
  default?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
  enum?: readonly string[];
}

export function string(opts: StringOptions = {}): Schema {
  const s: Schema = { type: "string" };
  if (opts.format !== undefined) s.format = opts.format;
  if (opts.enum !== undefined) s.enum = [...opts.enum];
  if (opts.default !== undefined) s.default = opts.default;
  if (opts.pattern !== undefined) s.pattern = opts.pattern;
  if (opts.minLength !== undefined) s.minLength = opts.minLength;
  if (opts.maxLength !== undefined) s.maxLength = opts.maxLength;
  return common(s, opts);
}

/** A string restricted to the given values. */
export function enumOf<const T extends string>(
  values: readonly T[],
  opts: Omit<StringOptions, "enum" | "default"> & { default?: T } = {},
): Schema {
  return string({ ...opts, enum: values });
}

/** An RFC 3339 timestamp (metav1.Time). */
export function dateTime(opts: Common = {}): Schema {
  return string({ ...opts, format: "date-time" });
}

/** Base64-encoded bytes ([]byte). */
export function bytes(opts: Common = {}): Schema {
  return string({ ...opts, format: "byte" });
}

export interface NumberOptions extends Common {
  default?: number;
  minimum?: number;
  maximum?: number;
}

function integerOf(format: "int32" | "int64" | undefined, opts: NumberOptions): Schema {
  const s: Schema = { type: "integer" };
  if (format) s.format = format;
  if (opts.default !== undefined) s.default = opts.default;
  if (opts.minimum !== undefined) s.minimum = opts.minimum;
  if (opts.maximum !== undefined) s.maximum = opts.maximum;
  return common(s, opts);
}

export function int32(opts: NumberOptions = {}): Schema {
  return integerOf("int32", opts);
}

export function int64(opts: NumberOptions = {}): Schema {
  return integerOf("int64", opts);
}

/** An integer without a declared width (Go `int`). */
export function integer(opts: NumberOptions = {}): Schema {
  return integerOf(undefined, opts);
}

export function boolean(opts: Common & { default?: boolean } = {}): Schema {
  const s: Schema = { type: "boolean" };
  if (opts.default !== undefined) s.default = opts.default;
  return common(s, opts);
}

export interface ObjectOptions extends Common {
  default?: Record<string, unknown>;
  mapType?: MapType;
  /** Keep fields the schema does not name (x-kubernetes-preserve-unknown-fields). */
  preserveUnknownFields?: boolean;
  minProperties?: number;
  /** Value-only validations (no types, defaults or descriptions inside). */
  oneOf?: Schema[];
  anyOf?: Schema[];
  not?: Schema;
}

export function object(properties: Record<string, Field>, opts: ObjectOptions = {}): Schema {
  const props: Record<string, Schema> = {};
  const req: string[] = [];
  for (const [name, field] of Object.entries(properties)) {
    if (isRequired(field)) {
      props[name] = field[requiredMark];
      req.push(name);
    } else {
      props[name] = field;
    }
  }
  const s: Schema = { type: "object" };
  if (Object.keys(props).length > 0) s.properties = props;
  if (req.length > 0) s.required = req;
  if (opts.default !== undefined) s.default = opts.default;
  if (opts.mapType !== undefined) s["x-kubernetes-map-type"] = opts.mapType;
  if (opts.preserveUnknownFields) s["x-kubernetes-preserve-unknown-fields"] = true;
  if (opts.minProperties !== undefined) s.minProperties = opts.minProperties;
  if (opts.oneOf) s.oneOf = opts.oneOf;
  if (opts.anyOf) s.anyOf = opts.anyOf;
  if (opts.not) s.not = opts.not;
  return common(s, opts);
}

/** An object whose keys are free and whose values all follow `values`. */
export function map(values: Schema, opts: Common = {}): Schema {
  return common({ type: "object", additionalProperties: values }, opts);
}

/** Any JSON object, stored as written. */
export function freeObject(opts: Common = {}): Schema {
  return common({ type: "object", "x-kubernetes-preserve-unknown-fields": true }, opts);
}

/** A complete Kubernetes object (apiVersion, kind, metadata) stored as written. */
export function embeddedResource(opts: Common = {}): Schema {
  return common(
    { type: "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true },
    opts,
  );
}

export interface ArrayOptions extends Common {
  default?: unknown[];
  minItems?: number;
  maxItems?: number;
  listType?: ListType;
  /** Keys of a `map` list; implies listType "map". */
  mapKeys?: string[];
}

export function array(items: Schema, opts: ArrayOptions = {}): Schema {
  const s: Schema = { type: "array", items };
  if (opts.default !== undefined) s.default = opts.default;
  if (opts.minItems !== undefined) s.minItems = opts.minItems;
  if (opts.maxItems !== undefined) s.maxItems = opts.maxItems;
  if (opts.mapKeys) {
    s["x-kubernetes-list-type"] = "map";
    s["x-kubernetes-list-map-keys"] = opts.mapKeys;
  } else if (opts.listType) {
    s["x-kubernetes-list-type"] = opts.listType;
  }
  return common(s, opts);
}

/** An int-or-string (intstr.IntOrString). */
export function intOrString(opts: Common & { default?: number | string; pattern?: string } = {}): Schema {
  const s: Schema = { anyOf: [{ type: "integer" }, { type: "string" }], "x-kubernetes-int-or-string": true };
  if (opts.default !== undefined) s.default = opts.default;
  if (opts.pattern !== undefined) s.pattern = opts.pattern;
  return common(s, opts);
}

/** A CEL rule with the message shown when it fails. */
export function rule(
  expression: string,
  message: string,
  extra: Omit<ValidationRule, "rule" | "message"> = {},
): ValidationRule {
  return { rule: expression, message, ...extra };
}

// ---------------------------------------------------------------------------------------------
// CustomResourceDefinition assembly

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  format?: string;
  priority?: number;
}

export function column(
  name: string,
  type: PrinterColumn["type"],
  jsonPath: string,
  extra: Omit<PrinterColumn, "name" | "type" | "jsonPath"> = {},
): PrinterColumn {
  return { name, type, jsonPath, ...extra };
}

/** The conventional Age column. */
export const ageColumn: PrinterColumn = column("Age", "date", ".metadata.creationTimestamp");

/** A column showing one field of the condition with the given type. */
export function conditionColumn(
  name: string,
  conditionType: string,
  field: "status" | "reason",
): PrinterColumn {
  return column(name, "string", `.status.conditions[?(@.type=="${conditionType}")].${field}`);
}

export interface VersionDefinition {
  name: string;
  /** Defaults to true. */
  served?: boolean;
  /** Defaults to true; exactly one version of a CRD stores. */
  storage?: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema: Schema;
  printerColumns?: PrinterColumn[];
  /** Enables the status subresource. */
  statusSubresource?: boolean;
}

export interface CrdDefinition {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  listKind?: string;
  shortNames?: readonly string[];
  categories?: readonly string[];
  scope: "Cluster" | "Namespaced";
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  versions: VersionDefinition[];
}

export interface CustomResourceDefinitionVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema: { openAPIV3Schema: Schema };
  additionalPrinterColumns?: PrinterColumn[];
  subresources?: { status?: Record<string, never> };
}

export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    scope: "Cluster" | "Namespaced";
    versions: CustomResourceDefinitionVersion[];
  };
}

/**
 * The root schema of a kind: apiVersion, kind and metadata plus the given top-level
 * properties (usually spec and status).
 */
export function rootSchema(
  properties: Record<string, Field>,
  opts: Pick<ObjectOptions, "description" | "validations"> = {},
): Schema {
  return object(
    {
      apiVersion: string({ description: "The versioned schema of this representation of an object." }),
      kind: string({ description: "The REST resource this object represents, in CamelCase." }),
      metadata: { type: "object" },
      ...properties,
    },
    opts,
  );
}

export function crd(def: CrdDefinition): CustomResourceDefinition {
  const storing = def.versions.filter((v) => v.storage ?? true);
  if (storing.length !== 1) {
    throw new Error(`${def.plural}.${def.group}: exactly one version must be the storage version`);
  }
  const metadata: CustomResourceDefinition["metadata"] = { name: `${def.plural}.${def.group}` };
  if (def.labels) metadata.labels = { ...def.labels };
  if (def.annotations) metadata.annotations = { ...def.annotations };
  const names: CustomResourceDefinition["spec"]["names"] = {
    kind: def.kind,
    listKind: def.listKind ?? `${def.kind}List`,
    plural: def.plural,
    singular: def.singular,
  };
  if (def.shortNames?.length) names.shortNames = [...def.shortNames];
  if (def.categories?.length) names.categories = [...def.categories];
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata,
    spec: {
      group: def.group,
      names,
      scope: def.scope,
      versions: def.versions.map((v) => {
        const out: CustomResourceDefinitionVersion = {
          name: v.name,
          served: v.served ?? true,
          storage: v.storage ?? true,
          schema: { openAPIV3Schema: v.schema },
        };
        if (v.deprecated) out.deprecated = true;
        if (v.deprecationWarning !== undefined) out.deprecationWarning = v.deprecationWarning;
        if (v.printerColumns?.length) out.additionalPrinterColumns = v.printerColumns;
        if (v.statusSubresource) out.subresources = { status: {} };
        return out;
      }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Offline checks

const junctors = ["oneOf", "anyOf", "allOf", "not"] as const;
const forbiddenInJunctors = ["description", "type", "default", "additionalProperties", "nullable"] as const;

/** Resolves `pointer`-style paths like ".spec.foo[*].bar" to the schema node, or undefined. */
export function schemaAt(root: Schema, path: string): Schema | undefined {
  let node: Schema | undefined = root;
  for (const part of path.split(/\.(?![^[]*\])/).filter(Boolean)) {
    const m = /^([^[]+)((?:\[\*\])*)$/.exec(part);
    if (!m || !node) return undefined;
    node = node.properties?.[m[1]!] ?? node.additionalProperties;
    for (let i = 0; i < (m[2]?.length ?? 0) / 3; i++) node = node?.items;
  }
  return node;
}

/**
 * Problems kube-apiserver reports for a non-structural or inconsistent schema, as far as they
 * can be found without a server. An empty list means none were found.
 */
export function checkStructural(root: Schema): string[] {
  const problems: string[] = [];
  const visit = (s: Schema, path: string, inJunctor: boolean): void => {
    if (inJunctor) {
      for (const key of forbiddenInJunctors) {
        if (s[key] !== undefined)
          problems.push(`${path}: ${key} must not be set inside oneOf/anyOf/allOf/not`);
      }
    } else if (
      s.type === undefined &&
      !s["x-kubernetes-int-or-string"] &&
      !s["x-kubernetes-preserve-unknown-fields"]
    ) {
      problems.push(`${path}: type must be set`);
    }
    if (s.properties && s.additionalProperties) {
      problems.push(`${path}: properties and additionalProperties are mutually exclusive`);
    }
    if (s["x-kubernetes-int-or-string"] && !inJunctor) {
      const alts = s.anyOf ?? [];
      const ok =
        s.type === undefined &&
        alts.length === 2 &&
        alts[0]?.type === "integer" &&
        alts[1]?.type === "string";
      if (!ok) problems.push(`${path}: x-kubernetes-int-or-string needs anyOf [integer, string] and no type`);
    }
    if (s["x-kubernetes-embedded-resource"]) {
      if (s.type !== "object") problems.push(`${path}: an embedded resource must be of type object`);
      if (!s.properties && !s["x-kubernetes-preserve-unknown-fields"]) {
        problems.push(
          `${path}: an embedded resource needs properties or x-kubernetes-preserve-unknown-fields`,
        );
      }
    }
    if (s["x-kubernetes-preserve-unknown-fields"] === false) {
      problems.push(`${path}: x-kubernetes-preserve-unknown-fields must be true or absent`);
    }
    if (s.type === "array" && !inJunctor && !s.items) problems.push(`${path}: an array needs items`);
    if (s.type !== undefined && s.type !== "object" && (s.properties || s.additionalProperties)) {
      problems.push(`${path}: only objects have properties`);
    }
    for (const name of s.required ?? []) {
      if (!inJunctor && !s.properties?.[name])
        problems.push(`${path}: required field ${name} is not a property`);
    }
    const listType = s["x-kubernetes-list-type"];
    if (listType !== undefined && s.type !== "array") problems.push(`${path}: list-type on a non-array`);
    const mapKeys = s["x-kubernetes-list-map-keys"];
    if (listType === "map") {
      if (!mapKeys?.length) problems.push(`${path}: a map list needs x-kubernetes-list-map-keys`);
      for (const key of mapKeys ?? []) {
        const keySchema = s.items?.properties?.[key];
        if (!keySchema) problems.push(`${path}: map key ${key} is not an item property`);
        else if (!["string", "integer", "boolean"].includes(keySchema.type ?? "")) {
          problems.push(`${path}: map key ${key} must be a scalar`);
        } else if (!s.items?.required?.includes(key) && keySchema.default === undefined) {
          problems.push(`${path}: map key ${key} must be required or defaulted`);
        }
      }
    } else if (mapKeys) {
      problems.push(`${path}: x-kubernetes-list-map-keys needs list-type map`);
    }
    if (s["x-kubernetes-map-type"] !== undefined && s.type !== "object") {
      problems.push(`${path}: map-type on a non-object`);
    }
    if (s.default !== undefined && !inJunctor) {
      for (const p of checkValue(s, s.default, `${path}(default)`)) problems.push(p);
    }
    for (const [name, child] of Object.entries(s.properties ?? {}))
      visit(child, `${path}.${name}`, inJunctor);
    if (s.additionalProperties) visit(s.additionalProperties, `${path}[*]`, inJunctor);
    if (s.items) visit(s.items, `${path}[*]`, inJunctor);
    for (const j of junctors) {
      const value = s[j];
      const list = Array.isArray(value) ? value : value ? [value] : [];
      // The int-or-string anyOf is the one allowed use of type inside a junctor.
      if (j === "anyOf" && s["x-kubernetes-int-or-string"]) continue;
      list.forEach((alt, i) => {
        visit(alt, `${path}.${j}[${i}]`, true);
        for (const name of Object.keys(alt.properties ?? {})) {
          if (!s.properties?.[name])
            problems.push(`${path}.${j}[${i}]: property ${name} is not declared outside`);
        }
      });
    }
  };
  if (root.type !== "object") problems.push(`root: type must be object`);
  const meta = root.properties?.metadata;
  if (meta && Object.keys(meta.properties ?? {}).some((k) => k !== "name" && k !== "generateName")) {
    problems.push(`.metadata: only name and generateName may be constrained`);
  }
  visit(root, "", false);
  return problems;
}

/**
 * Checks a value (a default) against the parts of a schema that can be checked without CEL:
 * types, enums, patterns, bounds, required fields and unknown fields.
 */
export function checkValue(s: Schema, value: unknown, path: string): string[] {
  const problems: string[] = [];
  if (value === null) {
    if (!s.nullable) problems.push(`${path}: null is not allowed`);
    return problems;
  }
  if (s["x-kubernetes-int-or-string"]) {
    if (typeof value !== "string" && !Number.isInteger(value))
      problems.push(`${path}: must be int or string`);
    if (typeof value === "string" && s.pattern && !new RegExp(s.pattern).test(value)) {
      problems.push(`${path}: ${JSON.stringify(value)} does not match ${s.pattern}`);
    }
    return problems;
  }
  switch (s.type) {
    case "string":
      if (typeof value !== "string") return [`${path}: must be a string`];
      if (s.pattern && !new RegExp(s.pattern).test(value))
        problems.push(`${path}: does not match ${s.pattern}`);
      if (s.minLength !== undefined && value.length < s.minLength) problems.push(`${path}: too short`);
      if (s.maxLength !== undefined && value.length > s.maxLength) problems.push(`${path}: too long`);
      break;
    case "integer":
    case "number":
      if (typeof value !== "number" || (s.type === "integer" && !Number.isInteger(value))) {
        return [`${path}: must be an ${s.type}`];
      }
      if (s.minimum !== undefined && value < s.minimum) problems.push(`${path}: below minimum`);
      if (s.maximum !== undefined && value > s.maximum) problems.push(`${path}: above maximum`);
      break;
    case "boolean":
      if (typeof value !== "boolean") return [`${path}: must be a boolean`];
      break;
    case "array":
      if (!Array.isArray(value)) return [`${path}: must be an array`];
      if (s.minItems !== undefined && value.length < s.minItems) problems.push(`${path}: too few items`);
      if (s.maxItems !== undefined && value.length > s.maxItems) problems.push(`${path}: too many items`);
      value.forEach((item, i) => {
        if (s.items) problems.push(...checkValue(s.items, item, `${path}[${i}]`));
      });
      break;
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return [`${path}: must be an object`];
      const record = value as Record<string, unknown>;
      for (const name of s.required ?? []) {
        if (!(name in record)) problems.push(`${path}.${name}: required`);
      }
      for (const [k, v] of Object.entries(record)) {
        const child = s.properties?.[k] ?? s.additionalProperties;
        if (child) problems.push(...checkValue(child, v, `${path}.${k}`));
        else if (!s["x-kubernetes-preserve-unknown-fields"]) problems.push(`${path}.${k}: unknown field`);
      }
      break;
    }
    case undefined:
      break;
  }
  if (s.enum && !s.enum.includes(value))
    problems.push(`${path}: ${JSON.stringify(value)} is not in the enum`);
  return problems;
}
