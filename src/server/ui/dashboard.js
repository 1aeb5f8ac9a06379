// The plancache dashboard's script (GET /ui/dashboard.js): polls GET /v1/stats
// and GET /v1/stats/history on this origin, draws the hit-rate chart as inline
// SVG and sends the invalidate form to POST /v1/invalidate. No library, no
// other host. Every number shown keeps its raw value in data-value (the tests
// compare those with /v1/stats); server text is only ever set as textContent.
'use strict';

const POLL_MS = 5000;
const SVG_NS = 'http://www.w3.org/2000/svg';
const SERIES = ['l1', 'l2', 'shared', 'all'];  // drawn in this order: all tiers on top

const state = {
  token: '',       // API token for reading (only when the server asks for one)
  history: [],     // snapshots, oldest first
  capacity: 0,
  lastMs: 0,       // time_ms of the newest snapshot held
};

const $ = (id) => document.getElementById(id);

// --- formatting --------------------------------------------------------------

const fmtInt = (n) => Number(n).toLocaleString('en-US');
const fmtPct = (x) => (x === null || x === undefined ? '–' : (x * 100).toFixed(1) + ' %');

function fmtBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = Number(n);
  let i = 0;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return (i === 0 ? String(x) : x.toFixed(1)) + ' ' + units[i];
}

function fmtSeconds(s) {
  if (s < 60) return s.toFixed(1) + ' s';
  if (s < 3600) return (s / 60).toFixed(1) + ' min';
  if (s < 86400) return (s / 3600).toFixed(1) + ' h';
  return (s / 86400).toFixed(1) + ' d';
}

function fmtMicros(us) {
  if (us < 1000) return us.toFixed(us < 10 ? 1 : 0) + ' µs';
  if (us < 1e6) return (us / 1000).toFixed(1) + ' ms';
  return (us / 1e6).toFixed(2) + ' s';
}

function fmtTime(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

// Shows `text` in `el` and keeps the raw value beside it.
function show(el, value, text) {
  el.textContent = text;
  el.dataset.value = String(value);
}

// --- the API -----------------------------------------------------------------

async function api(path, init = {}, token = state.token) {
  const headers = Object.assign({}, init.headers || {});
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(path, Object.assign({}, init, { headers, cache: 'no-store' }));
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  return { status: res.status, body };
}

function errorText(res) {
  const err = res.body && res.body.error;
  return err ? `${res.status} ${err.code}: ${err.message}` : `HTTP ${res.status}`;
}

// --- rendering ---------------------------------------------------------------

function setStatus(text, kind) {
  const el = $('status');
  el.textContent = text;
  el.className = 'badge ' + (kind || '');
}

function renderTotals(stats) {
  const c = stats.cache;
  show($('hit-rate'), c.hit_rate, fmtPct(c.hit_rate));
  show($('gets'), c.gets, fmtInt(c.gets));
  show($('hits'), c.hits, fmtInt(c.hits));
  show($('misses'), c.misses, fmtInt(c.misses));
  const p = stats.planning || {};
  show($('planner-calls'), p.planner_calls || 0, fmtInt(p.planner_calls || 0));
  show($('planner-inflight'), p.inflight || 0, fmtInt(p.inflight || 0));
  show($('planner-errors'), p.planner_errors || 0, fmtInt(p.planner_errors || 0));
  show($('planner-seconds-saved'), c.planner_seconds_saved, fmtSeconds(c.planner_seconds_saved));
  const lat = c.get_latency_us;
  show($('latency-p50'), lat.p50, fmtMicros(lat.p50));
  show($('latency-p99'), lat.p99, fmtMicros(lat.p99));
  show($('latency-max'), lat.max, fmtMicros(lat.max));
  show($('uptime'), stats.uptime_s, fmtSeconds(stats.uptime_s));
}

function cell(tr, field, value, text) {
  const td = document.createElement('td');
  td.dataset.field = field;
  if (value !== undefined) td.dataset.value = String(value);
  td.textContent = text;
  tr.appendChild(td);
  return td;
}

function renderTiers(stats) {
  const body = $('tiers');
  body.replaceChildren();
  for (const t of stats.tiers) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-testid', 'tier-' + t.name);
    cell(tr, 'name', t.name, t.name);
    const st = cell(tr, 'state', t.state,
      t.state === 'ok' ? (t.connected ? 'ok' : 'not connected') : 'degraded: ' + t.degraded_reason);
    st.className = t.state === 'ok' && t.connected ? 'state-ok' : 'state-bad';
    cell(tr, 'entries', t.entries, fmtInt(t.entries));
    cell(tr, 'bytes', t.bytes, fmtBytes(t.bytes));
    cell(tr, 'hits', t.hits, fmtInt(t.hits));
    cell(tr, 'misses', t.misses, fmtInt(t.misses));
    cell(tr, 'hit_rate', t.hit_rate, fmtPct(t.hit_rate));
    cell(tr, 'evictions', t.evictions, fmtInt(t.evictions));
    cell(tr, 'expirations', t.expirations, fmtInt(t.expirations));
    body.appendChild(tr);
  }
}

