// Every page at a phone's, a tablet's and a desktop's width.
import path from 'node:path';
import assert from 'node:assert/strict';
import { open, close, fixtureDir } from './harness.mjs';

export default {
  async 'every page fits 360 to 1920 px without sideways scrolling'() {
    for (const width of [360, 400, 768, 1366, 1920]) {
      for (const [name, shot, prepare] of [
        ['index.html', 'assistant', async (page) => { await page.fill('#draft', '你这个老赖，再不还钱我们就去你单位找你领导。'); await page.locator('#findings .card').first().waitFor(); }],
        ['review.html', 'review', async (page) => { await page.setInputFiles('#files', [path.join(fixtureDir, '02_abusive.txt'), path.join(fixtureDir, '19_pressure_timing.json')]); await page.click('tr[data-name="02_abusive.txt"]'); await page.locator('#detail .turn').first().waitFor(); }],
        ['train.html', 'trainer', async (page) => { await page.click('[data-scenario=roommate]'); await page.fill('#reply', '您好，我是金桥消费金融的客服小李，请问周斌先生在吗？'); await page.press('#reply', 'Enter'); await page.locator('#turns .turn').nth(2).waitFor(); }],
      ]) {
        const page = await open(name);
        await page.setViewportSize({ width, height: 900 });
        await prepare(page);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `${name} at ${width} px is ${overflow} px wider than the window`);
        // The first screen, as the user sees it at this width.
        await page.evaluate(() => window.scrollTo(0, 0));
        await close(page, `${shot}-${width}.png`, { where: `at ${width} px`, fullPage: false });
      }
    }
  },
};
