import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { checkFields } from '../../registry/index.js';
import { destinationProblem } from './compile-access.js';
import { KIND_SCHEMAS, POLICY_FORMATS, SmiTrafficSplitSchema, type PolicyKind } from './schema.js';
import { parseSource } from './source-pattern.js';

/** One problem of one document: where (a field path such as `spec.rules[0].from[1]`) and what. */
export interface FieldProblem {
  path: string;
  message: string;
}

// allErrors: a refusal lists every problem of the document, not the first (the xDS NACK
// model). strict: a keyword ajv does not know is a bug in schema.ts, caught at load.
// verbose: errors carry the failing schema node and value, which the messages quote.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });

/**
 * What is wrong with a string of one of the custom formats, or undefined when it is fine.
 * The sources go through parseSource (source-pattern.ts), so the validator and the decisions
 * read a pattern the same way; checking them here reports them with the document's other
 * shape problems, in one refusal.
 */
function formatProblem(format: string, text: string): string | undefined {
  const parsed = parseSource(text);
  switch (format) {
    case 'policy-source':
      return typeof parsed === 'string' ? parsed : undefined;
    case 'policy-class-member':
      if (typeof parsed === 'string') return parsed;
      return parsed.kind === 'class' ? `"${text}": a traffic class is made of callers, not of other classes` : undefined;
    default:
      return destinationProblem(text);
  }
}
for (const format of POLICY_FORMATS) {
  ajv.addFormat(format, { type: 'string', validate: (text: string) => formatProblem(format, text) === undefined });
}

const validators = new Map<PolicyKind | 'SmiTrafficSplit', ValidateFunction>();
function validatorOf(kind: PolicyKind | 'SmiTrafficSplit'): ValidateFunction {
  let validate = validators.get(kind);
  if (validate === undefined) {
    validate = ajv.compile(kind === 'SmiTrafficSplit' ? SmiTrafficSplitSchema : KIND_SCHEMAS[kind]);
    validators.set(kind, validate);
  }
  return validate;
}

/** Every schema problem of a document of `kind`, as field paths and plain messages. */
export function schemaProblems(kind: PolicyKind | 'SmiTrafficSplit', document: unknown): FieldProblem[] {
  const validate = validatorOf(kind);
  if (validate(document)) return [];
  return translate(validate.errors ?? []);
}

/**
 * ajv's errors in operator terms. A union (anyOf) that fails reports each branch's failure
 * as well; those are folded into one message saying what the field may be.
 */
function translate(errors: readonly ErrorObject[]): FieldProblem[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (unions.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
    for (const problem of describe(error)) {
      const key = `${problem.path}\n${problem.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

function describe(error: ErrorObject): FieldProblem[] {
  const at = fieldPath(error.instancePath);
  const schema = (error.parentSchema ?? {}) as Record<string, unknown>;
  const params = error.params as Record<string, unknown>;
  const problem = (message: string, path = at): FieldProblem[] => [{ path, message }];
  switch (error.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((schema.properties ?? {}) as object);
      const found: string[] = [];
      // The shared reader adds "(did you mean …?)" for a near miss, as the config loader does.
      checkFields({ [String(params.additionalProperty)]: true }, known, at, found);
      return found.map((line) => {
        const colon = line.lastIndexOf(': unknown field');
        return { path: line.slice(0, colon), message: line.slice(colon + 2) };
      });
    }
    case 'required':
      return problem('is required', joinField(at, String(params.missingProperty)));
    case 'type':
      return problem(`must be ${typeName(String(params.type))} (got ${valueKind(error.data)})`);
    case 'const':
      return problem(`must be ${JSON.stringify(params.allowedValue)}`);
    case 'anyOf': {
      const branches = (schema.anyOf ?? []) as TSchema[];
      const choices = branches.every((b) => 'const' in b)
        ? `one of ${branches.map((b) => JSON.stringify(b.const)).join(', ')}` : branches.map(branchText).join(', or ');
      return problem(`must be ${choices} (got ${valueKind(error.data)})`);
    }
    case 'pattern':
      return problem(typeof schema.description === 'string'
        ? `${quote(error.data)}: expected ${lowerFirst(schema.description)}`
        : `${quote(error.data)} does not match ${String(params.pattern)}`);
    case 'minLength':
      return problem(params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`);
    case 'maxLength':
      return problem(`must be at most ${String(params.limit)} characters (got ${String((error.data as string).length)})`);
    case 'minItems':
      return problem(params.limit === 1 ? 'must have at least one entry' : `must have at least ${String(params.limit)} entries`);
    case 'maxItems':
      return problem(`must have at most ${String(params.limit)} entries (got ${String((error.data as unknown[]).length)})`);
    case 'minimum':
    case 'maximum':
      return problem(`${range(schema)} (got ${String(error.data)})`);
    case 'minProperties':
      return problem(`must set at least one of ${Object.keys((schema.properties ?? {}) as object).join(', ')}`);
    case 'format':
      return problem(formatProblem(String(params.format), String(error.data)) ?? `must be a ${String(params.format)}`);
    case 'uniqueItems':
      return problem(`entries ${String(params.j)} and ${String(params.i)} are the same`);
    default:
      return problem(error.message ?? `fails ${error.keyword}`);
  }
}

/** `/spec/rules/0/from/1` → `spec.rules[0].from[1]`; a key that is not a plain name is quoted. */
export function fieldPath(pointer: string): string {
  if (pointer === '') return '';
  let path = '';
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = /^\d+$/.test(part) ? `${path}[${part}]` : joinField(path, part);
  }
  return path;
}

function joinField(path: string, field: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) return `${path}[${JSON.stringify(field)}]`;
  return path === '' ? field : `${path}.${field}`;
}

function typeName(type: string): string {
  const names: Record<string, string> = { string: 'a string', integer: 'a whole number', number: 'a number', array: 'a list', object: 'a mapping', boolean: 'true or false' };
  return type.split(',').map((t) => names[t] ?? t).join(' or ');
}

function valueKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  return `${typeof value} ${String(value)}`;
}

function quote(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

function lowerFirst(text: string): string {
  return (text.charAt(0).toLowerCase() + text.slice(1)).replace(/\.$/, '');
}

function range(schema: Record<string, unknown>): string {
  const { minimum, maximum } = schema;
  if (typeof minimum === 'number' && typeof maximum === 'number') return `must be from ${minimum} to ${maximum}`;
  return typeof minimum === 'number' ? `must be at least ${minimum}` : `must be at most ${String(maximum)}`;
}

/** What one branch of a union accepts, for the union's message. */
function branchText(branch: TSchema): string {
  if (typeof branch.description === 'string') return lowerFirst(branch.description);
  return typeName(String(branch.type));
}
