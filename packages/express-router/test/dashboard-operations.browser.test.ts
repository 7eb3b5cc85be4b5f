import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  apiCall,
  type Harness,
  launchBrowser,
  openDashboard,
  row,
  startApp,
  watchConsole,
} from './dashboard.harness.js';

// The operator features of the dashboard in Chromium: a job's history of changes, the schedule
// field previewing the next instants as it is typed, and a job paused by auto-pause.
const enabled = process.env.CRONKEEPER_BROWSER_AVAILABLE !== '0';

describe.skipIf(!enabled)('dashboard operations in Chromium', () => {
  let h: Harness;
  let context: BrowserContext;
  let page: Page;
  let consoleErrors: string[];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const app = await startApp();
    h = { ...app, browser: await launchBrowser() };
    // A job that pauses itself after its first failure; a manual run fails it.
    expect(
      (
        await apiCall(h, 'POST', 'jobs', {
          name: 'flaky-alerts',
          schedule: '0 0 1 1 *',
          executor: 'check-alerts',
          autoPause: { afterFailures: 1 },
        })
      ).status,
    ).toBe(201);
    expect((await apiCall(h, 'POST', 'jobs/flaky-alerts/trigger', {})).status).toBe(202);
    // (expect.poll is only for tests, not hooks.)
    for (let tries = 0; tries < 100; tries++) {
      const job = (await apiCall(h, 'GET', 'jobs/flaky-alerts')).json.data as unknown as { enabled: boolean };
      if (!job.enabled) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // A change by another admin, for the history.
    expect((await apiCall(h, 'PATCH', 'jobs/morning-sync-3am', { schedule: '0 4 * * *' })).status).toBe(200);
    context = await h.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
    page = await openDashboard(h, context);
    consoleErrors = watchConsole(page, [400]);
  });

  afterAll(async () => {
    await h?.browser.close();
    await new Promise((resolve) => h?.server.close(resolve));
    await h?.scheduler.stop({ grace: '1s' });
  });

  it('shows a job paused by auto-pause apart from a manual pause, with its note', async () => {
    const flaky = row(page, 'flaky-alerts');
    await expect.poll(() => flaky.locator('[data-auto-paused]').textContent()).toBe('Auto-paused');
    expect(await flaky.locator('[data-label="Enabled"]').textContent()).toContain(
      'paused automatically after 1 failed runs in a row',
    );
    // A pause by a person keeps the plain badge.
    expect(await row(page, 'weekly-report').locator('[data-auto-paused]').count()).toBe(0);
    expect(await row(page, 'weekly-report').locator('.badge.s-paused').textContent()).toBe('Paused');
  });

  it('opens the history of changes of a job, newest first, with who changed what', async () => {
    await row(page, 'morning-sync-3am')
      .getByRole('button', { name: 'History of changes morning-sync-3am' })
      .click();
    const dialog = page.locator('dialog#dlg');
    await expect.poll(() => dialog.locator('h2').textContent()).toBe('History of changes: morning-sync-3am');
    const items = dialog.locator('.change-list li');
    await expect.poll(() => items.count()).toBe(2);
    expect(await items.nth(0).getAttribute('data-action')).toBe('updated');
    const changed = await items.nth(0).textContent();
    expect(changed).toContain('Changed');
    expect(changed).toContain('ops@example.test');
    expect(changed).toContain('schedule: 0 3 * * * → 0 4 * * *');
    // Seeded by the app's `jobs` option at start: no person did it.
    expect(await items.nth(1).textContent()).toMatch(/^Seeded .*system/);
    await page.screenshot({ path: `${ARTIFACTS}history-of-changes.png` });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);

    await row(page, 'flaky-alerts').getByRole('button', { name: 'History of changes flaky-alerts' }).click();
    const flakyItems = dialog.locator('.change-list li');
    await expect.poll(() => flakyItems.count()).toBe(3);
    expect(await flakyItems.nth(0).textContent()).toMatch(
      /^Paused .*system.*paused automatically after 1 failed runs/s,
    );
    expect(await flakyItems.nth(1).textContent()).toMatch(/^Run now .*ops@example\.test/);
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('previews the next instants of the schedule as it is typed, and says when it is not valid', async () => {
    await row(page, 'catalogue-import')
      .getByRole('button', { name: 'Edit schedule catalogue-import' })
      .click();
    const dialog = page.locator('dialog#dlg');
    const preview = dialog.locator('[data-preview]');
    await expect.poll(() => preview.textContent()).toMatch(/^Every 30 minutes.*Next: /);
    const schedule = dialog.getByLabel('Schedule (cron or alias)');
    await schedule.fill('0 9 * * 1-5');
    await expect.poll(() => preview.textContent()).toMatch(/09:00.*Monday through Friday/);
    const instants = ((await preview.locator('.muted').textContent()) ?? '')
      .replace('Next: ', '')
      .split(' · ');
    expect(instants).toHaveLength(3);
    await schedule.fill('every full moon');
    await expect.poll(() => preview.textContent()).toMatch(/^Not accepted: .*schedule/);
    expect(await preview.getAttribute('class')).toContain('error');
    await schedule.fill('*/10 * * * *');
    await dialog.getByLabel('Time zone').fill('Mars/Olympus');
    await expect.poll(() => preview.textContent()).toMatch(/^Not accepted: .*time ?zone/i);
    await page.screenshot({ path: `${ARTIFACTS}schedule-preview.png` });
    // Typing asked the server only to preview: nothing was saved.
    await dialog.getByRole('button', { name: 'Close' }).click();
    const job = (await apiCall(h, 'GET', 'jobs/catalogue-import')).json.data as unknown as {
      schedule: string;
    };
    expect(job.schedule).toBe('every_30_minutes');
  });

  it('had no console errors besides the expected 400 answers', () => {
    expect(consoleErrors).toEqual([]);
  });
});
