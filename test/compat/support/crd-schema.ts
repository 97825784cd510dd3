// Structural comparison of two CustomResourceDefinitions of the same kind: OCM's and bosun's.
// Descriptions are ignored; everything else is compared and each difference is classed:
//   - "matters": it can change whether the API server accepts an object or what it stores
//     (a property only one side has, types, required fields, enums, patterns, bounds, formats,
//     defaults, nullability, list and map semantics, CEL validations, versions, scope, names,
//     subresources);
//   - "cosmetic": it changes only how clients show the kind (printer columns, short names,
//     categories).
// A property bosun has and OCM does not is reported as "bosun-only": OCM objects never carry it,
// so it cannot change how they are read.
export type Severity = "matters" | "cosmetic" | "bosun-only";

export interface SchemaDifference {
  crd: string;
  /** The version, or "" for CRD-wide aspects. */
  version: string;
  /** Where in the schema: spec.foo.bar, spec.items[].baz, or the CRD field. */
  path: string;
  aspect: string;
  ocm: unknown;
  bosun: unknown;
  severity: Severity;
}

export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  description?: string;
  [keyword: string]: unknown;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  schema?: { openAPIV3Schema?: Schema };
  subresources?: unknown;
  additionalPrinterColumns?: { name: string; jsonPath: string; type: string; priority?: number }[];
}

export interface Crd {
  metadata: { name?: string };
  spec: {
    group: string;
    scope: string;
    names: {
      kind: string;
      plural: string;
      singular?: string;
      listKind?: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: CrdVersion[];
  };
}

/** Keywords that only describe. */
const ignoredKeywords = new Set(["description", "title", "example", "externalDocs"]);
/** Keywords handled by the walk itself. */
const structuralKeywords = new Set(["properties", "items", "additionalProperties", "required"]);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

/** Sorts object keys so that key order does not count as a difference. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => !ignoredKeywords.has(k))
        .sort()
        .map((k) => [k, normalize((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

function compareSchemas(
  ocm: Schema | undefined,
  bosun: Schema | undefined,
  path: string,
  report: (path: string, aspect: string, ocm: unknown, bosun: unknown, severity: Severity) => void,
): void {
  if (!ocm || !bosun) {
    if (ocm && !bosun) report(path, "property", "present", "absent", "matters");
    // Every object has metadata: a rule bosun adds there applies to OCM's objects too.
    if (!ocm && bosun)
      report(path, "property", "absent", "present", path.startsWith("metadata") ? "matters" : "bosun-only");
    return;
  }
  const keywords = new Set([...Object.keys(ocm), ...Object.keys(bosun)]);
  for (const keyword of keywords) {
    if (ignoredKeywords.has(keyword) || structuralKeywords.has(keyword)) continue;
    if (!same(ocm[keyword], bosun[keyword])) report(path, keyword, ocm[keyword], bosun[keyword], "matters");
  }
  const required = (s: Schema) => [...(s.required ?? [])].sort();
  if (!same(required(ocm), required(bosun)))
    report(path, "required", required(ocm), required(bosun), "matters");
  const names = new Set([...Object.keys(ocm.properties ?? {}), ...Object.keys(bosun.properties ?? {})]);
  for (const name of [...names].sort()) {
    compareSchemas(ocm.properties?.[name], bosun.properties?.[name], path ? `${path}.${name}` : name, report);
  }
  if (ocm.items || bosun.items) compareSchemas(ocm.items, bosun.items, `${path}[]`, report);
  const [a, b] = [ocm.additionalProperties, bosun.additionalProperties];
  if (typeof a === "object" || typeof b === "object") {
    if (typeof a === "object" && typeof b === "object") compareSchemas(a, b, `${path}{}`, report);
    else report(path, "additionalProperties", a, b, "matters");
  } else if (a !== b) {
    report(path, "additionalProperties", a, b, "matters");
  }
}

/** Every difference between OCM's and bosun's definition of one kind. */
export function compareCrds(ocm: Crd, bosun: Crd): SchemaDifference[] {
  const crd = ocm.metadata.name ?? bosun.metadata.name ?? "";
  const out: SchemaDifference[] = [];
  const add = (version: string, path: string, aspect: string, a: unknown, b: unknown, severity: Severity) =>
    out.push({ crd, version, path, aspect, ocm: a, bosun: b, severity });

  if (ocm.spec.group !== bosun.spec.group)
    add("", "spec.group", "group", ocm.spec.group, bosun.spec.group, "matters");
  if (ocm.spec.scope !== bosun.spec.scope)
    add("", "spec.scope", "scope", ocm.spec.scope, bosun.spec.scope, "matters");
  for (const field of ["kind", "plural", "singular", "listKind"] as const) {
    const [a, b] = [ocm.spec.names[field], bosun.spec.names[field]];
    // The API server fills singular and listKind in when they are left out.
    const filled = (v: string | undefined) =>
      v ??
      (field === "singular"
        ? ocm.spec.names.kind.toLowerCase()
        : field === "listKind"
          ? `${ocm.spec.names.kind}List`
          : v);
    if (filled(a) !== filled(b)) add("", `spec.names.${field}`, "names", a, b, "matters");
  }
  for (const field of ["shortNames", "categories"] as const) {
    const [a, b] = [[...(ocm.spec.names[field] ?? [])].sort(), [...(bosun.spec.names[field] ?? [])].sort()];
    if (!same(a, b)) add("", `spec.names.${field}`, "names", a, b, "cosmetic");
  }
  const flags = (crd: Crd) =>
    crd.spec.versions.map((v) => `${v.name}${v.served ? " served" : ""}${v.storage ? " storage" : ""}`);
  if (!same(flags(ocm), flags(bosun)))
    add("", "spec.versions", "versions", flags(ocm), flags(bosun), "matters");

  for (const version of ocm.spec.versions) {
    const theirs = bosun.spec.versions.find((v) => v.name === version.name);
    if (!theirs) continue;
    if (!same(version.subresources ?? {}, theirs.subresources ?? {})) {
      add(version.name, "subresources", "subresources", version.subresources, theirs.subresources, "matters");
    }
    if (Boolean(version.deprecated) !== Boolean(theirs.deprecated)) {
      add(version.name, "deprecated", "deprecated", version.deprecated, theirs.deprecated, "cosmetic");
    }
    const columns = (v: CrdVersion) => (v.additionalPrinterColumns ?? []).map((c) => normalize(c));
    if (!same(columns(version), columns(theirs))) {
      add(
        version.name,
        "additionalPrinterColumns",
        "printer columns",
        columns(version),
        columns(theirs),
        "cosmetic",
      );
    }
    compareSchemas(
      version.schema?.openAPIV3Schema,
      theirs.schema?.openAPIV3Schema,
      "",
      (path, aspect, a, b, severity) => add(version.name, path, aspect, a, b, severity),
    );
  }
  return out;
}

/** One line per difference. */
export function formatDifference(d: SchemaDifference): string {
  const where = [d.crd, d.version, d.path].filter(Boolean).join(" ");
  return `[${d.severity}] ${where}: ${d.aspect}: OCM ${JSON.stringify(d.ocm)} / bosun ${JSON.stringify(d.bosun)}`;
}
