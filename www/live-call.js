// The assistant's live call: turns from speech-to-text (`callguard.appendTurn`) or the sample call,
// checked as they arrive; 结束通话 applies the whole-call checks (opening, closing, the promise,
// timing) and shows the score; the call can be saved as a JSON transcript that the review page
// opens. The call has its own DPD when it carries one; the collector's context is never changed
// behind their back, except the party on the line, which follows what the call established and
// says so.
import { engine, esc, problems, turnHtml, counterpartLabel, categoryLabel, saveFile, SEVERITY, SPEAKER, PARTY } from './common.js';

const SPEAKER_ALIASES = { 坐席: 'agent', 催收员: 'agent', 客户: 'customer', 第三方: 'third_party' };
// Judged only when the call ends: before that the closing and the promise simply have not come yet.
const END_OF_CALL = new Set(['missing_closing', 'vague_promise', 'talk_dominance', 'repeated_demand']);

/**
 * Wires the live panel. `collector()` gives the collector's context ({ pack, dpd, stageName });
 * `followParty(state)` is told who the call has established is on the line; `announce(text)`
 * speaks through the page's live region.
 */
export function liveCall({ collector, followParty, announce }) {
  const $ = (id) => document.getElementById(id);
  const call = { turns: [], findings: [], dpd: null, dpdFrom: null, startedAt: null, ended: null, playing: null };

  function dpd() {
    return call.dpd ?? collector().dpd;
  }

  function transcript() {
    return {
      ...(dpd() != null ? { dpd: dpd() } : {}),
      ...(call.startedAt ? { started_at: call.startedAt } : {}),
      source: 'callguard 话术助手 · 通话实时模式',
      turns: call.turns.map(({ speaker, text, start, end }) => ({ speaker, text, ...(start != null ? { start } : {}), ...(end != null ? { end } : {}) })),
    };
  }

  function score() {
    return engine.scoreTranscript({ pack: collector().pack, dpd: dpd(), transcript: transcript() });
  }

  /** Adds a turn; `{ partial: true }` replaces the previous partial turn of the same speaker. */
  function appendTurn(speaker, text, { partial = false, start, end } = {}) {
    const who = SPEAKER_ALIASES[speaker] ?? speaker;
    if (!['agent', 'customer', 'third_party', 'unknown'].includes(who)) {
      throw new Error(`未知的说话人 \`${speaker}\`：请用 agent、customer、third_party 或 unknown（坐席、客户、第三方） / unknown speaker`);
    }
    // A turn after 结束通话 begins the next call.
    if (call.ended) reset({ keepDpd: false });
    if (!call.startedAt) call.startedAt = new Date().toISOString();
    const last = call.turns.at(-1);
    const turn = { speaker: who, text: String(text), partial, start, end };
    if (last && last.partial && last.speaker === who) call.turns[call.turns.length - 1] = turn;
    else call.turns.push(turn);
    render();
    return call.findings.filter((f) => f.turn === call.turns.length - 1);
  }

  function render() {
    const hasTurns = call.turns.length > 0;
    $('end-call').disabled = !hasTurns || Boolean(call.ended) || Boolean(call.playing);
    $('save-call').disabled = !hasTurns || Boolean(call.playing);
    $('live-context').textContent = hasTurns ? contextLine() : '';
    if (!hasTurns) {
      $('live-turns').innerHTML = '';
      $('live-score').textContent = '';
      $('live-result').innerHTML = '';
      return;
    }
    const answer = score();
    if (answer.type !== 'success') {
      $('live-score').innerHTML = `<span class="error-box">${esc(problems(answer))}</span>`;
      return;
    }
    const before = call.findings.length;
    call.findings = call.ended ? answer.findings : answer.findings.filter((f) => f.turn != null && !END_OF_CALL.has(f.category));
    $('live-turns').innerHTML = call.turns
      .map((t, i) => turnHtml(t, i, call.findings.filter((f) => f.turn === i), `#${i + 1} ${esc(SPEAKER[t.speaker])}${t.partial ? ' · 识别中…' : ''}`))
      .join('');
    const last = answer.timeline.at(-1);
    const errors = call.findings.filter((f) => f.severity === 'error').length;
    $('live-score').innerHTML = `${counterpartLabel(last)} · 违规 <b id="live-errors">${errors}</b> 处`;
    if (last) followParty(last);
    if (call.ended) showResult(answer);
    else if (call.findings.length > before) {
      const fresh = call.findings.slice(before).map((f) => categoryLabel(f.category));
      announce(`通话第 ${call.turns.length} 句：${[...new Set(fresh)].join('、')}`);
    }
  }

  function contextLine() {
    const own = call.dpd != null && call.dpd !== collector().dpd;
    return own
      ? `本通话：逾期 ${call.dpd} 天（${call.dpdFrom}自带，按此评分；左侧情境未改动）`
      : `本通话：逾期 ${dpd() ?? '未填'} 天（按左侧情境）`;
  }

  function showResult(answer) {
    const wholeCall = answer.findings.filter((f) => f.turn == null || END_OF_CALL.has(f.category));
    const deductions = answer.deductions.map((d) => `<li>${esc(categoryLabel(d.category))} −${d.points} 分（${d.findings} 处）</li>`).join('');
    $('live-result').innerHTML = `<h3>通话结束 · 得分 <span class="score" id="live-final-score">${answer.score}</span>${answer.auto_fail ? ' · <span class="fail">自动不合格</span>' : ''}</h3>
      <p class="muted">对方：${esc(PARTY[answer.counterpart] ?? answer.counterpart)} · ${answer.identity_verified ? '已核实身份' : '未核实身份'}${answer.promise ? ` · 还款承诺${answer.promise.concrete ? '具体' : '不具体'}` : ' · 未达成还款承诺'}</p>
      ${wholeCall.length ? `<p>整通检查：</p><ul id="live-call-level">${wholeCall.map((f) => `<li><span class="badge ${f.severity}">${SEVERITY[f.severity] ?? f.severity}</span> <span title="规则 ${esc(f.rule)}">${esc(categoryLabel(f.category))}</span>：${esc(f.message)}</li>`).join('')}</ul>` : '<p id="live-call-level">整通检查（开场白、结束语、还款承诺、时长）均通过。</p>'}
      ${deductions ? `<p>扣分：</p><ul>${deductions}</ul>` : ''}`;
    announce(`通话结束，得分 ${answer.score}${answer.auto_fail ? '，自动不合格' : ''}`);
  }

  function end() {
    if (!call.turns.length || call.ended) return;
    stopPlaying();
    // An interim result still showing at the end is what was said.
    for (const t of call.turns) t.partial = false;
    call.ended = new Date().toISOString();
    render();
    $('live-result').focus();
  }

  function save() {
    if (!call.turns.length) return;
    const stamp = (call.startedAt ?? new Date().toISOString()).replace(/[-:]/g, '').slice(0, 13).replace('T', '-');
    saveFile(`通话-${stamp}.json`, 'application/json', JSON.stringify(transcript(), null, 2) + '\n');
  }

  function reset({ keepDpd = false } = {}) {
    stopPlaying();
    call.turns = [];
    call.findings = [];
    call.ended = null;
    call.startedAt = null;
    if (!keepDpd) {
      call.dpd = null;
      call.dpdFrom = null;
    }
    render();
  }

  function stopPlaying() {
    if (!call.playing) return;
    clearInterval(call.playing);
    call.playing = null;
    $('play').disabled = false;
  }

  async function playSample() {
    if (call.playing) return;
    const response = await fetch('samples/live-sample.json');
    if (!response.ok) throw new Error(`无法载入示例通话：HTTP ${response.status}`);
    const sample = await response.json();
    reset();
    // The sample is a recorded call of its own DPD: it is scored with it and says so, and the
    // collector's own DPD stays as they set it.
    if (sample.dpd != null) {
      call.dpd = sample.dpd;
      call.dpdFrom = '示例通话';
    }
    $('play').disabled = true;
    let i = 0;
    call.playing = setInterval(() => {
      const turn = sample.turns[i++];
      if (!turn) {
        stopPlaying();
        render();
        return;
      }
      appendTurn(turn.speaker, turn.text, { start: turn.start, end: turn.end });
    }, 500);
    render();
  }

  $('play').addEventListener('click', () => playSample().catch((e) => { $('live-score').textContent = e.message; }));
  $('end-call').addEventListener('click', end);
  $('save-call').addEventListener('click', save);
  $('clear-live').addEventListener('click', () => reset());
  render();
  return { appendTurn, endCall: end, transcript, rescore: render };
}
