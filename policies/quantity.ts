// Kubernetes resource quantities ("1Gi", "500m", "1e3"), parsed exactly as rationals so that
// equal amounts written differently compare equal, as resource.Quantity.Equal does.

export interface Quantity {
  /** value = numerator / denominator, denominator > 0. */
  numerator: bigint;
  denominator: bigint;
}

const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
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

const numberPattern = /^([+-]?)(\d*)(?:\.(\d*))?/;

/** Parses a quantity; undefined when the text is not one. */
export function parseQuantity(text: string): Quantity | undefined {
  const match = numberPattern.exec(text);
  if (!match) return undefined;
  const [whole, sign = "", integer = "", fraction = ""] = match;
  if (integer === "" && fraction === "") return undefined;
  const suffix = text.slice(whole.length);
  let numerator = BigInt((integer || "0") + fraction);
  let denominator = 10n ** BigInt(fraction.length);
  if (sign === "-") numerator = -numerator;
  const binary = binarySuffixes[suffix];
  if (binary !== undefined) {
    numerator *= 2n ** BigInt(binary);
  } else {
    let exponent = decimalSuffixes[suffix];
    if (exponent === undefined) {
      const exponentMatch = /^[eE]([+-]?\d+)$/.exec(suffix);
      if (!exponentMatch) return undefined;
      exponent = Number(exponentMatch[1]);
      if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) return undefined;
    }
    if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
    else denominator *= 10n ** BigInt(-exponent);
  }
  return { numerator, denominator };
}

export function quantitiesEqual(a: Quantity, b: Quantity): boolean {
  return a.numerator * b.denominator === b.numerator * a.denominator;
}
