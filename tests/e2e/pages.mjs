// End-to-end tests of the three pages in Debian's Chromium (playwright-core), served by the real
// `callguard serve` on 127.0.0.1. Any page error or console error fails the test. Screenshots of
// each page go to target/e2e/. Prints cargo-style result lines so CI counts these tests too.
//
//   node tests/e2e/pages.mjs   (CALLGUARD_BIN, CHROMIUM override the defaults)
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// playwright-core lives with the other build tools in tools/node_modules (`cargo xtask setup`).
const { chromium } = await import(path.join(root, 'tools/node_modules/playwright-core/index.mjs'));
const bin = process.env.CALLGUARD_BIN ?? path.join(root, 'target/release/callguard');
const shots = path.join(root, 'target/e2e');
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
const base = await server.url;
const ledgerDir = mkdtempSync(path.join(tmpdir(), 'callguard-e2e-ledger-'));
const LEDGER_TOKEN = 'e2e-token-0123456789';
const ledgerServer = startServer(['--db', `sqlite:${path.join(ledgerDir, 'ledger.db')}`], {
  CALLGUARD_API_TOKEN: LEDGER_TOKEN,
  CALLGUARD_PHONE_KEY: 'e2e-phone-key-0123456789abcdef',
});
const ledgerBase = await ledgerServer.url;

