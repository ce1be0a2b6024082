/*
 * app.js - the Norc status page (plain ES2020, no framework, no build step).
 *
 * Talks to norc_web's JSON API (docs/web.md): session and login, the executors, queues,
 * schedulers, tasks and failed-instances reports with paging, sorting and nested instance
 * tables, a run chart per task (inline SVG), an in-page log viewer, and daemon controls
 * behind a typed confirmation for operators and admins. Server data only ever reaches the
 * page through textContent and DOM building, never innerHTML.
 */
'use strict';

const SINCE_CHOICES = ['10m', '30m', '1h', '3h', '12h', '1d', '7d', 'all'];
const COUNTS_EVERY_MS = 10000;
const REFRESH_EVERY_MS = 60000;
const LOG_TAIL_BYTES = 1 << 20;

const state = {
  user: null, role: null, csrf: null,
  reports: {},          // section id -> Report
  countsTimer: null, refreshTimer: null,
};

const $ = (sel, root = document) => root.querySelector(sel);

/* ---------- small helpers ---------- */

/* h('td', {class: 'x', 'data-id': 5, onclick: fn}, 'text', node...) builds an element. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : String(c));
  return el;
}

const fmt = (v) => (v === null || v === undefined || v === '' ? '-' : String(v));

/* "YYYY-MM-DD HH:MM:SSZ", the API's own time format. */
function utc(date) {
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function fmtDuration(ms, unit) {
  return unit === 's' ? `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s` : `${Math.round(ms)} ms`;
}

function fmtAge(sec) {
  if (sec === null || sec === undefined) return '-';
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m ${sec % 60}s`;
  if (sec < 86400) return `${Math.floor(sec / 3600)}h ${Math.floor((sec % 3600) / 60)}m`;
  return `${Math.floor(sec / 86400)}d ${Math.floor((sec % 86400) / 3600)}h`;
}

const canControl = () => state.role === 'operator' || state.role === 'admin';

/* ---------- the API ---------- */

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/*
 * api('/api/x') or api('/api/x', {method: 'POST', body: {...}}) -> {data, headers}.
 * data is parsed JSON, or text for text/plain. Errors throw ApiError carrying the
 * server's "error" text; a 401 (other than a failed login) shows the login form.
 */
async function api(path, { method = 'GET', body } = {}) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (method === 'POST') {
    opts.headers['Content-Type'] = 'application/json';
    if (state.csrf) opts.headers['X-CSRF-Token'] = state.csrf;
    opts.body = JSON.stringify(body ?? {});
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, 'Error contacting the server!');
  }
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) data = await res.json().catch(() => null);
  else data = await res.text().catch(() => '');
  if (res.status === 401 && path !== '/api/login') {
    showLogin(state.user ? 'Your session has ended: log in again.' : '');
  }
  if (!res.ok) {
    const msg = (data && typeof data === 'object' && data.error) ||
      (typeof data === 'string' && data.trim()) || `HTTP ${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg);
  }
  return { data, headers: res.headers };
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const str = q.toString();
  return str ? `?${str}` : '';
}

/* ---------- session ---------- */

async function start() {
  setupStatic();
  try {
    const { data } = await api('/api/session');
    showApp(data);
  } catch (e) {
    if (e.status !== 401) showLogin(e.message);
  }
}

function showLogin(message) {
  stopTimers();
  state.user = state.role = state.csrf = null;
  state.reports = {};
  closeLog();
  closeConfirm(false);
  $('#app').hidden = true;
  for (const sec of document.querySelectorAll('#app section')) sec.querySelector('.report')?.remove();
  $('#logout').hidden = true;
  $('#user-info').textContent = '';
  $('#no-scheduler-banner').hidden = true;
  document.body.classList.remove('no-scheduler');
  $('#login-form').hidden = false;
  const err = $('#login-error');
  err.textContent = message || '';
  err.hidden = !message;
  $('#login-password').value = '';
  $('#login-user').focus();
}

