// Executes a parsed Go text/template tree. Values are decoded JSON plus two Go notions the
// language exposes: the "invalid" value of a missing map key (prints "<no value>") and a
// struct context (the `.Object`, `.ObjectName`, `.ObjectNamespace` fields).
import { ReadPending } from "./cluster.ts";
import { goSprint, goTypeName, isObject, type Json } from "./gofmt.ts";
import {
  type ArgNode,
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  nodeString,
  type PipeNode,
  type Tree,
  type VariableNode,
} from "./gotemplate-parse.ts";

/** The value of a missing map key (Go's invalid reflect.Value). */
export const NO_VALUE: unique symbol = Symbol("no value");
const MISSING: unique symbol = Symbol("missing");

export class StructValue {
  readonly typeName: string;
  readonly fields: Record<string, Value>;
  constructor(fields: Record<string, Value>, fieldTypes: Record<string, string>) {
    this.fields = fields;
    const parts = Object.keys(fields).map((name) => `${name} ${fieldTypes[name] ?? "interface {}"}`);
    this.typeName = parts.length === 0 ? "struct {}" : `struct { ${parts.join("; ")} }`;
  }
}

export type Value = Json | typeof NO_VALUE | StructValue | Value[] | { [key: string]: Value };

export type ParamType = "any" | "value" | "string" | "int" | "float" | "bool" | "map" | "list";

export interface TemplateFunction {
  params: ParamType[];
  variadic?: ParamType;
  /** Throws an Error whose message follows "error calling <name>: ". */
  call: (...args: Value[]) => Value;
}

export type FunctionMap = Record<string, TemplateFunction>;

/** An execution error, already formatted as Go formats it. */
export class TemplateExecError extends Error {
  override name = "TemplateExecError";
}

/** Unwinds a {{range}} body for {{break}}. */
class BreakSignal extends Error {}
/** Unwinds a {{range}} body for {{continue}}. */
class ContinueSignal extends Error {}

interface Variable {
  name: string;
  value: Value;
}

function isTrue(value: Value): boolean {
  if (value === NO_VALUE || value === null || value === undefined) return false;
  if (value instanceof StructValue) return true;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  return Object.keys(value).length > 0;
}

export function truth(value: Value): boolean {
  return isTrue(value);
}

/** Go's %v printing of a template value. */
export function printValue(value: Value): string {
  if (value === NO_VALUE) return "<no value>";
  if (value instanceof StructValue) {
    return `{${Object.values(value.fields).map(printValue).join(" ")}}`;
  }
  if (Array.isArray(value)) return `[${value.map(printValue).join(" ")}]`;
  if (isObject(value)) {
    const object = value as Record<string, Value>;
    return `map[${Object.keys(object)
      .sort()
      .map((key) => `${key}:${printValue(object[key]!)}`)
      .join(" ")}]`;
  }
  return goSprint(value);
}

export function valueTypeName(value: Value): string {
  if (value === NO_VALUE) return "<nil>";
  if (value instanceof StructValue) return value.typeName;
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float64";
  return goTypeName(value);
}

class State {
  readonly tree: Tree;
  readonly funcs: FunctionMap;
  readonly out: string[] = [];
  node: { pos: number; text: string } | undefined;
  vars: Variable[];
  depth = 0;

  constructor(tree: Tree, funcs: FunctionMap, dot: Value) {
    this.tree = tree;
    this.funcs = funcs;
    this.vars = [{ name: "$", value: dot }];
  }

  at(node: ArgNode | CommandNode | Node): void {
    this.node = { pos: node.pos, text: nodeString(node) };
  }

  errorf(message: string): never {
    const name = "tmpl";
    if (!this.node) throw new TemplateExecError(`template: ${name}: ${message}`);
    const text = this.tree.text.slice(0, this.node.pos);
    const lineStart = text.lastIndexOf("\n") + 1;
    const line = 1 + (text.match(/\n/g)?.length ?? 0);
    const column = Buffer.byteLength(text.slice(lineStart));
    throw new TemplateExecError(
      `template: ${name}:${line}:${column}: executing "${name}" at <${this.node.text.replaceAll("%", "%%")}>: ${message}`,
    );
  }

  varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--)
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.errorf(`undefined variable: ${name}`);
  }

  setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
}

