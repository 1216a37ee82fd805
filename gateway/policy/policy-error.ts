import { CausewayError, ErrorCodes } from '../../registry/index.js';

/** One problem of a policy set, precise enough to fix without reading the code. */
export interface PolicyError {
  /** Where the document came from: a file of the policy directory, `request`, or `config`. */
  origin: string;
  /** `AccessPolicy/<name>`, or `document <n>` (1-based, within its origin) when it has no usable kind and name. */
  document: string;
  /** A field path such as `spec.rules[0].from[1]`; empty for the document as a whole. */
  path: string;
  message: string;
}

/** `origin document path: message`, the one-line form of the CLI, the logs and the API's details. */
export function formatPolicyError(error: PolicyError): string {
  return `${error.origin} ${error.document}${error.path === '' ? '' : ` ${error.path}`}: ${error.message}`;
}

/** Collects the problems of one document under its origin and label. */
export class DocumentProblems {
  constructor(readonly origin: string, readonly document: string, private readonly sink: PolicyError[]) {}

  add(path: string, message: string): void {
    this.sink.push({ origin: this.origin, document: this.document, path, message });
  }
}

/**
 * The refusal of a whole set (CW_POLICY_INVALID, HTTP 422): the message names the first
 * problem, `details` lists every one. Nothing was changed by whoever throws it.
 */
export function policySetRefused(errors: readonly PolicyError[]): CausewayError {
  const lines = errors.map(formatPolicyError);
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more)` : '';
  return new CausewayError(ErrorCodes.POLICY_INVALID, `policy set refused, nothing changed: ${lines[0] ?? 'no documents'}${more}`, { details: lines });
}
