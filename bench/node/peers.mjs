// callguard's browser package under node, side by side with what teams use today for the
// banned-phrase part of the job, on the same texts and the same phrase list
// (bench/workloads/phrases.txt, exported from the default pack):
//   mint-filter (Aho-Corasick sensitive-word filter), textlint + textlint-rule-prh (a
//   dictionary linter), and a plain RegExp alternation.
// The peers only find phrases. callguard also normalizes (Traditional, width, case, characters
// slipped between), maps spans back to the original, applies negation and context rules, and
// runs patterns and the PII detectors. Prints JSON: median ns per call and hits per tool.
//
//   node bench/node/peers.mjs     (needs www/pkg and tools/node_modules: `cargo xtask setup build`)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'tools/package.json'));
const MintModule = require('mint-filter');
const Mint = MintModule.default ?? MintModule.Mint ?? MintModule;
const { TextlintKernel } = require('@textlint/kernel');
const textPluginModule = require('@textlint/textlint-plugin-text');
const prhModule = require('textlint-rule-prh');
const cg = await import(path.join(root, 'www/pkg/callguard.js'));
await cg.default({ module_or_path: readFileSync(path.join(root, 'www/pkg/callguard_bg.wasm')) });

const phrases = readFileSync(path.join(root, 'bench/workloads/phrases.txt'), 'utf8').split('\n').filter(Boolean);
const texts = {
  short: readFileSync(path.join(root, 'bench/workloads/short.txt'), 'utf8'),
  long_draft: readFileSync(path.join(root, 'bench/workloads/long-draft.txt'), 'utf8'),
};

const mint = new Mint(phrases);
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Longest first, so the alternation prefers the longer of two overlapping phrases.
const regexp = new RegExp([...phrases].sort((a, b) => b.length - a.length).map(escape).join('|'), 'g');
const kernel = new TextlintKernel();
const prhYaml = 'version: 1\nrules:\n' + phrases.map((p) => `  - expected: "〔禁用〕"\n    pattern: ${JSON.stringify(p)}\n`).join('');
const textlintOptions = {
  filePath: '/draft.txt',
  ext: '.txt',
  plugins: [{ pluginId: 'text', plugin: textPluginModule.default ?? textPluginModule }],
  rules: [{ ruleId: 'prh', rule: prhModule.default ?? prhModule, options: { ruleContents: [prhYaml] } }],
};
const context = { dpd: 40, party: 'debtor', identity_verified: true };

const tools = {
  callguard: (text) => cg.checkUtterance({ text, context }).findings.length,
  'mint-filter': (text) => mint.filter(text, { replace: false }).words.length,
  RegExp: (text) => [...text.matchAll(regexp)].length,
  'textlint+prh': async (text) => (await kernel.lintText(text, textlintOptions)).messages.length,
};

/** Calls `fn` once; awaits only what is a promise (textlint), so the synchronous tools do not
 *  pay for a trip through the microtask queue on every call. */
async function once(fn, text) {
  const r = fn(text);
  return r instanceof Promise ? await r : r;
}

/** Time samples (ns) of `fn` for about `ms` milliseconds, at least 3 of them. */
async function sample(fn, text, ms, times) {
  const until = performance.now() + ms;
  let n = 0;
  while (performance.now() < until || n < 3) {
    const t0 = process.hrtime.bigint();
    await once(fn, text);
    times.push(Number(process.hrtime.bigint() - t0));
    n++;
  }
}

const median = (times) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];

// The machine is shared and its speed drifts: the tools take turns in ten rounds, so every
// tool is measured across the same stretch of time and the ratios compare like with like.
const ms = Number(process.env.CALLGUARD_BENCH_MS ?? 2000);
const ROUNDS = 10;
const results = {};
for (const [workload, text] of Object.entries(texts)) {
  results[workload] = { chars: text.length, bytes: Buffer.byteLength(text) };
  const times = {};
  for (const [tool, fn] of Object.entries(tools)) {
    for (let i = 0; i < 10; i++) await once(fn, text);
    times[tool] = [];
    results[workload][tool] = { hits: await once(fn, text) };
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [tool, fn] of Object.entries(tools)) await sample(fn, text, ms / ROUNDS, times[tool]);
  }
  for (const tool of Object.keys(tools)) {
    Object.assign(results[workload][tool], { median_ns: median(times[tool]), runs: times[tool].length });
  }
}
console.log(JSON.stringify({ node: process.version, phrases: phrases.length, results }, null, 2));