function walk(state: State, dot: Value, node: Node | ListNode): void {
  switch (node.type) {
    case "list":
      for (const child of node.nodes) walk(state, dot, child);
      return;
    case "text":
      state.out.push(node.text);
      return;
    case "comment":
      return;
    case "action": {
      const value = evalPipeline(state, dot, node.pipe);
      if (node.pipe.decl.length === 0) state.out.push(printValue(value));
      return;
    }
    case "if":
    case "with": {
      const mark = state.vars.length;
      const value = evalPipeline(state, dot, node.pipe);
      if (isTrue(value)) walk(state, node.type === "with" ? value : dot, node.list);
      else if (node.elseList) walk(state, dot, node.elseList);
      state.vars.length = mark;
      return;
    }
    case "range":
      walkRange(state, dot, node);
      return;
    case "break":
      throw new BreakSignal();
    case "continue":
      throw new ContinueSignal();
    case "template": {
      const list = state.tree.templates.get(node.name);
      state.at(node);
      if (!list) state.errorf(`template ${JSON.stringify(node.name)} not defined`);
      if (++state.depth > 100_000) state.errorf("exceeded maximum template depth (100000)");
      const value = node.pipe ? evalPipeline(state, dot, node.pipe) : NO_VALUE;
      const saved = state.vars;
      state.vars = [{ name: "$", value }];
      walk(state, value, list);
      state.vars = saved;
      state.depth--;
      return;
    }
  }
}

function walkRange(state: State, dot: Value, node: Extract<Node, { type: "range" }>): void {
  state.at(node);
  const outer = state.vars.length;
  // The pipeline declares the range variables; each iteration sets them.
  const value = evalPipeline(state, dot, node.pipe);
  const top = state.vars.length;
  const decl = node.pipe.decl;
  const iterate = (key: Value, element: Value): boolean => {
    if (decl.length > 0) {
      if (node.pipe.isAssign) {
        state.setVar(decl[decl.length - 1]!.ident[0]!, element);
        if (decl.length > 1) state.setVar(decl[0]!.ident[0]!, key);
      } else {
        state.vars[top - 1]!.value = element;
        if (decl.length > 1) state.vars[top - 2]!.value = key;
      }
    }
    try {
      walk(state, element, node.list);
    } catch (signal) {
      if (signal instanceof BreakSignal) return false;
      if (!(signal instanceof ContinueSignal)) throw signal;
    } finally {
      state.vars.length = top;
    }
    return true;
  };
  let ran = false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      ran = true;
      if (!iterate(i, value[i]!)) break;
    }
  } else if (typeof value === "number" && Number.isInteger(value)) {
    for (let i = 0; i < value; i++) {
      ran = true;
      if (!iterate(i, i)) break;
    }
  } else if (
    value !== null &&
    value !== NO_VALUE &&
    typeof value === "object" &&
    !(value instanceof StructValue)
  ) {
    const object = value as Record<string, Value>;
    for (const key of Object.keys(object).sort()) {
      ran = true;
      if (!iterate(key, object[key]!)) break;
    }
  } else if (value !== null && value !== NO_VALUE) {
    state.at(node);
    state.errorf(`range can't iterate over ${printValue(value)}`);
  }
  if (!ran && node.elseList) walk(state, dot, node.elseList);
  state.vars.length = outer;
}

function evalPipeline(state: State, dot: Value, pipe: PipeNode): Value {
  state.at(pipe);
  let value: Value | typeof MISSING = MISSING;
  for (const cmd of pipe.cmds) value = evalCommand(state, dot, cmd, value);
  const result = value === MISSING ? NO_VALUE : value;
  for (const variable of pipe.decl) {
    if (pipe.isAssign) state.setVar(variable.ident[0]!, result);
    else state.vars.push({ name: variable.ident[0]!, value: result });
  }
  return result;
}

function notAFunction(state: State, args: ArgNode[], final: Value | typeof MISSING): void {
  if (args.length > 1 || final !== MISSING)
    state.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
}

function evalCommand(state: State, dot: Value, cmd: CommandNode, final: Value | typeof MISSING): Value {
  const first = cmd.args[0]!;
  switch (first.type) {
    case "field":
      return evalFieldNode(state, dot, first, cmd.args, final);
    case "chain":
      return evalChainNode(state, dot, first, cmd.args, final);
    case "identifier":
      return evalFunction(state, dot, first, cmd, cmd.args, final);
    case "pipe":
      notAFunction(state, cmd.args, final);
      return evalPipeline(state, dot, first);
    case "variable":
      return evalVariableNode(state, dot, first, cmd.args, final);
    case "bool":
    case "dot":
    case "nil":
    case "number":
    case "string":
      state.at(first);
      notAFunction(state, cmd.args, final);
      if (first.type === "nil") return state.errorf("nil is not a command");
      if (first.type === "dot") return dot;
      return first.type === "string" ? first.text : first.value;
  }
}

