/**
 * The token format: `slw_` + 32 base62 characters of randomness (about 190 bits) + 6 base62
 * characters of CRC32 over them. The checksum lets a scanner or the API reject a mistyped or
 * made-up token without touching the database.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PREFIX = 'slw_';
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const TOKEN_PATTERN = new RegExp(`^${PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);

/** Makes a new random token string. */
export function generateToken(): string {
  const body = randomBase62(BODY_LENGTH);
  return `${PREFIX}${body}${checksum(body)}`;
}

/** True when `token` has the right shape and its checksum matches. */
export function isWellFormed(token: string): boolean {
  if (!TOKEN_PATTERN.test(token)) return false;
  const body = token.slice(PREFIX.length, PREFIX.length + BODY_LENGTH);
  return token.slice(PREFIX.length + BODY_LENGTH) === checksum(body);
}

/** The SHA-256 of a token, hex; the only form in which tokens are stored. */
export function hashToken(token: string): string {
  return new Bun.CryptoHasher('sha256').update(token).digest('hex');
}

/** A recognisable, non-secret hint such as `slw_Ab12…`, for listings. */
export function tokenHint(token: string): string {
  return `${token.slice(0, PREFIX.length + 4)}…`;
}

function checksum(body: string): string {
  let n = Bun.hash.crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function randomBase62(length: number): string {
  // Rejection sampling keeps every character uniformly distributed.
  let out = '';
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}
