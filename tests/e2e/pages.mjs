// End-to-end tests of the three pages in Debian's Chromium (playwright-core), served by the real
// `callguard serve` on 127.0.0.1 (harness.mjs). Any page error, console error or serious axe-core
// violation fails a test. Screenshots go to target/e2e/. Prints cargo-style result lines so CI
// counts these tests too.
//
//   node tests/e2e/pages.mjs [name filter]   (CALLGUARD_BIN, CHROMIUM override the defaults)
import { shutdown } from './harness.mjs';
import assistant from './assistant.mjs';
import review from './review.mjs';
import trainer from './trainer.mjs';
import layout from './layout.mjs';
import keyboard from './keyboard.mjs';

const tests = { ...assistant, ...review, ...trainer, ...layout, ...keyboard };
const only = process.argv[2];

let passed = 0;
let failed = 0;
for (const [name, run] of Object.entries(tests)) {
  if (only && !name.includes(only)) continue;
  try {
    await run();
    passed++;
    console.log(`test ${name} ... ok`);
  } catch (e) {
    failed++;
    console.log(`test ${name} ... FAILED\n${e.stack ?? e}`);
  }
}
await shutdown();
console.log(`\ntest result: ${failed ? 'FAILED' : 'ok'}. ${passed} passed; ${failed} failed; 0 ignored; 0 measured; 0 filtered out`);
process.exit(failed ? 1 : 0);
