// A lexer and parser for Go's text/template language, producing a tree whose nodes print
// and locate themselves as Go's do, so error messages carry Go's positions and contexts.

export class TemplateParseError extends Error {
  override name = "TemplateParseError";
}

type TokenType =
  | "text"
  | "leftDelim"
  | "rightDelim"
  | "space"
  | "identifier"
  | "field"
  | "variable"
  | "keyword"
  | "string"
  | "rawString"
  | "char"
  | "number"
  | "bool"
  | "nil"
  | "dot"
  | "pipe"
  | "leftParen"
  | "rightParen"
  | "declare"
  | "assign"
  | "comma"
  | "comment"
  | "eof";

interface Token {
  type: TokenType;
  value: string;
  pos: number;
  line: number;
}

const keywords = new Set([
  "if",
  "else",
  "end",
  "range",
  "with",
  "define",
  "template",
  "block",
  "break",
  "continue",
]);

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}

function isAlphaNumeric(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{Nd}_]/u.test(c);
}

/** Splits template text into tokens, as text/template's lexer does. */
function lex(input: string, left: string, right: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  const emit = (type: TokenType, start: number, value: string, startLine: number) => {
    tokens.push({ type, value, pos: start, line: startLine });
  };
  const count = (text: string) => {
    for (const c of text) if (c === "\n") line++;
  };
  const error: (message: string) => never = (message) => {
    throw new TemplateParseError(`${line}: ${message}`);
  };
  while (pos < input.length) {
    const next = input.indexOf(left, pos);
    const end = next < 0 ? input.length : next;
    let textEnd = end;
    let trimLeft = false;
    if (next >= 0 && input[next + left.length] === "-" && isSpace(input[next + left.length + 1])) {
      trimLeft = true;
      while (textEnd > pos && isSpace(input[textEnd - 1])) textEnd--;
    }
    if (textEnd > pos) {
      const text = input.slice(pos, textEnd);
      emit("text", pos, text, line);
    }
    count(input.slice(pos, end));
    if (next < 0) break;
    // Inside an action.
    pos = next + left.length + (trimLeft ? 2 : 0);
    // Comments.
    if (input.startsWith("/*", pos)) {
      const close = input.indexOf("*/", pos);
      if (close < 0) error("unclosed comment");
      const startLine = line;
      count(input.slice(pos, close));
      let after = close + 2;
      let trimRight = false;
      if (isSpace(input[after]) && input[after + 1] === "-" && input.startsWith(right, after + 2)) {
        trimRight = true;
        after += 2;
      }
      if (!input.startsWith(right, after)) error("comment ends before closing delimiter");
      emit("comment", next, input.slice(next, after + right.length), startLine);
      pos = after + right.length;
      if (trimRight) {
        while (pos < input.length && isSpace(input[pos])) {
          if (input[pos] === "\n") line++;
          pos++;
        }
      }
      continue;
    }
    emit("leftDelim", next, left, line);
    let parenDepth = 0;
    for (;;) {
      // Right delimiter, with an optional trim marker.
      if (isSpace(input[pos]) && input[pos + 1] === "-" && input.startsWith(right, pos + 2)) {
        emit("rightDelim", pos + 2, right, line);
        pos += 2 + right.length;
        while (pos < input.length && isSpace(input[pos])) {
          if (input[pos] === "\n") line++;
          pos++;
        }
        break;
      }
      if (input.startsWith(right, pos)) {
        if (parenDepth > 0) error("unclosed left paren");
        emit("rightDelim", pos, right, line);
        pos += right.length;
        break;
      }
      const c = input[pos];
      if (c === undefined) error("unclosed action");
      const start = pos;
      const startLine = line;
      if (isSpace(c)) {
        while (
          pos < input.length &&
          isSpace(input[pos]) &&
          !(input[pos + 1] === "-" && input.startsWith(right, pos + 2))
        ) {
          if (input[pos] === "\n") line++;
          pos++;
        }
        if (pos === start) {
          pos++;
        }
        emit("space", start, input.slice(start, pos), startLine);
        continue;
      }
      if (c === "=") {
        emit("assign", start, "=", line);
        pos++;
        continue;
      }
      if (c === ":") {
        if (input[pos + 1] !== "=") error("expected :=");
        emit("declare", start, ":=", line);
        pos += 2;
        continue;
      }
      if (c === "|") {
        emit("pipe", start, "|", line);
        pos++;
        continue;
      }
      if (c === ",") {
        emit("comma", start, ",", line);
        pos++;
        continue;
      }
      if (c === "(") {
        parenDepth++;
        emit("leftParen", start, "(", line);
        pos++;
        continue;
      }
      if (c === ")") {
        parenDepth--;
        if (parenDepth < 0) error(`unexpected right paren`);
        emit("rightParen", start, ")", line);
        pos++;
        continue;
      }
      if (c === '"') {
        pos++;
        while (input[pos] !== '"') {
          if (input[pos] === "\\") pos++;
          if (pos >= input.length || input[pos] === "\n") error("unterminated quoted string");
          pos++;
        }
        pos++;
        emit("string", start, input.slice(start, pos), line);
        continue;
      }
      if (c === "`") {
        const close = input.indexOf("`", pos + 1);
        if (close < 0) error("unterminated raw quoted string");
        count(input.slice(pos, close));
        pos = close + 1;
        emit("rawString", start, input.slice(start, pos), startLine);
        continue;
      }
      if (c === "'") {
        pos++;
        while (input[pos] !== "'") {
          if (input[pos] === "\\") pos++;
          if (pos >= input.length || input[pos] === "\n") error("unterminated character constant");
          pos++;
        }
        pos++;
        emit("char", start, input.slice(start, pos), line);
        continue;
      }
      if (c === "$") {
        pos++;
        while (isAlphaNumeric(input[pos])) pos++;
        emit("variable", start, input.slice(start, pos), line);
        continue;
      }
      if (c === ".") {
        const following = input[pos + 1];
        if (following !== undefined && /[0-9]/.test(following)) {
          const match = /^[+-]?[0-9_.]+(?:[eE][+-]?[0-9_]+)?i?/.exec(input.slice(pos))!;
          pos += match[0].length;
          emit("number", start, match[0], line);
          continue;
        }
        pos++;
        if (!isAlphaNumeric(input[pos])) {
          emit("dot", start, ".", line);
          continue;
        }
        while (isAlphaNumeric(input[pos])) pos++;
        emit("field", start, input.slice(start, pos), line);
        continue;
      }
      if (/[0-9+-]/.test(c)) {
        const match =
          /^[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)i?/.exec(
            input.slice(pos),
          )!;
        if (match[0] === "" || match[0] === "+" || match[0] === "-")
          error(`bad character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} '${c}'`);
        pos += match[0].length;
        if (isAlphaNumeric(input[pos])) error(`bad number syntax: "${input.slice(start, pos + 1)}"`);
        emit("number", start, match[0], line);
        continue;
      }
      if (isAlphaNumeric(c)) {
        while (isAlphaNumeric(input[pos])) pos++;
        const word = input.slice(start, pos);
        if (keywords.has(word)) emit("keyword", start, word, line);
        else if (word === "true" || word === "false") emit("bool", start, word, line);
        else if (word === "nil") emit("nil", start, word, line);
        else emit("identifier", start, word, line);
        continue;
      }
      error(`unexpected "${c}" in command`);
    }
  }
  tokens.push({ type: "eof", value: "", pos: input.length, line });
  return tokens;
}

