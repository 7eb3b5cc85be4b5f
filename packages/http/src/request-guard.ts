import { HttpError } from './errors.js';

/**
 * CSRF defence for the routes that change something (every method but GET and HEAD). A browser can
 * send a cross-site POST with the victim's cookies only in a "simple" shape: a form
 * (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`) or a `no-cors` fetch.
 * Requiring `Content-Type: application/json` on every change, bodyless ones included, takes both
 * away: a cross-site page cannot set that type without a CORS preflight, which the API never
 * answers. Browsers also say where a request comes from (`Sec-Fetch-Site`, `Origin`); a change
 * that another site or origin started is refused even where the host's CORS policy would let it by.
 */

/** Methods that change something; only GET and HEAD are reads. */
export function isChange(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** The media type of a `Content-Type` header, lower-cased, and its charset parameter if any. */
function mediaType(header: string): { type: string; charset: string | null } {
  const [type = '', ...parameters] = header.split(';');
  let charset: string | null = null;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset') charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { type: type.trim().toLowerCase(), charset };
}

/** 415 unless the request says its body is UTF-8 JSON (whether or not it has one). */
export function assertJsonRequest(request: Request): void {
  const header = request.headers.get('content-type');
  if (header === null)
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'send Content-Type: application/json with every change, even one without a body',
    );
  const { type, charset } = mediaType(header);
  if (type !== 'application/json')
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `the body must be JSON sent as application/json, not ${type.slice(0, 100) || 'an empty type'}`,
    );
  if (charset !== null && charset !== 'utf-8' && charset !== 'utf8')
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as UTF-8 JSON (application/json)');
}

/**
 * The origins (scheme, host and port) this request may call its own: the URL's, and `Host` and a
 * proxy's `X-Forwarded-Host` under the scheme the client used (a proxy's `X-Forwarded-Proto`,
 * else the URL's). A page on `http://app.example` is not the API on `https://app.example`.
 */
function ownOrigins(request: Request): Set<string> {
  const origins = new Set<string>();
  let protocol: string | null = null;
  try {
    const url = new URL(request.url);
    origins.add(url.origin.toLowerCase());
    protocol = url.protocol;
  } catch {
    // A request always has an absolute URL; nothing to add if a runtime gives something else.
  }
  // Browsers cannot set these on a cross-site request without a preflight, so trusting them is safe here.
  const first = (header: string) => request.headers.get(header)?.split(',')[0]?.trim().toLowerCase();
  const forwarded = first('x-forwarded-proto');
  if (forwarded === 'http' || forwarded === 'https') protocol = `${forwarded}:`;
  if (protocol === null) return origins;
  for (const header of ['host', 'x-forwarded-host']) {
    const host = first(header);
    if (!host) continue;
    try {
      origins.add(new URL(`${protocol}//${host}`).origin.toLowerCase());
    } catch {
      // Not a host name: it names no origin.
    }
  }
  return origins;
}

function crossSite(message: string): HttpError {
  return new HttpError(403, 'FORBIDDEN', `cross-site request refused: ${message}`, { reason: 'cross-site' });
}

/**
 * 403 when a browser says another site or origin started this change: `Sec-Fetch-Site: cross-site`,
 * or an `Origin` that is neither the API's own origin (scheme, host and port) nor one of `trustedOrigins` (this also catches
 * another origin of the same site, e.g. a sibling subdomain, which `SameSite` cookies do not stop).
 */
export function assertSameOrigin(request: Request, trustedOrigins: ReadonlySet<string>): void {
  const origin = request.headers.get('origin');
  const normalized = origin?.trim().toLowerCase() ?? null;
  if (normalized !== null && trustedOrigins.has(normalized)) return;
  const site = request.headers.get('sec-fetch-site')?.trim().toLowerCase();
  if (site === 'cross-site') throw crossSite('the browser says another site sent it (Sec-Fetch-Site)');
  // Same origin as the browser sees it, or typed by the user: nothing more to compare.
  if (site === 'same-origin' || site === 'none') return;
  if (normalized === null) return;
  if (normalized === 'null') throw crossSite('the request comes from an opaque origin (Origin: null)');
  let from: string;
  try {
    from = new URL(normalized).origin;
  } catch {
    throw crossSite('its Origin header is not an origin');
  }
  if (!ownOrigins(request).has(from))
    throw crossSite(`it comes from ${normalized.slice(0, 200)}, another origin (see trustedOrigins)`);
}

/**
 * 403 when a browser says another origin opened this read ({@link RouteDef.ownOriginOnly}): what a
 * change is refused for, and also a request from another origin of the same site that carries no
 * `Origin` (an `<img>` or `<script>` tag on a sibling subdomain, which sends the cookies whatever
 * their `SameSite`). The dashboard's own stream says `same-origin`; one opened on purpose from a
 * trusted origin carries that `Origin`; a client that is not a browser says neither and passes.
 */
export function assertOwnOriginRead(request: Request, trustedOrigins: ReadonlySet<string>): void {
  assertSameOrigin(request, trustedOrigins);
  const site = request.headers.get('sec-fetch-site')?.trim().toLowerCase();
  if (site === 'same-site' && request.headers.get('origin') === null)
    throw crossSite('another origin of this site opened it (Sec-Fetch-Site: same-site, without an Origin)');
}