function renderLanes(stats) {
  const body = $('lanes');
  body.replaceChildren();
  const tierOrder = stats.tiers.map((t) => t.name);
  for (const lane of Object.keys(stats.namespaces).sort()) {
    const doc = stats.namespaces[lane];
    const policy = doc.policy || {};
    for (const tier of tierOrder) {
      const n = doc[tier];
      if (!n) continue;
      const tr = document.createElement('tr');
      tr.setAttribute('data-testid', `lane-${lane}-${tier}`);
      cell(tr, 'lane', lane, lane);
      cell(tr, 'tier', tier, tier);
      cell(tr, 'entries', n.entries, fmtInt(n.entries));
      cell(tr, 'bytes', n.bytes, fmtBytes(n.bytes));
      cell(tr, 'hits', n.hits, fmtInt(n.hits));
      cell(tr, 'misses', n.misses, fmtInt(n.misses));
      cell(tr, 'hit_rate', n.hit_rate, fmtPct(n.hit_rate));
      cell(tr, 'evictions', n.evictions || 0, fmtInt(n.evictions || 0));
      cell(tr, 'eviction', policy.eviction || '', tier === 'l1' ? policy.eviction || '' : '');
      body.appendChild(tr);
    }
  }
}

function fact(dl, label, value, testid) {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  if (testid) dd.setAttribute('data-testid', testid);
  dl.append(dt, dd);
}

function renderShared(stats) {
  const dl = $('shared');
  dl.replaceChildren();
  const t = stats.tiers.find((x) => x.name === 'shared');
  if (!t) {
    fact(dl, 'State', 'none: this server has no shared tier (--redis-url)', 'shared-state');
    return;
  }
  const s = t.shared || {};
  fact(dl, 'State', s.state || (t.connected ? 'connected' : 'not connected'), 'shared-state');
  fact(dl, 'Breaker', s.breaker || '–', 'shared-breaker');
  fact(dl, 'Redis masters', `${fmtInt(s.nodes || 0)} (${fmtInt(s.nodes_open || 0)} failing fast)`);
  fact(dl, 'Invalidation listeners', `${fmtInt(s.listeners_up || 0)} of ${fmtInt(s.listeners || 0)} subscribed`);
  fact(dl, 'Invalidations heard', fmtInt(s.invalidations_received || 0));
  fact(dl, 'Waiting for Redis', fmtInt(s.pending_invalidations || 0) + ' deletions / invalidations');
  fact(dl, 'Leases', `${fmtInt(s.leases_acquired || 0)} taken, ${fmtInt(s.lease_waits || 0)} waits`);
}

// --- the chart ---------------------------------------------------------------

function svg(name, attrs, parent) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

function seriesValue(snapshot, series) {
  if (series === 'all') return snapshot.hit_rate;
  const t = snapshot.tiers.find((x) => x.name === series);
  return t ? t.hit_rate : undefined;
}

function renderChart() {
  const chart = $('chart');
  chart.replaceChildren();
  // One user unit per CSS pixel, so the chart fills its box at any width.
  const W = Math.max(320, Math.round(chart.getBoundingClientRect().width) || 720);
  const H = 220, L = 44, R = 12, T = 10, B = 26;
  chart.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const points = state.history;
  for (const y of [0, 0.25, 0.5, 0.75, 1]) {
    const py = T + (1 - y) * (H - T - B);
    svg('line', { class: 'grid', x1: L, x2: W - R, y1: py, y2: py }, chart);
    svg('text', { x: L - 6, y: py + 4, 'text-anchor': 'end' }, chart).textContent = y * 100 + ' %';
  }
  if (points.length === 0) return;
  const t0 = points[0].time_ms, t1 = points[points.length - 1].time_ms;
  const x = (t) => (t1 === t0 ? (L + W - R) / 2 : L + ((t - t0) / (t1 - t0)) * (W - L - R));
  const y = (v) => T + (1 - v) * (H - T - B);
  svg('text', { x: L, y: H - 8 }, chart).textContent = fmtTime(t0);
  if (t1 !== t0) svg('text', { x: W - R, y: H - 8, 'text-anchor': 'end' }, chart).textContent = fmtTime(t1);
  const legend = $('legend');
  legend.replaceChildren();
  for (const series of SERIES) {
    const values = points.map((p) => seriesValue(p, series));
    if (values.every((v) => v === undefined)) continue;
    let d = '';
    let run = 0;
    values.forEach((v, i) => {
      if (v === null || v === undefined) { run = 0; return; }
      d += (run === 0 ? 'M' : 'L') + x(points[i].time_ms).toFixed(1) + ' ' + y(v).toFixed(1) + ' ';
      run++;
      const alone = (i === 0 || values[i - 1] == null) && (i + 1 === values.length || values[i + 1] == null);
      if (alone || points.length <= 60) {
        svg('circle', { class: `dot series-${series}`, cx: x(points[i].time_ms), cy: y(v), r: 2.5 }, chart);
      }
    });
    if (d) svg('path', { class: `series series-${series}`, d: d.trim(), 'data-series': series }, chart);
    const item = document.createElement('span');
    item.className = `series-${series}`;
    item.append(document.createElement('i'), series === 'all' ? 'all tiers' : series);
    legend.appendChild(item);
  }
}