function evalFieldNode(
  state: State,
  dot: Value,
  field: FieldNode,
  args: ArgNode[],
  final: Value | typeof MISSING,
): Value {
  state.at(field);
  return evalFieldChain(
    state,
    dot,
    field,
    field.ident,
    args,
    final,
    dot instanceof StructValue ? undefined : "interface {}",
  );
}

function evalChainNode(
  state: State,
  dot: Value,
  chain: ChainNode,
  args: ArgNode[] | undefined,
  final: Value | typeof MISSING,
): Value {
  state.at(chain);
  const receiver = evalArg(state, dot, "any", chain.node, true);
  return evalFieldChain(state, receiver, chain, chain.field, args, final);
}

function evalVariableNode(
  state: State,
  dot: Value,
  variable: VariableNode,
  args: ArgNode[] | undefined,
  final: Value | typeof MISSING,
): Value {
  state.at(variable);
  const value = state.varValue(variable.ident[0]!);
  if (variable.ident.length === 1) {
    if (args) notAFunction(state, args, final);
    return value;
  }
  return evalFieldChain(state, value, variable, variable.ident.slice(1), args, final);
}

function evalFieldChain(
  state: State,
  receiver: Value,
  node: ArgNode,
  ident: string[],
  args: ArgNode[] | undefined,
  final: Value | typeof MISSING,
  receiverType?: string,
): Value {
  let current = receiver;
  let type = receiverType;
  for (let i = 0; i < ident.length - 1; i++) {
    current = evalField(state, ident[i]!, node, undefined, MISSING, current, type);
    type = "interface {}";
  }
  return evalField(state, ident[ident.length - 1]!, node, args, final, current, type);
}

function evalField(
  state: State,
  fieldName: string,
  node: ArgNode,
  args: ArgNode[] | undefined,
  final: Value | typeof MISSING,
  receiver: Value,
  receiverType?: string,
): Value {
  if (receiver === NO_VALUE) return NO_VALUE;
  const type = receiverType ?? valueTypeName(receiver);
  const hasArgs = (args !== undefined && args.length > 1) || final !== MISSING;
  state.at(node);
  if (receiver === null) return state.errorf(`nil pointer evaluating ${type}.${fieldName}`);
  if (receiver instanceof StructValue) {
    if (Object.hasOwn(receiver.fields, fieldName)) {
      if (hasArgs) state.errorf(`${fieldName} has arguments but cannot be invoked as function`);
      return receiver.fields[fieldName]!;
    }
    return state.errorf(`can't evaluate field ${fieldName} in type ${type}`);
  }
  if (typeof receiver === "object" && !Array.isArray(receiver)) {
    if (hasArgs) state.errorf(`${fieldName} is not a method but has arguments`);
    const object = receiver as Record<string, Value>;
    return Object.hasOwn(object, fieldName) ? object[fieldName]! : NO_VALUE;
  }
  return state.errorf(`can't evaluate field ${fieldName} in type ${type}`);
}

function evalFunction(
  state: State,
  dot: Value,
  node: IdentifierNode,
  cmd: CommandNode | IdentifierNode,
  args: ArgNode[] | undefined,
  final: Value | typeof MISSING,
): Value {
  state.at(node);
  const fn = state.funcs[node.ident];
  if (!fn) return state.errorf(`"${node.ident}" is not a defined function`);
  return evalCall(state, dot, fn, cmd, node.ident, args, final);
}

