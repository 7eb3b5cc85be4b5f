import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { dashboardPage } from './dashboard/index.js';
import type { CronAction } from './options.js';

function hashes(html: string, tag: 'script' | 'style'): string[] {
  const pattern = new RegExp(`<${tag}(?![^>]*\\bsrc=)[^>]*>([\\s\\S]*?)</${tag}>`, 'gi');
  return [...html.matchAll(pattern)].map(
    (match) =>
      `'sha256-${createHash('sha256')
        .update(match[1] ?? '')
        .digest('base64')}'`,
  );
}

/**
 * A strict Content-Security-Policy for the page: its own assets only, API calls to its own origin,
 * and hashes for any inline block the page still carries (none when `script`/`style` are served).
 */
export function contentSecurityPolicy(html: string): string {
  const scripts = ["'self'", ...hashes(html, 'script')].join(' ');
  const styles = ["'self'", ...hashes(html, 'style')].join(' ');
  return [
    "default-src 'none'",
    `script-src ${scripts}`,
    `style-src ${styles}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

type Guard = (req: Request, res: Response, action: CronAction) => Promise<boolean>;

/**
 * Handlers of the page (`GET /`) and its assets. The mount path without a trailing slash is
 * redirected to the one with it, so the page's relative URLs resolve under the mount path.
 */
export function pageHandlers(guard: Guard): {
  page: RequestHandler;
  script: RequestHandler;
  style: RequestHandler;
} {
  const page = dashboardPage();
  const policy = contentSecurityPolicy(page.html);
  const common = (res: Response) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-cache');
  };
  const serve =
    (body: string | undefined, type: string): RequestHandler =>
    (req, res, next) => {
      void (async () => {
        if (body === undefined) return next();
        if (!(await guard(req, res, 'dashboard:view'))) return;
        common(res);
        res.type(type).send(body);
      })().catch(next);
    };
  return {
    page: (req, res, next) => {
      const [pathname = '', search] = req.originalUrl.split('?');
      if (!pathname.endsWith('/')) {
        res.redirect(302, `${pathname}/${search === undefined ? '' : `?${search}`}`);
        return;
      }
      void (async () => {
        if (!(await guard(req, res, 'dashboard:view'))) return;
        common(res);
        res.setHeader('Content-Security-Policy', policy);
        res.setHeader('X-Frame-Options', 'SAMEORIGIN');
        res.type('html').send(page.html);
      })().catch(next);
    },
    script: serve(page.script, 'application/javascript; charset=utf-8'),
    style: serve(page.style, 'text/css; charset=utf-8'),
  };
}
