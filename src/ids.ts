/** Prefixed, time-ordered ids (`tok_…`, `prj_…`), so that ids sort by creation. */

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
let lastMs = 0;
let lastRand = 0n;

/**
 * Returns `<prefix>_` + 10 chars of milliseconds + 16 chars of randomness; within one
 * millisecond the random part increments, so ids made in one process are strictly increasing.
 */
export function newId(prefix: string): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    const bytes = crypto.getRandomValues(new Uint8Array(10));
    lastRand = bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  } else {
    lastRand = (lastRand + 1n) & ((1n << 80n) - 1n);
  }
  return `${prefix}_${encode(BigInt(lastMs), 10)}${encode(lastRand, 16)}`;
}

/** `length` random characters of the same alphabet (5 bits each), from the system's CSPRNG. */
export function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => ALPHABET[b & 31]).join('');
}

function encode(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/** Random bytes for request ids, drawn from the system's CSPRNG 4 KiB at a time, and their hex digits. */
const requestIdPool = Buffer.alloc(4096);
let requestIdHex = '';
let requestIdOffset = 0;

/**
 * `req_` + 32 hex digits (128 random bits), as fast as a request needs it: the pool is turned into
 * hex once per 256 ids, and each id is a slice of that, without a native call.
 */
export function newRequestId(): string {
  if (requestIdOffset === requestIdHex.length) {
    crypto.getRandomValues(requestIdPool);
    requestIdHex = requestIdPool.toString('hex');
    requestIdOffset = 0;
  }
  requestIdOffset += 32;
  return `req_${requestIdHex.slice(requestIdOffset - 32, requestIdOffset)}`;
}

/** The current time as an ISO 8601 UTC string, the one timestamp format of the API. */
export function nowIso(): string {
  return new Date().toISOString();
}