function showApp(session) {
  state.user = session.user;
  state.role = session.role;
  state.csrf = session.csrf;
  $('#login-form').hidden = true;
  $('#login-error').hidden = true;
  $('#user-info').textContent = `${session.user} (${session.role})`;
  $('#logout').hidden = false;
  $('#app').hidden = false;
  buildReports();
  loadAll();
  checkCounts();
  state.countsTimer = setInterval(checkCounts, COUNTS_EVERY_MS);
  setAutoRefresh($('#auto-refresh').checked);
}

async function login(ev) {
  ev.preventDefault();
  const err = $('#login-error');
  err.hidden = true;
  try {
    const { data } = await api('/api/login', {
      method: 'POST',
      body: { user: $('#login-user').value, password: $('#login-password').value },
    });
    $('#login-password').value = '';
    showApp(data);
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
}

async function logout() {
  try { await api('/api/logout', { method: 'POST', body: {} }); } catch (e) { /* gone anyway */ }
  showLogin();
}

function stopTimers() {
  clearInterval(state.countsTimer);
  clearInterval(state.refreshTimer);
  state.countsTimer = state.refreshTimer = null;
}

function setAutoRefresh(on) {
  clearInterval(state.refreshTimer);
  state.refreshTimer = on && state.user ? setInterval(loadAll, REFRESH_EVERY_MS) : null;
}

/* ---------- scheduler monitor ---------- */

async function checkCounts() {
  const banner = $('#no-scheduler-banner');
  try {
    const { data } = await api('/api/counts');
    const none = data.schedulers_alive === 0;
    banner.textContent = none
      ? 'No norc_scheduler is running. A running Scheduler is required for Norc to function.' : '';
    banner.hidden = !none;
    document.body.classList.toggle('no-scheduler', none);
  } catch (e) {
    if (e.status === 401) return;
    banner.textContent = 'Error contacting the server!';
    banner.hidden = false;
  }
}

/* ---------- flash line ---------- */

let flashTimer = null;
function flash(text, isError = false) {
  const el = $('#flash');
  el.textContent = text;
  el.classList.toggle('error', isError);
  el.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { el.hidden = true; }, isError ? 15000 : 5000);
}

/* ---------- a paged report table ---------- */

/*
 * new Report({url, params: () => ({...}), columns, sortable, colspanExtra})
 * columns: [{key, label, order: bool, wrap: bool, cell(td, row, report, tr)}]. el is the element to place;
 * load() (re)fetches the current page. Expanded rows (see toggle()) survive reloads.
 */
class Report {
  constructor(opts) {
    this.opts = opts;
    this.page = 1;
    this.order = '';
    this.seq = 0;
    this.expanded = new Map(); // row id -> {key, detail}
    this.table = h('table');
    this.message = h('p', { class: 'message', hidden: true });
    this.prev = h('button', { type: 'button', class: 'prev', onclick: () => this.go(this.page - 1) }, 'Prev');
    this.next = h('button', { type: 'button', class: 'next', onclick: () => this.go(this.page + 1) }, 'Next');
    this.pageinfo = h('span', { class: 'pageinfo' });
    this.pager = h('div', { class: 'pager', hidden: true }, this.prev, this.pageinfo, this.next);
    this.el = h('div', { class: 'report' }, this.table, this.message, this.pager);
    this.renderHead();
  }

  go(page) { this.page = Math.max(1, page); this.load(); }

  reload() { return this.load(); }

  renderHead() {
    const tr = h('tr');
    for (const col of this.opts.columns) {
      const th = h('th', {}, col.label);
      if (col.order) {
        th.classList.add('sortable');
        th.title = 'Sort';
        if (this.order === col.key) th.classList.add('asc');
        if (this.order === `-${col.key}`) th.classList.add('desc');
        th.addEventListener('click', () => {
          this.order = this.order === col.key ? `-${col.key}` : col.key;
          this.page = 1;
          this.renderHead();
          this.load();
        });
      }
      tr.append(th);
    }
    const thead = this.table.tHead || this.table.createTHead();
    thead.replaceChildren(tr);
  }

