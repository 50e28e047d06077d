// Keyboard-only walkthroughs: Tab, Enter and typing alone, as a QA reviewer or a trainee without a
// mouse works. Each step moves focus with Tab until the control it needs has it, so a control
// that Tab never reaches fails the test.
import path from 'node:path';
import assert from 'node:assert/strict';
import { open, close, accessible, fixtureDir } from './harness.mjs';

/** Presses Tab until the focused element matches `selector`; fails after `max` presses. */
async function tabTo(page, selector, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  assert.fail(`Tab never reached ${selector} in ${max} presses (focus is on ${at})`);
}

/** The focused element shows a visible outline. */
async function focusVisible(page) {
  const outline = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { style: s.outlineStyle, width: Number.parseFloat(s.outlineWidth) };
  });
  assert.ok(outline.style !== 'none' && outline.width >= 1, `focus outline ${JSON.stringify(outline)}`);
}

export default {
  async 'keyboard: review — upload a transcript, open a call, dispute a finding'() {
    const page = await open('review.html');
    // The reviewer's name comes first: every verdict records who gave it.
    await tabTo(page, '#reviewer');
    await page.keyboard.type('质检员孙');
    await page.keyboard.press('Shift+Tab');
    await tabTo(page, '#pick-files');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    await chooser.setFiles([path.join(fixtureDir, '02_abusive.txt')]);
    await tabTo(page, 'tr[data-name="02_abusive.txt"]');
    await focusVisible(page);
    await page.keyboard.press('Enter');
    await page.locator('#detail .turn').first().waitFor();
    await tabTo(page, '#detail .reviewed [data-verdict=disputed]');
    await focusVisible(page);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#detail .reviewed [data-verdict=disputed]')?.getAttribute('aria-pressed') === 'true');
    await accessible(page, 'a call open with a disputed finding');
    await close(page, 'keyboard-review.png');
  },

  async 'keyboard: assistant — type a draft, apply the rewrite, import a contact history'() {
    const page = await open('index.html');
    await tabTo(page, '#draft');
    await page.keyboard.type('你这个老赖，请安排还款。');
    await page.locator('#findings button.apply').first().waitFor();
    await tabTo(page, '#findings button.apply');
    await focusVisible(page);
    await page.keyboard.press('Enter');
    assert.equal(await page.inputValue('#draft'), '你这个客户，请安排还款。');
    await tabTo(page, '#history-import');
    // An attempt made just now by the page's clock (an earlier test may have installed a fake one).
    const now = await page.evaluate(() => new Date().toISOString());
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    await chooser.setFiles({ name: 'history.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify([{ at: now, outcome: 'connected' }])) });
    await page.waitForFunction(() => /今日接通 1/.test(document.getElementById('counts').textContent));
    await close(page);
  },

  async 'keyboard: trainer — choose a scenario, reply, finish and reach the debrief\'s buttons'() {
    const page = await open('train.html');
    await tabTo(page, '[data-scenario=roommate]');
    await focusVisible(page);
    await page.keyboard.press('Enter');
    // Starting a scenario puts the caret in the reply box.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'reply');
    for (const r of [
      '您好，我是金桥消费金融的客服小李，请问周斌先生在吗？',
      '好的，没关系。我们有一件私人事务需要和他本人沟通，麻烦您转告他方便时回个电话，谢谢。',
      '不好意思，具体的事情需要和他本人说，您帮忙转告就可以了。',
      '我们是金桥消费金融，他知道我们的电话。谢谢您，打扰了，再见。',
    ]) {
      await page.keyboard.type(r);
      await page.keyboard.press('Enter');
    }
    await page.locator('#final-score').waitFor();
    await tabTo(page, '#print-debrief');
    await focusVisible(page);
    await accessible(page, 'the debrief');
    await close(page);
  },
};
