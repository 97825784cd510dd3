// Go's path/filepath.Match on a Unix system, which OCM uses for namespaceSelector include
// and exclude patterns: `*`, `?`, `[...]` classes with ranges and `^` negation, `\` escapes.

export class BadPatternError extends Error {
  override name = "BadPatternError";
  constructor(options?: ErrorOptions) {
    super("syntax error in pattern", options);
  }
}

function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

function escapeClass(char: string): string {
  return /[\\^\][-]/.test(char) ? `\\${char}` : char;
}

function compile(pattern: string): RegExp | BadPatternError {
  const chars = [...pattern];
  let source = "^";
  let i = 0;
  while (i < chars.length) {
    const char = chars[i]!;
    if (char === "*") {
      source += "[^/]*";
      i++;
    } else if (char === "?") {
      source += "[^/]";
      i++;
    } else if (char === "\\") {
      const next = chars[i + 1];
      if (next === undefined) return new BadPatternError();
      source += escapeRegExp(next);
      i += 2;
    } else if (char === "[") {
      i++;
      let negated = false;
      if (chars[i] === "^") {
        negated = true;
        i++;
      }
      const ranges: string[] = [];
      let first = true;
      for (;;) {
        const current = chars[i];
        if (current === undefined) return new BadPatternError();
        if (current === "]" && !first) {
          i++;
          break;
        }
        first = false;
        const lo = classChar(chars, i);
        if (!lo) return new BadPatternError();
        i = lo.next;
        if (chars[i] === "-") {
          const hi = classChar(chars, i + 1);
          if (!hi) return new BadPatternError();
          i = hi.next;
          ranges.push(lo.char <= hi.char ? `${escapeClass(lo.char)}-${escapeClass(hi.char)}` : "(?!)");
        } else {
          ranges.push(escapeClass(lo.char));
        }
      }
      const body = ranges.filter((range) => range !== "(?!)").join("");
      if (negated) source += body ? `[^/${body}]` : "[^/]";
      else source += body ? `[${body}]` : "(?!)";
    } else {
      source += escapeRegExp(char);
      i++;
    }
  }
  return new RegExp(`${source}$`, "u");
}

function classChar(chars: string[], at: number): { char: string; next: number } | undefined {
  const char = chars[at];
  if (char === undefined || char === "-" || char === "]") return undefined;
  if (char === "\\") {
    const escaped = chars[at + 1];
    if (escaped === undefined) return undefined;
    return { char: escaped, next: at + 2 };
  }
  return { char, next: at + 1 };
}

/** A matcher for one pattern; throws BadPatternError when the pattern is malformed. */
export function compileGlob(pattern: string): (name: string) => boolean {
  // Without special characters a pattern matches itself only; no expression to build (which
  // for a pattern of many thousand characters the regular-expression engine may refuse).
  if (!/[*?[\\]/.test(pattern)) return (name) => name === pattern;
  const regexp = compile(pattern);
  if (regexp instanceof BadPatternError) throw regexp;
  try {
    regexp.test(""); // compiled on first use: fail here, as a bad pattern, rather than later
  } catch (error) {
    throw new BadPatternError({ cause: error });
  }
  return (name) => regexp.test(name);
}

/** Whether name matches pattern; throws BadPatternError for a malformed pattern. */
export function filepathMatch(pattern: string, name: string): boolean {
  return compileGlob(pattern)(name);
}