  async load() {
    const seq = ++this.seq;
    const params = { ...(this.opts.params ? this.opts.params() : {}), page: this.page };
    if (this.order) params.order = this.order;
    try {
      const { data } = await api(this.opts.url + query(params));
      if (seq !== this.seq) return;
      this.render(data);
    } catch (e) {
      if (seq !== this.seq) return;
      this.showMessage(e.message, true);
    }
  }

  showMessage(text, isError) {
    this.message.textContent = text;
    this.message.classList.toggle('error', !!isError);
    this.message.hidden = !text;
  }

  render(data) {
    const rows = Array.isArray(data?.data) ? data.data : [];
    const page = data?.page || { current: 1, total: 1 };
    this.page = page.current || 1;
    const tbody = h('tbody');
    const seen = new Set();
    for (const row of rows) {
      const tr = h('tr', { 'data-id': row.id });
      for (const col of this.opts.columns) {
        const td = h('td', { class: col.wrap ? 'wrap' : null });
        if (col.cell) col.cell(td, row, this, tr);
        else td.textContent = fmt(row[col.key]);
        tr.append(td);
      }
      if (this.opts.rowClick) {
        tr.classList.add('clickable');
        tr.addEventListener('click', (ev) => {
          if (ev.target.closest('button, a, select, input')) return;
          this.opts.rowClick(tr, row, this);
        });
      }
      tbody.append(tr);
      const open = this.expanded.get(String(row.id));
      if (open) {
        seen.add(String(row.id));
        this.insertDetail(tr, open.detail);
        open.detail.reload();
      }
    }
    for (const id of [...this.expanded.keys()]) if (!seen.has(id)) this.expanded.delete(id);
    for (const old of [...this.table.tBodies]) old.remove();
    this.table.append(tbody);
    this.showMessage(rows.length ? '' : 'Nothing to show.', false);
    this.pager.hidden = !(page.total > 1);
    this.pageinfo.textContent = `${this.page} of ${page.total}`;
    this.prev.disabled = this.page <= 1;
    this.next.disabled = this.page >= page.total;
  }

  /* Expand (or collapse, if the same key is open) a detail row under tr. */
  toggle(tr, id, key, makeDetail) {
    id = String(id);
    const open = this.expanded.get(id);
    if (open) {
      open.detail.row.remove();
      tr.classList.remove('open');
      this.expanded.delete(id);
      if (open.key === key) return;
    }
    const detail = makeDetail();
    this.expanded.set(id, { key, detail });
    this.insertDetail(tr, detail);
    detail.reload();
  }

  insertDetail(tr, detail) {
    const td = h('td', { colspan: this.opts.columns.length }, detail.el);
    detail.row = h('tr', { class: 'nested', 'data-for': tr.dataset.id }, td);
    tr.classList.add('open');
    tr.after(detail.row);
  }
}

/* ---------- cells ---------- */

/* A status cell, coloured by status_color; opens the log of (kind, id) when clicked. */
function statusCell(td, row, kind) {
  td.classList.add('status');
  if (row.status_color) td.classList.add(row.status_color);
  td.append(fmt(row.status));
  if (row.status === 'RUNNING' && row.alive === false) {
    td.append(' ', h('span', { class: 'heartbeat' }, `(heartbeat ${fmt(row.heartbeat)})`));
    td.classList.remove('status_good');
    td.classList.add('status_error');
  }
  if (!kind) return;
  td.classList.add('clickable');
  td.title = `Show the ${kind} log`;
  td.append(' ', h('a', { href: '#', class: 'log-link' }, 'log'));
  td.addEventListener('click', (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    openLog(kind, row.id);
  });
}

