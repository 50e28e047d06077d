// Answers calls with the browser package under node: one JSON call per stdin line,
// `{"op": "check"|"score"|"gate"|"practice"|"packs"|"scenarios", "call": {...}}`, one answer per
// stdout line. The cross-engine test (host/tests/three_ways.rs) compares these answers with
// the native engine's and the wasmtime host's.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.env.CALLGUARD_WEB_PKG ?? path.join(here, '../../www/pkg');
const cg = await import(path.join(pkg, 'callguard.js'));
await cg.default({ module_or_path: readFileSync(path.join(pkg, 'callguard_bg.wasm')) });

const ops = {
  check: (c) => cg.checkUtterance(c),
  score: (c) => cg.scoreTranscript(c),
  gate: (c) => cg.gateContact(c),
  practice: (c) => cg.practice(c),
  packs: () => cg.packs(),
  scenarios: () => cg.scenarios(),
};

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { op, call } = JSON.parse(line);
  const run = ops[op];
  const answer = run ? run(call) : { type: 'failure', errors: [{ message: `unknown op \`${op}\``, help: '', code: 'invalid_input' }] };
  process.stdout.write(JSON.stringify(answer) + '\n');
}
