/**
 * Browser code for one-off runs: the schedule dialog with its date picker, shortcuts and
 * a light check of the JSON parameters against the executors' JSON Schemas, and the list of
 * scheduled runs with countdowns and cancel. The server validates again with the real zod schema;
 * this check only catches typos before the round trip.
 */
// biome-ignore lint/complexity/noUselessStringRaw: raw keeps any escape sequence added later verbatim in the browser code.
export const scheduleScript = String.raw`
function pad(n) {
  return String(n).padStart(2, '0');
}

/** The value a datetime-local input takes: the browser's wall clock, minutes precision. */
function localInputValue(date) {
  return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate()) + 'T' + pad(date.getHours()) + ':' + pad(date.getMinutes());
}

const SHORTCUTS = {
  in1h: () => new Date(Date.now() + 3600000),
  tomorrow9: () => {
    const d = new Date();
    d.setDate(d.getDate() + 1);
    d.setHours(9, 0, 0, 0);
    return d;
  },
  // "Next Monday" is never today, even on a Monday before 02:00.
  monday2: () => {
    const d = new Date();
    d.setDate(d.getDate() + (((8 - d.getDay()) % 7) || 7));
    d.setHours(2, 0, 0, 0);
    return d;
  },
};

function typeMatches(type, value) {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'number': return typeof value === 'number';
    case 'integer': return Number.isInteger(value);
    case 'boolean': return typeof value === 'boolean';
    case 'array': return Array.isArray(value);
    case 'object': return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'null': return value === null;
    default: return true;
  }
}

function schemaAccepts(schema, value) {
  if (!schema || typeof schema !== 'object') return true;
  const branches = schema.anyOf || schema.oneOf;
  if (Array.isArray(branches)) return branches.some((branch) => schemaAccepts(branch, value));
  const same = (a) => JSON.stringify(a) === JSON.stringify(value);
  if (Array.isArray(schema.enum) && !schema.enum.some(same)) return false;
  if ('const' in schema && !same(schema.const)) return false;
  if (schema.type === undefined) return true;
  return [].concat(schema.type).some((type) => typeMatches(type, value));
}

function typeWords(schema) {
  if (!schema || typeof schema !== 'object') return 'any';
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const branches = schema.anyOf || schema.oneOf;
  if (Array.isArray(branches)) return branches.map(typeWords).join(' | ');
  return schema.type === undefined ? 'any' : [].concat(schema.type).join(' | ');
}

/** The executors whose schema a run of this target is checked against. */
function targetsOf(kind, entry) {
  const names = kind === 'job' ? entry.executors || [] : [entry.name];
  return names.map((name) => {
    const info = state.registry.find((item) => item.name === name);
    return { name, schema: info ? info.paramsSchema : null };
  });
}

/**
 * Parses and checks the parameters. Errors block the submit; warnings do not, because a required
 * key may legitimately come from the job's params or the executor's defaults.
 */
function checkParams(text, targets) {
  const out = { value: {}, errors: [], warnings: [] };
  if (text.trim() !== '') {
    try {
      out.value = JSON.parse(text);
    } catch (error) {
      out.errors.push(t('badJson', { message: error.message }));
      return out;
    }
    if (!out.value || typeof out.value !== 'object' || Array.isArray(out.value)) {
      out.errors.push(t('needObject'));
      return out;
    }
  }
  for (const target of targets) {
    const schema = target.schema;
    if (!schema || typeof schema !== 'object') continue;
    const properties = schema.properties || {};
    for (const key of Object.keys(out.value)) {
      const property = properties[key];
      if (!property) {
        // Several tasks share the run's params, so a key unknown to one executor is only a warning.
        if (schema.additionalProperties === false) out.warnings.push(t('unknownKey', { key, executor: target.name }));
      } else if (!schemaAccepts(property, out.value[key])) {
        out.errors.push(Array.isArray(property.enum) ? t('badEnum', { key, values: typeWords(property) }) : t('badType', { key, type: typeWords(property) }));
      }
    }
    for (const key of schema.required || []) {
      // zod lists keys with a default as required in its output schema; the default fills them.
      const defaulted = properties[key] && 'default' in properties[key];
      if (!(key in out.value) && !defaulted) out.warnings.push(t('missingKey', { key }));
    }
  }
  return out;
}

function paramsHint(targets) {
  const parts = [];
  for (const target of targets) {
    const schema = target.schema;
    if (!schema || !schema.properties) continue;
    const required = schema.required || [];
    for (const key of Object.keys(schema.properties)) {
      const property = schema.properties[key];
      const notes = [typeWords(property)];
      if (property && 'default' in property) notes.push(t('defaultWord') + ' ' + JSON.stringify(property.default));
      else if (required.includes(key)) notes.push(t('requiredWord'));
      parts.push(key + ' (' + notes.join(', ') + ')');
    }
  }
  return parts.length ? t('paramsHint', { list: parts.join(', ') }) : t('paramsAny');
}

function openSchedule(kind, entry) {
  const targets = targetsOf(kind, entry);
  const minimum = () => new Date(Date.now() + 60000);
  const when = h('input', { type: 'datetime-local', name: 'at', required: true, min: localInputValue(minimum()) });
  const params = h('textarea', { name: 'params', rows: 4, spellcheck: 'false', placeholder: '{ }', class: 'mono' });
  const feedback = h('ul', { class: 'checks', 'aria-live': 'polite' });
  const showChecks = () => {
    const checked = checkParams(params.value, targets);
    feedback.replaceChildren(
      ...checked.errors.map((text) => h('li', { class: 'error' }, text)),
      ...checked.warnings.map((text) => h('li', { class: 'warn' }, text)),
    );
    return checked;
  };
  params.addEventListener('input', showChecks);
  const shortcuts = h(
    'div',
    { class: 'shortcuts', role: 'group', 'aria-label': t('shortcuts') },
    Object.keys(SHORTCUTS).map((key) =>
      h('button', { type: 'button', 'data-shortcut': key, onclick: () => { when.value = localInputValue(SHORTCUTS[key]()); } }, t(key)),
    ),
  );
  const fields = [
    field(t('when'), when),
    shortcuts,
    field(t('params'), params, paramsHint(targets)),
    feedback,
  ];
  openDialog(t('dlgSchedule', { name: entry.name }), fields, t('schedule'), async () => {
    if (!when.value) return t('needDate');
    const at = new Date(when.value);
    if (Number.isNaN(at.getTime())) return t('needDate');
    if (at.getTime() - Date.now() < 60000) return t('needFuture');
    const checked = showChecks();
    if (checked.errors.length) return checked.errors[0];
    const body = { at: at.toISOString(), params: checked.value };
    body[kind] = entry.name;
    const result = await api('POST', 'scheduled' + (kind === 'job' ? tenantQuery(entry.tenantId) : ''), body);
    if (!result.ok) return errorText(result, entry.name);
    if (result.data && result.data.id) rememberRun(result.data);
    notify(t('scheduledOk', { name: entry.name, when: fmtDate(at) }), 'ok');
    scheduleRefresh(0);
    return null;
  });
}

async function cancelScheduled(run) {
  const name = run.jobName || run.executor;
  if (!window.confirm(t('confirmCancel', { name, when: fmtDate(run.runAt) }))) return;
  const result = await api('DELETE', 'scheduled/' + encodeURIComponent(run.id));
  if (result.ok) notify(t('cancelled'), 'ok');
  else notify(errorText(result, name), 'error');
  scheduleRefresh(0);
}

function renderScheduled() {
  const runs = state.scheduled.slice().sort((a, b) => Date.parse(a.runAt) - Date.parse(b.runAt));
  renderInto(document.getElementById('scheduled'), () =>
    table(
      ['colTarget', 'colWhen', 'colIn', 'colParams', 'colBy', 'colActions'],
      runs.map((run) => {
        const name = run.jobName || run.executor;
        const params = run.params && Object.keys(run.params).length ? JSON.stringify(run.params) : t('none');
        return h(
          'tr',
          { 'data-run': run.id },
          cell('colTarget', h('strong', { class: 'name' }, name)),
          cell('colWhen', fmtDate(run.runAt)),
          cell('colIn', countdown(run.runAt)),
          cell('colParams', h('code', { class: 'small clip', title: params }, params)),
          cell('colBy', run.triggeredBy || t('none')),
          cell(
            'colActions',
            h('button', { type: 'button', class: 'danger', 'data-key': 'cancel:' + run.id, 'aria-label': t('cancel') + ' ' + name + ' ' + fmtDate(run.runAt), onclick: () => cancelScheduled(run) }, t('cancel')),
          ),
        );
      }),
      'noScheduled',
    ),
  );
}
`;
