// bosun's generic CEL function library: the Kubernetes CEL libraries OCM's environments add on top
// of the CEL standard library and the strings extension that @bufbuild/cel already has.
//   - Kubernetes lists: isSorted(), sum(), min(), max(), indexOf(x), lastIndexOf(x)
//   - Kubernetes regex: find(re), findAll(re), findAll(re, n)
//   - strings extension: reverse() (the one ext.Strings function @bufbuild/cel lacks)
//   - semver and quantity (semver.ts, quantity.ts) with their shared comparison methods
// and, separately, OCM's parseJSON() (jsonLibrary), which only some environments offer.
import {
  CelScalar,
  celMethod,
  isCelUint,
  listType,
  type CelFunc,
  type CelList,
  type CelValue,
} from "@bufbuild/cel";
import { RE2JS } from "@bufbuild/re2";
import { quantityLibrary } from "./quantity.ts";
import { semverLibrary } from "./semver.ts";
import { celTypeName, jsonToCelDoubles } from "./values.ts";

const { STRING, INT, BOOL, DYN } = CelScalar;
const LIST = listType(DYN);

// Lists ---------------------------------------------------------------------------------------

type Comparable = bigint | number | string | boolean;

function comparable(value: CelValue, fn: string): Comparable {
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "string") return value;
  if (typeof value === "boolean") return value;
  if (isCelUint(value)) return value.value;
  throw new Error(`${fn}: elements of type ${celTypeName(value)} cannot be compared`);
}

function compare(a: Comparable, b: Comparable, fn: string): number {
  const numeric = (v: Comparable) => typeof v === "bigint" || typeof v === "number";
  if (numeric(a) && numeric(b)) return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a !== typeof b) throw new Error(`${fn}: list elements have mixed types`);
  return a < b ? -1 : a > b ? 1 : 0;
}

function elements(list: CelList, fn: string): Comparable[] {
  return Array.from(list, (v) => comparable(v, fn));
}

function extreme(list: CelList, fn: string, sign: 1 | -1): CelValue {
  const items = elements(list, fn);
  if (items.length === 0) throw new Error(`${fn} called on empty list`);
  let best = items[0]!;
  for (const item of items) if (compare(item, best, fn) * sign > 0) best = item;
  return best;
}

function sum(list: CelList): CelValue {
  let ints = 0n;
  let doubles = 0;
  let sawDouble = false;
  for (const v of list) {
    if (typeof v === "bigint") ints += v;
    else if (typeof v === "number") {
      doubles += v;
      sawDouble = true;
    } else throw new Error(`sum: elements of type ${celTypeName(v)} cannot be summed`);
  }
  if (!sawDouble) {
    if (ints > (1n << 63n) - 1n || ints < -(1n << 63n)) throw new Error("sum: int overflow");
    return ints;
  }
  return doubles + Number(ints);
}

function indexOf(list: CelList, needle: CelValue, last: boolean): bigint {
  const items = Array.from(list);
  const equal = (v: CelValue) =>
    v === needle ||
    ((typeof v === "bigint" || typeof v === "number") &&
      (typeof needle === "bigint" || typeof needle === "number") &&
      v == needle);
  if (last) {
    for (let i = items.length - 1; i >= 0; i--) if (equal(items[i]!)) return BigInt(i);
  } else {
    for (let i = 0; i < items.length; i++) if (equal(items[i]!)) return BigInt(i);
  }
  return -1n;
}

const listFunctions: CelFunc[] = [
  celMethod("isSorted", LIST, [], BOOL, function () {
    const items = elements(this, "isSorted");
    for (let i = 1; i < items.length; i++)
      if (compare(items[i - 1]!, items[i]!, "isSorted") > 0) return false;
    return true;
  }),
  celMethod("sum", LIST, [], DYN, function () {
    return sum(this);
  }),
  celMethod("min", LIST, [], DYN, function () {
    return extreme(this, "min", -1);
  }),
  celMethod("max", LIST, [], DYN, function () {
    return extreme(this, "max", 1);
  }),
  celMethod("indexOf", LIST, [DYN], INT, function (needle) {
    return indexOf(this, needle, false);
  }),
  celMethod("lastIndexOf", LIST, [DYN], INT, function (needle) {
    return indexOf(this, needle, true);
  }),
];