// --- refreshing --------------------------------------------------------------

async function loadHistory() {
  const res = await api('/v1/stats/history?since=' + state.lastMs);
  if (res.status !== 200) return;
  const doc = res.body;
  state.capacity = doc.capacity;
  for (const s of doc.snapshots) {
    if (s.time_ms > state.lastMs) state.history.push(s);
  }
  if (state.history.length > state.capacity) state.history.splice(0, state.history.length - state.capacity);
  if (state.history.length) state.lastMs = state.history[state.history.length - 1].time_ms;
  $('history-interval').textContent = fmtSeconds(doc.interval_s);
  show($('history-count'), state.history.length, String(state.history.length));
  $('history-capacity').textContent = fmtInt(doc.capacity);
  renderChart();
}

async function refreshOnce() {
  try {
    const res = await api('/v1/stats');
    if (res.status === 401 || res.status === 403) {
      setStatus('needs a token', 'bad');
      $('read-token-form').hidden = false;
      $('read-error').textContent = state.token ? errorText(res) : '';
      return;
    }
    if (res.status !== 200) { setStatus(errorText(res), 'bad'); return; }
    $('read-token-form').hidden = true;
    const stats = res.body;
    renderTotals(stats);
    renderTiers(stats);
    renderLanes(stats);
    renderShared(stats);
    const degraded = stats.tiers.filter((t) => t.state !== 'ok' || !t.connected).map((t) => t.name);
    setStatus(degraded.length ? 'degraded: ' + degraded.join(', ') : 'ok', degraded.length ? 'bad' : 'ok');
    await loadHistory();
  } catch (e) {
    setStatus('unreachable', 'bad');
  } finally {
    const updated = $('updated');
    updated.textContent = fmtTime(Date.now());
    updated.dataset.seq = String(Number(updated.dataset.seq) + 1);
  }
}

// Refreshes run one after another: one asked for now starts after any
// running one, so it reads the server as it is now.
let chain = Promise.resolve();
function refresh() {
  chain = chain.then(refreshOnce);
  return chain;
}

function poll() {
  refresh().then(() => setTimeout(poll, POLL_MS));
}

// --- invalidation ------------------------------------------------------------

async function invalidate(event) {
  event.preventDefault();
  const kind = $('invalidate-kind').value;
  const value = $('invalidate-value').value.trim();
  const ns = $('invalidate-namespace').value.trim();
  const out = $('invalidate-result');
  const body = { [kind]: value };
  if (kind !== 'namespace' && ns) body.namespace = ns;
  out.textContent = 'invalidating…';
  out.className = '';
  delete out.dataset.status;
  try {
    const res = await api('/v1/invalidate', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }, $('invalidate-token').value);
    out.dataset.status = String(res.status);
    if (res.status === 200) {
      const n = res.body.invalidated;
      show(out, n, `Invalidated ${fmtInt(n)} ${n === 1 ? 'entry' : 'entries'} (${kind} ${value}).`);
      out.className = 'ok';
      refresh();
    } else {
      out.textContent = errorText(res);
      out.className = 'error';
    }
  } catch (e) {
    out.dataset.status = '0';
    out.textContent = 'the server did not answer: ' + e.message;
    out.className = 'error';
  }
}

function start() {
  $('refresh').addEventListener('click', () => refresh());
  window.addEventListener('resize', renderChart);
  $('invalidate-form').addEventListener('submit', invalidate);
  $('invalidate-kind').addEventListener('change', () => {
    $('invalidate-ns-label').hidden = $('invalidate-kind').value === 'namespace';
  });
  $('read-token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.token = $('read-token').value;
    refresh();
  });
  poll();
}

document.addEventListener('DOMContentLoaded', start);