function controlsCell(td, row, kind, requests) {
  td.classList.add('actions');
  for (const req of requests) {
    if ((req === 'stop' || req === 'kill') && state.role !== 'admin') continue;
    // an ended daemon takes no request; only a failed or dead one can still be handled
    if (row.ended && req !== 'handle') continue;
    if (row.ended && row.status_color !== 'status_error') continue;
    td.append(h('button', {
      type: 'button', class: 'control', 'data-request': req,
      onclick: (ev) => { ev.stopPropagation(); controlDaemon(kind, row.id, req); },
    }, req));
  }
}

/* ---------- the sections ---------- */

function sinceOf(section) {
  return $(`#${section} select.since`)?.value || '10m';
}

const col = (key, label, extra = {}) => ({ key, label, ...extra });

function instanceColumns(withHandle) {
  const cols = [
    col('id', 'ID'), col('task', 'Task', { wrap: true }), col('type', 'Type'), col('source', 'Source'),
    col('status', 'Status', { cell: (td, row) => statusCell(td, row, 'instance') }),
    col('executor', 'Executor'), col('enqueued', 'Enqueued'), col('started', 'Started'),
    col('ended', 'Ended'), col('exit_code', 'Exit'), col('attempt', 'Attempt'),
    col('reason', 'Reason', { wrap: true }),
  ];
  if (withHandle && canControl()) {
    cols.push(col('actions', '', {
      cell: (td, row) => {
        td.classList.add('actions');
        td.append(h('button', {
          type: 'button', class: 'control', 'data-request': 'handle',
          onclick: (ev) => { ev.stopPropagation(); handleInstance(row.id); },
        }, 'handle'));
      },
    }));
  }
  return cols;
}

function instancesReport(params) {
  return new Report({ url: '/api/instances', params, columns: instanceColumns(false) });
}

function buildReports() {
  const r = state.reports;
  const groupCell = (group) => (td, row, report, tr) => {
    td.textContent = fmt(row[group]);
    td.classList.add('count', 'clickable');
    td.title = `Show the ${group} instances`;
    td.addEventListener('click', (ev) => {
      ev.stopPropagation();
      report.toggle(tr, row.id, group, () =>
        instancesReport(() => ({ executor: row.id, status: group, since: sinceOf('executors') })));
    });
  };

  const execCols = [
    col('id', 'ID', { order: true }), col('queue', 'Queue', { order: true }),
    col('queue_type', 'Queue Type'), col('host', 'Host', { order: true }), col('pid', 'PID'),
    col('concurrency', 'Slots'),
    col('running', 'Running', { cell: groupCell('running') }),
    col('succeeded', 'Succeeded', { cell: groupCell('succeeded') }),
    col('failed', 'Failed', { cell: groupCell('failed') }),
    col('started', 'Started', { order: true }), col('ended', 'Ended', { order: true }),
    col('status', 'Status', { order: true, cell: (td, row) => statusCell(td, row, 'executor') }),
  ];
  if (canControl()) {
    execCols.push(col('actions', 'Actions', {
      cell: (td, row) => controlsCell(td, row, 'executor', ['stop', 'kill', 'pause', 'resume', 'handle']),
    }));
  }
  r.executors = new Report({
    url: '/api/executors', columns: execCols,
    params: () => ({ since: sinceOf('executors') }),
    rowClick: (tr, row, report) => report.toggle(tr, row.id, 'all', () =>
      instancesReport(() => ({ executor: row.id, since: sinceOf('executors') }))),
  });

  r.queues = new Report({
    url: '/api/queues',
    columns: [
      col('name', 'Name'), col('type', 'Type'), col('items', 'Items'), col('pending', 'Pending'),
      col('oldest_age_s', 'Oldest pending', { cell: (td, row) => { td.textContent = fmtAge(row.oldest_age_s); } }),
      col('executors', 'Executors'),
    ],
  });

  const schedCols = [
    col('id', 'ID'), col('host', 'Host'), col('pid', 'PID'), col('claimed', 'Claimed'),
    col('started', 'Started'), col('ended', 'Ended'),
    col('status', 'Status', { cell: (td, row) => statusCell(td, row, 'scheduler') }),
  ];
  if (canControl()) {
    schedCols.push(col('actions', 'Actions', {
      cell: (td, row) => controlsCell(td, row, 'scheduler',
        ['stop', 'kill', 'pause', 'resume', 'reload', 'handle']),
    }));
  }
  r.schedulers = new Report({
    url: '/api/schedulers', columns: schedCols,
    params: () => ({ since: sinceOf('schedulers') }),
  });

  r.tasks = new Report({
    url: '/api/tasks',
    columns: [
      col('id', 'ID'), col('name', 'Name', { wrap: true }), col('type', 'Type'),
      col('description', 'Description', { wrap: true }),
      col('added', 'Added'), col('timeout', 'Timeout'), col('schedules', 'Schedules'),
      col('last_status', 'Last status'), col('last_ended', 'Last ended'),
    ],
    rowClick: (tr, row, report) => report.toggle(tr, row.id, 'task', () => new TaskDetail(row)),
  });

  r.failed = new Report({
    url: '/api/failed', columns: instanceColumns(true),
    params: () => ({ since: sinceOf('failed') }),
  });

  for (const [id, report] of Object.entries(r)) {
    $(`#${id}`).querySelector('.report')?.remove();
    $(`#${id}`).append(report.el);
  }
}

