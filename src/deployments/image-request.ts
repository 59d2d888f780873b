import { BadRequestError, ValidationError } from '../errors.ts';
import { InvalidReference, isPrivateHost, parseImageReference } from '../images/reference.ts';

/** The largest JSON body of an image deployment. */
export const IMAGE_BODY_MAX_BYTES = 16 * 1024;

/**
 * Checks the JSON body of an image deployment, `{"image": "<reference>"}` and nothing else, and
 * returns the reference made canonical (`host/path:tag`). A registry on a loopback or private
 * address is refused unless an admin registered it (`isRegistered`): a tenant must not make the
 * engine knock on the host's internal services.
 */
export function imageOfBody(body: unknown, isRegistered: (host: string) => boolean): string {
  if (body === undefined) throw new BadRequestError('The request has no body: send {"image": "<reference>"}');
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ValidationError('The body must be a JSON object: {"image": "<reference>"}', [
      { path: '', message: 'Expected an object' },
    ]);
  const unknown = Object.keys(body).filter((k) => k !== 'image');
  if (unknown.length > 0)
    throw new ValidationError(`Unknown field "${unknown[0]}": an image deployment takes only "image"`, [
      { path: `/${unknown[0]}`, message: 'Unknown field' },
    ]);
  const image = (body as { image?: unknown }).image;
  if (typeof image !== 'string')
    throw new ValidationError(
      'Field "image" is required: an image reference such as registry.example.com/team/app:1.4',
      [{ path: '/image', message: 'Expected a string' }],
    );
  let canonical: string;
  let host: string;
  try {
    ({ canonical, host } = parseImageReference(image));
  } catch (err) {
    if (!(err instanceof InvalidReference)) throw err;
    throw new ValidationError(`Invalid image reference "${image.slice(0, 300)}": it ${err.message}`, [
      { path: '/image', message: err.message },
    ]);
  }
  if (isPrivateHost(host) && !isRegistered(host)) {
    const why = `it is on a loopback or private address; an admin must add it with \`slipway registries add ${host}\` first`;
    throw new ValidationError(`Cannot pull from registry "${host}": ${why}`, [{ path: '/image', message: why }]);
  }
  return canonical;
}
