/**
 * Browser code for the jobs and executors tables: "run now" (disabled while a run is pending or
 * running, 409/429 answered in words), and the edit-schedule and pause dialogs. Shares the scope of
 * `core.ts` (see there for why this is a string without template literals).
 */
// biome-ignore lint/complexity/noUselessStringRaw: raw keeps any escape sequence added later verbatim in the browser code.
export const jobsScript = String.raw`
/**
 * What a row should show now. The dashboard snapshot says "running" only between refreshes; runs
 * seen through "run now" answers and live events are newer, so a pending or running one wins.
 */
function liveStatusOf(kind, entry) {
  const soon = Date.now() + 1000;
  let pending = false;
  for (const run of state.liveRuns.values()) {
    const mine =
      kind === 'job'
        ? run.jobName === entry.name && (run.tenantId || null) === (entry.tenantId || null)
        : !run.jobName && run.executor === entry.name;
    if (!mine) continue;
    if (run.status === 'running') return 'running';
    // A future one-off is pending too, but it does not make the job busy now.
    if (run.status === 'pending' && Date.parse(run.runAt) <= soon) pending = true;
  }
  return pending ? 'pending' : entry.status;
}

/**
 * A job's URL. A tenant's job is addressed with ?tenantId= (an operator sees every tenant's jobs and
 * would otherwise address the global job of that name); a global job with none, which is also how a
 * tenant's user reaches a global job.
 */
function jobPath(job, suffix) {
  return 'jobs/' + encodeURIComponent(job.name) + suffix + tenantQuery(job.tenantId);
}

function tenantQuery(tenantId) {
  return tenantId ? '?tenantId=' + encodeURIComponent(tenantId) : '';
}

function rowKey(kind, entry) {
  return kind + ':' + (entry.tenantId || '') + ':' + entry.name;
}

function rowMessage(kind, entry) {
  const message = state.rowMessages.get(rowKey(kind, entry));
  return message ? h('p', { class: 'row-msg ' + message.kind }, message.text) : null;
}

async function runNow(kind, entry, button) {
  // Busy rather than disabled while the request is out: disabling would drop keyboard focus.
  if (button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  const path = kind === 'job' ? jobPath(entry, '/trigger') : 'executors/' + encodeURIComponent(entry.name) + '/trigger';
  const result = await api('POST', path, {});
  if (result.ok) {
    if (result.data && result.data.id) rememberRun(result.data);
    state.rowMessages.delete(rowKey(kind, entry));
    notify(t('triggered', { name: entry.name }), 'ok');
  } else {
    const text = errorText(result, entry.name);
    const key = rowKey(kind, entry);
    const message = { text, kind: 'error' };
    state.rowMessages.set(key, message);
    notify(text, 'error');
    // The answer stays next to the button long enough to read, then goes (unless replaced).
    setTimeout(() => {
      if (state.rowMessages.get(key) !== message) return;
      state.rowMessages.delete(key);
      renderJobs();
      renderExecutors();
    }, 20000);
  }
  renderJobs();
  renderExecutors();
  scheduleRefresh(300);
}

function actionButton(key, label, onclick, extra) {
  return h('button', Object.assign({ type: 'button', 'data-key': key, onclick }, extra || {}), label);
}

function jobRow(job) {
  const status = liveStatusOf('job', job);
  const busy = status === 'running' || status === 'pending';
  const key = rowKey('job', job);
  const last = job.lastRun;
  return h(
    'tr',
    { 'data-job': job.name },
    cell(
      'colName',
      h('strong', { class: 'name' }, job.name),
      job.tenantId ? h('span', { class: 'tag' }, job.tenantId) : null,
      job.description ? h('div', { class: 'muted small' }, job.description) : null,
    ),
    cell('colSchedule', h('div', { class: 'describe' }, job.describe || job.schedule), h('code', { class: 'small' }, job.schedule)),
    cell('colTimezone', job.timezone),
    cell(
      'colEnabled',
      job.enabled
        ? t('yes')
        : h(
            'div',
            null,
            isAutoPaused(job)
              ? h('span', { class: 'badge s-failed', 'data-auto-paused': 'true' }, t('autoPaused'))
              : h('span', { class: 'badge s-paused' }, t('paused')),
            job.pausedNote ? h('div', { class: 'muted small' }, job.pausedNote) : null,
          ),
    ),
    cell('colLastRun', fmtDate(last && last.at)),
    cell(
      'colStatus',
      statusBadge(status),
      status === 'failed' && last && last.error ? h('div', { class: 'error small' }, last.error) : null,
    ),
    cell('colDuration', fmtDuration(last && last.durationMs)),
    cell('colRuns', String(job.runCount)),
    cell('colErrors', h('span', { class: job.errorCount > 0 ? 'error' : '' }, String(job.errorCount))),
    cell(
      'colNext',
      job.enabled && job.nextRunAt ? h('div', null, h('div', { class: 'small' }, fmtDate(job.nextRunAt)), countdown(job.nextRunAt)) : t('none'),
    ),
    cell(
      'colActions',
      h(
        'div',
        { class: 'actions' },
        actionButton(key + ':run', t('runNow'), (event) => runNow('job', job, event.currentTarget), {
          class: 'primary',
          'data-action': 'run',
          disabled: busy,
          'aria-label': t('runNow') + ' ' + job.name,
        }),
        actionButton(key + ':schedule', t('schedule'), () => openSchedule('job', job), {
          'data-action': 'schedule',
          'aria-label': t('schedule') + ' ' + job.name,
        }),
        actionButton(key + ':edit', t('edit'), () => openEdit(job), { 'aria-label': t('edit') + ' ' + job.name }),
        actionButton(key + ':changes', t('changes'), () => openChanges(job), {
          'data-action': 'changes',
          'aria-label': t('changes') + ' ' + job.name,
        }),
        job.enabled
          ? actionButton(key + ':pause', t('pause'), () => openPause(job), { 'aria-label': t('pause') + ' ' + job.name })
          : actionButton(key + ':resume', t('resume'), () => resumeJob(job), { 'aria-label': t('resume') + ' ' + job.name }),
      ),
      rowMessage('job', job),
    ),
  );
}

function renderJobs() {
  const jobs = state.dashboard.jobs;
  renderInto(document.getElementById('jobs'), () =>
    table(
      ['colName', 'colSchedule', 'colTimezone', 'colEnabled', 'colLastRun', 'colStatus', 'colDuration', 'colRuns', 'colErrors', 'colNext', 'colActions'],
      jobs.map(jobRow),
      'noJobs',
    ),
  );
}

function executorRow(executor) {
  const info = state.registry.find((item) => item.name === executor.name) || {};
  const status = liveStatusOf('executor', executor);
  const busy = status === 'running' || status === 'pending';
  const key = rowKey('executor', executor);
  const last = executor.lastRun;
  return h(
    'tr',
    { 'data-executor': executor.name },
    cell('colName', h('strong', { class: 'name' }, executor.name), info.builtIn ? h('span', { class: 'tag' }, t('builtIn')) : null),
    cell('colDescription', executor.description || info.description || t('none')),
    cell('colEstimated', fmtDuration(info.estimatedDurationMs)),
    cell('colStatus', statusBadge(status), status === 'failed' && last && last.error ? h('div', { class: 'error small' }, last.error) : null),
    cell('colLastRun', fmtDate(last && last.at)),
    cell('colRuns', String(executor.runCount)),
    cell('colErrors', h('span', { class: executor.errorCount > 0 ? 'error' : '' }, String(executor.errorCount))),
    cell(
      'colActions',
      h(
        'div',
        { class: 'actions' },
        actionButton(key + ':run', t('runNow'), (event) => runNow('executor', executor, event.currentTarget), {
          class: 'primary',
          'data-action': 'run',
          disabled: busy,
          'aria-label': t('runNow') + ' ' + executor.name,
        }),
        actionButton(key + ':schedule', t('schedule'), () => openSchedule('executor', executor), {
          'data-action': 'schedule',
          'aria-label': t('schedule') + ' ' + executor.name,
        }),
      ),
      rowMessage('executor', executor),
    ),
  );
}

function renderExecutors() {
  renderInto(document.getElementById('executors'), () =>
    table(
      ['colName', 'colDescription', 'colEstimated', 'colStatus', 'colLastRun', 'colRuns', 'colErrors', 'colActions'],
      state.dashboard.executors.map(executorRow),
      'noExecutors',
    ),
  );
}

/**
 * A modal form in the page's single <dialog>. onSubmit returns an error text to keep it open, or
 * nothing to close it. Focus goes back to the control that opened it, found again by data-key
 * because live updates may have re-rendered it meanwhile.
 */
function openDialog(title, fields, submitLabel, onSubmit) {
  const dialog = document.getElementById('dlg');
  if (dialog.open) dialog.close();
  const opener = document.activeElement && document.activeElement.getAttribute('data-key');
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { method: 'dialog', novalidate: true },
    h('h2', { id: 'dlg-title' }, title),
    fields,
    problem,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', onclick: () => dialog.close() }, t('close')),
      submitLabel ? h('button', { type: 'submit', class: 'primary' }, submitLabel) : null,
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submit = form.querySelector('button[type=submit]');
    if (submit) submit.disabled = true;
    const error = await onSubmit(form);
    if (submit) submit.disabled = false;
    if (error) problem.textContent = error;
    else dialog.close();
  });
  dialog.replaceChildren(form);
  dialog.addEventListener(
    'close',
    () => {
      // The close event comes a task after the dialog closed: a keyboard user may have moved on
      // meanwhile (the browser gave focus back to the opener), or a new dialog opened, and keeps
      // the place they moved to. Only focus left on nothing, as when the opener was re-rendered,
      // goes back to it.
      const current = document.activeElement;
      const lost = !current || current === document.body || (!dialog.open && dialog.contains(current));
      if (!lost) return;
      const again = opener && document.querySelector('[data-key="' + CSS.escape(opener) + '"]');
      if (again) again.focus();
    },
    { once: true },
  );
  dialog.showModal();
  const first = form.querySelector('input, textarea, select');
  if (first) first.focus();
  return form;
}

function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control, hint ? h('span', { class: 'hint' }, hint) : null);
}

function timezoneList() {
  let list = document.getElementById('tz-list');
  if (list) return list;
  list = h('datalist', { id: 'tz-list' });
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC'];
  for (const zone of zones) list.append(h('option', { value: zone }));
  document.body.append(list);
  return list;
}

function openEdit(job) {
  timezoneList();
  const preview = h('div', { class: 'schedule-preview small', 'data-preview': 'true', 'aria-live': 'polite' });
  const fields = [
    field(t('scheduleField'), h('input', { name: 'schedule', value: job.schedule, required: true, autocomplete: 'off' }), job.describe),
    preview,
    field(t('timezoneField'), h('input', { name: 'timezone', value: job.timezone, list: 'tz-list', autocomplete: 'off' })),
    field(t('descriptionField'), h('textarea', { name: 'description', rows: 2, text: job.description || '' })),
  ];
  const form = openDialog(t('dlgEdit', { name: job.name }), fields, t('save'), async (form) => {
    const patch = {};
    const schedule = form.elements.schedule.value.trim();
    const timezone = form.elements.timezone.value.trim();
    const description = form.elements.description.value.trim();
    if (schedule !== job.schedule) patch.schedule = schedule;
    if (timezone !== job.timezone) patch.timezone = timezone;
    if (description !== (job.description || '')) patch.description = description || null;
    if (Object.keys(patch).length === 0) return null;
    const result = await api('PATCH', jobPath(job, ''), patch);
    if (!result.ok) return errorText(result, job.name);
    notify(t('saved', { name: job.name }), 'ok');
    scheduleRefresh(0);
    return null;
  });
  watchSchedulePreview(form, preview);
}

/**
 * The next instants of the schedule being typed, asked of the server (POST jobs/preview) a moment
 * after the last keystroke. Answers that arrive after a newer question are dropped.
 */
function watchSchedulePreview(form, preview) {
  let timer = null;
  let asked = 0;
  const show = async () => {
    const question = ++asked;
    const schedule = form.elements.schedule.value.trim();
    const timezone = form.elements.timezone.value.trim();
    if (!schedule) {
      preview.replaceChildren();
      return;
    }
    const body = { schedule, count: 3, locale: lang };
    if (timezone) body.timezone = timezone;
    const result = await api('POST', 'jobs/preview', body);
    if (question !== asked) return;
    if (!result.ok) {
      preview.className = 'schedule-preview small error';
      preview.textContent = errorText(result);
      return;
    }
    preview.className = 'schedule-preview small';
    const list = result.data.next.map((instant) => fmtDate(instant)).join(' · ');
    preview.replaceChildren(
      h('div', { class: 'describe' }, result.data.description),
      h('div', { class: 'muted' }, list ? t('previewNext', { list }) : t('previewNone')),
    );
  };
  const onInput = () => {
    clearTimeout(timer);
    preview.className = 'schedule-preview small muted';
    preview.textContent = t('previewChecking');
    timer = setTimeout(show, 250);
  };
  form.elements.schedule.addEventListener('input', onInput);
  form.elements.timezone.addEventListener('input', onInput);
  void show();
}

/** A pause made by autoPause (its note is the one the store writes). */
function isAutoPaused(job) {
  return !job.enabled && typeof job.pausedNote === 'string' && job.pausedNote.indexOf('paused automatically after ') === 0;
}

function changeText(entry) {
  const fields = Object.keys(Object.assign({}, entry.before || {}, entry.after || {}));
  if (entry.action === 'triggered' || entry.action === 'created' || entry.action === 'seeded' || entry.action === 'deleted') return '';
  const shown = (value) => (value === null || value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value));
  return fields
    .map((name) => name + ': ' + shown(entry.before && entry.before[name]) + ' → ' + shown(entry.after && entry.after[name]))
    .join('; ');
}

/** The job's audit trail (GET audit), newest first, in a dialog. */
async function openChanges(job) {
  const list = h('div', { class: 'changes', 'data-changes': 'true' }, t('loading'));
  openDialog(t('dlgChanges', { name: job.name }), [list], null, async () => null);
  const result = await api('GET', 'audit?job=' + encodeURIComponent(job.name) + '&tenantId=' + encodeURIComponent(job.tenantId || '') + '&limit=50');
  if (!result.ok) {
    list.replaceChildren(h('p', { class: 'error' }, errorText(result, job.name)));
    return;
  }
  const entries = itemsOf(result.data);
  if (entries.length === 0) {
    list.replaceChildren(h('p', { class: 'muted' }, t('noChanges')));
    return;
  }
  list.replaceChildren(
    h(
      'ol',
      { class: 'change-list' },
      ...entries.map((entry) =>
        h(
          'li',
          { 'data-action': entry.action },
          h('strong', null, t('ac_' + entry.action)),
          ' ',
          h('span', { class: 'muted small' }, fmtDate(entry.at) + ' · ' + (entry.actor || t('system'))),
          changeText(entry) ? h('div', { class: 'small' }, changeText(entry)) : null,
          entry.note ? h('div', { class: 'small muted' }, entry.note) : null,
        ),
      ),
    ),
  );
}

function openPause(job) {
  const fields = [field(t('note'), h('textarea', { name: 'note', rows: 2 }), t('pauseHint'))];
  openDialog(t('dlgPause', { name: job.name }), fields, t('pause'), async (form) => {
    const note = form.elements.note.value.trim();
    const result = await api('POST', jobPath(job, '/pause'), note ? { note } : {});
    if (!result.ok) return errorText(result, job.name);
    notify(t('pausedOk', { name: job.name }), 'ok');
    scheduleRefresh(0);
    return null;
  });
}

async function resumeJob(job) {
  const result = await api('POST', jobPath(job, '/resume'), {});
  if (result.ok) notify(t('resumedOk', { name: job.name }), 'ok');
  else notify(errorText(result, job.name), 'error');
  scheduleRefresh(0);
}
`;
