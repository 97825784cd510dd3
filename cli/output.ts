// The -o/--output flag of every command that prints. Each command names the formats it can
// print; commander checks the value while parsing the command line, so a format the command
// cannot print is a usage error (exit 2), never a silent fall back to text.
import { InvalidArgumentError, Option } from "commander";

/**
 * The value of -o when it is one of `allowed`. Otherwise throws commander's
 * InvalidArgumentError, which commander reports as
 * `error: option '-o, --output <format>' argument 'x' is invalid. Allowed formats: a, b.`
 * (the flag, the value and the allowed values).
 */
export function parseOutputFormat<const F extends string>(value: string, allowed: readonly F[]): F {
  if ((allowed as readonly string[]).includes(value)) return value as F;
  throw new InvalidArgumentError(`Allowed formats: ${allowed.join(", ")}.`);
}

/** The same problem as one sentence, for checks made outside commander's parsing. */
export function outputFormatProblem(value: string, allowed: readonly string[]): string | undefined {
  return allowed.includes(value)
    ? undefined
    : `-o/--output must be one of ${allowed.join(", ")}, not ${JSON.stringify(value)}`;
}

/** `-o, --output <format>` restricted to `allowed`, defaulting to `defaultFormat`. */
export function outputOption<const F extends string>(allowed: readonly F[], defaultFormat: F): Option {
  return (
    new Option("-o, --output <format>", "output format")
      .choices(allowed)
      .default(defaultFormat)
      // After choices(): the same check, with the message above.
      .argParser((value: string) => parseOutputFormat(value, allowed))
  );
}
