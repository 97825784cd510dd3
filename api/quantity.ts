// Kubernetes resource quantities ("500m", "4Gi", "1e3", "0.5"), exact: parsed by the rules of
// resource.ParseQuantity, compared and summed as integers times a power of ten, and written
// back in the API server's canonical form. The value is kept the way Kubernetes keeps it
// (digits and decimal scale as written, or rounded to nano units), because its float
// conversion, AsApproximateFloat64, depends on that representation.

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

export interface Quantity {
  /** The value is unscaled × 10^scale; a non-zero value is a whole number of nano units. */
  readonly unscaled: bigint;
  readonly scale: number;
  /** The suffix family the text was written in; it decides how the value is written back. */
  readonly format: QuantityFormat;
}

// Kubernetes' own error texts.
const formatError =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const suffixError = "unable to parse quantity's suffix";

export class QuantityError extends Error {
  override name = "QuantityError";
  readonly text: string;
  constructor(text: string, reason: string) {
    super(`${JSON.stringify(text)} is not a resource quantity: ${reason}`);
    this.text = text;
  }
}

/**
 * Exponents written as e±N beyond this are refused. Kubernetes takes far larger ones, but exact
 * sums across such scales cost time and memory without bound, and no resource needs them.
 */
export const maxQuantityExponent = 1000;

const decimalSuffixes = new Map<string, number>([
  ["n", -9],
  ["u", -6],
  ["m", -3],
  ["", 0],
  ["k", 3],
  ["M", 6],
  ["G", 9],
  ["T", 12],
  ["P", 15],
  ["E", 18],
]);
const binarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
const decimalSuffixByExponent = new Map([...decimalSuffixes].map(([suffix, exponent]) => [exponent, suffix]));

// The shape Kubernetes' scanner accepts: sign, digits, fraction, suffix letters, exponent.
const quantityPattern = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*[+-]?[0-9]*)$/;
const int64Max = (1n << 63n) - 1n;
const int64Min = -(1n << 63n);
/** Digits that always fit an int64, as Kubernetes counts them for its fast path. */
const int64Digits = 18;
const nanoScale = -9;

interface Suffix {
  base: 10 | 2;
  exponent: number;
  format: QuantityFormat;
}

function interpretSuffix(suffix: string): Suffix | undefined {
  const decimal = decimalSuffixes.get(suffix);
  if (decimal !== undefined) return { base: 10, exponent: decimal, format: "DecimalSI" };
  const binary = binarySuffixes.indexOf(suffix);
  if (binary > 0) return { base: 2, exponent: binary * 10, format: "BinarySI" };
  if (
    suffix.length > 1 &&
    (suffix[0] === "e" || suffix[0] === "E") &&
    /^[+-]?[0-9]+$/.test(suffix.slice(1))
  ) {
    const exponent = BigInt(suffix.slice(1));
    if (exponent > int64Max || exponent < int64Min) return undefined;
    return { base: 10, exponent: Number(exponent), format: "DecimalExponent" };
  }
  return undefined;
}

/** n / 10^digits, rounded away from zero. */
function divideAwayFromZero(n: bigint, digits: number): bigint {
  const divisor = 10n ** BigInt(digits);
  const quotient = n / divisor;
  if (quotient * divisor === n) return quotient;
  return n < 0n ? quotient - 1n : quotient + 1n;
}

/**
 * resource.ParseQuantity, or the reason the text is not a quantity. Unlike Kubernetes' scanner,
 * a number needs a digit: its documented grammar asks for one, while the scanner reads "Mi",
 * "e8" and "." as zero.
 */
function parse(text: string): Quantity | string {
  const match = quantityPattern.exec(text);
  if (!match) return formatError;
  const [, sign = "", whole = "", fraction = "", suffixText = ""] = match;
  const suffix = interpretSuffix(suffixText);
  if (!suffix) return suffixError;
  if (whole === "" && fraction === "") return formatError;
  if (suffix.format === "DecimalExponent" && Math.abs(suffix.exponent) > maxQuantityExponent) {
    return `the exponent is beyond ±${maxQuantityExponent}`;
  }
  const negative = sign === "-";
  const integer = whole.replace(/^0+/, "") || "0";
  const digits = BigInt(integer + fraction);

  // Kubernetes keeps small amounts as an int64 with the scale as written.
  let fitsInt64: boolean;
  let multiplier = 1n;
  let scale: number;
  if (suffix.base === 10) {
    scale = suffix.exponent - fraction.length;
    fitsInt64 = integer.length + fraction.length <= int64Digits && scale >= nanoScale;
  } else {
    multiplier = 1n << BigInt(suffix.exponent);
    scale = 0;
    const precision = 15 - integer.length - Math.trunc((suffix.exponent * 3) / 10) - 1;
    fitsInt64 = fraction === "" && precision >= 0;
  }
  if (fitsInt64 && digits * multiplier <= int64Max) {
    const unscaled = digits * multiplier;
    return { unscaled: negative ? -unscaled : unscaled, scale, format: suffix.format };
  }

  // Otherwise it keeps an exact decimal, rounded away from zero to whole nano units.
  let unscaled = digits * multiplier;
  scale = suffix.base === 10 ? suffix.exponent - fraction.length : -fraction.length;
  let format = suffix.format;
  if (unscaled === 0n) return { unscaled: 0n, scale: 0, format };
  if (scale < nanoScale) unscaled = divideAwayFromZero(unscaled, nanoScale - scale);
  else unscaled *= 10n ** BigInt(scale - nanoScale);
  scale = nanoScale;
  if (format === "BinarySI") {
    // Binary amounts are capped at the largest int64, and those below one are decimal.
    if (unscaled > int64Max * 10n ** 9n)
      return { unscaled: negative ? -int64Max : int64Max, scale: 0, format };
    if (unscaled < 10n ** 9n) format = "DecimalSI";
  }
  return { unscaled: negative ? -unscaled : unscaled, scale, format };
}

