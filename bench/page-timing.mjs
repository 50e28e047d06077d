// Times the script assistant in Debian's Chromium: time to the first check answer, the engine's
// check of the 3,000-character
// draft (bench/workloads/long-draft.txt) inside the page, and a keystroke at the end of that
// draft from input event to the next frame (check + marks + findings panel + layout).
//
//   node bench/page-timing.mjs http://127.0.0.1:8080/     (a running `callguard serve`)
import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = await import(path.join(root, 'tools/node_modules/playwright-core/index.mjs'));
const base = process.argv[2] ?? 'http://127.0.0.1:8080/';
const draft = readFileSync(path.join(root, 'bench/workloads/long-draft.txt'), 'utf8');
const ctx = await chromium.launchPersistentContext(mkdtempSync('/tmp/callguard-timing-'), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await ctx.newPage();
const t0 = Date.now();
await page.goto(new URL('index.html', base).href);
await page.waitForSelector('body[data-ready]');
const readyMs = Date.now() - t0;
await page.fill('#dpd', '40');
await page.check('#verified');
await page.fill('#draft', draft);
const result = await page.evaluate(async (draft) => {
  const engine = window.callguard.engine;
  const context = { dpd: 40, party: 'debtor', identity_verified: true };
  for (let i = 0; i < 20; i++) engine.checkUtterance({ text: draft, context });
  const check = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    engine.checkUtterance({ text: draft, context });
    check.push(performance.now() - t);
  }
  const ta = document.getElementById('draft');
  const keystroke = [];
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    ta.setRangeText('好', ta.value.length, ta.value.length, 'end');
    ta.dispatchEvent(new InputEvent('input', { inputType: 'insertText', data: '好' }));
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    keystroke.push(performance.now() - t);
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const p95 = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
  return {
    draft_chars: draft.length,
    findings: engine.checkUtterance({ text: draft, context }).findings.length,
    engine_load_ms: window.callguard.loadMs,
    first_check_ms: window.callguard.firstCheckAt,
    check_median_ms: median(check),
    check_p95_ms: p95(check),
    keystroke_to_frame_median_ms: median(keystroke),
    keystroke_to_frame_p95_ms: p95(keystroke),
  };
}, draft);
console.log(JSON.stringify({ page_ready_ms: readyMs, ...result }, null, 2));
// page_ready_ms is measured by the driver (navigation to ready); first_check_ms by the page
// itself from navigation start, so it leaves out the driver's round trips.
await ctx.close();