// Regex ---------------------------------------------------------------------------------------

/**
 * RE2 syntax is checked with the RE2 engine @bufbuild/cel uses for matches(); that engine only
 * answers yes/no, so the match itself is found with a JavaScript RegExp built from the same
 * pattern (leftmost-first, as Go's regexp). Inline flags and named groups are translated.
 *
 * A backtracking engine can take exponential time where RE2 takes linear time, mostly on
 * input that does not match; so the linear engine decides first whether (and, for findAll,
 * whether any more) text matches, and the JavaScript engine only runs on text that does.
 */
function compileRe2(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    throw new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function toRegExp(pattern: string, global: boolean): RegExp {
  let source = pattern;
  let flags = global ? "gu" : "u";
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    for (const f of inline[1]!) if (f !== "U" && !flags.includes(f)) flags += f;
  }
  source = source
    .replace(/\(\?P</g, "(?<")
    .replace(/\\A/g, "^")
    .replace(/\\z/g, "$(?![\\s\\S])");
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new Error(
      `unsupported regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function findAll(text: string, pattern: string, limit: bigint): string[] {
  const linear = compileRe2(pattern);
  if (limit === 0n || !linear.test(text)) return [];
  const found: string[] = [];
  const regexp = toRegExp(pattern, true);
  for (let m = regexp.exec(text); m; m = regexp.exec(text)) {
    found.push(m[0]);
    if (limit > 0n && BigInt(found.length) >= limit) break;
    if (m[0] === "") regexp.lastIndex++;
    if (!linear.test(text.slice(regexp.lastIndex))) break;
  }
  return found;
}

function find(text: string, pattern: string): string {
  if (!compileRe2(pattern).test(text)) return "";
  return toRegExp(pattern, false).exec(text)?.[0] ?? "";
}

const regexFunctions: CelFunc[] = [
  celMethod("find", STRING, [STRING], STRING, function (pattern) {
    return find(this, pattern);
  }),
  celMethod("findAll", STRING, [STRING], listType(STRING), function (pattern) {
    return findAll(this, pattern, -1n);
  }),
  celMethod("findAll", STRING, [STRING, INT], listType(STRING), function (pattern, limit) {
    return findAll(this, pattern, limit);
  }),
];

const stringFunctions: CelFunc[] = [
  celMethod("reverse", STRING, [], STRING, function () {
    return Array.from(this).reverse().join("");
  }),
];

const jsonFunction: CelFunc = celMethod("parseJSON", STRING, [], DYN, function () {
  try {
    return jsonToCelDoubles(JSON.parse(this));
  } catch (error) {
    throw new Error(`parseJSON: ${(error as Error).message}`, { cause: error });
  }
});

/** OCM's `s.parseJSON()`: JSON text as CEL data, every number a double. */
export function jsonLibrary(): CelFunc[] {
  return [jsonFunction];
}

// Comparisons shared by Semver and Quantity ----------------------------------------------------

/** The Kubernetes libraries bosun adds to @bufbuild/cel's standard library and strings extension. */
export function kubernetesLibrary(): CelFunc[] {
  const semver = semverLibrary();
  const quantity = quantityLibrary();
  const compare = (target: CelValue, other: CelValue, method: string): number => {
    const result = semver.compare(target, other, method) ?? quantity.compare(target, other, method);
    if (result === undefined) throw new Error(`no such overload: ${celTypeName(target)}.${method}`);
    return result;
  };
  return [
    ...listFunctions,
    ...regexFunctions,
    ...stringFunctions,
    ...semver.functions,
    ...quantity.functions,
    celMethod("isLessThan", DYN, [DYN], BOOL, function (other) {
      return compare(this, other, "isLessThan") < 0;
    }),
    celMethod("isGreaterThan", DYN, [DYN], BOOL, function (other) {
      return compare(this, other, "isGreaterThan") > 0;
    }),
    celMethod("compareTo", DYN, [DYN], INT, function (other) {
      return BigInt(compare(this, other, "compareTo"));
    }),
  ];
}
