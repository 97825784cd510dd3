// Go's time.ParseDuration, which OCM's duration fields (rollout timeouts, evaluation intervals,
// the agent's grace periods) are parsed with, in milliseconds and with Go's error messages.

export type ParsedDuration = { ok: true; value: number } | { ok: false; error: string };

const durationUnits: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration ("90s", "1h30m", "0") in milliseconds, with Go's error messages. */
export function parseGoDuration(text: string): ParsedDuration {
  const invalid = { ok: false as const, error: `time: invalid duration ${JSON.stringify(text)}` };
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return { ok: true, value: 0 };
  if (rest === "") return invalid;
  let total = 0;
  while (rest !== "") {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const [matched, whole = "", fraction] = number;
    if (whole === "" && (fraction === undefined || fraction === "")) return invalid;
    rest = rest.slice(matched.length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === "") return { ok: false, error: `time: missing unit in duration ${JSON.stringify(text)}` };
    const scale = durationUnits[unit];
    if (scale === undefined) {
      return {
        ok: false,
        error: `time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`,
      };
    }
    rest = rest.slice(unit.length);
    total += Number(`${whole || "0"}.${fraction ?? ""}0`) * scale;
  }
  return { ok: true, value: sign * total };
}
