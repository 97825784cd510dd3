// Semantic versions for CEL, as the Kubernetes CEL semver library defines them:
// semver(s), semver(s, normalize), isSemver(s), isSemver(s, normalize), and the methods
// major(), minor(), patch(), isLessThan(v), isGreaterThan(v), compareTo(v).
import { CelScalar, celFunc, celMethod, type CelFunc, type CelValue } from "@bufbuild/cel";
import { celTypeName, opaque, opaqueValue } from "./values.ts";

export interface Semver {
  major: bigint;
  minor: bigint;
  patch: bigint;
  /** Pre-release identifiers; empty for a release. */
  pre: string[];
  build: string[];
}

const numeric = /^(0|[1-9][0-9]*)$/;
const identifier = /^[0-9A-Za-z-]+$/;

/** Parses a strict semantic version ("1.30.0", "1.2.3-rc.1+build"), or returns an error message. */
export function parseSemver(text: string): Semver | string {
  let rest = text;
  let build: string[] = [];
  const plus = rest.indexOf("+");
  if (plus >= 0) {
    build = rest.slice(plus + 1).split(".");
    rest = rest.slice(0, plus);
    if (build.some((b) => !identifier.test(b))) return `invalid build metadata in ${JSON.stringify(text)}`;
  }
  let pre: string[] = [];
  const dash = rest.indexOf("-");
  if (dash >= 0) {
    pre = rest.slice(dash + 1).split(".");
    rest = rest.slice(0, dash);
    for (const p of pre) {
      if (!identifier.test(p)) return `invalid pre-release identifier in ${JSON.stringify(text)}`;
      if (/^[0-9]+$/.test(p) && !numeric.test(p)) {
        return `numeric pre-release identifier with a leading zero in ${JSON.stringify(text)}`;
      }
    }
  }
  const parts = rest.split(".");
  if (parts.length !== 3) return `${JSON.stringify(text)} is not major.minor.patch`;
  for (const p of parts) {
    if (!numeric.test(p)) return `invalid version number ${JSON.stringify(p)} in ${JSON.stringify(text)}`;
  }
  const [major, minor, patch] = parts.map((p) => BigInt(p)) as [bigint, bigint, bigint];
  return { major, minor, patch, pre, build };
}

/** Accepts "v1.30", "1.30.02" and the like: strips a leading v, fills missing parts, drops leading zeros. */
export function normalizeSemver(text: string): string {
  let rest = text.startsWith("v") ? text.slice(1) : text;
  const cut = rest.search(/[-+]/);
  const suffix = cut >= 0 ? rest.slice(cut) : "";
  rest = cut >= 0 ? rest.slice(0, cut) : rest;
  const parts = rest.split(".");
  while (parts.length < 3) parts.push("0");
  return parts.map((p) => (/^[0-9]+$/.test(p) ? p.replace(/^0+(?=[0-9])/, "") : p)).join(".") + suffix;
}

function comparePre(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const xn = /^[0-9]+$/.test(x);
    const yn = /^[0-9]+$/.test(y);
    if (xn && yn) return BigInt(x) < BigInt(y) ? -1 : 1;
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Semantic-version precedence: -1, 0 or 1. Build metadata is ignored. */
export function compareSemver(a: Semver, b: Semver): number {
  for (const key of ["major", "minor", "patch"] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  return comparePre(a.pre, b.pre);
}

function canonical(v: Semver): string {
  return `${v.major}.${v.minor}.${v.patch}${v.pre.length ? `-${v.pre.join(".")}` : ""}`;
}

/** A bounded memo of parsed versions: fleets repeat the same few version strings. */
class SemverCache {
  private readonly parsed = new Map<string, Semver | string>();
  private readonly values = new Map<string, CelValue | string>();

  parse(text: string): Semver | string {
    let v = this.parsed.get(text);
    if (v === undefined) {
      if (this.parsed.size > 10_000) this.parsed.clear();
      v = parseSemver(text);
      this.parsed.set(text, v);
    }
    return v;
  }

  value(text: string, normalize: boolean): CelValue {
    const key = `${normalize ? "n" : "s"}${text}`;
    let v = this.values.get(key);
    if (v === undefined) {
      if (this.values.size > 10_000) this.values.clear();
      const parsed = this.parse(normalize ? normalizeSemver(text) : text);
      v = typeof parsed === "string" ? parsed : opaque("semver", canonical(parsed));
      this.values.set(key, v);
    }
    if (typeof v === "string") throw new Error(`invalid semver: ${v}`);
    return v;
  }

  of(value: CelValue | undefined, method: string): Semver {
    const text = opaqueValue("semver", value);
    if (text === undefined) throw new Error(`no such overload: ${celTypeName(value)}.${method}`);
    return this.parse(text) as Semver;
  }
}

const { STRING, BOOL, INT, DYN } = CelScalar;

export interface SemverLibrary {
  functions: CelFunc[];
  /** -1/0/1 if `target` is a Semver, undefined otherwise. */
  compare(target: CelValue, other: CelValue, method: string): number | undefined;
}

export function semverLibrary(): SemverLibrary {
  const cache = new SemverCache();
  return {
    functions: [
      celFunc("semver", [STRING], DYN, (s) => cache.value(s, false)),
      celFunc("semver", [STRING, BOOL], DYN, (s, normalize) => cache.value(s, normalize)),
      celFunc("isSemver", [STRING], BOOL, (s) => typeof cache.parse(s) !== "string"),
      celFunc(
        "isSemver",
        [STRING, BOOL],
        BOOL,
        (s, normalize) => typeof cache.parse(normalize ? normalizeSemver(s) : s) !== "string",
      ),
      celMethod("major", DYN, [], INT, function () {
        return cache.of(this, "major").major;
      }),
      celMethod("minor", DYN, [], INT, function () {
        return cache.of(this, "minor").minor;
      }),
      celMethod("patch", DYN, [], INT, function () {
        return cache.of(this, "patch").patch;
      }),
    ],
    compare(target, other, method) {
      if (opaqueValue("semver", target) === undefined) return undefined;
      return compareSemver(cache.of(target, method), cache.of(other, method));
    },
  };
}