// Nodes ---------------------------------------------------------------------------------------

export interface NodeBase {
  pos: number;
}

export type Node =
  | TextNode
  | ActionNode
  | IfNode
  | RangeNode
  | WithNode
  | TemplateNode
  | BreakNode
  | ContinueNode
  | CommentNode;

export interface TextNode extends NodeBase {
  type: "text";
  text: string;
}
export interface CommentNode extends NodeBase {
  type: "comment";
}
export interface ActionNode extends NodeBase {
  type: "action";
  line: number;
  pipe: PipeNode;
}
export interface BranchNode extends NodeBase {
  line: number;
  pipe: PipeNode;
  list: ListNode;
  elseList?: ListNode;
}
export interface IfNode extends BranchNode {
  type: "if";
}
export interface RangeNode extends BranchNode {
  type: "range";
}
export interface WithNode extends BranchNode {
  type: "with";
}
export interface TemplateNode extends NodeBase {
  type: "template";
  line: number;
  name: string;
  pipe?: PipeNode;
}
export interface BreakNode extends NodeBase {
  type: "break";
}
export interface ContinueNode extends NodeBase {
  type: "continue";
}
export interface ListNode extends NodeBase {
  type: "list";
  nodes: Node[];
}

export interface PipeNode extends NodeBase {
  type: "pipe";
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode extends NodeBase {
  type: "command";
  args: ArgNode[];
}
export type ArgNode =
  | FieldNode
  | VariableNode
  | IdentifierNode
  | ChainNode
  | PipeNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode;
export interface FieldNode extends NodeBase {
  type: "field";
  ident: string[];
}
export interface VariableNode extends NodeBase {
  type: "variable";
  ident: string[];
}
export interface IdentifierNode extends NodeBase {
  type: "identifier";
  ident: string;
}
export interface ChainNode extends NodeBase {
  type: "chain";
  node: ArgNode;
  field: string[];
}
export interface DotNode extends NodeBase {
  type: "dot";
}
export interface NilNode extends NodeBase {
  type: "nil";
}
export interface BoolNode extends NodeBase {
  type: "bool";
  value: boolean;
}
export interface NumberNode extends NodeBase {
  type: "number";
  text: string;
  value: number;
  isInt: boolean;
}
export interface StringNode extends NodeBase {
  type: "string";
  quoted: string;
  text: string;
}

/** The node as Go's Node.String() prints it (used in error contexts). */
export function nodeString(node: ArgNode | CommandNode | Node | ListNode): string {
  switch (node.type) {
    case "field":
      return node.ident.map((ident) => `.${ident}`).join("");
    case "variable":
      return node.ident.join(".");
    case "identifier":
      return node.ident;
    case "chain": {
      const inner = node.node.type === "pipe" ? `(${nodeString(node.node)})` : nodeString(node.node);
      return inner + node.field.map((field) => `.${field}`).join("");
    }
    case "pipe": {
      let text = "";
      if (node.decl.length > 0)
        text = `${node.decl.map(nodeString).join(", ")} ${node.isAssign ? "=" : ":="} `;
      return text + node.cmds.map(nodeString).join(" | ");
    }
    case "command":
      return node.args
        .map((arg) => (arg.type === "pipe" ? `(${nodeString(arg)})` : nodeString(arg)))
        .join(" ");
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return node.value ? "true" : "false";
    case "number":
      return node.text;
    case "string":
      return node.quoted;
    case "action":
      return `{{${nodeString(node.pipe)}}}`;
    case "template":
      return node.pipe
        ? `{{template ${JSON.stringify(node.name)} ${nodeString(node.pipe)}}}`
        : `{{template ${JSON.stringify(node.name)}}}`;
    case "text":
      return node.text;
    case "list":
      return node.nodes.map(nodeString).join("");
    case "if":
    case "range":
    case "with":
      return `{{${node.type} ${nodeString(node.pipe)}}}${nodeString(node.list)}${node.elseList ? `{{else}}${nodeString(node.elseList)}` : ""}{{end}}`;
    case "break":
      return "{{break}}";
    case "continue":
      return "{{continue}}";
    case "comment":
      return "{{/* */}}";
  }
}

// Parser -------------------------------------------------------------------------------------

export interface Tree {
  root: ListNode;
  text: string;
  templates: Map<string, ListNode>;
}

function unquote(token: Token): string {
  if (token.type === "rawString") return token.value.slice(1, -1);
  const body = token.value.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i] ?? "";
    switch (e) {
      case "n":
        out += "\n";
        break;
      case "t":
        out += "\t";
        break;
      case "r":
        out += "\r";
        break;
      case "a":
        out += "\x07";
        break;
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "v":
        out += "\v";
        break;
      case "\\":
        out += "\\";
        break;
      case '"':
        out += '"';
        break;
      case "'":
        out += "'";
        break;
      case "x":
        out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case "u":
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case "U":
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        if (e !== undefined && /[0-7]/.test(e)) {
          out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else {
          throw new TemplateParseError(`invalid syntax`);
        }
    }
  }
  return out;
}