/** Parses a quantity; throws a QuantityError naming the text and Kubernetes' reason otherwise. */
export function parseQuantity(text: string): Quantity {
  const result = parse(text);
  if (typeof result === "string") throw new QuantityError(text, result);
  return result;
}

/** The quantity, or undefined when the text is not one. */
export function tryParseQuantity(text: string): Quantity | undefined {
  const result = parse(text);
  return typeof result === "string" ? undefined : result;
}

export function isQuantity(text: string): boolean {
  return tryParseQuantity(text) !== undefined;
}

/** An integer amount, as resource.NewQuantity makes it. */
export function quantityFromInteger(value: bigint, format: QuantityFormat = "DecimalSI"): Quantity {
  return { unscaled: value, scale: 0, format };
}

function unscaledAt(q: Quantity, scale: number): bigint {
  return q.unscaled * 10n ** BigInt(q.scale - scale);
}

export function quantitySign(q: Quantity): -1 | 0 | 1 {
  return q.unscaled === 0n ? 0 : q.unscaled > 0n ? 1 : -1;
}

/** -1, 0 or 1 as a is less than, equal to or greater than b (Quantity.Cmp). */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const scale = Math.min(a.scale, b.scale);
  const x = unscaledAt(a, scale);
  const y = unscaledAt(b, scale);
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Equal amounts however written: "1Gi" equals "1024Mi", "0.5" equals "500m" (Quantity.Equal). */
export function quantitiesEqual(a: Quantity, b: Quantity): boolean {
  return compareQuantities(a, b) === 0;
}

/** The exact sum; it keeps a's format unless a is zero, as Quantity.Add does. */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
  const format = a.unscaled === 0n ? b.format : a.format;
  if (b.unscaled === 0n) return { ...a, format };
  if (a.unscaled === 0n) return b;
  const scale = Math.min(a.scale, b.scale);
  return { unscaled: unscaledAt(a, scale) + unscaledAt(b, scale), scale, format };
}

/** The exact difference a - b; it keeps a's format unless a is zero, as Quantity.Sub does. */
export function subtractQuantities(a: Quantity, b: Quantity): Quantity {
  return addQuantities(a, { ...b, unscaled: -b.unscaled });
}

/** The value when it is a whole number within int64, else undefined. */
export function quantityToInt64(q: Quantity): bigint | undefined {
  let value: bigint;
  if (q.scale >= 0) {
    if (q.unscaled !== 0n && q.scale > 19) return undefined;
    value = q.unscaled * 10n ** BigInt(q.scale);
  } else {
    const divisor = 10n ** BigInt(-q.scale);
    if (q.unscaled % divisor !== 0n) return undefined;
    value = q.unscaled / divisor;
  }
  return value <= int64Max && value >= int64Min ? value : undefined;
}

/** Go's math.Pow10: exact table entries multiplied or divided, as float64 constants are rounded. */
function pow10(n: number): number {
  if (n > 308) return Infinity;
  if (n < -323) return 0;
  const magnitude = Math.abs(n);
  const coarse = `${32 * Math.trunc(magnitude / 32)}`;
  const fine = Number(`1e${magnitude % 32}`);
  return n >= 0 ? Number(`1e${coarse}`) * fine : Number(`1e-${coarse}`) / fine;
}

/** The value as a float64, computed as Quantity.AsApproximateFloat64 computes it. */
export function quantityToNumber(q: Quantity): number {
  const base = Number(q.unscaled);
  return q.scale === 0 ? base : base * pow10(q.scale);
}

/** The mantissa without trailing zeros and its decimal exponent, lowered to a multiple of 3. */
function canonicalDecimal(magnitude: bigint, scale: number): { mantissa: bigint; exponent: number } {
  let mantissa = magnitude;
  let exponent = scale;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  while (exponent % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  return { mantissa, exponent };
}

/**
 * The canonical text, as the API server writes a quantity: no fraction, the largest exponent or
 * suffix that keeps the value exact, and the format it was written in. Binary amounts below
 * 1Ki or with a fraction are written in decimal. Beyond E (10^18) a decimal amount takes an
 * exponent, and beyond Ei the binary suffix stays at Ei, where Kubernetes would drop it.
 */
export function formatQuantity(q: Quantity): string {
  if (q.unscaled === 0n) return "0";
  const sign = q.unscaled < 0n ? "-" : "";
  const magnitude = q.unscaled < 0n ? -q.unscaled : q.unscaled;
  if (q.format === "BinarySI") {
    const integer = q.scale >= 0 ? magnitude * 10n ** BigInt(q.scale) : undefined;
    const divisor = 10n ** BigInt(Math.max(0, -q.scale));
    const units = integer ?? (magnitude % divisor === 0n ? magnitude / divisor : undefined);
    if (units !== undefined && units >= 1024n) {
      let mantissa = units;
      let power = 0;
      while (power < binarySuffixes.length - 1 && mantissa % 1024n === 0n) {
        mantissa /= 1024n;
        power++;
      }
      return `${sign}${mantissa}${binarySuffixes[power]}`;
    }
  }
  const { mantissa, exponent } = canonicalDecimal(magnitude, q.scale);
  const suffix = q.format === "DecimalExponent" ? undefined : decimalSuffixByExponent.get(exponent);
  return `${sign}${mantissa}${suffix ?? (exponent === 0 ? "" : `e${exponent}`)}`;
}
