// The value of the open-cluster-management.io/config-spec-hash annotation: the hex MD5 of the
// object printed the way Go's fmt prints an *unstructured.Unstructured with %v
// (`&{map[apiVersion:v1 kind:ConfigMap ...]}`: map keys sorted, strings bare, nil as <nil>).
// Printing the same text keeps the hash equal to the one OCM's agent writes, so taking over
// from it does not re-apply every server-side-applied manifest.
import { createHash } from "node:crypto";

/** Orders strings by their UTF-8 bytes, as Go sorts string map keys. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** A float64 as Go's %v prints it: shortest digits, exponent form below 1e-4 or from 1e6. */
function formatFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  if (Object.is(value, -0)) return "-0";
  const exponential = value.toExponential();
  const [mantissa = "", exponentText = "0"] = exponential.split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return String(value);
}

/**
 * A JSON number as Go holds it after decoding into unstructured content: integers become
 * int64 (printed in full), other numbers float64. Integral values beyond int64 are float64.
 */
function formatNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 63) {
    return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
  }
  return formatFloat(value);
}

/** One JSON value printed like Go's %v of the same decoded value. */
export function goValueString(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return formatNumber(value);
  if (Array.isArray(value)) return `[${value.map(goValueString).join(" ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => compareKeys(a, b));
    return `map[${entries.map(([k, v]) => `${k}:${goValueString(v)}`).join(" ")}]`;
  }
  return typeof value === "bigint" ? value.toString() : "";
}

/** The config-spec-hash of an object. */
export function configSpecHash(object: Record<string, unknown>): string {
  return createHash("md5")
    .update(`&{${goValueString(object)}}`, "utf8")
    .digest("hex");
}
