/**
 * Browser code shared by every view: where the API is, translations, the fetch wrapper that turns
 * the router's `{ error }` envelope into words, formatting and a tiny DOM builder.
 *
 * Written as plain ES2020 in a string so the host app needs no build step and tsup needs no text
 * loader. The views are concatenated into one IIFE (see `../index.ts`), so top-level declarations
 * here are shared by the other client modules. No template literals inside: `${` would be
 * interpolated by the TypeScript string.
 */
export const coreScript = String.raw`
// The API lives next to this script: <mount>/assets/dashboard.js -> <mount>/. Reading it from the
// script URL keeps every request relative to the mount path, whatever it is.
const BASE = (function () {
  const src = document.currentScript && document.currentScript.src;
  if (src) return src.replace(/assets\/dashboard\.js(?:[?#].*)?$/, '');
  const path = location.pathname;
  return path.endsWith('/') ? path : path + '/';
})();

const STRINGS = {
  en: {
    title: 'Scheduled jobs', loading: 'Loading…', skip: 'Skip to content', refresh: 'Refresh', language: 'Language',
    live: 'Live', polling: 'Refreshing every 30 s', connecting: 'Connecting…',
    overview: 'Overview', kpiExec: 'Executions (24 h)', kpiRunning: 'Running now', kpiFailures: 'Failures (24 h)',
    kpiNext: 'Next execution', kpiRate: 'success rate', none: '—',
    jobs: 'Jobs', executors: 'Executors', scheduled: 'Scheduled one-off runs', activity: 'Activity',
    timeline: 'Last 7 days', history: 'Run history',
    colName: 'Name', colSchedule: 'Schedule', colTimezone: 'Time zone', colEnabled: 'Enabled',
    colLastRun: 'Last run', colStatus: 'Status', colDuration: 'Duration', colRuns: 'Runs', colErrors: 'Errors',
    colNext: 'Next run', colActions: 'Actions', colDescription: 'Description', colEstimated: 'Estimated',
    colWhen: 'When', colTarget: 'Job / executor', colTrigger: 'Trigger', colBy: 'By', colError: 'Error',
    colParams: 'Parameters', colIn: 'In',
    yes: 'Yes', paused: 'Paused', runNow: 'Run now', schedule: 'Schedule', edit: 'Edit schedule',
    pause: 'Pause', resume: 'Resume', cancel: 'Cancel', close: 'Close', save: 'Save', details: 'Details',
    loadMore: 'Load more', noJobs: 'No jobs yet.', noExecutors: 'No executors registered.',
    noScheduled: 'Nothing scheduled.', noRuns: 'No runs match.', builtIn: 'built-in',
    st_pending: 'Pending', st_running: 'Running', st_succeeded: 'Succeeded', st_failed: 'Failed',
    st_cancelled: 'Cancelled', st_skipped: 'Skipped', st_idle: 'Never run',
    tr_schedule: 'Schedule', tr_manual: 'Manual', tr_once: 'One-off', tr_retry: 'Retry',
    filterJob: 'Job', filterStatus: 'Status', all: 'All', globalJob: 'global',
    triggered: 'Run of {name} started.', scheduledOk: '{name} scheduled for {when}.',
    cancelled: 'Scheduled run cancelled.', confirmCancel: 'Cancel the run of {name} scheduled for {when}?',
    saved: '{name} saved.', pausedOk: '{name} paused.', resumedOk: '{name} resumed.',
    err409: '{name} is already running: wait for the current run to finish.',
    err429: 'Too many manual runs: try again in {seconds} s.',
    err400: 'Not accepted: {message}', errAuth: 'You are not allowed to do this ({message}).',
    err404: 'Not found: {message}', errNetwork: 'The server could not be reached.',
    errServer: 'The server failed: {message}', errLoad: 'Could not load the dashboard: {message}',
    dlgSchedule: 'Schedule a run of {name}', dlgEdit: 'Edit {name}', dlgPause: 'Pause {name}', dlgRun: 'Run {id}',
    when: 'Date and time (your local time)', shortcuts: 'Shortcuts', in1h: 'In 1 hour',
    tomorrow9: 'Tomorrow 09:00', monday2: 'Next Monday 02:00', params: 'Parameters (JSON, optional)',
    paramsHint: 'Accepted parameters: {list}', requiredWord: 'required', defaultWord: 'default', paramsAny: 'Any JSON object is accepted.',
    needFuture: 'Pick a time at least one minute from now.', needDate: 'Pick a date and time.',
    badJson: 'The parameters are not valid JSON: {message}', needObject: 'The parameters must be a JSON object.',
    badType: '"{key}" should be {type}.', unknownKey: '"{key}" is not a parameter of {executor}.',
    missingKey: '"{key}" is not set here; it must come from the job or the executor defaults.',
    badEnum: '"{key}" should be one of {values}.',
    scheduleField: 'Schedule (cron or alias)', timezoneField: 'Time zone', descriptionField: 'Description',
    note: 'Note (why it is paused)', pauseHint: 'A paused job fires no scheduled runs; “Run now” still works.',
    task: 'Tasks', logs: 'Logs', noLogs: 'No log lines.', result: 'Result', attempt: 'Attempt',
    started: 'Started', finished: 'Finished', created: 'Created', runAt: 'Runs at',
    total: '{n} runs', day: 'Day',
    tr_backfill: 'Backfill', autoPaused: 'Auto-paused', changes: 'History of changes',
    dlgChanges: 'History of changes: {name}', noChanges: 'No changes recorded.', system: 'system',
    ac_created: 'Created', ac_updated: 'Changed', ac_paused: 'Paused', ac_resumed: 'Resumed',
    ac_deleted: 'Deleted', ac_seeded: 'Seeded', ac_triggered: 'Run now',
    previewNext: 'Next: {list}', previewNone: 'This schedule never fires again.', previewChecking: 'Checking…',
  },
  fr: {
    title: 'Tâches planifiées', loading: 'Chargement…', skip: 'Aller au contenu', refresh: 'Actualiser', language: 'Langue',
    live: 'En direct', polling: 'Actualisation toutes les 30 s', connecting: 'Connexion…',
    overview: 'Vue d’ensemble', kpiExec: 'Exécutions (24 h)', kpiRunning: 'En cours', kpiFailures: 'Échecs (24 h)',
    kpiNext: 'Prochaine exécution', kpiRate: 'taux de succès', none: '—',
    jobs: 'Tâches', executors: 'Exécuteurs', scheduled: 'Exécutions planifiées', activity: 'Activité',
    timeline: '7 derniers jours', history: 'Historique des exécutions',
    colName: 'Nom', colSchedule: 'Planification', colTimezone: 'Fuseau', colEnabled: 'Active',
    colLastRun: 'Dernière exécution', colStatus: 'Statut', colDuration: 'Durée', colRuns: 'Exécutions',
    colErrors: 'Erreurs', colNext: 'Prochaine', colActions: 'Actions', colDescription: 'Description',
    colEstimated: 'Durée estimée', colWhen: 'Quand', colTarget: 'Tâche / exécuteur', colTrigger: 'Origine',
    colBy: 'Par', colError: 'Erreur', colParams: 'Paramètres', colIn: 'Dans',
    yes: 'Oui', paused: 'En pause', runNow: 'Exécuter', schedule: 'Planifier', edit: 'Modifier',
    pause: 'Mettre en pause', resume: 'Reprendre', cancel: 'Annuler', close: 'Fermer', save: 'Enregistrer',
    details: 'Détails', loadMore: 'Voir plus', noJobs: 'Aucune tâche.', noExecutors: 'Aucun exécuteur.',
    noScheduled: 'Rien de planifié.', noRuns: 'Aucune exécution.', builtIn: 'intégré',
    st_pending: 'En attente', st_running: 'En cours', st_succeeded: 'Réussie', st_failed: 'Échec',
    st_cancelled: 'Annulée', st_skipped: 'Ignorée', st_idle: 'Jamais exécutée',
    tr_schedule: 'Planifiée', tr_manual: 'Manuelle', tr_once: 'Ponctuelle', tr_retry: 'Nouvel essai',
    filterJob: 'Tâche', filterStatus: 'Statut', all: 'Toutes', globalJob: 'globale',
    triggered: 'Exécution de {name} lancée.', scheduledOk: '{name} planifiée le {when}.',
    cancelled: 'Exécution planifiée annulée.', confirmCancel: 'Annuler l’exécution de {name} prévue le {when} ?',
    saved: '{name} enregistrée.', pausedOk: '{name} mise en pause.', resumedOk: '{name} reprise.',
    err409: '{name} est déjà en cours : attendez la fin de l’exécution.',
    err429: 'Trop d’exécutions manuelles : réessayez dans {seconds} s.',
    err400: 'Refusé : {message}', errAuth: 'Action non autorisée ({message}).', err404: 'Introuvable : {message}',
    errNetwork: 'Le serveur est injoignable.', errServer: 'Erreur du serveur : {message}',
    errLoad: 'Impossible de charger le tableau de bord : {message}',
    dlgSchedule: 'Planifier {name}', dlgEdit: 'Modifier {name}', dlgPause: 'Mettre {name} en pause',
    dlgRun: 'Exécution {id}', when: 'Date et heure (heure locale)', shortcuts: 'Raccourcis',
    in1h: 'Dans 1 heure', tomorrow9: 'Demain 9h00', monday2: 'Lundi prochain 2h00',
    params: 'Paramètres (JSON, facultatif)', paramsHint: 'Paramètres acceptés : {list}',
    requiredWord: 'obligatoire', defaultWord: 'par défaut',
    paramsAny: 'Tout objet JSON est accepté.', needFuture: 'Choisissez une heure au moins une minute plus tard.',
    needDate: 'Choisissez une date et une heure.', badJson: 'Les paramètres ne sont pas du JSON valide : {message}',
    needObject: 'Les paramètres doivent être un objet JSON.', badType: '« {key} » doit être {type}.',
    unknownKey: '« {key} » n’est pas un paramètre de {executor}.',
    missingKey: '« {key} » n’est pas fourni ici ; il doit venir de la tâche ou des valeurs par défaut.',
    badEnum: '« {key} » doit valoir {values}.',
    scheduleField: 'Planification (cron ou alias)', timezoneField: 'Fuseau horaire',
    descriptionField: 'Description', note: 'Note (raison de la pause)',
    pauseHint: 'Une tâche en pause ne se déclenche plus ; « Exécuter » reste possible.',
    task: 'Étapes', logs: 'Journal', noLogs: 'Aucune ligne.', result: 'Résultat', attempt: 'Essai',
    started: 'Début', finished: 'Fin', created: 'Créée', runAt: 'Prévue à', total: '{n} exécutions', day: 'Jour',
    tr_backfill: 'Rattrapage', autoPaused: 'Pause automatique', changes: 'Historique des modifications',
    dlgChanges: 'Historique des modifications : {name}', noChanges: 'Aucune modification enregistrée.', system: 'système',
    ac_created: 'Créée', ac_updated: 'Modifiée', ac_paused: 'Mise en pause', ac_resumed: 'Reprise',
    ac_deleted: 'Supprimée', ac_seeded: 'Installée', ac_triggered: 'Exécutée',
    previewNext: 'Prochaines : {list}', previewNone: 'Cette planification ne se déclenche plus.', previewChecking: 'Vérification…',
  },
};

let lang = 'en';
try {
  const saved = localStorage.getItem('cronkeeper.lang');
  lang = saved === 'fr' || saved === 'en' ? saved : (navigator.language || 'en').toLowerCase().startsWith('fr') ? 'fr' : 'en';
} catch (_) {
  // Storage can be blocked (privacy settings, sandboxed frames); English is a fine default.
}

function t(key, vars) {
  let text = STRINGS[lang][key] || STRINGS.en[key] || key;
  if (vars) for (const name of Object.keys(vars)) text = text.split('{' + name + '}').join(String(vars[name]));
  return text;
}

/**
 * One call to the router. Never throws: a network failure is status 0. The router answers
 * { data } or { error: { code, message, details } }; 429 also carries Retry-After.
 */
async function api(method, path, body) {
  const init = { method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
  // The API refuses a change that does not say it is JSON (its CSRF defence), bodyless ones included.
  if (method !== 'GET') init.headers['content-type'] = 'application/json';
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (error) {
    return { ok: false, status: 0, error: { code: 'NETWORK', message: String(error && error.message), details: {} } };
  }
  let payload = null;
  try {
    payload = response.status === 204 ? null : await response.json();
  } catch (_) {
    payload = null;
  }
  if (response.ok) return { ok: true, status: response.status, data: payload ? payload.data : null };
  const error = (payload && payload.error) || { code: 'HTTP_' + response.status, message: response.statusText, details: {} };
  const retryHeader = Number(response.headers.get('retry-after'));
  const retryMs = error.details && typeof error.details.retryAfterMs === 'number' ? error.details.retryAfterMs : NaN;
  const retryAfter = retryHeader > 0 ? retryHeader : retryMs > 0 ? Math.ceil(retryMs / 1000) : null;
  return { ok: false, status: response.status, error, retryAfter };
}

/** The failure of an api() call in words, naming what the user acted on. */
function errorText(result, name) {
  const message = (result.error && result.error.message) || '';
  if (result.status === 0) return t('errNetwork');
  // The server's 409 text speaks to API callers (run id, force: true); a person needs only this.
  if (result.status === 409 && result.error.details && result.error.details.runningRunId) return t('err409', { name: name || '' });
  if (result.status === 409) return message;
  if (result.status === 429) return t('err429', { seconds: result.retryAfter || 30 });
  if (result.status === 401 || result.status === 403) return t('errAuth', { message });
  if (result.status === 404) return t('err404', { message });
  if (result.status >= 500) return t('errServer', { message });
  return t('err400', { message });
}

/** Lists come back as an array or as a page { items, nextCursor }. */
function itemsOf(data) {
  if (Array.isArray(data)) return data;
  return data && Array.isArray(data.items) ? data.items : [];
}

/** The browser's own locale when it speaks the page's language (en-GB dates for a British admin). */
function dateLocale() {
  const own = navigator.language || '';
  return own.toLowerCase().startsWith(lang) ? own : lang;
}

function fmtDate(value) {
  if (!value) return t('none');
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return t('none');
  return new Intl.DateTimeFormat(dateLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

function fmtDuration(ms) {
  if (ms == null) return t('none');
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s';
  const minutes = Math.floor(ms / 60000);
  return minutes + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
}

/** The countdown format: 45s, 15 min, 2h 30min, 3d 5h (3j 5h in French). */
function fmtCountdown(ms) {
  if (ms <= 0) return lang === 'fr' ? 'maintenant' : 'now';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min';
  const h = Math.floor(m / 60);
  if (h < 24) return h + 'h ' + (m % 60) + 'min';
  return Math.floor(h / 24) + (lang === 'fr' ? 'j ' : 'd ') + (h % 24) + 'h';
}

/**
 * Builds an element: attributes (on* become listeners, text sets textContent) and children.
 * Text always goes through textContent, never parsed as markup, so job names cannot inject HTML.
 */
function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  if (attrs) {
    for (const key of Object.keys(attrs)) {
      const value = attrs[key];
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') element.className = value;
      else if (key === 'text') element.textContent = value;
      else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
      else element.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

function statusBadge(status) {
  return h('span', { class: 'badge s-' + status, 'data-status': status }, t('st_' + status));
}

/** A live countdown: the ticker in live.ts rewrites every [data-countdown] element each second. */
function countdown(at) {
  if (!at) return h('span', { class: 'muted' }, t('none'));
  const el = h('span', { class: 'countdown', 'data-countdown': new Date(at).toISOString() });
  paintCountdown(el, Date.now());
  return el;
}

function paintCountdown(el, now) {
  const left = Date.parse(el.getAttribute('data-countdown')) - now;
  el.textContent = fmtCountdown(left);
  el.classList.toggle('soon', left < 5 * 60000);
  return left;
}

/** A table cell carrying its column name, shown as a label when rows stack on narrow screens. */
function cell(labelKey, ...content) {
  // One wrapper so the stacked layout's "label | value" grid gets exactly two items.
  return h('td', { 'data-label': t(labelKey) }, h('div', { class: 'cell' }, ...content));
}

function table(headKeys, rows, emptyKey) {
  // Before the first answer an empty list would be a lie ("no jobs"); say it is loading.
  if (!state.loaded) return h('p', { class: 'empty' }, t('loading'));
  if (rows.length === 0) return h('p', { class: 'empty' }, t(emptyKey));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid' },
      h('thead', null, h('tr', null, headKeys.map((key) => h('th', { scope: 'col' }, t(key))))),
      h('tbody', null, rows),
    ),
  );
}

/** Re-rendering a view must not throw keyboard users back to the top: refocus the same control. */
function renderInto(container, build) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  container.replaceChildren(build());
  if (key) {
    const again = container.querySelector('[data-key="' + CSS.escape(key) + '"]');
    // "Run now" is disabled once clicked; keep the keyboard in the same row rather than on <body>.
    const target = again && again.disabled ? again.parentElement.querySelector('button:not([disabled])') : again;
    if (target) target.focus();
  }
}

function notify(message, kind) {
  const box = document.getElementById('notice');
  box.className = 'notice ' + (kind || 'info');
  box.textContent = message;
}
`;
