import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  apiCall,
  type Harness,
  launchBrowser,
  MOUNT,
  openDashboard,
  row,
  startApp,
  watchConsole,
} from './dashboard.harness.js';

// The dashboard in a real browser: Debian's headless Chromium driven by playwright-core. CI sets
// CRONKEEPER_BROWSER=1; elsewhere test/services.setup.ts runs it when Chromium is installed at the
// usual path, and announces a skip in its one line.
const enabled = process.env.CRONKEEPER_BROWSER_AVAILABLE !== '0';

describe.skipIf(!enabled)('dashboard in Chromium', () => {
  let h: Harness;
  let context: BrowserContext;
  let page: Page;
  let consoleErrors: string[];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const app = await startApp();
    const browser = await launchBrowser();
    h = { ...app, browser };
    // A failed run so the history, KPIs and timeline have something red to show.
    expect((await apiCall(h, 'POST', 'jobs/check-alerts/trigger', {})).status).toBe(202);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  });

  afterAll(async () => {
    await h?.browser.close();
    await new Promise((resolve) => h?.server.close(resolve));
    await h?.scheduler.stop({ grace: '1s' });
  });

  it('loads with the jobs, KPIs, timeline and history, and no console error', async () => {
    page = await context.newPage();
    consoleErrors = watchConsole(page, [400, 409, 429]);
    const loadErrors = watchConsole(page);
    const response = await page.goto(`${h.origin}${MOUNT}`);
    // Redirected to the trailing slash so relative URLs resolve under the mount path.
    expect(new URL(page.url()).pathname).toBe(`${MOUNT}/`);
    // Served under a policy with no inline allowance: any inline script or style would be a console error.
    const policy = response?.headers()['content-security-policy'] ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    const sync = row(page, 'morning-sync-3am');
    await expect.poll(() => sync.locator('.describe').textContent()).toContain('03:00');
    await expect.poll(() => page.locator('#conn').getAttribute('class')).toContain('on');
    expect(await sync.textContent()).toContain('Europe/Paris');
    expect(await row(page, 'weekly-report').textContent()).toContain('waiting for Q3 figures');
    await expect
      .poll(() => row(page, 'check-alerts').locator('.badge[data-status]').getAttribute('data-status'))
      .toBe('failed');
    expect(await row(page, 'check-alerts').textContent()).toContain('alert service answered 503');
    expect(await page.locator('.kpi').count()).toBe(4);
    expect(await page.locator('#timeline .day').count()).toBe(7);
    await expect.poll(() => page.locator('#history tr[data-run]').count()).toBeGreaterThan(0);
    // A countdown to the next slot, ticking.
    expect(await sync.locator('.countdown').textContent()).toMatch(/\d/);
    expect(loadErrors).toEqual([]);
  });

  it('shows schedules in French with the language toggle, and back', async () => {
    const describe = row(page, 'morning-sync-3am').locator('.describe');
    const english = await describe.textContent();
    await page.getByRole('button', { name: 'FR', exact: true }).click();
    await expect.poll(() => describe.textContent()).not.toBe(english);
    expect(await describe.textContent()).toMatch(/03:00/);
    expect(await page.locator('#h-jobs').textContent()).toBe('Tâches');
    await page.getByRole('button', { name: 'EN', exact: true }).click();
    await expect.poll(() => describe.textContent()).toBe(english);
  });

  it('runs a job now and shows it go pending → running → succeeded', async () => {
    // Record every status the row shows, however briefly: rows are re-rendered on each event.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const read = () => {
        const status = document
          .querySelector('tr[data-job="morning-sync-3am"] .badge[data-status]')
          ?.getAttribute('data-status');
        if (status && seen[seen.length - 1] !== status) seen.push(status);
      };
      new MutationObserver(read).observe(document.getElementById('jobs') as HTMLElement, {
        childList: true,
        subtree: true,
      });
      read();
    });
    const button = row(page, 'morning-sync-3am').getByRole('button', { name: 'Run now morning-sync-3am' });
    await button.click();
    await expect.poll(() => button.isDisabled()).toBe(true);
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { seen: string[] }).seen), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['pending', 'running', 'succeeded']));
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    const tail = seen.slice(seen.lastIndexOf('pending'));
    expect(tail.indexOf('running')).toBeGreaterThan(0);
    expect(tail.indexOf('succeeded')).toBeGreaterThan(tail.indexOf('running'));
    await expect.poll(() => button.isDisabled()).toBe(false);
    expect(await row(page, 'morning-sync-3am').textContent()).toMatch(/1\.\d s/);

    // Its logs are one click away in the history.
    const runRow = page.locator('#history tr[data-run]').filter({ hasText: 'morning-sync-3am' }).first();
    await runRow.getByRole('button', { name: /^Details/ }).click();
    const dialog = page.locator('dialog#dlg');
    await expect.poll(() => dialog.textContent()).toContain('processing a batch of 10');
    expect(await dialog.textContent()).toContain('ops@example.test');
    await page.keyboard.press('Escape');
    expect(await dialog.isVisible()).toBe(false);
  });

  it('answers a second run within the rate limit with the wait in words (429)', async () => {
    const button = row(page, 'morning-sync-3am').getByRole('button', { name: 'Run now morning-sync-3am' });
    await button.click();
    await expect
      .poll(() => row(page, 'morning-sync-3am').locator('.row-msg').textContent())
      .toMatch(/Too many manual runs: try again in \d+ s/);
    expect(await page.locator('#notice').textContent()).toMatch(/try again in \d+ s/);
  });

  it('answers "run now" on a job already running with the 409 in words', async () => {
    // Without live events the page cannot know the API started a run, so the button is still enabled.
    const blind = await h.browser.newContext({ viewport: { width: 1280, height: 900 } });
    await blind.route(`**${MOUNT}/events`, (route) => route.abort());
    const other = await openDashboard(h, blind);
    await expect.poll(() => other.locator('#conn').textContent()).toBe('Refreshing every 30 s');
    const started = await apiCall(h, 'POST', 'jobs/catalogue-import/trigger', {});
    expect(started.status).toBe(202);
    const runId = started.json.data?.id ?? '';
    await expect
      .poll(async () => (await apiCall(h, 'GET', `runs/${runId}`)).json.data?.status)
      .toBe('running');
    const button = row(other, 'catalogue-import').getByRole('button', { name: 'Run now catalogue-import' });
    expect(await button.isDisabled()).toBe(false);
    await button.click();
    await expect
      .poll(() => row(other, 'catalogue-import').locator('.row-msg').textContent())
      .toBe('catalogue-import is already running: wait for the current run to finish.');
    // The answer also makes the page look again: the running run now disables the button.
    await expect.poll(() => button.isDisabled()).toBe(true);
    expect(
      await row(other, 'catalogue-import').locator('.badge[data-status]').getAttribute('data-status'),
    ).toBe('running');
    await blind.close();
  });

  it('schedules a one-off with checked parameters, counts down, and cancels it', async () => {
    await row(page, 'morning-sync-3am')
      .getByRole('button', { name: 'Schedule morning-sync-3am', exact: true })
      .click();
    const dialog = page.locator('dialog#dlg');
    expect(await dialog.textContent()).toContain('batchSize (integer');
    const submit = dialog.getByRole('button', { name: 'Schedule', exact: true });
    await submit.click();
    expect(await dialog.locator('.form-error').textContent()).toBe('Pick a date and time.');

    // Less than a minute ahead is refused before any request.
    const inSeconds = (seconds: number) =>
      page.evaluate((s) => {
        const d = new Date(Date.now() + s * 1000);
        const p = (n: number) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
      }, seconds);
    const when = dialog.getByLabel('Date and time (your local time)');
    await when.fill(await inSeconds(0));
    await submit.click();
    expect(await dialog.locator('.form-error').textContent()).toContain('at least one minute');

    // The shortcut fills the picker; parameters are checked against the executor's schema.
    await dialog.getByRole('button', { name: 'In 1 hour' }).click();
    expect(await when.inputValue()).toBe(await inSeconds(3600));
    const params = dialog.getByLabel('Parameters (JSON, optional)');
    await params.fill('{"batchSize": "many"}');
    expect(await dialog.locator('.checks').textContent()).toContain('"batchSize" should be integer');
    await submit.click();
    expect(await dialog.locator('.form-error').textContent()).toContain('"batchSize" should be integer');
    await params.fill('{"batchSize": 7');
    expect(await dialog.locator('.checks').textContent()).toContain('not valid JSON');
    await params.fill('{"batchSize": 7}');
    await when.fill(await inSeconds(3 * 60 + 30));
    await submit.click();
    await expect.poll(() => dialog.isVisible()).toBe(false);

    const scheduled = page.locator('#scheduled tr[data-run]').filter({ hasText: 'morning-sync-3am' });
    await expect.poll(() => scheduled.count()).toBe(1);
    expect(await scheduled.textContent()).toContain('{"batchSize":7}');
    // Under five minutes away: the countdown is the orange badge.
    const countdown = scheduled.locator('.countdown');
    expect(await countdown.textContent()).toMatch(/^[23] min$/);
    expect(await countdown.getAttribute('class')).toContain('soon');
    const runId = (await scheduled.getAttribute('data-run')) ?? '';
    expect((await apiCall(h, 'GET', `runs/${runId}`)).json.data?.status).toBe('pending');

    page.once('dialog', (confirm) => void confirm.accept());
    await scheduled.getByRole('button', { name: /^Cancel morning-sync-3am/ }).click();
    await expect.poll(() => scheduled.count()).toBe(0);
    expect(await page.locator('#notice').textContent()).toBe('Scheduled run cancelled.');
    expect((await apiCall(h, 'GET', `runs/${runId}`)).json.data?.status).toBe('cancelled');
  });

  it('edits a schedule (showing a refusal in words), resumes and pauses a job with a note', async () => {
    const weekly = row(page, 'weekly-report');
    await weekly.getByRole('button', { name: 'Edit schedule weekly-report' }).click();
    const dialog = page.locator('dialog#dlg');
    const schedule = dialog.getByLabel('Schedule (cron or alias)');
    await schedule.fill('every full moon');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dialog.locator('.form-error').textContent()).toMatch(/^Not accepted: .*schedule/);
    await schedule.fill('0 4 * * 1');
    await dialog.getByLabel('Time zone').fill('Europe/Paris');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => weekly.locator('.describe').textContent()).toContain('04:00');
    expect(await weekly.textContent()).toContain('Europe/Paris');

    await weekly.getByRole('button', { name: 'Resume weekly-report' }).click();
    await expect.poll(() => weekly.locator('[data-label="Enabled"]').textContent()).toBe('Yes');
    expect(await weekly.locator('.countdown').count()).toBe(1);

    await weekly.getByRole('button', { name: 'Pause weekly-report' }).click();
    await dialog.getByLabel('Note (why it is paused)').fill('disk maintenance');
    await dialog.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect
      .poll(() => weekly.locator('[data-label="Enabled"]').textContent())
      .toBe('Pauseddisk maintenance');
    const job = (await apiCall(h, 'GET', 'jobs/weekly-report')).json.data as unknown as Record<
      string,
      unknown
    >;
    expect(job).toMatchObject({
      schedule: '0 4 * * 1',
      timezone: 'Europe/Paris',
      enabled: false,
      pausedNote: 'disk maintenance',
    });
  });

  it('runs an executor alone from its row', async () => {
    const executor = page.locator('tr[data-executor="check-alerts"]');
    await executor.getByRole('button', { name: 'Run now check-alerts' }).click();
    await expect.poll(() => page.locator('#notice').textContent()).toBe('Run of check-alerts started.');
    const runs = await apiCall(h, 'GET', 'runs?executor=check-alerts&trigger=manual');
    const items = (runs.json.data as unknown as { items: Array<{ jobName: string | null; status: string }> })
      .items;
    expect(items.some((run) => run.jobName === null)).toBe(true);
    await expect
      .poll(() => executor.locator('.badge[data-status]').getAttribute('data-status'))
      .toBe('failed');
  });

  it('filters the timeline and the history by job and by status', async () => {
    await page.locator('#f-target').selectOption('job=check-alerts');
    const history = page.locator('#history tr[data-run]');
    await expect
      .poll(async () => (await history.allTextContents()).every((text) => text.includes('check-alerts')))
      .toBe(true);
    expect(await history.count()).toBeGreaterThan(0);
    const today = page.locator('#timeline .day').last();
    await expect.poll(() => today.locator('.seg.s-failed').count()).toBe(1);
    expect(await today.locator('.seg.s-succeeded').count()).toBe(0);

    await page.locator('#f-status').selectOption('succeeded');
    await expect.poll(() => page.locator('#history .empty').textContent()).toBe('No runs match.');
    expect(await page.locator('#timeline .day-total').allTextContents()).toEqual([
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
      '0',
    ]);

    await page.locator('#f-target').selectOption('');
    await expect.poll(() => history.count()).toBeGreaterThan(0);
    expect((await history.allTextContents()).every((text) => text.includes('Succeeded'))).toBe(true);
    await page.locator('#f-status').selectOption('');
  });

  it("filters by a tenant's job, telling same-named jobs of different tenants apart", async () => {
    for (const tenantId of ['acme', 'globex'])
      await h.scheduler.jobs.create({
        name: 'tenant-report',
        tenantId,
        schedule: '0 4 * * *',
        executor: 'sync-invoices',
      });
    const run = await h.scheduler.schedule({
      job: 'tenant-report',
      tenantId: 'acme',
      at: new Date(Date.now() + 3_600_000),
    });
    try {
      await page.locator('#refresh').click();
      await expect
        .poll(() => page.locator('#f-target option').allTextContents())
        .toEqual(expect.arrayContaining(['tenant-report · acme', 'tenant-report · globex']));
      const history = page.locator('#history tr[data-run]');
      await page.locator('#f-target').selectOption({ label: 'tenant-report · acme' });
      await expect
        .poll(() => history.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run'))))
        .toEqual([run.id]);
      await page.locator('#f-target').selectOption({ label: 'tenant-report · globex' });
      await expect.poll(() => page.locator('#history .empty').textContent()).toBe('No runs match.');
    } finally {
      await page.locator('#f-target').selectOption('');
      await h.scheduler.cancel(run.id, { tenantId: 'acme' });
      for (const tenantId of ['acme', 'globex']) await h.scheduler.jobs.delete('tenant-report', { tenantId });
    }
  });

  it('is reachable from the keyboard: Tab reaches the row actions, Enter runs and schedules', async () => {
    await page.locator('#refresh').focus();
    let reached = '';
    for (let i = 0; i < 40 && !reached.startsWith('Schedule '); i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');
    }
    expect(reached).toMatch(/^Schedule /);
    await page.keyboard.press('Enter');
    // The dialog opens in the page's key handler, which may run after press() resolved.
    await expect.poll(() => page.locator('dialog#dlg').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
    await expect.poll(focused).toBe(reached);

    // Enter on "Run now": the button disables and focus stays in the row, on its next action.
    await page.getByRole('button', { name: 'Run now weekly-report' }).focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByRole('button', { name: 'Run now weekly-report' }).isDisabled())
      .toBe(true);
    await expect.poll(focused).toBe('Schedule weekly-report');
  });

  it("leaves focus where it moved before the dialog's close event, instead of taking it back", async () => {
    await page.getByRole('button', { name: 'Schedule weekly-report' }).first().click();
    await expect.poll(() => page.locator('dialog#dlg').isVisible()).toBe(true);
    // A keyboard user on a loaded machine: focus moves on in the task that closed the dialog,
    // before the close event (queued as a task of its own) runs.
    const focusedAfter = await page.evaluate(async () => {
      (document.getElementById('dlg') as HTMLDialogElement).close();
      (document.getElementById('refresh') as HTMLElement).focus();
      await new Promise((resolve) => setTimeout(resolve, 100));
      return document.activeElement?.id;
    });
    expect(focusedAfter).toBe('refresh');
  });

  it('reloads its views at most every 2 s under a stream of events, and shows the last change', async () => {
    const watcher = await openDashboard(h, context);
    await expect.poll(() => watcher.locator('#conn').getAttribute('class')).toContain('on');
    await new Promise((resolve) => setTimeout(resolve, 500));
    let reloads = 0;
    watcher.on('request', (request) => {
      if (new URL(request.url()).pathname === `${MOUNT}/dashboard`) reloads++;
    });
    // 12 changes 300 ms apart: one reload per event would be 12.
    for (let index = 0; index < 12; index++) {
      await h.scheduler.jobs.update('weekly-report', { description: `revision ${index}` });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(reloads).toBeLessThanOrEqual(4);
    await expect.poll(() => row(watcher, 'weekly-report').textContent()).toContain('revision 11');
    await watcher.close();
  });

  it('has no console errors after all that (besides the expected 400/409/429 answers)', () => {
    expect(consoleErrors).toEqual([]);
  });

  it('looks right on a desktop and fits 360 px without horizontal scrolling', async () => {
    await page.screenshot({ path: `${ARTIFACTS}dashboard-desktop.png`, fullPage: true });
    const phone = await h.browser.newContext({
      viewport: { width: 360, height: 780 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const small = await openDashboard(h, phone);
    await expect.poll(() => small.locator('#history tr[data-run]').count()).toBeGreaterThan(0);
    const widths = await small.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
    }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.viewport);
    const overflowing = await small.evaluate(() =>
      Array.from(document.querySelectorAll('body *'))
        .filter(
          (el) =>
            el.getBoundingClientRect().right > window.innerWidth + 1 &&
            // Content inside its own scroll or clip box does not widen the page.
            !el.closest('pre, .clip'),
        )
        .map((el) => el.tagName + (el.className ? `.${el.className}` : '')),
    );
    expect(overflowing).toEqual([]);
    await small.screenshot({ path: `${ARTIFACTS}dashboard-360.png`, fullPage: true });
    await small.screenshot({ path: `${ARTIFACTS}dashboard-360-top.png` });
    await phone.close();
  });
});