function parseNumber(text: string): { value: number; isInt: boolean } | undefined {
  const clean = text.replaceAll("_", "");
  if (clean.endsWith("i")) return undefined;
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(clean))
    return {
      value: Number.parseInt(clean.replace(/0[xX]/, ""), 16) * (clean.startsWith("-") ? -1 : 1),
      isInt: true,
    };
  if (/^[+-]?0[bB][01]+$/.test(clean))
    return {
      value: Number.parseInt(clean.replace(/^[+-]?0[bB]/, ""), 2) * (clean.startsWith("-") ? -1 : 1),
      isInt: true,
    };
  if (/^[+-]?0[oO]?[0-7]+$/.test(clean) && /^[+-]?0/.test(clean) && clean.replace(/^[+-]/, "").length > 1) {
    return {
      value: Number.parseInt(clean.replace(/^[+-]?0[oO]?/, ""), 8) * (clean.startsWith("-") ? -1 : 1),
      isInt: true,
    };
  }
  if (/^[+-]?[0-9]+$/.test(clean)) return { value: Number(clean), isInt: true };
  if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(clean)) {
    const value = Number(clean);
    return { value, isInt: Number.isInteger(value) && !/[.eE]/.test(clean) };
  }
  return undefined;
}

interface Control {
  type: "end" | "else";
  token: Token;
}

