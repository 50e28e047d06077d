// The end-to-end tests' shared harness: two `callguard serve` processes on 127.0.0.1 (one stateless,
// one with a contact ledger), one Chromium profile, and `open`/`close` for a page. `close` fails
// the test on any page or console error and on any serious or critical axe-core violation in the
// state the test left the page in.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// playwright-core lives with the other build tools in tools/node_modules (`cargo xtask setup`).
export const { chromium } = await import(path.join(root, 'tools/node_modules/playwright-core/index.mjs'));
export const bin = process.env.CALLGUARD_BIN ?? path.join(root, 'target/release/callguard');
export const shots = path.join(root, 'target/e2e');
mkdirSync(shots, { recursive: true });

// ---- The servers ----------------------------------------------------------------------------
// One stateless, as a page is usually served; one with a contact ledger (`--db`) in a temporary
// SQLite file, for the calling clock that counts every collector's attempts.
function startServer(extra = [], env = {}) {
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--www', path.join(root, 'www'), ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('callguard serve did not start within 60 s')), 60_000);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`callguard serve exited with ${code}`)));
  });
  return { child, url };
}
const server = startServer();
export const base = await server.url;
const ledgerDir = mkdtempSync(path.join(tmpdir(), 'callguard-e2e-ledger-'));
export const LEDGER_TOKEN = 'e2e-token-0123456789';
const ledgerServer = startServer(['--db', `sqlite:${path.join(ledgerDir, 'ledger.db')}`], {
  CALLGUARD_API_TOKEN: LEDGER_TOKEN,
  CALLGUARD_PHONE_KEY: 'e2e-phone-key-0123456789abcdef',
});
export const ledgerBase = await ledgerServer.url;

const profile = mkdtempSync(path.join(tmpdir(), 'callguard-e2e-'));
/** Options for a headless Chromium profile of these tests. */
export const chromiumOptions = {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  acceptDownloads: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};
export const browser = await chromium.launchPersistentContext(profile, { ...chromiumOptions, viewport: { width: 1400, height: 900 } });

/** Opens `page` and fails on any page or console error. */
export async function open(name, { clock, at = base } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  // File choosers are intercepted from the start: turned on only when a test first waits for one,
  // the interception can lose the race with the key press, and the native dialog it lets through
  // blocks every later one.
  page.on('filechooser', () => {});
  if (clock) await page.clock.install({ time: new Date(clock) });
  await page.goto(`${at}/${name}`);
  await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
  page.errors = errors;
  return page;
}

// axe-core (npm, tools/node_modules) runs inside the page against WCAG 2.1 A and AA.
const axeSource = path.join(root, 'tools/node_modules/axe-core/axe.min.js');

/** Runs axe-core on the page as it is now; fails on any serious or critical violation, naming
 *  the rule, the elements and `where` (the state the test reached). */
export async function accessible(page, where) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1, 2).join('').trim()}`).join('\n')}`);
  assert.deepEqual(report, [], `axe-core on ${page.url()} (${where})`);
}

/** Ends a test's page: a screenshot, no page or console errors, and axe-core on its last state. */
export async function close(page, shot, { where = 'at the end of the test', fullPage = true } = {}) {
  if (shot) await page.screenshot({ path: path.join(shots, shot), fullPage });
  assert.deepEqual(page.errors, [], 'no page or console errors');
  await accessible(page, where);
  await page.close();
}

// Expected scores from the `callguard` host on the same files, DPD 10 where a file names none.
export const fixtureDir = path.join(root, 'tests/fixtures');
export const fixtures = readdirSync(fixtureDir).filter((f) => /\.(json|txt|vtt|srt)$/.test(f)).sort();
// The page's DPD is a default for files that state none, so the host gets --dpd 10 only for those.
const hostScore = (file) => {
  const run = (extra) => JSON.parse(execFileSync(bin, ['score', '--pack', 'cn-company', ...extra, file], { encoding: 'utf8' }));
  const own = run([]);
  return own.dpd == null ? run(['--dpd', '10']) : own;
};
export const hostScores = Object.fromEntries(fixtures.map((f) => {
  const a = hostScore(path.join(fixtureDir, f));
  return [f, { score: a.score, auto_fail: a.auto_fail }];
}));


/** Stops the servers and the browser and removes their temporary files. */
export async function shutdown() {
  await browser.close();
  server.child.kill('SIGTERM');
  ledgerServer.child.kill('SIGTERM');
  rmSync(ledgerDir, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
}