async function loadAll() {
  await Promise.allSettled(Object.values(state.reports).map((report) => report.load()));
  if (state.user) $('#last-updated').textContent = `Last updated at: ${utc(new Date())}`;
}

/* ---------- a task's detail: instances, schedules, run now, run chart ---------- */

class TaskDetail {
  constructor(task) {
    this.task = task;
    this.instances = instancesReport(() => ({ task: task.id }));
    this.schedules = h('div', { class: 'schedules' });
    this.chart = h('div', { class: 'chart' });
    this.runResult = h('span', { class: 'run-result' });
    const runBtn = canControl() ? h('button', {
      type: 'button', class: 'run-now', onclick: () => this.runNow(),
    }, 'Run now') : null;
    this.el = h('div', { class: 'task-detail' },
      h('div', { class: 'task-actions' }, runBtn, this.runResult),
      h('h3', {}, 'Runs'), this.chart,
      h('h3', {}, 'Schedules'), this.schedules,
      h('h3', {}, 'Instances'), this.instances.el);
  }

  reload() {
    this.instances.load();
    this.loadSchedules();
    this.loadChart();
  }

  async runNow() {
    this.runResult.classList.remove('error');
    this.runResult.textContent = 'Starting…';
    try {
      const { data } = await api(`/api/tasks/${this.task.id}/run`, { method: 'POST', body: {} });
      this.runResult.textContent = `Started instance #${data.id}.`;
      this.instances.load();
    } catch (e) {
      this.runResult.textContent = e.message;
      this.runResult.classList.add('error');
    }
  }

