// A `plancache serve` child process on 127.0.0.1 for the UI tests (the Node
// twin of tests/integration/harness.py's Server): --port 0, the port read
// from its "listening on" log line, its log shown when something fails.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';

// Polls `predicate` until it returns something truthy; fails after `timeoutMs`.
export async function poll(predicate, what, timeoutMs, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await predicate();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (last ? ` (${last})` : ''));
}

export class ServerProcess {
  // Starts the server in `workdir` with the tokens and extra `args`.
  static async start(binary, workdir, { adminToken, apiToken, args = [] }) {
    const logPath = path.join(workdir, 'server.log');
    const log = createWriteStream(logPath);
    const argv = ['serve', '--host', '127.0.0.1', '--port', '0', '--admin-token', adminToken,
      '--api-token', apiToken, ...args];
    const child = spawn(path.resolve(binary), argv, {
      cwd: workdir,
      env: { PATH: process.env.PATH || '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    const port = new Promise((resolve, reject) => {
      const onData = (chunk) => {
        log.write(chunk);
        text += chunk;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`plancache exited with ${code}:\n${text}`)));
      child.on('error', (e) => reject(new Error(`cannot run ${binary}: ${e.message}`)));
    });
    let timer;
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`plancache did not start in 15 s:\n${text}`)), 15_000);
    });
    port.catch(() => {});  // an exit after the start is stop()'s business
    try {
      return new ServerProcess(child, await Promise.race([port, timeout]), apiToken, logPath);
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  constructor(child, port, apiToken, logPath) {
    this.child = child;
    this.origin = `http://127.0.0.1:${port}`;
    this.apiToken = apiToken;
    this.logPath = logPath;
  }

  // One request with the API token (or `token`); the body as JSON.
  async call(method, target, body, token = this.apiToken) {
    const headers = { Authorization: 'Bearer ' + token };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.origin + target, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { json = null; }
    return { status: res.status, body: json, text };
  }

  async stats() {
    const res = await this.call('GET', '/v1/stats');
    if (res.status !== 200) throw new Error(`GET /v1/stats: ${res.status} ${res.text}`);
    return res.body;
  }

  async history() {
    const res = await this.call('GET', '/v1/stats/history');
    if (res.status !== 200) throw new Error(`GET /v1/stats/history: ${res.status} ${res.text}`);
    return res.body;
  }

  log() {
    try { return readFileSync(this.logPath, 'utf8'); } catch (e) { return ''; }
  }

  // SIGTERM, then SIGKILL after 10 s; resolves once the process is gone.
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}
