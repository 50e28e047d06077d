// 培训练习: pick a scenario, reply to the scripted customer, see each reply checked as it is
// typed, objectives tick off, and at the end a score and a debrief citing every rule behind a
// deduction. The practice is replayed from all replies each time (the engine is stateless).
import { engine, loadEngine, nav, esc, markSpans, findingCard, categoryLabel, SPEAKER, problems, turnHtml } from './common.js';

const $ = (id) => document.getElementById(id);
$('nav').innerHTML = nav('train.html');
await loadEngine();
const list = engine.scenarios();
if (list.type !== 'success') throw new Error(problems(list));
const STATUS = { done: '已完成', pending: '进行中', missed: '未达成' };
const state = { scenario: null, replies: [], answer: null };

$('scenarios').innerHTML = list.scenarios
  .map((s) => `<div class="card" style="cursor:pointer" data-scenario="${esc(s.id)}" tabindex="0">
      <b>${esc(s.title)}</b><div class="muted">${esc(s.summary)}</div>
      <div><span class="badge">${esc(s.stage ?? '')} · 逾期 ${s.dpd} 天</span> <span class="badge">${s.counterpart === 'third_party' ? '第三方接听' : '客户本人'}</span></div>
    </div>`)
  .join('');

function start(id) {
  state.scenario = list.scenarios.find((s) => s.id === id);
  state.replies = [];
  $('title').innerHTML = `${esc(state.scenario.title)} <small class="muted">${esc(state.scenario.pack)} · 逾期 ${state.scenario.dpd} 天</small>`;
  $('persona').innerHTML = `<b>人物：</b>${esc(state.scenario.persona)}<br><span class="muted">依据：${state.scenario.sources.map(esc).join('；')}</span>`;
  $('debrief').hidden = true;
  $('composer').hidden = false;
  $('reply').value = '';
  for (const card of document.querySelectorAll('[data-scenario]')) card.classList.toggle('active', card.dataset.scenario === id);
  step();
  $('reply').focus();
}

/** Replays every reply so far and renders the call, the objectives and, at the end, the debrief. */
function step() {
  const answer = engine.practice({ scenario: state.scenario.id, replies: state.replies });
  if (answer.type !== 'success') {
    $('progress').innerHTML = `<span class="error-box">${esc(problems(answer))}</span>`;
    return;
  }
  state.answer = answer;
  const findingsByTurn = (i) => answer.scorecard.findings.filter((f) => f.turn === i && f.utf16_end > f.utf16_start);
  $('turns').innerHTML = answer.turns
    .map((t, i) => {
      const fs = t.speaker === 'agent' ? findingsByTurn(i) : [];
      return turnHtml(t, i, fs, t.speaker === 'agent' ? '你（坐席）' : esc(SPEAKER[t.speaker]));
    })
    .join('');
  $('objectives').innerHTML = answer.objectives
    .map((o) => `<li class="${o.status}" data-objective="${esc(o.id)}" data-status="${o.status}">${esc(o.label)} <span class="badge ${o.status === 'done' ? 'ok' : o.status === 'missed' ? 'error' : ''}">${STATUS[o.status]}</span>${o.reason ? `<div class="muted">${esc(o.reason)}</div>` : ''}</li>`)
    .join('');
  $('score-panel').hidden = false;
  $('running-score').innerHTML = `${answer.scorecard.score}${answer.scorecard.auto_fail ? ' · <span class="fail">自动不合格</span>' : ''}`;
  $('progress').textContent = answer.finished ? '通话已结束' : `第 ${state.replies.length + 1} 句 / 最多 ${state.scenario.max_replies} 句`;
  $('composer').hidden = answer.finished;
  if (answer.finished) debrief(answer);
  liveCheck();
}

function debrief(answer) {
  const d = answer.debrief;
  const deductions = d.deductions
    .map((x) => `<div class="card error"><div class="card-head"><b>${esc(categoryLabel(x.category))}</b> −${x.points} 分</div>
      ${x.rules.map((r) => `<p title="${esc(r.rule)}">${esc(r.message)}<br><span class="muted">第 ${r.turns.join('、')} 句${r.excerpts.filter(Boolean).length ? `：“${r.excerpts.filter(Boolean).map(esc).join('”“')}”` : ''}</span>
        ${r.suggestion ? `<br>建议：<q>${esc(r.suggestion)}</q>` : ''}<br><span class="muted">依据：${r.sources.map(esc).join('；')}</span></p>`).join('')}
    </div>`)
    .join('');
  const missed = d.missed.map((m) => `<li><b>${esc(m.label)}</b>：${esc(m.hint)}</li>`).join('');
  $('debrief').hidden = false;
  $('debrief').innerHTML = `<h2>复盘</h2>
    <p class="score">得分 <span id="final-score">${d.score}</span>${d.auto_fail ? ' · <span class="fail">自动不合格</span>' : ''}</p>
    ${deductions || '<p class="badge ok">没有扣分，做得很好！</p>'}
    ${missed ? `<h2>未达成的目标</h2><ul>${missed}</ul>` : '<p>全部目标已达成。</p>'}
    <button type="button" id="restart">重新练习</button>`;
  $('restart').addEventListener('click', () => start(state.scenario.id));
}

/** Checks the reply being typed in the call's current state (who is on the line, verified…). */
function liveCheck() {
  const text = $('reply').value;
  const last = state.answer?.scorecard.timeline.at(-1);
  const answer = engine.checkUtterance({
    pack: state.scenario.pack,
    text,
    context: {
      dpd: state.scenario.dpd,
      party: last?.party ?? 'unknown',
      identity_verified: last?.identity_verified ?? false,
      third_party_informed: last?.third_party_informed ?? false,
      vulnerable: last?.vulnerable ?? false,
    },
  });
  const fs = answer.type === 'success' ? answer.findings : [];
  $('reply-marks').innerHTML = markSpans(text, fs) + '\n';
  $('reply-findings').innerHTML = fs.map((f) => findingCard(f)).join('');
}

function send() {
  const text = $('reply').value.trim();
  if (!text || state.answer?.finished) return;
  state.replies.push(text);
  $('reply').value = '';
  step();
}

$('scenarios').addEventListener('click', (e) => {
  const card = e.target.closest('[data-scenario]');
  if (card) start(card.dataset.scenario);
});
$('scenarios').addEventListener('keydown', (e) => {
  const card = e.target.closest('[data-scenario]');
  if (card && e.key === 'Enter') start(card.dataset.scenario);
});
$('reply').addEventListener('input', liveCheck);
$('reply').addEventListener('scroll', () => { $('reply-marks').scrollTop = $('reply').scrollTop; });
$('reply').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});
$('send').addEventListener('click', send);

window.callguardTrainer = { start, send: (text) => { $('reply').value = text; send(); } };
document.body.dataset.ready = 'true';
