// 培训练习: pick a scenario, reply to the scripted customer, see each reply checked as it is
// typed, objectives tick off, and at the end a score and a debrief citing every rule behind a
// deduction. The practice is replayed from all replies each time (the engine is stateless).
import { engine, loadEngine, nav, esc, markSpans, findingCard, categoryLabel, saveFile, SPEAKER, problems, turnHtml } from './common.js';

const $ = (id) => document.getElementById(id);
$('nav').innerHTML = nav('train.html');
await loadEngine();
const list = engine.scenarios();
if (list.type !== 'success') throw new Error(problems(list));
const STATUS = { done: '已完成', pending: '进行中', missed: '未达成' };
const state = { scenario: null, replies: [], answer: null };
// The trainee's name goes on the debrief; this browser remembers it.
$('trainee').value = localStorage.getItem('callguard.trainee') ?? '';
$('trainee').addEventListener('change', () => localStorage.setItem('callguard.trainee', $('trainee').value.trim()));

$('scenarios').innerHTML = list.scenarios
  .map((s) => `<div class="card" style="cursor:pointer" data-scenario="${esc(s.id)}" tabindex="0" role="button" aria-pressed="false">
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
  for (const card of document.querySelectorAll('[data-scenario]')) {
    card.classList.toggle('active', card.dataset.scenario === id);
    card.setAttribute('aria-pressed', String(card.dataset.scenario === id));
  }
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
  const replyNo = replyNumbers(answer.turns);
  $('turns').innerHTML = answer.turns
    .map((t, i) => {
      const fs = t.speaker === 'agent' ? findingsByTurn(i) : [];
      return turnHtml(t, i, fs, t.speaker === 'agent' ? `你的第 ${replyNo[i]} 句回复` : esc(SPEAKER[t.speaker]));
    })
    .join('');
  $('objectives').innerHTML = answer.objectives
    .map((o) => `<li class="${o.status}" data-objective="${esc(o.id)}" data-status="${o.status}">${esc(o.label)} <span class="badge ${o.status === 'done' ? 'ok' : o.status === 'missed' ? 'error' : ''}">${STATUS[o.status]}</span>${o.reason ? `<div class="muted">${esc(o.reason)}</div>` : ''}</li>`)
    .join('');
  $('score-panel').hidden = false;
  $('running-score').innerHTML = `${answer.scorecard.score}${answer.scorecard.auto_fail ? ' · <span class="fail">自动不合格</span>' : ''}`;
  $('progress').textContent = answer.finished ? '通话已结束' : `你的第 ${state.replies.length + 1} 句回复 / 最多 ${state.scenario.max_replies} 句`;
  $('composer').hidden = answer.finished;
  if (answer.finished) debrief(answer);
  liveCheck();
}

/** For each turn of the practice, the trainee's reply number (1, 2, …) where the turn is a reply. */
function replyNumbers(turns) {
  let n = 0;
  return turns.map((t) => (t.speaker === 'agent' ? ++n : null));
}

/** "你的第 1、3 句回复" for the turns a rule was found in (a turn found twice is named once). */
function repliesNamed(turnIndexes, replyNo) {
  const numbers = [...new Set(turnIndexes.map((i) => replyNo[i]).filter((n) => n != null))].sort((a, b) => a - b);
  return numbers.length ? `你的第 ${numbers.join('、')} 句回复` : '整通通话';
}

function debrief(answer) {
  const d = answer.debrief;
  const replyNo = replyNumbers(answer.turns);
  const trainee = $('trainee').value.trim();
  const date = new Date().toLocaleString('zh-CN', { hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  const deductions = d.deductions
    .map((x) => `<div class="card error"><div class="card-head"><b>${esc(categoryLabel(x.category))}</b> −${x.points} 分</div>
      ${x.rules.map((r) => `<p title="${esc(r.rule)}">${esc(r.message)}<br><span class="muted">${repliesNamed(r.turns, replyNo)}${r.excerpts.filter(Boolean).length ? `：“${r.excerpts.filter(Boolean).map(esc).join('”“')}”` : ''}</span>
        ${r.suggestion ? `<br>建议：<q>${esc(r.suggestion)}</q>` : ''}<br><span class="muted">依据：${r.sources.map(esc).join('；')}</span></p>`).join('')}
    </div>`)
    .join('');
  const missed = d.missed.map((m) => `<li><b>${esc(m.label)}</b>：${esc(m.hint)}</li>`).join('');
  $('debrief').hidden = false;
  $('debrief').innerHTML = `<h2>复盘 · ${esc(state.scenario.title)}</h2>
    <p id="debrief-who">学员：<b>${trainee ? esc(trainee) : '（未填姓名）'}</b> · 日期：${esc(date)} · 共 ${state.replies.length} 句回复</p>
    <p class="score">得分 <span id="final-score">${d.score}</span>${d.auto_fail ? ' · <span class="fail">自动不合格</span>' : ''}</p>
    ${deductions || '<p class="badge ok">没有扣分，做得很好！</p>'}
    ${missed ? `<h2>未达成的目标</h2><ul>${missed}</ul>` : '<p>全部目标已达成。</p>'}
    <h2>通话记录</h2><ol class="debrief-turns">${answer.turns.map((t) => `<li><b>${t.speaker === 'agent' ? '学员' : esc(SPEAKER[t.speaker])}：</b>${esc(t.text)}</li>`).join('')}</ol>
    <div class="row no-print">
      <button type="button" id="restart">重新练习</button>
      <button type="button" id="print-debrief" class="secondary">打印复盘</button>
      <button type="button" id="save-debrief" class="secondary">保存复盘（HTML）</button>
    </div>`;
  $('restart').addEventListener('click', () => start(state.scenario.id));
  $('print-debrief').addEventListener('click', () => window.print());
  $('save-debrief').addEventListener('click', () => saveDebrief(trainee, date));
  $('debrief').focus();
}

/** The debrief as a standalone HTML file named after the trainee, the scenario and the day. */
function saveDebrief(trainee, date) {
  const body = $('debrief').cloneNode(true);
  body.querySelector('.no-print')?.remove();
  const page = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>培训复盘 · ${esc(state.scenario.title)}</title>
<style>body{font:15px/1.6 "Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}.card{border:1px solid #ccc;border-left:4px solid #b71c1c;border-radius:6px;padding:.4rem .7rem;margin:.5rem 0}.muted{color:#555}.fail{color:#b71c1c;font-weight:700}</style>
</head><body>${body.innerHTML}<p class="muted">由 callguard 培训练习生成 · ${esc(date)}</p></body></html>\n`;
  saveFile(`培训复盘-${trainee || '学员'}-${state.scenario.id}-${new Date().toISOString().slice(0, 10)}.html`, 'text/html', page);
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
  if (card && (e.key === 'Enter' || e.key === ' ')) {
    e.preventDefault();
    start(card.dataset.scenario);
  }
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
