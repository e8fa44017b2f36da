import { Evaluator, ExpressionError, Lexer, Parser, data, type Expr } from "@actions/expressions";
import { TokenType, type Token } from "@actions/expressions/lexer";
import { ActvmError, isActvmError } from "../shared/errors.ts";
import { fromExpressionData, toExpressionData } from "./expression-data.ts";
import { RUNTIME_FUNCTIONS, runtimeFunctions } from "./expression-functions.ts";
import type {
  ContextName,
  EvaluateOptions,
  ExpressionContexts,
  JsonValue,
  SourceLocation,
  StatusState,
} from "./model.ts";

/** GitHub rejects expressions longer than this many characters. */
const MAX_EXPRESSION_LENGTH = 21_000;

const CONTEXT_NAMES: readonly ContextName[] = [
  "github",
  "env",
  "vars",
  "secrets",
  "inputs",
  "matrix",
  "strategy",
  "needs",
  "steps",
  "job",
  "jobs",
  "runner",
];
const CONTEXT_SET: ReadonlySet<string> = new Set(CONTEXT_NAMES);
const STATUS_FUNCTIONS: ReadonlySet<string> = new Set([
  "success",
  "failure",
  "cancelled",
  "always",
]);
const DEFAULT_STATUS: StatusState = { status: "success" };

/**
 * A pattern list's answer may change which branch runs and so reveal further hashFiles calls;
 * each pass learns at least one new answer, and an expression has few call sites, so a small
 * cap only guards against pathological input.
 */
const MAX_HASHFILES_PASSES = 32;

interface Compiled {
  ast: Expr;
  /** Lowercase names of the contexts the expression reads. */
  contexts: string[];
  /** True when it calls success(), failure(), cancelled() or always(). */
  callsStatus: boolean;
}

// Workflows evaluate the same few expressions for every matrix leg and step, so parsed trees
// are kept; the cap bounds memory for long-lived servers.
const COMPILED_CACHE_LIMIT = 2_000;
const compiledCache = new Map<string, Compiled>();

/**
 * Evaluates one expression (the text inside `${{ }}`) against the contexts, with GitHub's
 * built-in functions plus the status functions and `hashFiles`. Unknown contexts and functions,
 * syntax errors and evaluation failures throw `ActvmError("EXPRESSION")`.
 *
 * @example
 * await evaluateExpression("format('v{0}', matrix.node)", { matrix: { node: 20 } }); // "v20"
 */
export async function evaluateExpression(
  expr: string,
  contexts: ExpressionContexts,
  opts: EvaluateOptions = {},
): Promise<JsonValue> {
  const compiled = compile(expr, opts.location);
  return fromExpressionData(await run(expr, compiled, contexts, opts));
}

/**
 * Evaluates an `if:` condition with GitHub's truthiness. Accepts the parser's already-wrapped
 * text, raw text, or text written as `${{ ... }}`; like GitHub, a condition that calls no
 * status function is treated as `success() && (...)`, and an empty one as `success()`.
 *
 * @example
 * await evaluateCondition("${{ github.ref == 'refs/heads/main' }}", ctx, { status }); // boolean
 */
export async function evaluateCondition(
  expr: string,
  contexts: ExpressionContexts,
  opts: EvaluateOptions = {},
): Promise<boolean> {
  let text = conditionText(expr, opts.location);
  let compiled = compile(text, opts.location);
  if (!compiled.callsStatus) {
    text = `success() && (${text})`;
    compiled = compile(text, opts.location);
  }
  return isTruthy(await run(expr, compiled, contexts, opts));
}

