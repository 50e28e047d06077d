// The script assistant (index.html): the draft and its marks, rewrites, stage guidance, the
// calling clock (alone and on a ledger) and the live call.
import path from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { open, close, accessible, ledgerBase, LEDGER_TOKEN, hostScores } from './harness.mjs';

export default {
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

  async 'assistant: the live call plays to its end with a score, saves as JSON and opens in the review page'() {
    const page = await open('index.html');
    await page.fill('#dpd', '20');
    await page.waitForFunction(() => /18–29/.test(document.getElementById('stage-name').textContent));
    assert.equal(await page.inputValue('#party'), 'debtor');
    await page.click('#play');
    await page.waitForFunction(() => Number(document.getElementById('live-errors')?.textContent) > 0, null, { timeout: 30_000 });
    assert.ok(await page.locator('#live-turns .turn.has-findings mark.flag').count() > 0);
    await page.waitForFunction(() => !document.getElementById('play').disabled, null, { timeout: 30_000 });
    // The sample is scored with its own DPD and says so; the collector's DPD and stage stay.
    assert.equal(await page.inputValue('#dpd'), '20');
    assert.match(await page.textContent('#stage-name'), /18–29/);
    assert.match(await page.textContent('#live-context'), /逾期 10 天.*示例通话/);
    // The party selector follows the call: a roommate answered.
    assert.equal(await page.inputValue('#party'), 'third_party');
    assert.match(await page.textContent('#party-note'), /第三方/);
    // 结束通话: the whole-call checks and the score, as the host scores the same call.
    await page.click('#end-call');
    await page.locator('#live-final-score').waitFor();
    const score = Number(await page.textContent('#live-final-score'));
    assert.equal(score, hostScores['10_third_party_roommate.json'].score);
    assert.ok(await page.isDisabled('#end-call'));
    await accessible(page, 'after 结束通话');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-call')]);
    assert.match(download.suggestedFilename(), /^通话-\d{8}-\d{4}\.json$/);
    const saved = path.join(tmpdir(), `callguard-live-${process.pid}.json`);
    await download.saveAs(saved);
    const call = JSON.parse(readFileSync(saved, 'utf8'));
    assert.equal(call.dpd, 10);
    assert.ok(call.turns.length > 5 && call.turns.every((t) => t.speaker && t.text));
    await close(page, 'assistant-live-ended.png');
    // The saved call opens in the review page with the same score.
    const review = await open('review.html');
    await review.setInputFiles('#files', [saved]);
    const row = review.locator(`#calls tbody tr[data-name="${path.basename(saved)}"]`);
    await row.waitFor();
    assert.equal(Number(await row.locator('td').nth(5).textContent()), score);
    rmSync(saved, { force: true });
    await close(review);
  },

  async 'assistant: appendTurn takes speech-to-text with partial results and Chinese speaker labels'() {
    const page = await open('index.html');
    const flagged = await page.evaluate(() => {
      window.callguard.appendTurn('agent', '您好，请问是张伟先生本人吗？');
      window.callguard.appendTurn('customer', '是', { partial: true });
      window.callguard.appendTurn('customer', '是我，什么事？');
      return window.callguard.appendTurn('坐席', '你这个老赖，再不还钱就让你坐牢').map((f) => f.category);
    });
    assert.ok(flagged.includes('abusive_language') && flagged.includes('false_legal_claim'), flagged.join());
    assert.equal(await page.locator('#live-turns .turn').count(), 3, 'the partial turn was replaced');
    // New findings are announced to screen readers through the polite live region.
    await page.waitForFunction(() => /侮辱谩骂/.test(document.getElementById('announce').textContent));
    assert.equal(await page.getAttribute('#announce', 'aria-live'), 'polite');
    const refused = await page.evaluate(() => { try { window.callguard.appendTurn('robot', 'x'); return ''; } catch (e) { return e.message; } });
    assert.match(refused, /未知的说话人 `robot`/);
    await close(page);
  },

  async 'assistant: a rewrite keeps the caret where it was and Ctrl+Z undoes it'() {
    const page = await open('index.html');
    await page.fill('#dpd', '40');
    await page.check('#verified');
    const original = '你这个老赖，请您安排还款。谢谢。';
    await page.fill('#draft', original);
    // The caret after 安排 (after the flagged word): it moves with the text around it.
    const caret = original.indexOf('还款');
    await page.evaluate((at) => document.getElementById('draft').setSelectionRange(at, at), caret);
    await page.locator('#findings .card', { has: page.locator('[title="规则 abuse.label"]') }).locator('button.apply').click();
    const value = await page.inputValue('#draft');
    assert.equal(value, '你这个客户，请您安排还款。谢谢。');
    const at = await page.evaluate(() => [document.getElementById('draft').selectionStart, document.getElementById('draft').selectionEnd]);
    assert.deepEqual(at, [value.indexOf('还款'), value.indexOf('还款')]);
    await page.keyboard.press('Control+z');
    assert.equal(await page.inputValue('#draft'), original, 'Ctrl+Z undoes the rewrite');
    await page.locator('#findings .card', { has: page.locator('[title="规则 abuse.label"]') }).waitFor();
    await close(page);
  },

  async 'assistant: the stage table shows the rule in force and marks the company\'s looser wording as overridden'() {
    const page = await open('index.html');
    await page.fill('#dpd', '20');
    await page.waitForFunction(() => /18–29/.test(document.getElementById('stage-name').textContent));
    const badge = await page.textContent('#guidance-body p:has(.badge)');
    assert.match(badge, /仅在联系不上客户时/);
    const row = page.locator('#guidance-body tr.selected');
    assert.match(await row.textContent(), /M1-3.*仅在联系不上客户时/);
    assert.match(await row.locator('.overridden').textContent(), /爽约/);
    assert.match(await row.textContent(), /按.*执行/);
    await close(page);
  },

};
