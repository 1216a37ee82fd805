/**
 * A minimal DER (X.690) reader: exact TLV boundaries over the original bytes, so that a
 * signature is always checked over the bytes as received, never a re-encoding.
 */

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  offset: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

export class DerError extends Error {}

/** Reads one TLV at `offset`; only definite lengths of up to 4 length bytes (DER). */
export function readTlv(der: Buffer, offset: number, limit = der.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated at byte ${offset}`);
  const tag = der[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at byte ${offset}`);
  let length = der[offset + 1] ?? 0;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError(`unsupported length encoding at byte ${offset}`);
    if (start + count > limit) throw new DerError(`truncated length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[start + i] ?? 0);
    // X.690 §10.1: DER uses the fewest length octets, so one element has one encoding.
    if (length < 0x80 || der[start] === 0) throw new DerError(`non-minimal length at byte ${offset}`);
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new DerError(`element at byte ${offset} runs past its container`);
  return { tag, offset, start, end };
}

/** The TLVs directly inside a constructed element. */
export function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end;) {
    const child = readTlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (tlv === undefined) throw new DerError(`${what} is missing`);
  if (tlv.tag !== tag) throw new DerError(`${what} has tag 0x${tlv.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return tlv;
}

/** Dotted form of an OBJECT IDENTIFIER's content. */
export function decodeOid(der: Buffer, tlv: Tlv): string {
  const bytes = der.subarray(tlv.start, tlv.end);
  if (bytes.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  // X.690 §8.19: base-128 subidentifiers, no leading 0x80 padding; the first one encodes two arcs.
  const subidentifiers: number[] = [];
  let value = 0;
  let fresh = true;
  for (const byte of bytes) {
    if (fresh && byte === 0x80) throw new DerError('OBJECT IDENTIFIER subidentifier has a leading 0x80');
    fresh = false;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new DerError('OBJECT IDENTIFIER arc too large');
    if (!(byte & 0x80)) {
      subidentifiers.push(value);
      value = 0;
      fresh = true;
    }
  }
  if (!fresh) throw new DerError('OBJECT IDENTIFIER ends inside a subidentifier');
  const [first = 0, ...rest] = subidentifiers;
  const parts = first < 80 ? [Math.floor(first / 40), first % 40, ...rest] : [2, first - 80, ...rest];
  return parts.join('.');
}

export function slice(der: Buffer, tlv: Tlv): Buffer {
  return der.subarray(tlv.offset, tlv.end);
}
