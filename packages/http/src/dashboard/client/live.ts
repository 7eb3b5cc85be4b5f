/**
 * Browser code that keeps the page current: the shared state, one debounced refresh of every
 * endpoint, the server-sent events stream (with a 30 s poll whenever it is down), the one-second
 * countdown ticker, the language toggle and the boot sequence. Runs last in the bundle.
 */
// biome-ignore lint/complexity/noUselessStringRaw: raw keeps any escape sequence added later verbatim in the browser code.
export const liveScript = String.raw`
const TERMINAL = ['succeeded', 'failed', 'cancelled', 'skipped'];
const POLL_MS = 30000;

const state = {
  dashboard: { jobs: [], executors: [] },
  registry: [],
  stats: null,
  scheduled: [],
  history: { items: [], nextCursor: null },
  timelineRuns: null,
  filters: { target: '', status: '' },
  // Runs known to be pending or running, by id: from the API and from live events.
  liveRuns: new Map(),
  // Runs seen ending through events, so an older snapshot cannot bring them back to life.
  finished: new Set(),
  rowMessages: new Map(),
  loaded: false,
};

let sseOpen = false;
let refreshTimer = null;
let refreshing = false;
let refreshAgain = false;
let loadFailed = false;
const dueSeen = new Set();

function slim(run) {
  return { id: run.id, jobName: run.jobName, tenantId: run.tenantId, executor: run.executor, status: run.status, runAt: run.runAt };
}

/** Record a pending or running run; an older answer (pending) never overwrites a newer event (running). */
function rememberRun(run) {
  if (TERMINAL.includes(run.status) || state.finished.has(run.id)) return;
  const known = state.liveRuns.get(run.id);
  if (known && known.status === 'running' && run.status === 'pending') return;
  state.liveRuns.set(run.id, slim(run));
}

/** A run event: update the rows at once (so pending -> running -> done shows), then refetch. */
function applyRun(run) {
  if (TERMINAL.includes(run.status)) {
    state.liveRuns.delete(run.id);
    state.finished.add(run.id);
    const last = { id: run.id, status: run.status, at: run.startedAt || run.finishedAt, durationMs: run.durationMs, error: run.error ? run.error.message : null };
    for (const job of state.dashboard.jobs) {
      if (run.jobName && job.name === run.jobName && (job.tenantId || null) === (run.tenantId || null)) {
        job.status = run.status;
        job.lastRun = last;
      }
    }
    for (const executor of state.dashboard.executors) {
      if (!run.jobName && executor.name === run.executor) {
        executor.status = run.status;
        executor.lastRun = last;
      }
    }
  } else {
    rememberRun(run);
  }
  renderJobs();
  renderExecutors();
}

function renderAll() {
  renderKpis();
  renderJobs();
  renderExecutors();
  renderScheduled();
  fillFilters();
  renderTimeline();
  renderHistory();
}

function scheduleRefresh(delay) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, delay);
}

// Events reload every view at most once per EVENT_REFRESH_MS (each reload is several API calls,
// for every open dashboard); the run an event names is shown at once by applyRun meanwhile.
const EVENT_REFRESH_MS = 2000;
let lastEventRefresh = 0;
let eventRefreshTimer = null;

function refreshAfterEvent() {
  if (eventRefreshTimer !== null) return;
  const wait = Math.max(250, lastEventRefresh + EVENT_REFRESH_MS - Date.now());
  eventRefreshTimer = setTimeout(() => {
    eventRefreshTimer = null;
    lastEventRefresh = Date.now();
    scheduleRefresh(0);
  }, wait);
}

async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  try {
    await loadAll();
  } finally {
    refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      scheduleRefresh(100);
    }
  }
}

async function loadAll() {
  const filters = filterQuery();
  const historyLimit = Math.min(500, Math.max(25, state.history.items.length));
  const calls = [
    api('GET', 'dashboard?locale=' + lang),
    api('GET', 'stats'),
    api('GET', 'executors'),
    api('GET', 'scheduled?status=pending'),
    api('GET', 'runs?status=running&limit=200'),
    api('GET', 'runs?status=pending&limit=200'),
    api('GET', 'runs?' + filters.concat(['limit=' + historyLimit]).join('&')),
    state.filters.target
      ? api('GET', 'runs?' + filterQuery().filter((p) => !p.startsWith('status=')).concat(['since=' + encodeURIComponent(timelineSince()), 'limit=500']).join('&'))
      : null,
  ];
  const [dashboard, stats, registry, scheduled, running, pending, history, timeline] = await Promise.all(calls);
  const failed = [dashboard, stats, registry, scheduled, running, pending, history, timeline].find((r) => r && !r.ok);
  if (failed) notify(t('errLoad', { message: errorText(failed) }), 'error');
  else if (loadFailed) notify('', 'info');
  loadFailed = Boolean(failed);
  if (dashboard.ok) {
    state.dashboard = dashboard.data;
    state.loaded = true;
  }
  if (stats.ok) state.stats = stats.data;
  if (registry.ok) state.registry = itemsOf(registry.data);
  if (scheduled.ok) state.scheduled = itemsOf(scheduled.data).filter((run) => run.status === 'pending');
  if (running.ok && pending.ok) {
    const next = new Map();
    for (const run of itemsOf(running.data).concat(itemsOf(pending.data))) {
      if (!state.finished.has(run.id)) next.set(run.id, slim(run));
    }
    state.liveRuns = next;
  }
  if (history.ok) state.history = { items: itemsOf(history.data), nextCursor: (history.data && history.data.nextCursor) || null };
  state.timelineRuns = timeline && timeline.ok ? itemsOf(timeline.data) : null;
  renderAll();
}

function setLive(open) {
  sseOpen = open;
  const badge = document.getElementById('conn');
  badge.textContent = open ? t('live') : t('polling');
  badge.className = 'conn ' + (open ? 'on' : 'off');
}

const EVENT_NAMES = ['run:created', 'run:started', 'run:succeeded', 'run:failed', 'run:cancelled', 'run:skipped', 'job:changed'];

function onEvent(raw) {
  let payload = null;
  try {
    payload = JSON.parse(raw);
  } catch (_) {
    payload = null;
  }
  const inner = payload && payload.data && typeof payload.data === 'object' ? payload.data : payload;
  const run = inner && (inner.run || (inner.id && inner.status && inner.runAt ? inner : null));
  if (run && run.id && run.status) applyRun(run);
  refreshAfterEvent();
}

/** Live updates; EventSource retries by itself while CONNECTING, we retry after it gives up. */
function connect() {
  if (typeof EventSource !== 'function') return setLive(false);
  const source = new EventSource(BASE + 'events');
  let wasOpen = false;
  source.onopen = () => {
    setLive(true);
    // Anything that happened while we were disconnected is only in a fresh snapshot.
    if (wasOpen) scheduleRefresh(0);
    wasOpen = true;
  };
  source.onerror = () => {
    setLive(false);
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, POLL_MS);
  };
  source.onmessage = (event) => onEvent(event.data);
  for (const name of EVENT_NAMES) source.addEventListener(name, (event) => onEvent(event.data));
}

function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll('[data-countdown]')) {
    const at = el.getAttribute('data-countdown');
    // When a countdown ends, the run or slot it counts to is due: fetch what happened, once.
    if (paintCountdown(el, now) <= 0 && !dueSeen.has(at)) {
      dueSeen.add(at);
      scheduleRefresh(1500);
    }
  }
}

function applyStatic() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.getAttribute('data-i18n'));
  for (const button of document.querySelectorAll('[data-lang]')) button.setAttribute('aria-pressed', String(button.getAttribute('data-lang') === lang));
  setLive(sseOpen);
}

function boot() {
  applyStatic();
  document.getElementById('conn').textContent = t('connecting');
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.addEventListener('click', () => {
      lang = button.getAttribute('data-lang');
      try {
        localStorage.setItem('cronkeeper.lang', lang);
      } catch (_) {
        // Not remembered across visits; the toggle still works for this one.
      }
      applyStatic();
      renderAll();
      scheduleRefresh(0);
    });
  }
  document.getElementById('refresh').addEventListener('click', () => scheduleRefresh(0));
  document.getElementById('f-target').addEventListener('change', (event) => {
    state.filters.target = event.target.value;
    state.history = { items: [], nextCursor: null };
    scheduleRefresh(0);
  });
  document.getElementById('f-status').addEventListener('change', (event) => {
    state.filters.status = event.target.value;
    state.history = { items: [], nextCursor: null };
    scheduleRefresh(0);
  });
  renderAll();
  refresh();
  connect();
  setInterval(() => {
    if (!sseOpen) refresh();
  }, POLL_MS);
  setInterval(tick, 1000);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
`;
