import { LineCounter, parseAllDocuments, stringify } from 'yaml';
import { describeError } from '../../registry/index.js';
import type { PolicyError } from './policy-error.js';

/** A document of a text, with its 1-based position among the text's documents. */
export interface PositionedDocument {
  position: number;
  document: unknown;
}

export interface ParsedPolicyText {
  documents: PositionedDocument[];
  errors: PolicyError[];
}

/**
 * The documents of a policy file, an API body or a CLI file: multi-document YAML (JSON is
 * YAML too). A syntax error is reported with its line and column, and its document is left
 * out; an empty document (a stray `---`) is no document. Aliases are capped so that a few
 * bytes cannot expand into gigabytes ("billion laughs").
 */
export function parsePolicyText(text: string, origin: string): ParsedPolicyText {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const documents: PositionedDocument[] = [];
  const errors: PolicyError[] = [];
  parsed.forEach((doc, i) => {
    const where = { origin, document: `document ${i + 1}`, path: '' };
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        errors.push({ ...where, message: `not valid YAML at line ${line}, column ${col}: ${error.message.split('\n')[0] ?? ''}` });
      }
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      errors.push({ ...where, message: `cannot be read: ${describeError(err)}` });
      return;
    }
    if (value !== null && value !== undefined) documents.push({ position: i + 1, document: value });
  });
  return { documents, errors };
}

/** A document as the API writes it into the policy directory (and `policy get -o yaml` prints it). */
export function policyYaml(document: unknown): string {
  return stringify(document, { lineWidth: 0 });
}
