import { HttpError } from './errors.js';

/**
 * DNS-rebinding defence. A page on an attacker's domain can make that domain resolve to
 * 127.0.0.1 (or any address the victim's browser reaches) and then call the API as its own origin:
 * same-origin checks pass, as the browser sends `Host: attacker.example`. An API open to anyone who
 * reaches it (`allowAll`, meant for local tools) therefore answers by default only for host names
 * no attacker can own: IP addresses, `localhost` and `*.localhost`, and single-label names such as
 * a container's service name. Any other name must be listed in `allowedHosts`. The URL's host, the
 * `Host` header and a proxy's `X-Forwarded-Host` are all checked, as the same-origin check trusts
 * each. With an `authorize` of its own, the API answers for any host unless `allowedHosts` is given.
 */

/** `allowedHosts` as given: names (`'.example.com'` also takes its subdomains), or `true` for any. */
export type AllowedHosts = readonly string[] | true;

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function isUnownableName(host: string): boolean {
  return (
    IPV4.test(host) ||
    host.startsWith('[') || // an IPv6 address, as URL parsing writes one
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    !host.includes('.')
  );
}

function listed(host: string, names: readonly string[]): boolean {
  return names.some((name) =>
    name.startsWith('.') ? host === name.slice(1) || host.endsWith(name) : host === name,
  );
}

/**
 * The host name in `authority` (`name[:port]`) as URL parsing reads it: lower-cased, without its
 * port or a trailing dot. Null when it names no host (a port past 65535, user info, nothing).
 */
function hostName(authority: string): string | null {
  try {
    const url = new URL(`http://${authority}`);
    if (url.username !== '' || url.password !== '' || url.hostname === '') return null;
    return url.hostname.replace(/\.$/, '');
  } catch {
    return null;
  }
}

/**
 * Every host the request may be taken to be addressed to: its URL's, its `Host` header's and a
 * proxy's `X-Forwarded-Host` (the same-origin check counts each as the API's own origin).
 */
function hostsOf(request: Request): (string | null)[] {
  const hosts = [hostName(new URL(request.url).host)];
  const header = request.headers.get('host');
  if (header !== null) hosts.push(hostName(header.trim()));
  const forwarded = request.headers.get('x-forwarded-host');
  if (forwarded !== null) hosts.push(hostName(forwarded.split(',')[0]?.trim() ?? ''));
  return hosts;
}

/** A check that refuses (403) a request addressed to a host the API does not answer for; null when any host will do. */
export function hostGuard(
  allowedHosts: AllowedHosts | undefined,
  openToAll: boolean,
): ((request: Request) => void) | null {
  if (allowedHosts === true || (allowedHosts === undefined && !openToAll)) return null;
  const names = (allowedHosts ?? []).map((name) => name.toLowerCase());
  return (request) => {
    for (const host of hostsOf(request)) {
      if (host !== null && (listed(host, names) || (allowedHosts === undefined && isUnownableName(host))))
        continue;
      const named = host === null ? 'a malformed host' : `host "${host.slice(0, 200)}"`;
      throw new HttpError(
        403,
        'FORBIDDEN',
        `this API does not answer for ${named}: list it in allowedHosts` +
          (allowedHosts === undefined
            ? ' (an API run with allowAll answers only for local names and addresses)'
            : ''),
      );
    }
  };
}
