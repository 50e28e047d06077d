// The trainer (train.html): scenarios practised to the end, checked as typed, and the debrief.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { open, close, shots } from './harness.mjs';

export default {
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
    // Turns are named as the trainee's replies, each once.
    assert.match(debrief, /你的第 2 句回复/);
    assert.doesNotMatch(debrief, /第 (\d+)、\1 /);
    await close(page, 'trainer.png');
  },

  async 'trainer: the customer answers what was asked, and the debrief carries the trainee and the date, printed or saved'() {
    const page = await open('train.html');
    await page.fill('#trainee', '学员张三');
    await page.press('#trainee', 'Tab');
    await page.click('[data-scenario=unemployed]');
    await page.fill('#reply', '您好，这里是金桥消费金融，我是客服小周。请问是陈志强先生本人吗？麻烦您报一下身份证后四位，核实一下身份。');
    await page.press('#reply', 'Enter');
    assert.match(await page.locator('#turns .turn').last().textContent(), /0312/);
    assert.match(await page.locator('#turns .turn.agent .who').first().textContent(), /你的第 1 句回复/);
    for (const r of [
      '陈先生您好，您的贷款已经逾期45天了，今天来电是想了解一下您的情况。',
      '我理解您现在的难处，失业确实不容易。您可以先还一部分，也可以按公司流程提交分期申请，审核结果以公司通知为准。',
      '可以申请的，我把申请方式发短信给您。您看这几天能先还多少、哪天几点前方便？',
      '好的，后天中午12点前先还500元，我给您记录下来。感谢您的配合，再见。',
    ]) {
      await page.fill('#reply', r);
      await page.press('#reply', 'Enter');
    }
    await page.locator('#final-score').waitFor();
    // The digits come after the customer's 是我, so the identity counts as verified: nothing lost.
    assert.equal(await page.textContent('#final-score'), '100', await page.textContent('#debrief'));
    const who = await page.textContent('#debrief-who');
    assert.match(who, /学员张三/);
    assert.match(who, /\d{4}\/\d{2}\/\d{2}/);
    const [saved] = await Promise.all([page.waitForEvent('download'), page.click('#save-debrief')]);
    assert.match(saved.suggestedFilename(), /^培训复盘-学员张三-unemployed-\d{4}-\d{2}-\d{2}\.html$/);
    const html = readFileSync(await saved.path(), 'utf8');
    assert.match(html, /学员张三/);
    assert.match(html, /得分/);
    assert.doesNotMatch(html, /重新练习/);
    await page.emulateMedia({ media: 'print' });
    assert.ok(await page.isVisible('#debrief'));
    assert.ok(!(await page.isVisible('#scenarios')), 'only the debrief is printed');
    await page.screenshot({ path: path.join(shots, 'trainer-print.png'), fullPage: true });
    await page.emulateMedia({ media: 'screen' });
    await close(page, 'trainer-debrief.png');
  },
};
