import { z } from 'zod';
import { dashboardPage } from './dashboard/index.js';
import { defineRoute, type RouteDef } from './routing.js';

/**
 * A strict Content-Security-Policy for the page: its own assets only and API calls to its own
 * origin. The page carries no inline script or style (a test holds it to that), so no hash or
 * `unsafe-inline` is needed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-cache',
};

// The page and its assets ignore the query string (a login redirect may leave one behind).
const anyQuery = z.record(z.string(), z.unknown());

const escapeAttribute = (text: string) => text.replace(/[&"'<>]/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * The page's HTML for the URL it is served at. Its asset URLs are relative (`assets/…`), which
 * resolves under the mount path when the page URL ends with a slash. Served at the mount path
 * without one (`/api/cron`, as Next.js serves it), they are prefixed with the last path segment
 * (`./cron/assets/…`), built from the path only, never the request's host.
 */
function htmlFor(request: Request, path: string, html: string): string {
  if (path !== '') return html;
  const segment = new URL(request.url).pathname.split('/').pop() ?? '';
  if (segment === '') return html;
  const prefix = escapeAttribute(`./${segment}/`);
  return html.replace(/(\s(?:src|href)=")assets\//g, `$1${prefix}assets/`);
}

/** `GET /` (the dashboard page) and its two assets, all under the `dashboard:view` action. */
export function pageRoutes(): RouteDef[] {
  const page = dashboardPage();
  const asset = (path: string, body: string | undefined, type: string): RouteDef[] =>
    body === undefined
      ? []
      : [
          defineRoute({
            method: 'get',
            path,
            action: 'dashboard:view',
            tag: 'dashboard',
            summary: 'A dashboard asset',
            hidden: true,
            query: anyQuery,
            raw: { contentType: type },
            handle: async () => new Response(body, { headers: { ...COMMON_HEADERS, 'content-type': type } }),
          }),
        ];
  return [
    defineRoute({
      method: 'get',
      path: '/',
      action: 'dashboard:view',
      tag: 'dashboard',
      summary: 'The dashboard page',
      hidden: true,
      query: anyQuery,
      raw: { contentType: 'text/html' },
      handle: async ({ request, path }) =>
        new Response(htmlFor(request, path, page.html), {
          headers: {
            ...COMMON_HEADERS,
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': CONTENT_SECURITY_POLICY,
            'x-frame-options': 'SAMEORIGIN',
          },
        }),
    }),
    ...asset('/assets/dashboard.js', page.script, 'application/javascript; charset=utf-8'),
    ...asset('/assets/dashboard.css', page.style, 'text/css; charset=utf-8'),
  ];
}