function isControl(node: Node | Control): node is Control {
  return node.type === "end" || node.type === "else";
}

class Parser {
  readonly #tokens: Token[];
  #index = 0;
  readonly #functions: (name: string) => boolean;
  readonly #vars: string[][] = [["$"]];
  readonly templates = new Map<string, ListNode>();
  #rangeDepth = 0;

  constructor(tokens: Token[], functions: (name: string) => boolean) {
    this.#tokens = tokens;
    this.#functions = functions;
  }

  #peek(): Token {
    return this.#tokens[this.#index]!;
  }
  #next(): Token {
    return this.#tokens[this.#index++]!;
  }
  #backup(): void {
    this.#index--;
  }
  #nextNonSpace(): Token {
    let token = this.#next();
    while (token.type === "space") token = this.#next();
    return token;
  }
  #peekNonSpace(): Token {
    const token = this.#nextNonSpace();
    this.#backup();
    return token;
  }
  #error(token: Token, message: string): never {
    throw new TemplateParseError(`${token.line}: ${message}`);
  }
  #unexpected(token: Token, context: string): never {
    if (token.type === "eof") this.#error(token, `unexpected EOF`);
    const shown =
      token.type === "rightDelim"
        ? `"${token.value}"`
        : token.type === "space"
          ? "space"
          : `"${token.value}"`;
    const what =
      token.type === "rightDelim" ? `unexpected ${shown} in ${context}` : `unexpected ${shown} in ${context}`;
    this.#error(token, what);
  }
  #expect(type: TokenType, context: string): Token {
    const token = this.#nextNonSpace();
    if (token.type !== type) this.#unexpected(token, context);
    return token;
  }

  parse(): ListNode {
    const root: ListNode = { type: "list", pos: 0, nodes: [] };
    while (this.#peek().type !== "eof") {
      if (this.#peek().type === "leftDelim") {
        const delim = this.#next();
        const token = this.#nextNonSpace();
        if (token.type === "keyword" && (token.value === "define" || token.value === "block")) {
          if (token.value === "define") {
            this.#parseDefine(token);
            continue;
          }
        }
        this.#backup();
        this.#backupToDelim(delim);
      }
      const node = this.#textOrAction();
      if (isControl(node)) this.#error(node.token, `unexpected {{${node.type}}}`);
      else root.nodes.push(node);
    }
    return root;
  }

  #backupToDelim(delim: Token): void {
    while (this.#tokens[this.#index] !== delim) this.#index--;
  }

  #parseDefine(token: Token): void {
    const nameToken = this.#nextNonSpace();
    if (nameToken.type !== "string" && nameToken.type !== "rawString")
      this.#unexpected(nameToken, "define clause");
    this.#expect("rightDelim", "define clause");
    const [list, end] = this.#itemList(token);
    if (end.type !== "end") this.#error(token, "unexpected {{else}} in define");
    this.templates.set(unquote(nameToken), list);
  }

  #itemList(start: Token): [ListNode, { type: "end" | "else"; token: Token }] {
    const list: ListNode = { type: "list", pos: start.pos, nodes: [] };
    while (this.#peekNonSpace().type !== "eof") {
      const node = this.#textOrAction();
      if (isControl(node)) return [list, node];
      list.nodes.push(node);
    }
    this.#error(this.#peek(), "unexpected EOF");
  }

  #textOrAction(): Node | { type: "end" | "else"; token: Token } {
    const token = this.#nextNonSpace();
    if (token.type === "text") return { type: "text", pos: token.pos, text: token.value };
    if (token.type === "comment") return { type: "comment", pos: token.pos };
    if (token.type === "leftDelim") return this.#action();
    return this.#unexpected(token, "input");
  }

  #action(): Node | { type: "end" | "else"; token: Token } {
    const token = this.#nextNonSpace();
    if (token.type === "keyword") {
      switch (token.value) {
        case "block":
          this.#error(token, "block is not supported");
          break;
        case "break":
        case "continue": {
          if (this.#rangeDepth === 0) this.#error(token, `{{${token.value}}} outside {{range}}`);
          this.#expect("rightDelim", token.value);
          return token.value === "break"
            ? { type: "break", pos: token.pos }
            : { type: "continue", pos: token.pos };
        }
        case "else":
          return { type: "else", token };
        case "end":
          this.#expect("rightDelim", "end");
          return { type: "end", token };
        case "if":
        case "range":
        case "with":
          return this.#branch(token, token.value);
        case "template":
          return this.#templateControl(token);
        case "define":
          this.#error(token, "unexpected define");
      }
    }
    this.#backup();
    const pipe = this.#pipeline("command", "rightDelim");
    return { type: "action", pos: token.pos, line: token.line, pipe };
  }

  #templateControl(token: Token): TemplateNode {
    const nameToken = this.#nextNonSpace();
    if (nameToken.type !== "string" && nameToken.type !== "rawString")
      this.#unexpected(nameToken, "template clause");
    let pipe: PipeNode | undefined;
    if (this.#peekNonSpace().type !== "rightDelim") pipe = this.#pipeline("template clause", "rightDelim");
    else this.#nextNonSpace();
    return { type: "template", pos: token.pos, line: token.line, name: unquote(nameToken), pipe };
  }

  #branch(token: Token, kind: "if" | "range" | "with"): IfNode | RangeNode | WithNode {
    this.#vars.push([...this.#vars[this.#vars.length - 1]!]);
    const pipe = this.#pipeline(kind, "rightDelim");
    if (kind === "range") this.#rangeDepth++;
    const [list, first] = this.#itemList(token);
    let next = first;
    if (kind === "range") this.#rangeDepth--;
    let elseList: ListNode | undefined;
    if (next.type === "else") {
      const following = this.#peekNonSpace();
      if (
        (kind === "if" && following.type === "keyword" && following.value === "if") ||
        (kind === "with" && following.type === "keyword" && following.value === "with")
      ) {
        // {{else if ...}} is {{else}}{{if ...}}...{{end}}{{end}}
        const nested = this.#nextNonSpace();
        const inner = this.#branch(nested, kind);
        elseList = { type: "list", pos: nested.pos, nodes: [inner] };
        this.#vars.pop();
        return { type: kind, pos: token.pos, line: token.line, pipe, list, elseList };
      }
      this.#expect("rightDelim", "else");
      [elseList, next] = this.#itemList(next.token);
      if (next.type !== "end") this.#error(next.token, "expected end; found {{else}}");
    }
    this.#vars.pop();
    return { type: kind, pos: token.pos, line: token.line, pipe, list, elseList };
  }

  #pipeline(context: string, end: TokenType): PipeNode {
    const first = this.#peekNonSpace();
    const pipe: PipeNode = { type: "pipe", pos: first.pos, isAssign: false, decl: [], cmds: [] };
    // Declarations: $x := or $x, $y := or $x =
    const start = this.#index;
    const v = this.#nextNonSpace();
    if (v.type === "variable") {
      const next = this.#nextNonSpace();
      if (next.type === "declare" || next.type === "assign") {
        pipe.isAssign = next.type === "assign";
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.value] });
        if (!pipe.isAssign) this.#vars[this.#vars.length - 1]!.push(v.value);
        else if (!this.#hasVar(v.value)) this.#error(v, `undefined variable "${v.value}"`);
      } else if (next.type === "comma" && context === "range") {
        const second = this.#nextNonSpace();
        if (second.type !== "variable") this.#error(second, "range can only initialize variables");
        const declare = this.#nextNonSpace();
        if (declare.type !== "declare" && declare.type !== "assign") this.#unexpected(declare, "range");
        pipe.isAssign = declare.type === "assign";
        pipe.decl.push(
          { type: "variable", pos: v.pos, ident: [v.value] },
          { type: "variable", pos: second.pos, ident: [second.value] },
        );
        if (!pipe.isAssign) this.#vars[this.#vars.length - 1]!.push(v.value, second.value);
      } else {
        this.#index = start;
      }
    } else {
      this.#index = start;
    }
    for (;;) {
      const token = this.#nextNonSpace();
      if (token.type === end) {
        if (pipe.cmds.length === 0) this.#error(token, `missing value for ${context}`);
        break;
      }
      if (token.type === "eof") this.#error(token, `unclosed action`);
      this.#backup();
      pipe.cmds.push(this.#command(end));
    }
    return pipe;
  }

  #hasVar(name: string): boolean {
    return this.#vars[this.#vars.length - 1]!.includes(name);
  }

  #command(end: TokenType): CommandNode {
    const first = this.#peekNonSpace();
    const cmd: CommandNode = { type: "command", pos: first.pos, args: [] };
    for (;;) {
      this.#peekNonSpace();
      const operand = this.#operand();
      if (operand) cmd.args.push(operand);
      const token = this.#next();
      if (token.type === "space") continue;
      if (token.type === "rightDelim" || token.type === "rightParen") this.#backup();
      else if (token.type !== "pipe") this.#unexpected(token, "operand");
      if (token.type === end || token.type === "rightParen" || token.type === "rightDelim") {
        if (token.type !== end && !(end === "rightParen" && token.type === "rightParen")) {
          this.#unexpected(token, "operand");
        }
      }
      break;
    }
    if (cmd.args.length === 0) this.#error(this.#peek(), "empty command");
    return cmd;
  }

  #operand(): ArgNode | undefined {
    const node = this.#term();
    if (!node) return undefined;
    if (this.#peek().type === "field") {
      // Go positions a chained operand at its first trailing field.
      const pos = this.#peek().pos;
      const fields: string[] = [];
      while (this.#peek().type === "field") fields.push(this.#next().value.slice(1));
      switch (node.type) {
        case "field":
          return { type: "field", pos, ident: [...node.ident, ...fields] };
        case "variable":
          return { type: "variable", pos, ident: [...node.ident, ...fields] };
        case "bool":
        case "string":
        case "number":
        case "nil":
        case "dot":
          return this.#error(this.#tokens[this.#index - 1]!, `unexpected . after term "${nodeString(node)}"`);
        case "chain":
        case "identifier":
        case "pipe":
          return { type: "chain", pos, node, field: fields };
      }
    }
    return node;
  }

  #term(): ArgNode | undefined {
    const token = this.#nextNonSpace();
    switch (token.type) {
      case "identifier":
        if (!this.#functions(token.value)) this.#error(token, `function "${token.value}" not defined`);
        return { type: "identifier", pos: token.pos, ident: token.value };
      case "dot":
        return { type: "dot", pos: token.pos };
      case "nil":
        return { type: "nil", pos: token.pos };
      case "variable": {
        if (!this.#hasVar(token.value)) this.#error(token, `undefined variable "${token.value}"`);
        return { type: "variable", pos: token.pos, ident: [token.value] };
      }
      case "field":
        return { type: "field", pos: token.pos, ident: [token.value.slice(1)] };
      case "bool":
        return { type: "bool", pos: token.pos, value: token.value === "true" };
      case "char": {
        const text = unquote({ ...token, value: `"${token.value.slice(1, -1)}"` });
        return {
          type: "number",
          pos: token.pos,
          text: token.value,
          value: text.codePointAt(0) ?? 0,
          isInt: true,
        };
      }
      case "number": {
        const parsed = parseNumber(token.value);
        if (!parsed) this.#error(token, `illegal number syntax: "${token.value}"`);
        return {
          type: "number",
          pos: token.pos,
          text: token.value,
          value: parsed.value,
          isInt: parsed.isInt,
        };
      }
      case "leftParen": {
        const pipe = this.#pipeline("parenthesized pipeline", "rightParen");
        return pipe;
      }
      case "string":
      case "rawString":
        return { type: "string", pos: token.pos, quoted: token.value, text: unquote(token) };
      case "text":
      case "leftDelim":
      case "rightDelim":
      case "space":
      case "keyword":
      case "pipe":
      case "rightParen":
      case "declare":
      case "assign":
      case "comma":
      case "comment":
      case "eof":
        this.#backup();
        return undefined;
    }
  }
}

/** Parses template text; throws TemplateParseError with `line: message` text. */
export function parseTemplate(
  text: string,
  functions: (name: string) => boolean,
  left = "{{",
  right = "}}",
): Tree {
  const parser = new Parser(lex(text, left, right), functions);
  const root = parser.parse();
  return { root, text, templates: parser.templates };
}