function evalCall(
  state: State,
  dot: Value,
  fn: TemplateFunction,
  node: CommandNode | IdentifierNode,
  name: string,
  allArgs: ArgNode[] | undefined,
  final: Value | typeof MISSING,
): Value {
  const args = allArgs ? allArgs.slice(1) : [];
  const numIn = args.length + (final !== MISSING ? 1 : 0);
  const numFixed = fn.params.length;
  if (fn.variadic !== undefined) {
    if (numIn < numFixed)
      state.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
  } else if (numIn !== numFixed) {
    state.errorf(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
  }
  if (name === "and" || name === "or") {
    let value: Value = NO_VALUE;
    for (const arg of args) {
      value = evalArg(state, dot, "value", arg);
      if (isTrue(value) === (name === "or")) return value;
    }
    if (final !== MISSING) value = final;
    return value;
  }
  const argv: Value[] = [];
  let i = 0;
  for (; i < numFixed && i < args.length; i++) argv.push(evalArg(state, dot, fn.params[i]!, args[i]!));
  if (fn.variadic !== undefined)
    for (; i < args.length; i++) argv.push(evalArg(state, dot, fn.variadic, args[i]!));
  if (final !== MISSING) {
    const type = i < numFixed ? fn.params[i]! : (fn.variadic ?? "any");
    argv.push(validateType(state, final, type));
  }
  try {
    return fn.call(...argv);
  } catch (error) {
    if (error instanceof ReadPending || error instanceof TemplateExecError) throw error;
    state.at(node);
    return state.errorf(`error calling ${name}: ${(error as Error).message}`);
  }
}

function validateType(state: State, value: Value, type: ParamType): Value {
  if (value === NO_VALUE) {
    if (type === "value") return NO_VALUE;
    if (type === "any" || type === "map" || type === "list") return null;
    return state.errorf(`invalid value; expected ${goParamName(type)}`);
  }
  switch (type) {
    case "string":
      if (typeof value !== "string")
        state.errorf(`wrong type for value; expected string; got ${valueTypeName(value)}`);
      break;
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) {
        state.errorf(`wrong type for value; expected int; got ${valueTypeName(value)}`);
      }
      break;
    case "float":
      if (typeof value !== "number")
        state.errorf(`wrong type for value; expected float64; got ${valueTypeName(value)}`);
      break;
    case "bool":
      if (typeof value !== "boolean")
        state.errorf(`wrong type for value; expected bool; got ${valueTypeName(value)}`);
      break;
    case "any":
    case "value":
    case "map":
    case "list":
      break;
  }
  return value;
}

function goParamName(type: ParamType): string {
  const names: Record<ParamType, string> = {
    any: "interface {}",
    value: "reflect.Value",
    string: "string",
    int: "int",
    float: "float64",
    bool: "bool",
    map: "map[string]interface {}",
    list: "[]interface {}",
  };
  return names[type];
}

function evalArg(state: State, dot: Value, type: ParamType, node: ArgNode, keepInvalid = false): Value {
  state.at(node);
  const check = (value: Value) => (keepInvalid ? value : validateType(state, value, type));
  switch (node.type) {
    case "dot":
      return check(dot);
    case "nil":
      if (type === "any" || type === "value" || type === "map" || type === "list") return null;
      return state.errorf(`cannot assign nil to ${goParamName(type)}`);
    case "field":
      return check(evalFieldNode(state, dot, node, [node], MISSING));
    case "variable":
      return check(evalVariableNode(state, dot, node, undefined, MISSING));
    case "pipe":
      return check(evalPipeline(state, dot, node));
    case "identifier":
      return check(evalFunction(state, dot, node, node, undefined, MISSING));
    case "chain":
      return check(evalChainNode(state, dot, node, undefined, MISSING));
    case "bool":
    case "number":
    case "string":
      return literalArg(state, type, node);
  }
}

/** A literal passed to a parameter: Go checks it against the parameter's type. */
function literalArg(
  state: State,
  type: ParamType,
  node: Extract<ArgNode, { type: "bool" | "number" | "string" }>,
): Value {
  if (type === "bool" && node.type !== "bool")
    return state.errorf(`expected bool; found ${nodeString(node)}`);
  if (type === "string" && node.type !== "string")
    return state.errorf(`expected string; found ${nodeString(node)}`);
  if (type === "int" && !(node.type === "number" && node.isInt)) {
    return state.errorf(`expected integer; found ${nodeString(node)}`);
  }
  if (type === "float" && node.type !== "number")
    return state.errorf(`expected float; found ${nodeString(node)}`);
  return node.type === "string" ? node.text : node.value;
}

/** Runs the template with `dot` as its data and returns the text it writes. */
export function executeTemplate(tree: Tree, funcs: FunctionMap, dot: Value): string {
  const state = new State(tree, funcs, dot);
  walk(state, dot, tree.root);
  return state.out.join("");
}
