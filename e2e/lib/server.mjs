// Starts a real gridhall binary for a browser test: a fresh data directory,
// a free loopback port, and a first administrator with a known password
// (startServer), or the seeded demo installation (startDemo).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'e2e admin password 2024';
// Every demo account (admin, district, street, auditor, cs01…, gw01…) has
// this password in the tests.
export const DEMO_PASSWORD = 'e2e demo password 2024';

const START_TIMEOUT_MS = 180_000; // the demo seeds ~7,500 residents and a year of cases before it listens
const STOP_TIMEOUT_MS = 5_000;

// freePort asks the kernel for an unused port. Another process could take it
// before gridhall binds it, but on a test machine that is rare enough.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `gridhall serve` and waits until GET /healthz answers 200.
 * @returns {Promise<{url: string, stop: () => Promise<void>, output: () => string}>}
 */
export function startServer() {
  return start('serve', { GRIDHALL_ADMIN_PASSWORD: ADMIN_PASSWORD });
}

/**
 * Starts `gridhall demo`, which seeds the demo street (4 communities, about
 * 20 grids, buildings, staff and accounts) into its empty data directory
 * and serves it; every account's password is DEMO_PASSWORD.
 * @returns {Promise<{url: string, stop: () => Promise<void>, output: () => string}>}
 */
export function startDemo() {
  return start('demo', { GRIDHALL_DEMO_PASSWORD: DEMO_PASSWORD });
}

async function start(command, extraEnv) {
  const bin = process.env.GRIDHALL_BIN;
  if (!bin) {
    throw new Error('GRIDHALL_BIN must name the gridhall binary (absolute path)');
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'gridhall-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, [command, '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-format', 'text'], {
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Keep the server's output to explain a failure; only the tail matters.
  let log = '';
  const keep = (chunk) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let running = true;
  exited.then(() => {
    running = false;
  });

  const stop = async () => {
    if (running) {
      proc.kill('SIGTERM');
      const timer = sleep(STOP_TIMEOUT_MS).then(() => {
        if (running) proc.kill('SIGKILL');
      });
      await Promise.race([exited, timer]);
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (!running) {
      await stop();
      throw new Error(`gridhall exited before it was ready:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`gridhall was not ready after ${START_TIMEOUT_MS} ms:\n${log}`);
    }
    await sleep(100);
  }
  return { url, stop, output: () => log };
}