async function run(
  source: string,
  compiled: Compiled,
  contexts: ExpressionContexts,
  opts: EvaluateOptions,
): Promise<data.ExpressionData> {
  const root = new data.Dictionary();
  for (const name of compiled.contexts) {
    // Every referenced context must exist in the dictionary: the library's evaluator does not
    // guard against a missing one. GitHub gives null for a context it did not provide.
    root.add(name, toExpressionData(contexts[name as ContextName]));
  }
  const status = opts.status ?? DEFAULT_STATUS;
  const answers = new Map<string, string>();

  for (let pass = 1; ; pass++) {
    const pending = new Map<string, string[]>();
    const functions = runtimeFunctions(status, (patterns) => {
      const key = JSON.stringify(patterns);
      const known = answers.get(key);
      if (known !== undefined) return known;
      if (!opts.hashFiles) {
        throw fail(
          `hashFiles(${patterns.map((p) => `'${p}'`).join(", ")}) needs the job's workspace, ` +
            "which is not available where this expression is evaluated",
          opts.location,
        );
      }
      pending.set(key, patterns);
      // A placeholder lets this pass finish so every call in it is collected at once.
      return "";
    });

    let result: data.ExpressionData;
    try {
      result = new Evaluator(compiled.ast, root, functions).evaluate();
    } catch (err) {
      if (isActvmError(err)) throw err;
      throw fail(`${describe(err)} (in expression: ${shorten(source)})`, opts.location, err);
    }
    if (pending.size === 0) return result;
    if (pass >= MAX_HASHFILES_PASSES) {
      throw fail(
        `hashFiles() calls did not settle after ${MAX_HASHFILES_PASSES} passes (in expression: ${shorten(source)})`,
        opts.location,
      );
    }
    for (const [key, patterns] of pending) {
      answers.set(key, await askHashFiles(opts, patterns));
    }
  }
}

async function askHashFiles(opts: EvaluateOptions, patterns: string[]): Promise<string> {
  // run() only records calls when opts.hashFiles exists.
  const impl = opts.hashFiles as (patterns: string[]) => Promise<string>;
  try {
    return await impl(patterns);
  } catch (err) {
    if (isActvmError(err)) throw err;
    throw fail(
      `hashFiles(${patterns.map((p) => `'${p}'`).join(", ")}) failed: ${describe(err)}`,
      opts.location,
      err,
    );
  }
}

function compile(expr: string, location: SourceLocation | undefined): Compiled {
  const cached = compiledCache.get(expr);
  if (cached) return cached;

  if (expr.length > MAX_EXPRESSION_LENGTH) {
    throw fail(
      `expression is ${expr.length} characters long; GitHub allows at most ${MAX_EXPRESSION_LENGTH}`,
      location,
    );
  }
  let tokens: Token[];
  let ast: Expr | undefined;
  try {
    tokens = unescapeStrings(new Lexer(expr).lex().tokens);
    ast = new Parser(tokens, [...CONTEXT_NAMES], [...RUNTIME_FUNCTIONS]).parse();
  } catch (err) {
    const message =
      err instanceof ExpressionError
        ? `${err.message}. Located at position ${err.pos.column + 1} within expression: ${shorten(expr)}`
        : describe(err);
    throw fail(message, location, err, hintFor(err));
  }
  if (!ast) throw fail("an expression was expected, but `${{ }}` is empty", location);

  const contexts = new Set<string>();
  let callsStatus = false;
  tokens.forEach((tok, i) => {
    if (tok.type !== TokenType.IDENTIFIER) return;
    const name = tok.lexeme.toLowerCase();
    const next = tokens[i + 1];
    const prev = tokens[i - 1];
    if (next?.type === TokenType.LEFT_PAREN) {
      if (STATUS_FUNCTIONS.has(name)) callsStatus = true;
    } else if (prev?.type !== TokenType.DOT && CONTEXT_SET.has(name)) {
      contexts.add(name);
    }
  });

  const compiled: Compiled = { ast, contexts: [...contexts], callsStatus };
  if (compiledCache.size >= COMPILED_CACHE_LIMIT) {
    const oldest = compiledCache.keys().next();
    if (!oldest.done) compiledCache.delete(oldest.value);
  }
  compiledCache.set(expr, compiled);
  return compiled;
}

