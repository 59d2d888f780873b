/**
 * What the HTTP/1.1 engine's readers share about header fields (RFC 9110 §5, RFC 9112 §5): the
 * character classes of names and values, and a body's framing. The heads themselves are read on
 * their bytes (head-lines.ts); the string parser they are tested against lives with the tests
 * (test/edge/http1/reference-fields.ts).
 */

/** tchar of RFC 9110 §5.6.2, by char code. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;

/** Whether char code `c` may appear in a token. */
export function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** Whether char code `c` may appear in a field value (VCHAR, obs-text, SP, HTAB). */
export function isValueChar(c: number): boolean {
  return (c >= 0x20 && c !== 0x7f && c <= 0xff) || c === 0x09;
}

/** How a message's body is framed, from its Content-Length and Transfer-Encoding lines. */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'invalid' };
