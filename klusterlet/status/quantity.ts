// Kubernetes resource quantities ("4", "500m", "16Gi", "1e3"), exact to the nano unit, so that
// node resources can be summed and written back in the API server's canonical form.

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

export interface ParsedQuantity {
  /** The value times 10^9. */
  nanos: bigint;
  format: QuantityFormat;
}

const binarySuffixes: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const decimalSuffixes: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const decimalSuffixByExponent = new Map(
  Object.entries(decimalSuffixes).map(([suffix, exp]) => [exp, suffix]),
);

const quantityPattern = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
const nano = 1_000_000_000n;

/** Parses a quantity; throws a RangeError naming the text when it is not one. */
export function parseQuantity(value: string | number): ParsedQuantity {
  const text = String(value).trim();
  const match = quantityPattern.exec(text);
  if (!match) throw new RangeError(`"${text}" is not a resource quantity`);
  const [, sign = "", number = "", suffix = ""] = match;
  const [whole = "", fraction = ""] = number.split(".");
  // value = digits × 10^(exponent10 - fraction.length) × 1024^exponent2
  const digits = BigInt((whole || "0") + fraction);
  let exponent10 = -fraction.length;
  let exponent2 = 0;
  let format: QuantityFormat = "DecimalSI";
  if (suffix in binarySuffixes) {
    exponent2 = 10 * binarySuffixes[suffix]!;
    format = "BinarySI";
  } else if (suffix.startsWith("e") || suffix.startsWith("E")) {
    exponent10 += Number(suffix.slice(1));
    format = "DecimalExponent";
  } else {
    exponent10 += decimalSuffixes[suffix] ?? 0;
  }
  let numerator = digits * 2n ** BigInt(exponent2);
  let denominator = 1n;
  const scale = exponent10 + 9;
  if (scale >= 0) numerator *= 10n ** BigInt(scale);
  else denominator = 10n ** BigInt(-scale);
  // Like the API server, round anything finer than a nano unit up.
  let nanos = numerator / denominator;
  if (nanos * denominator !== numerator) nanos += 1n;
  return { nanos: sign === "-" ? -nanos : nanos, format };
}

/** The canonical text of a quantity, as the API server writes it. */
export function formatQuantity({ nanos, format }: ParsedQuantity): string {
  if (nanos === 0n) return "0";
  const sign = nanos < 0n ? "-" : "";
  const magnitude = nanos < 0n ? -nanos : nanos;
  if (format === "BinarySI" && magnitude >= 1024n * nano && magnitude % nano === 0n) {
    let units = magnitude / nano;
    let power = 0;
    while (power < 6 && units % 1024n === 0n) {
      units /= 1024n;
      power++;
    }
    const suffix = Object.keys(binarySuffixes).find((key) => binarySuffixes[key] === power) ?? "";
    return `${sign}${units}${suffix}`;
  }
  // Decimal: the largest power of 1000 that leaves a whole mantissa.
  let mantissa = magnitude;
  let exponent = -9;
  while (exponent < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exponent += 3;
  }
  if (format === "DecimalExponent") return `${sign}${mantissa}${exponent === 0 ? "" : `e${exponent}`}`;
  return `${sign}${mantissa}${decimalSuffixByExponent.get(exponent) ?? ""}`;
}

/** The sum keeps the format of the first non-zero term, as Quantity.Add does. */
export function addQuantities(a: ParsedQuantity, b: ParsedQuantity): ParsedQuantity {
  return { nanos: a.nanos + b.nanos, format: a.nanos === 0n ? b.format : a.format };
}

export function canonicalQuantity(value: string | number): string {
  return formatQuantity(parseQuantity(value));
}
