// The dashboard (GET /ui) end to end: a real `plancache serve` on 127.0.0.1
// (API and admin tokens, a disk tier, the example planner, some traffic),
// opened in Debian's headless Chromium through playwright-core. Checks that
// the page loads, that its numbers are those of GET /v1/stats, that it asks
// no other origin for anything, and that its invalidate form works (and shows
// the 401 / 403 of a missing or wrong token). Leaves a screenshot.
//
// Run by tests/ui/run.sh (which installs playwright-core from the lock file):
//   node tests/ui/dashboard.test.mjs --binary build/x/plancache --artifacts DIR
// Every wait is bounded (a condition polled until a deadline), none is a sleep.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { ServerProcess, poll } from './server.mjs';

const ADMIN = 'admin-secret';
const API = 'api-secret';
const WAIT_MS = 10_000;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: { binary: { type: 'string' }, artifacts: { type: 'string' } },
});
assert.ok(args.binary, '--binary PATH of plancache is required');
const artifacts = args.artifacts || process.env.PLANCACHE_TEST_ARTIFACTS ||
  path.join(repo, 'build', 'test-artifacts');

let server, browser, page, workdir;
const requests = [];
const consoleErrors = [];

// Puts, hits, misses and planner runs in three rounds, each followed by a
// stats snapshot, so that the chart has points to draw.
async function makeTraffic() {
  const put = (goal, ns, tags, computeMs) => server.call('PUT', '/v1/plans', {
    goal, namespace: ns, tags, compute_ms: computeMs, plan: { steps: [goal, 'test', 'ship'] },
  });
  for (let round = 0; round < 3; round++) {
    const seen = (await server.history()).snapshots.length;
    for (let i = 0; i < 6; i++) {
      assert.equal((await put(`web ${round}.${i}`, 'default', ['web'], 400 + 100 * i)).status, 201);
      assert.equal((await put(`db ${round}.${i}`, 'standard', ['db'], 900)).status, 201);
    }
    for (let i = 0; i < 4 + 6 * round; i++) {  // a hit rate that changes from round to round
      const hit = await server.call('POST', '/v1/plans/lookup', { goal: `web ${round}.${i % 6}` });
      assert.equal(hit.status, 200);
    }
    for (let i = 0; i < 6 - 2 * round; i++) {
      const miss = await server.call('POST', '/v1/plans/lookup', { goal: `nowhere ${round}.${i}` });
      assert.equal(miss.status, 404);
    }
    assert.equal((await server.call('PUT', `/v1/entries/default/user:${round}`, { round })).status, 201);
    const goal = `planned ${round}`;
    for (let i = 0; i < 2; i++) {  // a planner run, then a hit
      assert.equal((await server.call('POST', '/v1/plans', { goal, namespace: 'docs' })).status, 200);
    }
    await poll(async () => (await server.history()).snapshots.length > seen,
      'a new stats snapshot', WAIT_MS);
  }
}

// Every number the page shows, by data-testid (cards) or row + field (tables).
function readPage() {
  return page.evaluate(() => {
    const out = {};
    for (const el of document.querySelectorAll('[data-testid][data-value]')) {
      out[el.dataset.testid] = Number(el.dataset.value);
    }
    for (const tr of document.querySelectorAll('tbody tr[data-testid]')) {
      for (const td of tr.querySelectorAll('td[data-field]')) {
        out[`${tr.dataset.testid}.${td.dataset.field}`] = td.dataset.value;
      }
    }
    return out;
  });
}

// What the page should show for `stats`, in readPage()'s terms.
function expected(stats) {
  const c = stats.cache;
  const out = {
    'hit-rate': c.hit_rate, gets: c.gets, hits: c.hits, misses: c.misses,
    'planner-calls': stats.planning.planner_calls,
    'planner-seconds-saved': c.planner_seconds_saved,
    'latency-p50': c.get_latency_us.p50, 'latency-p99': c.get_latency_us.p99,
  };
  for (const t of stats.tiers) {
    for (const f of ['entries', 'bytes', 'hits', 'misses', 'evictions']) {
      out[`tier-${t.name}.${f}`] = String(t[f]);
    }
  }
  for (const [lane, doc] of Object.entries(stats.namespaces)) {
    for (const t of stats.tiers) {
      if (!doc[t.name]) continue;
      for (const f of ['entries', 'bytes', 'hits', 'evictions']) {
        out[`lane-${lane}-${t.name}.${f}`] = String(doc[t.name][f]);
      }
    }
  }
  return out;
}

function mismatches(shown, want) {
  return Object.entries(want).filter(([k, v]) => shown[k] !== v).map(
    ([k, v]) => `${k}: page ${JSON.stringify(shown[k])}, /v1/stats ${JSON.stringify(v)}`);
}

// Refreshes the page until it shows what /v1/stats says now (bounded).
async function expectPageMatchesStats() {
  const want = expected(await server.stats());
  let diff = [];
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const seq = Number(await page.getAttribute('[data-testid=updated]', 'data-seq'));
    await page.click('[data-testid=refresh]');
    await page.waitForFunction((s) => Number(document.querySelector('[data-testid=updated]')
      .dataset.seq) > s, seq, { timeout: WAIT_MS });
    diff = mismatches(await readPage(), want);
    if (diff.length === 0) return want;
  }
  assert.fail('the page does not show the numbers of /v1/stats:\n  ' + diff.join('\n  '));
}

