/**
 * The forms a secret commonly takes in a log besides its own: base64 (standard and url-safe, alone
 * or inside a longer encoded string), URL-encoded and JSON-escaped; and the password inside a
 * URL (a DATABASE_URL's password printed alone).
 */

/** Base64 characters shorter than this are too common to mask: they would mangle ordinary text. */
const MIN_BASE64_LENGTH = 8;

/** The encoded forms of `value` that differ from it, without duplicates. */
export function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>([
    // Whole, padding included, when the value was encoded alone; the cores when it was part of more.
    bytes.toString('base64'),
    bytes.toString('base64url'),
    ...base64Cores(bytes),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
  ]);
  forms.delete(value);
  return [...forms];
}

/**
 * Base64 of `bytes` as it appears wherever they sit in a longer encoded string: for each of the
 * three alignments, the characters that depend on these bytes alone (the one or two characters at
 * each edge that mix in neighbouring bytes are left out). Each in the standard and url-safe
 * alphabets, padding stripped.
 */
export function base64Cores(bytes: Buffer): string[] {
  const cores = new Set<string>();
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    if (core.length < MIN_BASE64_LENGTH) continue;
    cores.add(core);
    cores.add(core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...cores];
}

/**
 * The password of a URL with credentials (`scheme://user:password@host…`), as written and decoded;
 * none for anything else. Parsed by hand: the WHATWG parser re-encodes what it keeps.
 */
export function urlPasswords(value: string): string[] {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#\s]*)@/.exec(value);
  const userinfo = match?.[1];
  if (!userinfo?.includes(':')) return [];
  const raw = userinfo.slice(userinfo.indexOf(':') + 1);
  if (raw === '') return [];
  try {
    return [...new Set([raw, decodeURIComponent(raw)])];
  } catch {
    return [raw];
  }
}
