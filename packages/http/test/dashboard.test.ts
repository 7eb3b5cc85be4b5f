import { describe, expect, it } from 'vitest';
import { dashboardPage } from '../src/dashboard/index.js';

// What a host relies on without a browser: the page works under a strict CSP at any mount path and
// its script is valid JavaScript. Behaviour in a real browser is in dashboard.browser.test.ts.
describe('dashboardPage()', () => {
  const page = dashboardPage();

  it('returns the html, script and style documents, the same object each time', () => {
    expect(page.html).toMatch(/^<!doctype html>/);
    expect(page.script).toBeTypeOf('string');
    expect(page.style).toBeTypeOf('string');
    expect(dashboardPage()).toBe(page);
  });

  it('needs no inline script or style, so default-src self is enough', () => {
    const scripts = [...page.html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]?.[1]).toContain('src="assets/dashboard.js"');
    expect(scripts[0]?.[2]).toBe('');
    expect(page.html).not.toMatch(/<style\b|\sstyle="|\son[a-z]+="/i);
    expect(page.html).toContain('href="assets/dashboard.css"');
  });

  it('loads nothing from another origin and uses only relative URLs', () => {
    for (const text of [page.html, page.script ?? '', page.style ?? '']) {
      expect(text).not.toMatch(/https?:\/\//);
      expect(text).not.toMatch(/@import|url\(/);
    }
    // Every API call goes through api(method, 'relative/path'); a leading slash would escape the mount path.
    expect(page.script).not.toMatch(/api\('[A-Z]+', '\//);
    expect(page.html).not.toMatch(/(?:src|href)="\/(?!\/)/);
  });

  it('ships a script that parses as a classic script and uses no eval', () => {
    expect(() => new Function(page.script ?? '')).not.toThrow();
    expect(page.script).not.toMatch(/\beval\(|new Function|innerHTML/);
  });

  it('translates every string it looks up into English and French', () => {
    const script = page.script ?? '';
    const keys = new Set([...script.matchAll(/\bt\('([A-Za-z0-9_]+)'/g)].map((m) => m[1]));
    const block = (locale: 'en' | 'fr') => {
      const start = script.indexOf(`  ${locale}: {`);
      return script.slice(start, script.indexOf('\n  },', start));
    };
    for (const key of keys) {
      if (key === undefined || key.startsWith('st_') || key.startsWith('tr_') || key.startsWith('ac_'))
        continue;
      expect(block('en'), key).toMatch(new RegExp(`\\b${key}:`));
      expect(block('fr'), key).toMatch(new RegExp(`\\b${key}:`));
    }
    for (const status of ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped', 'idle']) {
      expect(block('en')).toContain(`st_${status}:`);
      expect(block('fr')).toContain(`st_${status}:`);
    }
    for (const trigger of ['schedule', 'manual', 'once', 'retry', 'backfill']) {
      expect(block('en')).toContain(`tr_${trigger}:`);
      expect(block('fr')).toContain(`tr_${trigger}:`);
    }
    for (const action of ['created', 'updated', 'paused', 'resumed', 'deleted', 'seeded', 'triggered']) {
      expect(block('en')).toContain(`ac_${action}:`);
      expect(block('fr')).toContain(`ac_${action}:`);
    }
  });
});