async function submitInvalidate(kind, value, token) {
  await page.selectOption('[data-testid=invalidate-kind]', kind);
  await page.fill('[data-testid=invalidate-value]', value);
  const nsField = page.locator('[data-testid=invalidate-namespace]');
  if (kind === 'namespace') {
    assert.equal(await nsField.isVisible(), false, 'a whole namespace takes no second namespace');
  } else {
    await nsField.fill('');
  }
  await page.fill('[data-testid=invalidate-token]', token);
  await page.evaluate(() => { delete document.querySelector('[data-testid=invalidate-result]').dataset.status; });
  await page.click('[data-testid=invalidate-submit]');
  const result = page.locator('[data-testid=invalidate-result][data-status]');
  await result.waitFor({ timeout: WAIT_MS });
  return { status: Number(await result.getAttribute('data-status')), text: await result.textContent() };
}

describe('dashboard', () => {
  before(async () => {
    workdir = mkdtempSync(path.join(tmpdir(), 'plancache-ui-'));
    server = await ServerProcess.start(args.binary, workdir, {
      adminToken: ADMIN, apiToken: API,
      args: ['--data-dir', path.join(workdir, 'data'), '--stats-history-interval-s', '1',
        '--planner-cmd', `/usr/bin/python3 ${path.join(repo, 'examples', 'planner.py')} --stdin --delay-ms 30`],
    });
    await makeTraffic();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('console', (m) => {
      // Chromium logs every 401 / 403 answer; those are the ones this test provokes.
      if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) {
        consoleErrors.push(`${m.text()} (${m.location().url})`);
      }
    });
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  test('the page loads, asks for the API token and shows the numbers of /v1/stats', async () => {
    const res = await page.goto(server.origin + '/ui');
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-security-policy'], /default-src 'none'/);
    await page.locator('[data-testid=read-token-form]').waitFor({ state: 'visible', timeout: WAIT_MS });
    await page.fill('[data-testid=read-token]', API);
    await page.click('[data-testid=read-token-submit]');
    await page.locator('[data-testid=status]', { hasText: 'ok' }).waitFor({ timeout: WAIT_MS });
    await page.locator('[data-testid=tier-l2]').waitFor({ timeout: WAIT_MS });
    const want = await expectPageMatchesStats();
    assert.ok(want.gets > 0 && want.hits > 0 && want.misses > 0, JSON.stringify(want));
    assert.ok(want['planner-calls'] >= 3 && want['planner-seconds-saved'] > 0, JSON.stringify(want));
    assert.match(await page.textContent('[data-testid=shared-state]'), /no shared tier/);
  });

  test('the chart draws the history', async () => {
    await poll(async () => Number(await page.getAttribute('[data-testid=history-count]', 'data-value')) >= 3,
      'three snapshots on the page', WAIT_MS);
    assert.ok(await page.locator('[data-testid=hit-rate-chart] path[data-series=all]').count() === 1);
    assert.ok(await page.locator('[data-testid=hit-rate-chart] circle').count() >= 3);
  });

  test('the screenshot is kept', async () => {
    mkdirSync(artifacts, { recursive: true });
    const file = path.join(artifacts, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`# screenshot: ${file}`);
  });

  test('the invalidate form shows a missing or wrong token', async () => {
    const none = await submitInvalidate('tag', 'web', '');
    assert.equal(none.status, 401);
    assert.match(none.text, /401 unauthenticated/);
    const wrong = await submitInvalidate('tag', 'web', 'not-the-token');
    assert.equal(wrong.status, 403);
    assert.match(wrong.text, /403 permission_denied/);
    assert.equal((await server.call('POST', '/v1/plans/lookup', { goal: 'web 0.0' })).status, 200);
  });

  test('the invalidate form removes the tagged entries, and the page follows', async () => {
    const result = await submitInvalidate('tag', 'web', ADMIN);
    assert.equal(result.status, 200, result.text);
    assert.match(result.text, /Invalidated 18 entries \(tag web\)/);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6; i++) {
        assert.equal((await server.call('POST', '/v1/plans/lookup', { goal: `web ${round}.${i}` })).status, 404);
        assert.equal((await server.call('POST', '/v1/plans/lookup',
          { goal: `db ${round}.${i}`, namespace: 'standard' })).status, 200);
      }
    }
    const prefix = await submitInvalidate('prefix', 'user:', ADMIN);
    assert.equal(prefix.status, 200, prefix.text);
    assert.match(prefix.text, /Invalidated 3 entries/);
    assert.equal((await server.call('GET', '/v1/entries/default/user:0')).status, 404);
    const lane = await submitInvalidate('namespace', 'docs', ADMIN);
    assert.equal(lane.status, 200, lane.text);
    assert.match(lane.text, /Invalidated 3 entries \(namespace docs\)/);
    const want = await expectPageMatchesStats();
    assert.equal(want['tier-l1.entries'], String(3 * 6));  // the db plans are left
    assert.equal(want['lane-docs-l1.entries'], '0');
  });

  test('the page asked nothing of any other origin and logged no error', () => {
    assert.ok(requests.length > 0);
    const foreign = requests.filter((u) => new URL(u).origin !== server.origin);
    assert.deepEqual(foreign, []);
    assert.deepEqual(consoleErrors, []);
  });
});
