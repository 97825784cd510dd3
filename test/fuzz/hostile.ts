// Hostile variations of valid objects for property tests: start from a valid object and
// replace, remove or add values at random paths with wrong types, nulls, huge and unicode
// strings, deep nesting, negative numbers and number-like strings.
import fc from "fast-check";

/** Cases per property: a few hundred in CI, BOSUN_FUZZ_RUNS (e.g. 10000) for a nightly run. */
export const fuzzRuns = Number(process.env.BOSUN_FUZZ_RUNS ?? "") || 300;

type Json = unknown;
type Path = (string | number)[];

/** A value nested `depth` levels deep, alternating objects and arrays. */
export function deeplyNested(depth: number, leaf: Json = "deep"): Json {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { nested: value } : [value];
  return value;
}

const numberLikeStrings = [
  "NaN",
  "-NaN",
  "Infinity",
  "-Infinity",
  "1e309",
  "-1",
  "0x1F",
  "1_000",
  "",
  " ",
  "null",
  "true",
  "undefined",
  "{{ fail }}",
  '{{hub fromSecret "other" "s" "k" hub}}',
  "__proto__",
  "constructor",
  "../../etc",
  "a.b.c",
  "$[*]",
  "\u0000",
  "é\u0301🚀\u202e",
];

/** Any value a decoded (or not quite decoded) JSON field might hold, and some it cannot. */
export const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -2_000_000_000, max: -1 }),
  fc.integer(),
  fc.double(),
  fc.constant(Number.MAX_SAFE_INTEGER + 2),
  fc.constantFrom(...numberLikeStrings),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer({ min: 256, max: 70_000 }).map((length) => "x".repeat(length)),
  fc.integer({ min: 2, max: 300 }).map((depth) => deeplyNested(depth)),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.constant([]),
  fc.constant({}),
);

function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, i) => pathsOf(item, [...prefix, i], out));
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) pathsOf(item, [...prefix, key], out);
  }
  return out;
}

const hostileString = fc.oneof(
  fc.constantFrom(...numberLikeStrings),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer({ min: 256, max: 70_000 }).map((length) => "x".repeat(length)),
);
const hostileNumber = fc.oneof(
  fc.integer({ min: -2_000_000_000, max: -1 }),
  fc.constantFrom(0, 2_147_483_647, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: -1000, max: 1000 }),
);

/** A value of the same JSON type as `original`, for fields whose type the CRD schema enforces. */
interface TypedValues {
  string: string;
  number: number;
  boolean: boolean;
}
const typedValues: fc.Arbitrary<TypedValues> = fc.record({
  string: hostileString,
  number: hostileNumber,
  boolean: fc.boolean(),
});

type Mutation =
  | { op: "replace"; at: number; value: Json; typed: TypedValues }
  | { op: "remove"; at: number }
  | { op: "add"; at: number; key: string; value: Json };

function pathValue(root: Json, path: Path): Json {
  let value = root;
  for (const step of path) value = (value as Record<string | number, Json>)[step];
  return value;
}

/** As JSON.parse adds a key: an own property even for `__proto__`. */
function addOwn(target: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * What the API server guarantees of any object it serves (a JSON object with apiVersion,
 * kind and metadata.name), left alone by default.
 */
export const servedFields = ["apiVersion", "kind", "metadata.name", "metadata.namespace"];

export interface MutationOptions {
  /** Dotted paths (and their parents) never replaced or removed; default servedFields. */
  fixed?: readonly string[];
  /**
   * Only fields matching these (dotted paths, array indices as numbers) may take any value;
   * elsewhere a replacement keeps the field's JSON type and nothing is added or removed, as
   * the API server's CRD schema (types, required fields, pruning) guarantees. Undefined: every field takes any value.
   */
  freeForm?: readonly RegExp[];
}

function apply(root: Json, mutation: Mutation, options: MutationOptions): Json {
  const fixed = options.fixed ?? servedFields;
  const paths = pathsOf(root);
  const path = paths[mutation.at % paths.length]!;
  const dotted = path.join(".");
  const guards = (field: string) => path.length === 0 || field === dotted || field.startsWith(`${dotted}.`);
  if (mutation.op !== "add" && fixed.some(guards)) return root;
  const free = !options.freeForm || options.freeForm.some((pattern) => pattern.test(dotted));
  if (!free) {
    // Required fields cannot be told from optional ones without the schema: none go.
    if (mutation.op === "add" || mutation.op === "remove") return root;
    if (mutation.op === "replace") {
      const original = pathValue(root, path);
      const type = typeof original;
      if (type !== "string" && type !== "number" && type !== "boolean") return root;
      mutation = { ...mutation, value: mutation.typed[type] };
    }
  }
  if (path.length === 0) {
    if (mutation.op === "replace") return mutation.value;
    if (mutation.op === "add" && root !== null && typeof root === "object" && !Array.isArray(root))
      addOwn(root as Record<string, Json>, mutation.key, mutation.value);
    return root;
  }
  let parent = root as Record<string | number, Json>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (mutation.op === "replace") parent[last] = mutation.value;
  else if (mutation.op === "remove") {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (target !== null && typeof target === "object" && !Array.isArray(target))
      addOwn(target as Record<string, Json>, mutation.key, mutation.value);
    else if (Array.isArray(target)) target.push(mutation.value);
  }
  return root;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("replace" as const),
      at: fc.nat(),
      value: hostileValue,
      typed: typedValues,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("remove" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("add" as const),
      at: fc.nat(),
      key: fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.constantFrom("__proto__", "constructor", "status", "spec"),
      ),
      value: hostileValue,
    }),
  },
);

/**
 * `valid` with one to six mutations (the valid object itself now and then).
 */
export function mutated<T>(valid: T, options: MutationOptions = {}): fc.Arbitrary<T> {
  return fc.array(mutation, { minLength: 0, maxLength: 6 }).map((mutations) => {
    let value: Json = structuredClone(valid);
    // Cloned: generated values may be shared between cases, and are plain (as JSON.parse makes them).
    for (const m of mutations)
      value = apply(value, "value" in m ? { ...m, value: structuredClone(m.value) } : m, options);
    return value as T;
  });
}

/** A field path as bosun's errors name one: `spec.a.b[2]`, `spec`, `metadata.name`. */
export const fieldPathPattern = /^[A-Za-z][\w-]*(\.[\w-]+|\[\d+\])*$/;
