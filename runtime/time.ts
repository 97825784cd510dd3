// The two time formats of the Kubernetes API: metav1.Time (RFC 3339 in whole seconds) and
// metav1.MicroTime (six fractional digits), and parsing of either.

/** RFC 3339 in whole seconds, as metav1.Time serialises. */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * A metav1.MicroTime as the API server writes it: RFC 3339 in UTC with exactly six fractional
 * digits, e.g. 2026-11-21T20:11:03.123456Z. `ms` may carry a fraction (microseconds).
 */
export function formatMicroTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${ms}`);
  const micros = Math.round(ms * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  const date = new Date(seconds * 1000);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) throw new RangeError(`time out of range: ${ms}`);
  const fraction = String(micros - seconds * 1_000_000).padStart(6, "0");
  return `${date.toISOString().slice(0, 19)}.${fraction}Z`;
}

const rfc3339 =
  /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d\d):(\d\d))$/;

/**
 * Milliseconds since the epoch (with microseconds as the fraction) of an RFC 3339 time, as
 * MicroTime or Time writes it; undefined for anything else.
 */
export function parseMicroTime(text: string): number | undefined {
  const m = rfc3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction = "", zulu, sign, offsetH, offsetM] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const wholeMs = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 February over into March: refuse dates that do not exist.
  if (new Date(wholeMs).getUTCDate() !== day) return undefined;
  const micros = Number(fraction.padEnd(6, "0").slice(0, 6));
  let offsetMs = 0;
  if (!zulu) {
    const [oh, om] = [Number(offsetH), Number(offsetM)];
    if (oh > 23 || om > 59) return undefined;
    offsetMs = (sign === "-" ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return wholeMs - offsetMs + micros / 1000;
}
