// Kubernetes resource quantities ("500m", "4Gi", "1e3"), for CEL and for the resource
// prioritizers: quantity(s), isQuantity(s), and the methods sign(), isInteger(), asInteger(),
// asApproximateFloat(), add(q|int), sub(q|int), isLessThan(q), isGreaterThan(q), compareTo(q).
import { CelScalar, celFunc, celMethod, type CelFunc, type CelValue } from "@bufbuild/cel";
import { celTypeName, opaque, opaqueValue } from "./values.ts";

const pattern = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([KMGTPE]i)|([numkMGTPE])|[eE]([+-]?[0-9]+))?$/;

const binary: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const decimal: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Exponents beyond this are refused rather than turned into huge numbers. */
const maxExponent = 60;

export interface Quantity {
  /** The value in units of 10^-9, rounded up as Kubernetes rounds sub-nano fractions. */
  nanos: bigint;
  /** An approximation as a float64, computed the way Kubernetes' AsApproximateFloat64 does. */
  approximate: number;
}

function ceilDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d !== 0n && n > 0n ? q + 1n : q;
}

/** Parses a quantity, or returns an error message. */
export function parseQuantity(text: string | number): Quantity | string {
  const source = typeof text === "number" ? String(text) : text;
  const m = pattern.exec(source);
  if (!m) return `${JSON.stringify(source)} is not a quantity`;
  const negative = m[1] === "-";
  const [whole = "", fraction = ""] = m[2]!.split(".");
  const digits = BigInt((whole || "0") + fraction) * (negative ? -1n : 1n);
  let exponent = -fraction.length;
  let multiplier = 1n;
  if (m[3]) multiplier = 1n << binary[m[3]]!;
  else if (m[4]) exponent += decimal[m[4]]!;
  else if (m[5] !== undefined) exponent += Number(m[5]);
  if (Math.abs(exponent) > maxExponent) return `${JSON.stringify(source)} is out of range`;
  const scaled = digits * multiplier;
  const nanoExponent = exponent + 9;
  const nanos =
    nanoExponent >= 0 ? scaled * 10n ** BigInt(nanoExponent) : ceilDiv(scaled, 10n ** BigInt(-nanoExponent));
  const base = Number(scaled);
  const approximate = exponent === 0 ? base : base * Math.pow(10, exponent);
  return { nanos, approximate };
}

const nano = 1_000_000_000n;
const int64Max = (1n << 63n) - 1n;
const int64Min = -(1n << 63n);

function fromNanos(nanos: bigint): CelValue {
  return opaque("quantity", nanos.toString());
}

function nanosOf(value: CelValue | undefined, method: string): bigint {
  const text = opaqueValue("quantity", value);
  if (text === undefined) throw new Error(`no such overload: ${celTypeName(value)}.${method}`);
  return BigInt(text);
}

function operand(value: CelValue, method: string): bigint {
  if (typeof value === "bigint") return value * nano;
  return nanosOf(value, method);
}

const { STRING, BOOL, INT, DOUBLE, DYN } = CelScalar;

export interface QuantityLibrary {
  functions: CelFunc[];
  compare(target: CelValue, other: CelValue, method: string): number | undefined;
}

export function quantityLibrary(): QuantityLibrary {
  const cache = new Map<string, CelValue | string>();
  const toValue = (text: string): CelValue => {
    let v = cache.get(text);
    if (v === undefined) {
      if (cache.size > 10_000) cache.clear();
      const parsed = parseQuantity(text);
      v = typeof parsed === "string" ? parsed : fromNanos(parsed.nanos);
      cache.set(text, v);
    }
    if (typeof v === "string") throw new Error(`invalid quantity: ${v}`);
    return v;
  };
  const functions: CelFunc[] = [
    celFunc("quantity", [STRING], DYN, toValue),
    celFunc("isQuantity", [STRING], BOOL, (s) => typeof parseQuantity(s) !== "string"),
    celMethod("sign", DYN, [], INT, function () {
      const n = nanosOf(this, "sign");
      return n === 0n ? 0n : n > 0n ? 1n : -1n;
    }),
    celMethod("isInteger", DYN, [], BOOL, function () {
      const n = nanosOf(this, "isInteger");
      return n % nano === 0n && n / nano <= int64Max && n / nano >= int64Min;
    }),
    celMethod("asInteger", DYN, [], INT, function () {
      const n = nanosOf(this, "asInteger");
      if (n % nano !== 0n || n / nano > int64Max || n / nano < int64Min) {
        throw new Error("cannot convert value to integer");
      }
      return n / nano;
    }),
    celMethod("asApproximateFloat", DYN, [], DOUBLE, function () {
      return Number(nanosOf(this, "asApproximateFloat")) / 1e9;
    }),
    celMethod("add", DYN, [DYN], DYN, function (other) {
      return fromNanos(nanosOf(this, "add") + operand(other, "add"));
    }),
    celMethod("sub", DYN, [DYN], DYN, function (other) {
      return fromNanos(nanosOf(this, "sub") - operand(other, "sub"));
    }),
  ];
  return { functions, compare: quantityCompare };
}

function quantityCompare(target: CelValue, other: CelValue, method: string): number | undefined {
  if (opaqueValue("quantity", target) === undefined) return undefined;
  const a = nanosOf(target, method);
  const b = nanosOf(other, method);
  return a === b ? 0 : a < b ? -1 : 1;
}
