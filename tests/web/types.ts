// Type-checked (never run) by `cargo xtask test`: `tsc --noEmit --strict` over this file and the
// generated www/pkg/callguard.d.ts. It uses every function and answer type the way a page does,
// so a hand-kept type that no longer fits the package's functions fails the build.
import init, {
  checkUtterance, scoreTranscript, parseTranscript, gateContact, packs, loadPack, scenarios, practice, selfTest,
} from '../../www/pkg/callguard.js';
import type { Answer, CheckAnswer, Finding, PracticeAnswer, Scorecard } from '../../www/pkg/callguard.js';

export async function useEveryCall(): Promise<string[]> {
  await init();
  const out: string[] = [];
  const checked: Answer<CheckAnswer> = checkUtterance({ text: '你好', context: { dpd: 3, party: 'third_party', identity_verified: false } });
  if (checked.type === 'success') {
    const f: Finding | undefined = checked.findings[0];
    if (f) out.push('你好'.slice(f.utf16_start, f.utf16_end), f.category, f.severity, f.suggestion ?? '');
    out.push(checked.stage?.third_party_contact ?? 'none', checked.pack.sha256);
  } else {
    out.push(...checked.errors.map((e) => `${e.code}: ${e.message} ${e.location?.line ?? ''}`));
  }
  const scored = scoreTranscript({ content: '坐席：你好', format: 'text', dpd: 10 });
  if (scored.type === 'success') {
    const card: Scorecard = scored;
    out.push(String(card.score), String(card.auto_fail), card.timeline[0]?.party ?? '', String(card.promise?.concrete));
    out.push(...card.deductions.map((d) => `${d.category}-${d.points}`));
  }
  const parsed = parseTranscript({ content: '坐席：你好', format: 'text' });
  if (parsed.type === 'success') out.push(parsed.transcript.turns[0]?.speaker ?? '');
  const gated = gateContact({ contact: { at: '2026-11-22T20:00:00+08:00', debtor_utc_offsets: ['+08:00'], history: [{ at: '2026-11-22T10:00:00+08:00', outcome: 'unanswered' }] } });
  if (gated.type === 'success') out.push(String(gated.allowed), gated.next_allowed_at ?? '', String(gated.today.debtor_connected_limit));
  const listed = packs();
  if (listed.type === 'success') out.push(listed.default, ...listed.packs.map((p) => `${p.id}:${p.stages.length}:${p.calling.window?.start_minute}`));
  const loaded = loadPack('[pack]\nid = "x"');
  if (loaded.type === 'failure') out.push(loaded.errors[0]?.message ?? '');
  else out.push(loaded.pack.id);
  const list = scenarios();
  if (list.type === 'success') out.push(...list.scenarios.map((s) => `${s.id}:${s.objectives.map((o) => o.goal).join(',')}`));
  const p: Answer<PracticeAnswer> = practice({ scenario: 'roommate', replies: ['你好'] });
  if (p.type === 'success') {
    out.push(p.next ?? 'ended', ...p.objectives.map((o) => o.status));
    if (p.debrief) out.push(...p.debrief.deductions.flatMap((d) => d.rules.map((r) => r.sources.join(';'))));
  }
  const self = selfTest();
  if (self.type === 'success') out.push(String(self.examples));
  return out;
}