const profile = mkdtempSync(path.join(tmpdir(), 'callguard-e2e-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 900 },
  acceptDownloads: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

/** Opens `page` and fails on any page or console error. */
async function open(name, { clock, at = base } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  if (clock) await page.clock.install({ time: new Date(clock) });
  await page.goto(`${at}/${name}`);
  await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
  page.errors = errors;
  return page;
}

async function close(page, shot) {
  if (shot) await page.screenshot({ path: path.join(shots, shot), fullPage: true });
  assert.deepEqual(page.errors, [], 'no page or console errors');
  await page.close();
}

// Expected scores from the `callguard` host on the same files, DPD 10 where a file names none.
const fixtureDir = path.join(root, 'tests/fixtures');
const fixtures = readdirSync(fixtureDir).filter((f) => /\.(json|txt|vtt|srt)$/.test(f)).sort();
// The page's DPD is a default for files that state none, so the host gets --dpd 10 only for those.
const hostScore = (file) => {
  const run = (extra) => JSON.parse(execFileSync(bin, ['score', '--pack', 'cn-company', ...extra, file], { encoding: 'utf8' }));
  const own = run([]);
  return own.dpd == null ? run(['--dpd', '10']) : own;
};
const hostScores = Object.fromEntries(fixtures.map((f) => {
  const a = hostScore(path.join(fixtureDir, f));
  return [f, { score: a.score, auto_fail: a.auto_fail }];
}));

const tests = {
  async 'assistant: the underline covers exactly the banned phrase typed after an emoji'() {
    const page = await open('index.html');
    await page.fill('#dpd', '40');
    await page.check('#verified');
    const before = '😀𠀀🇨🇳您好，';
    await page.locator('#draft').pressSequentially(`${before}你这个老赖，请安排还款。`);
    const mark = page.locator('#marks mark.flag').first();
    await mark.waitFor();
    assert.equal(await mark.textContent(), '老赖');
    const { prefix, value } = await page.evaluate(() => {
      const m = document.querySelector('#marks mark.flag');
      const range = document.createRange();
      range.setStart(document.getElementById('marks'), 0);
      range.setEndBefore(m);
      return { prefix: range.toString(), value: document.getElementById('draft').value };
    });
    assert.equal(prefix, value.slice(0, value.indexOf('老赖')), 'the marks layer holds the same text before the flag');
    assert.equal(prefix, before + '你这个');
    // The underline sits where the textarea draws the phrase: same box, same line.
    const boxes = await page.evaluate(() => {
      const m = document.querySelector('#marks mark.flag').getBoundingClientRect();
      const t = document.getElementById('draft').getBoundingClientRect();
      return { m: { x: m.x, y: m.y, w: m.width }, t: { x: t.x, y: t.y, w: t.width } };
    });
    assert.ok(boxes.m.x > boxes.t.x && boxes.m.x + boxes.m.w < boxes.t.x + boxes.t.w && boxes.m.y >= boxes.t.y, JSON.stringify(boxes));
    // Hover shows the reason, the source and the rewrite.
    await mark.hover();
    await page.locator('#tooltip .suggestion').waitFor();
    assert.match(await page.locator('#tooltip').textContent(), /侮辱/);
    await close(page, 'assistant.png');
  },

  async 'assistant: one click applies the rewrite and the flag goes away'() {
    const page = await open('index.html');
    await page.fill('#dpd', '40');
    await page.check('#verified');
    await page.fill('#draft', '你这个老赖，赶紧还钱！');
    await page.locator('#findings .card', { has: page.locator('[title="规则 abuse.label"]') }).locator('button.apply').click();
    const value = await page.inputValue('#draft');
    assert.equal(value, '你这个客户，赶紧还钱！');
    assert.equal(await page.locator('#findings .card', { has: page.locator('[title="规则 abuse.label"]') }).count(), 0);
    await page.locator('#findings .card', { has: page.locator('[title^="规则 discourtesy"]') }).locator('button.apply').click();
    assert.equal(await page.inputValue('#draft'), '你这个客户，请您安排还款！');
    assert.equal(await page.locator('#marks mark.flag').count(), 0);
    // A threat's rewrite replaces its whole clause with the lawful consequence.
    await page.fill('#draft', '张先生，你再不还，我们就去你单位找你领导。');
    await page.locator('#findings .card', { has: page.locator('[title^="规则 threat."]') }).first().locator('button.apply').click();
    const rewritten = await page.inputValue('#draft');
    assert.ok(rewritten.startsWith('张先生，逾期可能影响您的征信记录'), rewritten);
    assert.equal(await page.locator('#findings .card', { has: page.locator('[title^="规则 threat."]') }).count(), 0, rewritten);
    await close(page);
  },

  async 'assistant: changing the DPD changes the stage, the guidance and the finding'() {
    const page = await open('index.html');
    await page.selectOption('#party', 'third_party');
    await page.fill('#draft', '您好，麻烦您转告他回个电话，谢谢。');
    await page.fill('#dpd', '3');
    await page.locator('#findings .card', { has: page.locator('[title="规则 stage.third_party_contact"]') }).waitFor();
    assert.match(await page.textContent('#stage-name'), /M1.*1–5/);
    await page.fill('#dpd', '20');
    await page.waitForFunction(() => !document.querySelector('#findings [title="规则 stage.third_party_contact"]'));
    assert.match(await page.textContent('#stage-name'), /18–29/);
    await close(page);
  },

  async 'assistant: the calling clock blocks 21:30 in the debtor zone and names 08:00'() {
    const page = await open('index.html', { clock: '2026-11-22T13:30:00Z' });
    await page.fill('#offsets', '+08:00');
    await page.locator('#clock-verdict').waitFor();
    assert.match(await page.textContent('#clock-verdict'), /不可联系/);
    assert.equal(await page.textContent('#next-allowed'), '2026-11-23 08:00');
    await page.fill('#offsets', '+03:00');
    await page.waitForFunction(() => /可以联系/.test(document.getElementById('clock-verdict')?.textContent ?? ''));
    for (let i = 0; i < 3; i++) await page.click('[data-attempt=connected]');
    await page.waitForFunction(() => /不可联系/.test(document.getElementById('clock-verdict').textContent));
    assert.match(await page.textContent('#counts'), /今日接通 3 \/ 3/);
    await close(page);
  },

  async 'assistant: on a server with a ledger the clock counts every collector\'s attempts'() {
    // Another dialer has already connected twice today with debtor D-E2E.
    for (const at of ['2026-11-22T09:00:00+08:00', '2026-11-22T09:30:00+08:00']) {
      const r = await fetch(`${ledgerBase}/v1/contacts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${LEDGER_TOKEN}` },
        body: JSON.stringify({ debtor_id: 'D-E2E', at, phone: '13800138000', outcome: 'connected', collector_id: 'dialer-2' }),
      });
      assert.equal(r.status, 201);
    }
    const page = await open('index.html', { clock: '2026-11-22T02:30:00Z', at: ledgerBase });
    const asked = [];
    page.on('request', (r) => { if (r.url().endsWith('/v1/gate')) asked.push(JSON.parse(r.postData() ?? '{}')); });
    await page.locator('#ledger-fields').waitFor();
    assert.match(await page.textContent('#ledger-status'), /联系记录库/);
    await page.fill('#ledger-debtor', 'D-E2E');
    await page.fill('#ledger-phone', '138 0013 8000');
    await page.fill('#ledger-token', LEDGER_TOKEN);
    await page.press('#ledger-token', 'Tab');
    await page.waitForFunction(() => /全部记录 2 条/.test(document.getElementById('ledger-status').textContent), null, { timeout: 15_000 });
    assert.match(await page.textContent('#counts'), /今日接通 2 \/ 3 · 本号码拨打 2 \/ 6/);
    assert.match(await page.textContent('#clock-verdict'), /可以联系/);
    // The page asks under the pack it shows, sends the number for the server to hash, and no history.
    assert.ok(asked.length >= 1 && asked.every((b) => b.pack === 'cn-company' && b.debtor_id === 'D-E2E' && !('history' in b)), JSON.stringify(asked));
    // This collector's connected call goes to the ledger and uses the last slot.
    await page.click('[data-attempt=connected]');
    await page.waitForFunction(() => /全部记录 3 条/.test(document.getElementById('ledger-status').textContent), null, { timeout: 15_000 });
    assert.match(await page.textContent('#counts'), /今日接通 3 \/ 3/);
    assert.match(await page.textContent('#clock-verdict'), /不可联系/);
    const listed = await (await fetch(`${ledgerBase}/v1/contacts?debtor_id=D-E2E`, { headers: { Authorization: `Bearer ${LEDGER_TOKEN}` } })).json();
    assert.equal(listed.contacts.length, 3);
    assert.ok(listed.contacts.every((c) => c.phone_hash === listed.contacts[0].phone_hash), 'the same number, however it was typed');
    // A wrong token is a clear error in the clock, not a silent local count.
    await page.fill('#ledger-token', 'wrong');
    await page.press('#ledger-token', 'Tab');
    await page.waitForFunction(() => /API 令牌/.test(document.getElementById('clock-body').textContent), null, { timeout: 15_000 });
    // The browser logs the refused request itself; that one console line is the point here.
    page.errors = page.errors.filter((e) => !/status of 401/.test(e));
    await page.fill('#ledger-token', LEDGER_TOKEN);
    await page.press('#ledger-token', 'Tab');
    await page.waitForFunction(() => /全部记录 3 条/.test(document.getElementById('ledger-status').textContent), null, { timeout: 15_000 });
    await close(page, 'assistant-ledger.png');
  },

  async 'review: a reviewer disputes a finding and notes it; the review is kept after a reload'() {
    const file = path.join(fixtureDir, '02_abusive.txt');
    let page = await open('review.html');
    await page.fill('#reviewer', '质检员王');
    await page.setInputFiles('#files', [file]);
    await page.click('tr[data-name="02_abusive.txt"]');
    const first = page.locator('#detail .reviewed').first();
    // Each save re-renders the call; wait for it before the next step.
    const saved = async (n) => page.waitForFunction((k) => document.querySelectorAll('#review-history li').length === k, n);
    await first.locator('[data-verdict=disputed]').click();
    await saved(1);
    await first.locator('.finding-note').fill('客户自己说的，坐席在复述');
    await first.locator('[data-save-note]').click();
    await saved(2);
    await page.fill('#call-note', '整体态度生硬，需辅导');
    await page.click('#save-call-note');
    await saved(3);
    // A score without a reason is refused, in Chinese, and nothing is kept.
    await page.fill('#adjust-score', '60');
    await page.click('#save-score');
    await page.waitForFunction(() => /调整原因/.test(document.getElementById('review-status').textContent));
    await page.fill('#adjust-reason', '一处误报');
    await page.click('#save-score');
    await saved(4);
    await page.locator('#adjusted-score').waitFor();
    assert.match(await page.textContent('#review-status'), /本浏览器/);
    await page.close();
    // A new page in the same browser: the reviews come back from IndexedDB for the same file.
    page = await open('review.html');
    assert.equal(await page.inputValue('#reviewer'), '质检员王');
    await page.setInputFiles('#files', [file]);
    await page.waitForFunction(() => /误报 1/.test(document.querySelector('#calls tbody tr[data-name="02_abusive.txt"]')?.textContent ?? ''));
    await page.click('tr[data-name="02_abusive.txt"]');
    const kept = page.locator('#detail .reviewed').first();
    assert.equal(await kept.locator('[data-verdict=disputed]').getAttribute('aria-pressed'), 'true');
    assert.equal(await kept.locator('.finding-note').inputValue(), '客户自己说的，坐席在复述');
    assert.equal(await page.textContent('#adjusted-score'), '60');
    assert.match(await page.textContent('#review-history'), /质检员王/);
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const exported = JSON.parse(readFileSync(await json.path(), 'utf8'));
    assert.ok(exported[0].review.some((e) => e.kind === 'verdict' && e.value.verdict === 'disputed' && e.reviewer === '质检员王'));
    const [findings] = await Promise.all([page.waitForEvent('download'), page.click('#export-findings')]);
    const text = readFileSync(await findings.path(), 'utf8');
    assert.ok(text.split(/\r\n/).some((l) => l.includes(',误报,客户自己说的，坐席在复述,质检员王')), text);
    await page.screenshot({ path: path.join(shots, 'review-disputed.png'), fullPage: true });
    // The printed report: only the report, with the adjusted score, the verdict, the reviewer and
    // the signature block.
    await page.emulateMedia({ media: 'print' });
    const report = await page.textContent('#report');
    assert.match(report, /通话质检报告/);
    assert.match(report, /60（调整；原 \d+，原因：一处误报）/);
    assert.match(report, /误报/);
    assert.match(report, /质检员王/);
    assert.match(report, /组长签字/);
    assert.ok(await page.isVisible('#report'));
    assert.ok(!(await page.isVisible('#calls')), 'the table is not printed');
    await page.screenshot({ path: path.join(shots, 'review-print.png'), fullPage: true });
    await page.emulateMedia({ media: 'screen' });
    await close(page);
  },

  async 'review: on a server with a ledger, a second browser sees the team\'s review'() {
    const file = path.join(fixtureDir, '09_provocation.txt');
    const page = await open('review.html', { at: ledgerBase });
    await page.locator('#review-token-row').waitFor();
    await page.fill('#reviewer', '组长李');
    await page.fill('#review-token', LEDGER_TOKEN);
    await page.press('#review-token', 'Tab');
    await page.setInputFiles('#files', [file]);
    await page.click('tr[data-name="09_provocation.txt"]');
    await page.locator('#detail .reviewed [data-verdict=disputed]').first().click();
    await page.waitForFunction(() => /服务器/.test(document.getElementById('review-status').textContent));
    await close(page);
    // Another browser, another profile: nothing local, the server's store has the review.
    const otherProfile = mkdtempSync(path.join(tmpdir(), 'callguard-e2e-other-'));
    const other = await chromium.launchPersistentContext(otherProfile, {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const second = await other.newPage();
      await second.goto(`${ledgerBase}/review.html`);
      await second.waitForSelector('body[data-ready]', { timeout: 30_000 });
      await second.fill('#reviewer', '质检员赵');
      await second.fill('#review-token', LEDGER_TOKEN);
      await second.press('#review-token', 'Tab');
      await second.setInputFiles('#files', [file]);
      await second.waitForFunction(() => /误报 1/.test(document.querySelector('#calls tbody tr[data-name="09_provocation.txt"]')?.textContent ?? ''));
      await second.click('tr[data-name="09_provocation.txt"]');
      assert.match(await second.textContent('#review-history'), /组长李/);
    } finally {
      await other.close();
      rmSync(otherProfile, { recursive: true, force: true });
    }
  },

  async 'every page fits 400, 768 and 1366 px without sideways scrolling'() {
    for (const width of [400, 768, 1366]) {
      for (const [name, shot, prepare] of [
        ['index.html', 'assistant', async (page) => { await page.fill('#draft', '你这个老赖，再不还钱我们就去你单位找你领导。'); await page.locator('#findings .card').first().waitFor(); }],
        ['review.html', 'review', async (page) => { await page.setInputFiles('#files', [path.join(fixtureDir, '02_abusive.txt'), path.join(fixtureDir, '19_pressure_timing.json')]); await page.click('tr[data-name="02_abusive.txt"]'); await page.locator('#detail .turn').first().waitFor(); }],
        ['train.html', 'trainer', async () => {}],
      ]) {
        const page = await open(name);
        await page.setViewportSize({ width, height: 900 });
        await prepare(page);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${name} at ${width} px is ${overflow} px wider than the window`);
        await close(page, `${shot}-${width}.png`);
      }
    }
  },

  async 'assistant: live mode streams a sample call and appendTurn flags speech-to-text'() {
    const page = await open('index.html');
    await page.click('#play');
    await page.waitForFunction(() => Number(document.getElementById('live-errors')?.textContent) > 0, null, { timeout: 30_000 });
    assert.ok(await page.locator('#live-turns .turn.has-findings mark.flag').count() > 0);
    await page.waitForFunction(() => !document.getElementById('play').disabled, null, { timeout: 30_000 });
    await page.click('#clear-live');
    const flagged = await page.evaluate(() => {
      window.callguard.appendTurn('agent', '您好，请问是张伟先生本人吗？');
      window.callguard.appendTurn('customer', '是', { partial: true });
      window.callguard.appendTurn('customer', '是我，什么事？');
      return window.callguard.appendTurn('坐席', '你这个老赖，再不还钱就让你坐牢').map((f) => f.category);
    });
    assert.ok(flagged.includes('abusive_language') && flagged.includes('false_legal_claim'), flagged.join());
    assert.equal(await page.locator('#live-turns .turn').count(), 3, 'the partial turn was replaced');
    await close(page);
  },

  async 'review: every fixture scores as the host scores it, auto-fails first'() {
    const page = await open('review.html');
    await page.setInputFiles('#files', fixtures.map((f) => path.join(fixtureDir, f)));
    await page.waitForFunction((n) => document.getElementById('kpi-calls')?.textContent === String(n), fixtures.length);
    const rows = await page.$$eval('#calls tbody tr', (trs) => trs.map((tr) => ({ name: tr.dataset.name, score: Number(tr.cells[5].textContent), fail: tr.cells[6].textContent.includes('自动不合格') })));
    assert.equal(rows.length, fixtures.length);
    for (const r of rows) {
      assert.equal(r.score, hostScores[r.name].score, `${r.name} score`);
      assert.equal(r.fail, hostScores[r.name].auto_fail, `${r.name} auto_fail`);
    }
    const firstPass = rows.findIndex((r) => !r.fail);
    assert.ok(rows.slice(firstPass).every((r) => !r.fail), 'auto-fails first');
    for (let i = firstPass + 1; i < rows.length; i++) assert.ok(rows[i - 1].score <= rows[i].score, 'then by score');
    // One call in detail, its findings in place; then filters.
    await page.click('tr[data-name="10_third_party_roommate.json"]');
    await page.locator('#detail .turn.has-findings mark.flag').first().waitFor();
    await page.selectOption('#category', 'threat');
    // The filter filters the rows: every row left has a threat.
    const threatRows = await page.$$eval('#calls tbody tr', (trs) => trs.map((tr) => Number(tr.cells[8].textContent)));
    assert.ok(threatRows.length >= 1 && threatRows.length < fixtures.length, `${threatRows.length} calls with threats`);
    assert.ok(threatRows.every((n) => n > 0), 'only calls with a threat are listed');
    await page.selectOption('#category', '');
    // Export.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csvText = readFileSync(await csv.path(), 'utf8');
    assert.ok(csvText.startsWith('\ufeff'), 'a byte-order mark for spreadsheet programs');
    const lines = csvText.trim().split(/\r\n/);
    assert.equal(lines.length, fixtures.length + 1);
    assert.match(lines[0], /^文件,通话编号,坐席,班组,日期,得分,自动不合格/);
    assert.ok(lines.slice(1).every((l) => /,(是|否),/.test(l)), 'yes/no in Chinese');
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const cards = JSON.parse(readFileSync(await json.path(), 'utf8'));
    assert.equal(cards.length, fixtures.length);
    assert.ok(cards.every((c) => c.pack.id === 'cn-company' && typeof c.score === 'number'));
    await close(page, 'review.png');
  },

  async 'review: a mixed batch as a QA team gets it — sort, filter, per-collector view, failed files counted, both CSVs'() {
    const page = await open('review.html');
    const dir = path.join(root, 'tests/transcripts');
    const broken = path.join(tmpdir(), 'callguard-broken.txt');
    writeFileSync(broken, '这一行没有说话人标签\n');
    const batch = [
      path.join(dir, 'export_bom_crlf.txt'),
      path.join(dir, 'call_with_metadata.json'),
      path.join(dir, 'subtitles_header.srt'),
      path.join(dir, 'asr/aliyun_filetrans_stereo.json'),
      path.join(fixtureDir, '19_pressure_timing.json'),
      broken,
    ];
    await page.setInputFiles('#files', batch);
    await page.waitForFunction(() => document.getElementById('kpi-failed')?.textContent === '1');
    assert.equal(await page.textContent('#kpi-calls'), '5');
    // The failed file is listed with its reason, in Chinese.
    const failedRow = await page.textContent('#calls tbody tr[data-name="callguard-broken.txt"]');
    assert.match(failedRow, /无法评分/);
    assert.match(await page.textContent('#errors'), /没有说话人标签/);
    // The same files again are kept apart, not replacing the first ones.
    await page.setInputFiles('#files', [batch[0]]);
    await page.waitForFunction(() => document.getElementById('kpi-calls')?.textContent === '6');
    assert.equal(await page.locator('#calls tbody tr[data-name="export_bom_crlf.txt"]').count(), 2);
    // Metadata shows as columns; sorting by score puts the lowest first, then the highest.
    await page.click('#calls thead button[data-column="4"]');
    const ascending = await page.$$eval('#calls tbody tr', (trs) => trs.map((tr) => Number(tr.cells[5].textContent)).filter((n) => !Number.isNaN(n) && n > 0));
    assert.deepEqual(ascending, [...ascending].sort((a, b) => a - b));
    await page.click('#calls thead button[data-column="4"]');
    const descending = await page.$$eval('#calls tbody tr', (trs) => trs.map((tr) => Number(tr.cells[5].textContent)).filter((n) => !Number.isNaN(n) && n > 0));
    assert.deepEqual(descending, [...descending].sort((a, b) => b - a));
    assert.equal(await page.getAttribute('#calls thead th:nth-child(6)', 'aria-sort'), 'descending');
    // Per collector: A2088 (赵强) from the JSON metadata, with its call and score.
    await page.selectOption('#view', 'agent');
    const groupRows = await page.$$eval('#group-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    const zhao = groupRows.find((r) => r[0].includes('A2088'));
    assert.ok(zhao && zhao[0].includes('赵强') && zhao[1] === '1', JSON.stringify(groupRows));
    // Open the worst call from the group view by keyboard: its metadata and notes show.
    await page.selectOption('#view', 'calls');
    await page.focus('#calls tbody tr[data-name="19_pressure_timing.json"]');
    await page.keyboard.press('Enter');
    await page.locator('#detail-meta').waitFor();
    assert.match(await page.textContent('#detail-meta'), /A5107/);
    assert.match(await page.textContent('#detail'), /反复催讨|同一催款要求/);
    // Both CSVs: Chinese headers, failed files included, one line per finding.
    const [calls] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const callLines = readFileSync(await calls.path(), 'utf8').trim().split(/\r\n/);
    assert.equal(callLines.length, 7 + 1);
    assert.ok(callLines.some((l) => l.includes('无法评分：')), 'the failed file is exported with its reason');
    const [findings] = await Promise.all([page.waitForEvent('download'), page.click('#export-findings')]);
    const findingLines = readFileSync(await findings.path(), 'utf8').trim().split(/\r\n/);
    // trim() also drops the byte-order mark.
    assert.match(findingLines[0], /^文件,坐席,句序号,时间,类别,严重程度,规则,摘录,说明,复核结论,复核备注,复核人$/);
    assert.ok(findingLines.some((l) => l.includes('call.timing.silence') && l.includes('长时间静音')), findingLines.join('\n'));
    rmSync(broken, { force: true });
    await close(page, 'review-batch.png');
  },

  async 'trainer: a compliant practice ticks every objective and scores 100'() {
    const page = await open('train.html');
    await page.click('[data-scenario=roommate]');
    const replies = [
      '您好，我是金桥消费金融的客服小李，请问周斌先生在吗？',
      '好的，没关系。我们有一件私人事务需要和他本人沟通，麻烦您转告他方便时回个电话，谢谢。',
      '不好意思，具体的事情需要和他本人说，您帮忙转告就可以了。',
      '我们是金桥消费金融，他知道我们的电话。谢谢您，打扰了，再见。',
    ];
    for (const r of replies) {
      await page.fill('#reply', r);
      await page.press('#reply', 'Enter');
    }
    await page.locator('#final-score').waitFor();
    assert.equal(await page.textContent('#final-score'), '100');
    const statuses = await page.$$eval('#objectives li', (lis) => lis.map((li) => li.dataset.status));
    assert.ok(statuses.length >= 4 && statuses.every((s) => s === 'done'), statuses.join());
    await close(page);
  },

  async 'trainer: a reply is checked as it is typed, and the debrief cites the rules'() {
    const page = await open('train.html');
    await page.click('[data-scenario=nephew-loan]');
    await page.locator('#reply').pressSequentially('林国华，你的贷款逾期了');
    await page.locator('#reply-findings .card', { has: page.locator('[title^="规则 disclosure"]') }).first().waitFor();
    assert.ok(await page.locator('#reply-marks mark.flag').count() > 0);
    await page.press('#reply', 'Enter');
    for (const r of ['你这个老赖，再不还钱就起诉你，让你坐牢！', '你等着吧。']) {
      await page.fill('#reply', r);
      await page.press('#reply', 'Enter');
    }
    await page.locator('#final-score').waitFor();
    assert.ok(Number(await page.textContent('#final-score')) < 60);
    const debrief = await page.textContent('#debrief');
    // The rule's id is in a tooltip; the text is Chinese.
    assert.ok(await page.locator('#debrief [title="abuse.label"]').count() > 0, 'the rule id in a tooltip');
    assert.doesNotMatch(debrief, /abuse\.label/);
    assert.match(debrief, /依据：/);
    assert.match(debrief, /未达成的目标/);
    await close(page, 'trainer.png');
  },
};

let passed = 0;
let failed = 0;
for (const [name, run] of Object.entries(tests)) {
  try {
    await run();
    passed++;
    console.log(`test ${name} ... ok`);
  } catch (e) {
    failed++;
    console.log(`test ${name} ... FAILED\n${e.stack ?? e}`);
  }
}
await browser.close();
server.child.kill('SIGTERM');
ledgerServer.child.kill('SIGTERM');
rmSync(ledgerDir, { recursive: true, force: true });
rmSync(profile, { recursive: true, force: true });
console.log(`\ntest result: ${failed ? 'FAILED' : 'ok'}. ${passed} passed; ${failed} failed; 0 ignored; 0 measured; 0 filtered out`);
process.exit(failed ? 1 : 0);
