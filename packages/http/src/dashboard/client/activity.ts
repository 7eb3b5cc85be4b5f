/**
 * Browser code for what happened: the KPI cards, the 7-day timeline coloured by status,
 * the run history with its filters, and one run's details with its error and logs.
 */
export const activityScript = String.raw`
const TIMELINE_STATUSES = ['succeeded', 'failed', 'cancelled', 'skipped'];
const RUN_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'];
const DAY_MS = 86400000;

function kpi(label, value, note, tone) {
  return h(
    'div',
    { class: 'kpi ' + (tone || '') },
    h('div', { class: 'kpi-label' }, label),
    h('div', { class: 'kpi-value' }, value),
    note ? h('div', { class: 'kpi-note' }, note) : null,
  );
}

function renderKpis() {
  const stats = state.stats;
  if (!stats) return;
  const rate = stats.successRate == null ? null : Math.round(stats.successRate * 100) + ' % ' + t('kpiRate');
  document.getElementById('kpis').replaceChildren(
    kpi(t('kpiExec'), String(stats.executions24h), rate),
    kpi(t('kpiRunning'), String(stats.running), null, stats.running > 0 ? 'busy' : ''),
    kpi(t('kpiFailures'), String(stats.failures24h), null, stats.failures24h > 0 ? 'bad' : ''),
    kpi(t('kpiNext'), stats.nextRunAt ? countdown(stats.nextRunAt) : t('none'), stats.nextRunAt ? fmtDate(stats.nextRunAt) : null),
  );
}

/**
 * The query string of a job or executor to filter the runs by. A tenant's job carries its
 * tenantId: an operator asking for a name alone gets the global job of that name, so the history
 * of a tenant's job (or of one of several same-named jobs) would read as empty.
 */
function targetQuery(kind, name, tenantId) {
  return kind + '=' + encodeURIComponent(name) + (tenantId ? '&tenantId=' + encodeURIComponent(tenantId) : '');
}

/** The query string of the filters: the target's (see targetQuery), and a status. */
function filterQuery() {
  const parts = [];
  if (state.filters.target) parts.push(state.filters.target);
  if (state.filters.status) parts.push('status=' + state.filters.status);
  return parts;
}

/** First day of the timeline, as the server counts days: UTC midnight six days ago. */
function timelineSince() {
  const today = Date.parse(new Date().toISOString().slice(0, 10));
  return new Date(today - 6 * DAY_MS).toISOString();
}

/**
 * The stats timeline counts every job; with a job filter the days are counted here from that
 * job's runs instead (the most recent 500, which covers any realistic week of one job).
 */
function timelineDays() {
  if (!state.filters.target || !state.timelineRuns) return state.stats ? state.stats.timeline : [];
  const days = [];
  const start = Date.parse(timelineSince());
  for (let i = 0; i < 7; i++) {
    days.push({ date: new Date(start + i * DAY_MS).toISOString().slice(0, 10), succeeded: 0, failed: 0, cancelled: 0, skipped: 0 });
  }
  for (const run of state.timelineRuns) {
    if (!TIMELINE_STATUSES.includes(run.status)) continue;
    const date = String(run.finishedAt || run.startedAt || run.createdAt).slice(0, 10);
    const day = days.find((d) => d.date === date);
    if (day) day[run.status] += 1;
  }
  return days;
}

function renderTimeline() {
  const days = timelineDays();
  const shown = state.filters.status ? TIMELINE_STATUSES.filter((s) => s === state.filters.status) : TIMELINE_STATUSES;
  const totals = days.map((day) => shown.reduce((sum, status) => sum + day[status], 0));
  const max = Math.max(1, ...totals);
  const weekday = new Intl.DateTimeFormat(dateLocale(), { weekday: 'short', day: 'numeric', timeZone: 'UTC' });
  const summary = days
    .map((day, i) => day.date + ': ' + totals[i] + ' (' + shown.map((s) => t('st_' + s) + ' ' + day[s]).join(', ') + ')')
    .join('; ');
  const chart = h(
    'div',
    { class: 'timeline', role: 'img', 'aria-label': t('timeline') + ': ' + summary },
    days.map((day, i) =>
      h(
        'div',
        { class: 'day', 'data-date': day.date },
        h('div', { class: 'day-total' }, String(totals[i])),
        h(
          'div',
          { class: 'bar' },
          shown.map((status) => {
            if (!day[status]) return null;
            const segment = h('div', { class: 'seg s-' + status, title: t('st_' + status) + ': ' + day[status] });
            segment.style.height = (day[status] / max) * 100 + '%';
            return segment;
          }),
        ),
        h('div', { class: 'day-label' }, weekday.format(new Date(day.date + 'T00:00:00Z'))),
      ),
    ),
  );
  const legend = h(
    'ul',
    { class: 'legend' },
    shown.map((status) => h('li', null, h('span', { class: 'swatch s-' + status }), t('st_' + status))),
  );
  document.getElementById('timeline').replaceChildren(chart, legend);
}

function fillFilters() {
  const select = document.getElementById('f-target');
  const status = document.getElementById('f-status');
  const named = (kind, name, tenantId) => ({ value: targetQuery(kind, name, tenantId), name, tenantId: tenantId || null });
  const jobs = state.dashboard.jobs.map((job) => named('job', job.name, job.tenantId));
  const executors = state.dashboard.executors.map((executor) => named('executor', executor.name, null));
  // Rebuilt only when the choices change: replacing options under an open list would close it.
  const signature = JSON.stringify([lang, jobs, executors]);
  if (select.getAttribute('data-signature') !== signature) {
    select.setAttribute('data-signature', signature);
    // Jobs of several tenants may share a name: those say whose they are.
    const shared = new Set(jobs.filter((job, i) => jobs.findIndex((other) => other.name === job.name) !== i).map((job) => job.name));
    const label = (entry) => (shared.has(entry.name) ? entry.name + ' · ' + (entry.tenantId || t('globalJob')) : entry.name);
    const group = (labelKey, entries) =>
      h('optgroup', { label: t(labelKey) }, entries.map((entry) => h('option', { value: entry.value }, label(entry))));
    select.replaceChildren(
      ...[h('option', { value: '' }, t('all')), jobs.length && group('jobs', jobs), executors.length && group('executors', executors)].filter(Boolean),
    );
    status.replaceChildren(
      h('option', { value: '' }, t('all')),
      ...RUN_STATUSES.map((s) => h('option', { value: s }, t('st_' + s))),
    );
  }
  select.value = state.filters.target;
  status.value = state.filters.status;
}

function runRow(run) {
  const name = run.jobName || run.executor;
  const error = run.error ? run.error.message : '';
  return h(
    'tr',
    { 'data-run': run.id },
    cell('colWhen', fmtDate(run.startedAt || run.runAt)),
    cell('colTarget', h('strong', { class: 'name' }, name)),
    cell('colTrigger', t('tr_' + run.trigger)),
    cell('colStatus', statusBadge(run.status)),
    cell('colDuration', fmtDuration(run.durationMs)),
    cell('colBy', run.triggeredBy || t('none')),
    cell('colError', error ? h('span', { class: 'error small clip', title: error }, error) : t('none')),
    cell(
      'colActions',
      h('button', { type: 'button', 'data-key': 'run:' + run.id, 'aria-label': t('details') + ' ' + name + ' ' + fmtDate(run.startedAt || run.runAt), onclick: () => openRun(run.id) }, t('details')),
    ),
  );
}

function renderHistory() {
  const container = document.getElementById('history');
  renderInto(container, () => {
    const wrap = h('div', null, table(['colWhen', 'colTarget', 'colTrigger', 'colStatus', 'colDuration', 'colBy', 'colError', 'colActions'], state.history.items.map(runRow), 'noRuns'));
    if (state.history.nextCursor) {
      wrap.append(h('button', { type: 'button', class: 'more', 'data-key': 'more', onclick: loadMoreHistory }, t('loadMore')));
    }
    return wrap;
  });
}

async function loadMoreHistory() {
  const query = filterQuery().concat(['limit=25', 'cursor=' + encodeURIComponent(state.history.nextCursor)]);
  const result = await api('GET', 'runs?' + query.join('&'));
  if (!result.ok) return notify(errorText(result), 'error');
  state.history.items = state.history.items.concat(itemsOf(result.data));
  state.history.nextCursor = (result.data && result.data.nextCursor) || null;
  renderHistory();
}

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter((p) => p[1] !== null && p[1] !== undefined && p[1] !== '').map((p) => [h('dt', null, p[0]), h('dd', null, p[1])]));
}

async function openRun(id) {
  const result = await api('GET', 'runs/' + encodeURIComponent(id));
  if (!result.ok) return notify(errorText(result), 'error');
  const run = result.data;
  const logs = run.logs || [];
  const body = [
    facts([
      [t('colStatus'), statusBadge(run.status)],
      [t('colTarget'), run.jobName || run.executor],
      [t('colTrigger'), t('tr_' + run.trigger)],
      [t('attempt'), String(run.attempt) + (run.maxAttempts ? ' / ' + run.maxAttempts : '')],
      [t('created'), fmtDate(run.createdAt)],
      [t('runAt'), fmtDate(run.runAt)],
      [t('started'), fmtDate(run.startedAt)],
      [t('finished'), fmtDate(run.finishedAt)],
      [t('colDuration'), fmtDuration(run.durationMs)],
      [t('colBy'), run.triggeredBy],
      [t('colError'), run.error ? h('span', { class: 'error' }, run.error.code + ': ' + run.error.message) : null],
    ]),
    h('h3', null, t('task')),
    h('ul', { class: 'tasks' }, (run.tasks || []).map((task) => h('li', null, statusBadge(task.status), ' ', h('strong', null, task.executor), task.error ? h('span', { class: 'error small' }, ' ' + task.error.message) : null))),
    h('h3', null, t('colParams')),
    h('pre', { class: 'mono' }, JSON.stringify(run.params || {}, null, 2)),
    run.result !== null && run.result !== undefined ? [h('h3', null, t('result')), h('pre', { class: 'mono' }, JSON.stringify(run.result, null, 2))] : null,
    h('h3', null, t('logs')),
    logs.length
      ? h('pre', { class: 'mono logs', tabindex: '0' }, logs.map((line) => new Date(line.at).toLocaleTimeString(dateLocale()) + ' ' + line.level.toUpperCase() + ' ' + line.message).join('\n'))
      : h('p', { class: 'muted' }, t('noLogs')),
  ];
  openDialog(t('dlgRun', { id: run.id }), body, null, async () => null);
}
`;
