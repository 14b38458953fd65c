// Starts a real gridhall binary for a browser test: a fresh data directory,
// a free loopback port, and a first administrator with a known password.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'e2e admin password 2024';

const START_TIMEOUT_MS = 20_000;
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
export async function startServer() {
  const bin = process.env.GRIDHALL_BIN;
  if (!bin) {
    throw new Error('GRIDHALL_BIN must name the gridhall binary (absolute path)');
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'gridhall-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, '--log-format', 'text'], {
    env: { ...process.env, GRIDHALL_ADMIN_PASSWORD: ADMIN_PASSWORD },
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