function hintFor(err: unknown): string | undefined {
  if (!(err instanceof ExpressionError)) return undefined;
  if (err.message.startsWith("Unrecognized named-value")) {
    return `contexts are: ${CONTEXT_NAMES.join(", ")}`;
  }
  if (err.message.startsWith("Unrecognized function")) {
    return (
      "functions are: contains, startsWith, endsWith, format, join, toJSON, fromJSON, case, " +
      "success, failure, cancelled, always, hashFiles"
    );
  }
  return undefined;
}

/**
 * Turns the text of an `if:` into one expression. A lone `${{ x }}` becomes `x`; text mixing
 * literal parts and `${{ }}` becomes a `format()` string, which (as on GitHub) is truthy
 * whenever it is not empty.
 */
function conditionText(raw: string, location: SourceLocation | undefined): string {
  const trimmed = raw.trim();
  if (trimmed === "") return "success()";
  if (!trimmed.includes("${{")) return trimmed;

  const literals: string[] = [];
  const exprs: string[] = [];
  let i = 0;
  let literal = "";
  while (i < trimmed.length) {
    const open = trimmed.indexOf("${{", i);
    if (open < 0) {
      literal += trimmed.slice(i);
      break;
    }
    literal += trimmed.slice(i, open);
    const close = findClose(trimmed, open + 3);
    if (close < 0) throw fail(`unterminated "\${{" in condition: ${shorten(trimmed)}`, location);
    const inner = trimmed.slice(open + 3, close).trim();
    if (inner === "") throw fail("an expression was expected, but `${{ }}` is empty", location);
    literals.push(literal);
    exprs.push(inner);
    literal = "";
    i = close + 2;
  }
  literals.push(literal);

  const [only] = exprs;
  if (exprs.length === 1 && only !== undefined && literals.every((l) => l.trim() === "")) {
    return only;
  }
  let fmt = "";
  literals.forEach((lit, n) => {
    fmt += lit.replaceAll("{", "{{").replaceAll("}", "}}").replaceAll("'", "''");
    if (n < exprs.length) fmt += `{${n}}`;
  });
  return `format('${fmt}', ${exprs.map((e) => `(${e})`).join(", ")})`;
}

/** Index of the `}}` that closes an expression opened before `from`, skipping string literals. */
function findClose(text: string, from: number): number {
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "'") {
        // '' is an escaped quote inside a string literal.
        if (text[i + 1] === "'") i++;
        else inString = false;
      }
    } else if (c === "'") {
      inString = true;
    } else if (c === "}" && text[i + 1] === "}") {
      return i;
    }
  }
  return -1;
}

/** GitHub truthiness: null, false, 0, NaN and "" are false; everything else is true. */
function isTruthy(value: data.ExpressionData): boolean {
  switch (value.kind) {
    case data.Kind.Null:
      return false;
    case data.Kind.Boolean:
      return value.value;
    case data.Kind.Number:
      return value.value !== 0 && !Number.isNaN(value.value);
    case data.Kind.String:
      return value.value.length > 0;
    default:
      return true;
  }
}

function fail(
  message: string,
  location: SourceLocation | undefined,
  cause?: unknown,
  hint?: string,
): ActvmError {
  const where = location ? `${location.file}:${location.line}:${location.col}: ` : "";
  return new ActvmError("EXPRESSION", where + message, {
    ...(cause !== undefined ? { cause } : {}),
    ...(hint !== undefined ? { hint } : {}),
  });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fromJSON wraps JSON.parse's error; the inner message says what was wrong.
  const inner = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return err.message + inner;
}

function shorten(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

// The library's lexer unescapes only the first `''` of a string literal
// (`value.replace("''", "'")` in @actions/expressions' lexer.js), so a literal with two
// escaped quotes keeps the second pair doubled. The parser's own format() strings for run
// scripts hit this whenever a script quotes twice. Recompute each string from its lexeme.
function unescapeStrings(tokens: Token[]): Token[] {
  for (const tok of tokens) {
    if (tok.type === TokenType.STRING && tok.lexeme.length >= 2) {
      tok.value = tok.lexeme.slice(1, -1).replaceAll("''", "'");
    }
  }
  return tokens;
}
