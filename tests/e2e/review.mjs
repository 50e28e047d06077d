// The QA review page (review.html): scoring a batch as the host scores it, sorting, filtering,
// the per-collector view, reviews kept in the browser and on the server, exports and the print view.
import path from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { chromium, chromiumOptions, open, close, root, shots, ledgerBase, LEDGER_TOKEN, fixtureDir, fixtures, hostScores } from './harness.mjs';

export default {
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
    const other = await chromium.launchPersistentContext(otherProfile, chromiumOptions);
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
};
