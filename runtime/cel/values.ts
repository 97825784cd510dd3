// Conversions between JSON-like data and CEL values, and the opaque values (semver, quantity)
// that bosun's CEL library adds.
import {
  celList,
  celMap,
  isCelList,
  isCelMap,
  isCelUint,
  type CelInput,
  type CelMap,
  type CelValue,
} from "@bufbuild/cel";

/**
 * A JSON value as CEL sees an unstructured Kubernetes object: whole numbers are ints, other
 * numbers doubles, objects maps and arrays lists. Objects are converted lazily, field by field,
 * as an expression reaches into them.
 */
export function jsonToCel(value: unknown): CelInput {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "bigint":
      return value;
    case "number":
      return Number.isInteger(value) ? BigInt(value) : value;
    case "object":
      if (value === null) return null;
      if (Array.isArray(value)) return celList(value.map(jsonToCel));
      return celMap(new LazyObjectMap(value as Record<string, unknown>));
    case "function":
    case "symbol":
    case "undefined":
      return null;
  }
}

/** A read-only map view of a JSON object that converts each field on first access. */
class LazyObjectMap implements ReadonlyMap<string, CelInput> {
  private readonly converted = new Map<string, CelInput>();
  private readonly source: Record<string, unknown>;
  private fieldNames: string[] | undefined;

  constructor(source: Record<string, unknown>) {
    this.source = source;
  }

  private names(): string[] {
    return (this.fieldNames ??= Object.keys(this.source).filter((k) => this.source[k] !== undefined));
  }

  get size(): number {
    return this.names().length;
  }

  get(key: string): CelInput | undefined {
    if (typeof key !== "string" || !Object.hasOwn(this.source, key) || this.source[key] === undefined) {
      return undefined;
    }
    let value = this.converted.get(key);
    if (value === undefined) {
      value = jsonToCel(this.source[key]);
      this.converted.set(key, value);
    }
    return value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  *keys(): MapIterator<string> {
    yield* this.names();
  }

  *values(): MapIterator<CelInput> {
    for (const k of this.names()) yield this.get(k)!;
  }

  *entries(): MapIterator<[string, CelInput]> {
    for (const k of this.names()) yield [k, this.get(k)!];
  }

  [Symbol.iterator](): MapIterator<[string, CelInput]> {
    return this.entries();
  }

  forEach(callback: (value: CelInput, key: string, map: ReadonlyMap<string, CelInput>) => void): void {
    for (const k of this.names()) callback(this.get(k)!, k, this);
  }
}

/** JSON as parseJSON returns it: every number is a double, as in JSON decoding to dyn. */
export function jsonToCelDoubles(value: unknown): CelInput {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "number":
      return value;
    case "object":
      if (value === null) return null;
      if (Array.isArray(value)) return celList(value.map(jsonToCelDoubles));
      return celMap(
        new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonToCelDoubles(v)])),
      );
    case "bigint":
      return value;
    case "function":
    case "symbol":
    case "undefined":
      return null;
  }
}

// @bufbuild/cel has no way to declare new value types without protobuf descriptors, so
// semvers and quantities travel as one-entry maps under a key no CEL literal can collide
// with by accident. Equality of two such maps is equality of their canonical forms.
const opaquePrefix = "\u0000bosun.";

export type OpaqueKind = "semver" | "quantity";

export function opaque(kind: OpaqueKind, canonical: string): CelMap {
  return celMap(new Map([[opaquePrefix + kind, canonical]]));
}

/** The canonical form if `value` is an opaque value of `kind`. */
export function opaqueValue(kind: OpaqueKind, value: CelValue | undefined): string | undefined {
  if (!isCelMap(value) || value.size !== 1) return undefined;
  const inner = value.get(opaquePrefix + kind);
  return typeof inner === "string" ? inner : undefined;
}

/** A short type name for error messages. */
export function celTypeName(value: CelValue | undefined): string {
  if (value === undefined) return "nothing";
  if (opaqueValue("semver", value) !== undefined) return "Semver";
  if (opaqueValue("quantity", value) !== undefined) return "Quantity";
  if (typeof value === "bigint") return "int";
  if (typeof value === "number") return "double";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (value === null) return "null";
  if (isCelList(value)) return "list";
  if (isCelMap(value)) return "map";
  if (isCelUint(value)) return "uint";
  if (value instanceof Uint8Array) return "bytes";
  return "object";
}
