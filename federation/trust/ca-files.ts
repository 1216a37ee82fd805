import { randomBytes } from 'node:crypto';

// Moved to registry/ (the policy store writes files atomically too); re-exported for the CA.
export { readOptional, writeAtomic } from '../../registry/index.js';

/** Every PEM block with the given label, in order. */
export function pemBlocks(text: string, label: string): string[] {
  const pattern = new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, 'g');
  return (text.match(pattern) ?? []).map((block) => `${block}\n`);
}

export function serialNumber(): string {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; a leading 0x01..0x7f byte keeps it positive.
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}
