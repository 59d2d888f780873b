import { BadRequestError, PayloadTooLargeError } from '../errors.ts';

/**
 * Reads a JSON request body, counting bytes as they arrive, and refuses it with 413 the moment it
 * passes `maxBytes`: a chunked body has no Content-Length to check first, and reading it whole
 * before judging its size would let any caller, authenticated or not, fill the server's memory.
 * An empty body is left to Elysia's own parser (undefined), which refuses or ignores it as before.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  if (!request.body) return undefined;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      // Stops reading: what the client still sends is not kept.
      await reader.cancel().catch(() => {});
      throw jsonTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (bytes === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequestError('Cannot parse the request body: expected valid JSON');
  }
}

/**
 * The 413 of a JSON body over the limit, declared or counted. The connection stays open: Bun
 * discards the rest of the body as it arrives (up to its own maxRequestBodySize), which keeps the
 * answer from being lost to a reset, as an immediate close risks (RFC 9112, section 9.6).
 */
export function jsonTooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`The JSON body is larger than ${maxBytes} bytes`);
}