  async loadSchedules() {
    try {
      const { data } = await api(`/api/tasks/${this.task.id}/schedules`);
      const list = Array.isArray(data) ? data : (data?.data || data?.schedules || []);
      this.renderSchedules(list);
    } catch (e) {
      this.schedules.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  }

  renderSchedules(list) {
    if (!list.length) {
      this.schedules.replaceChildren(h('p', { class: 'message' }, 'No schedules.'));
      return;
    }
    const head = h('tr', {}, ...['ID', 'Queue', 'Rule', 'Next fire', 'Last fire', 'Remaining',
      'Paused', ''].map((t) => h('th', {}, t)));
    const body = h('tbody');
    for (const sc of list) {
      const rule = sc.cron || (sc.period ? `every ${sc.period}s` : sc.kind);
      const act = h('td', { class: 'actions' });
      if (canControl()) {
        act.append(
          h('button', { type: 'button', class: 'schedule-pause', disabled: !!sc.paused,
            onclick: () => this.scheduleAction(sc.id, 'pause') }, 'Pause'),
          h('button', { type: 'button', class: 'schedule-resume', disabled: !sc.paused,
            onclick: () => this.scheduleAction(sc.id, 'resume') }, 'Resume'));
      }
      body.append(h('tr', { 'data-id': sc.id },
        h('td', {}, fmt(sc.id)), h('td', {}, fmt(sc.queue)), h('td', {}, fmt(rule)),
        h('td', {}, fmt(sc.next_fire)), h('td', {}, fmt(sc.last_fire)),
        h('td', {}, fmt(sc.remaining)), h('td', {}, sc.paused ? 'yes' : 'no'), act));
    }
    this.schedules.replaceChildren(h('table', {}, h('thead', {}, head), body));
  }

  async scheduleAction(id, what) {
    try {
      const { data } = await api(`/api/schedules/${id}/${what}`, { method: 'POST', body: {} });
      flash(data?.message || `Schedule #${id}: ${what}d.`);
    } catch (e) {
      flash(e.message, true);
    }
    this.loadSchedules();
  }

  async loadChart() {
    try {
      const { data } = await api(`/api/tasks/${this.task.id}/runs?limit=100`);
      this.chart.replaceChildren(runChart(data?.runs || []));
    } catch (e) {
      this.chart.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  }
}

/* ---------- the run chart ---------- */

/* x = started time, y = duration, one circle per run; green ok, red otherwise. */
function runChart(runs) {
  if (!runs.length) return h('p', { class: 'no-runs' }, 'No runs yet.');
  const W = 640, H = 180, L = 70, R = 20, T = 12, B = 34;
  const xs = runs.map((r) => r.started_ms), ys = runs.map((r) => r.duration_ms ?? 0);
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (x1 === x0) { x0 -= 1000; x1 += 1000; }
  if (y1 === y0) { y0 = 0; y1 = y1 * 2 || 1; }
  const unit = Math.max(...ys) >= 1000 ? 's' : 'ms';
  const px = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);

  const svg = s('svg', { class: 'run-chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H,
    role: 'img', 'aria-label': `Run durations of the last ${runs.length} runs` });
  svg.append(
    s('line', { class: 'axis', x1: L, y1: H - B, x2: W - R, y2: H - B }),
    s('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }),
    s('text', { class: 'label', x: L - 6, y: py(y1) + 4, 'text-anchor': 'end' }, fmtDuration(y1, unit)),
    s('text', { class: 'label', x: L - 6, y: py(y0) + 4, 'text-anchor': 'end' }, fmtDuration(y0, unit)),
    s('text', { class: 'label', x: L, y: H - B + 16, 'text-anchor': 'start' }, utc(new Date(x0))),
    s('text', { class: 'label', x: W - R, y: H - B + 16, 'text-anchor': 'end' }, utc(new Date(x1))),
    s('text', { class: 'label', x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle' }, 'started (UTC)'));
  for (const r of runs) {
    const dur = r.duration_ms ?? 0;
    const c = s('circle', { class: `run ${r.ok ? 'ok' : 'fail'}`, 'data-id': r.id,
      cx: px(r.started_ms).toFixed(1), cy: py(dur).toFixed(1), r: 4 },
    s('title', {}, `#${r.id} ${fmt(r.status)} ${fmtDuration(dur, unit)} at ${utc(new Date(r.started_ms))}`));
    c.addEventListener('click', () => openLog('instance', r.id));
    svg.append(c);
  }
  return svg;
}

/* ---------- the log viewer ---------- */

let logSeq = 0;
async function openLog(kind, id) {
  const seq = ++logSeq;
  const text = $('#log-text');
  $('#log-title').textContent = `${kind[0].toUpperCase()}${kind.slice(1)} #${id} log`;
  $('#log-source').textContent = '';
  text.textContent = 'Loading…';
  text.classList.remove('error');
  $('#log-viewer').hidden = false;
  $('#log-close').focus();
  try {
    const { data, headers } = await api(`/api/logs/${kind}/${id}?tail=${LOG_TAIL_BYTES}`);
    if (seq !== logSeq) return;
    const body = typeof data === 'string' ? data : JSON.stringify(data, null, 2);
    text.textContent = body || '(the log is empty)';
    const source = headers.get('X-Norc-Log-Source');
    $('#log-source').textContent = source ? `source: ${source}` : '';
  } catch (e) {
    if (seq !== logSeq) return;
    text.textContent = e.message;
    text.classList.add('error');
  }
}

function closeLog() {
  logSeq++;
  $('#log-viewer').hidden = true;
}

/* ---------- typed confirmation and controls ---------- */

let confirmResolve = null;

/* Resolves true when the user types `word` and presses OK, false on cancel. */
function confirmTyped(text, word) {
  closeConfirm(false);
  $('#confirm-text').textContent = text;
  const input = $('#confirm-input');
  input.value = '';
  input.dataset.word = word;
  $('#confirm-ok').disabled = true;
  $('#confirm-dialog').hidden = false;
  input.focus();
  return new Promise((resolve) => { confirmResolve = resolve; });
}

function closeConfirm(result) {
  $('#confirm-dialog').hidden = true;
  const resolve = confirmResolve;
  confirmResolve = null;
  if (resolve) resolve(result);
}

async function controlDaemon(kind, id, request) {
  const ok = await confirmTyped(
    `Are you sure you want to ${request} ${kind} ${id}? If so, type "${request}" below.`, request);
  if (!ok) return;
  try {
    const { data } = await api(`/api/control/${kind}s/${id}`, { method: 'POST', body: { request } });
    flash(data?.message || `${request} sent to ${kind} ${id}.`);
  } catch (e) {
    flash(e.message, true);
  }
  state.reports[`${kind}s`]?.load();
}

async function handleInstance(id) {
  const ok = await confirmTyped(
    `Are you sure you want to handle instance ${id}? If so, type "handle" below.`, 'handle');
  if (!ok) return;
  try {
    const { data } = await api(`/api/instances/${id}/handle`, { method: 'POST', body: {} });
    flash(data?.message || `Instance ${id} handled.`);
  } catch (e) {
    flash(e.message, true);
  }
  state.reports.failed?.load();
}

/* ---------- static wiring ---------- */

function setupStatic() {
  for (const sel of document.querySelectorAll('select.since')) {
    for (const v of SINCE_CHOICES) sel.append(h('option', { value: v }, v));
    sel.value = '10m';
    sel.addEventListener('change', () => {
      const report = state.reports[sel.closest('section').id];
      if (report) { report.page = 1; report.load(); }
    });
  }
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  $('#auto-refresh').addEventListener('change', (ev) => setAutoRefresh(ev.target.checked));
  $('#log-close').addEventListener('click', closeLog);
  $('#log-viewer').addEventListener('click', (ev) => { if (ev.target.id === 'log-viewer') closeLog(); });
  const input = $('#confirm-input');
  input.addEventListener('input', () => { $('#confirm-ok').disabled = input.value !== input.dataset.word; });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !$('#confirm-ok').disabled) closeConfirm(true);
  });
  $('#confirm-ok').addEventListener('click', () => closeConfirm(true));
  $('#confirm-cancel').addEventListener('click', () => closeConfirm(false));
  $('#flash').addEventListener('click', () => { $('#flash').hidden = true; });
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    if (!$('#confirm-dialog').hidden) closeConfirm(false);
    else if (!$('#log-viewer').hidden) closeLog();
  });
}

document.addEventListener('DOMContentLoaded', start);
