// 话术助手: live checking of a draft, context controls, stage guidance, the calling clock and a
// live-call mode fed by speech-to-text through `callguard.appendTurn(speaker, text)`.
import {
  engine, loadEngine, nav, esc, icon, markSpans, findingCard, categoryLabel, THIRD_PARTY_POLICY, SPEAKER, problems, turnHtml, counterpartLabel,
} from './common.js';
import { detectLedger, ledgerReady, ledgerStatus, ledgerGate, ledgerRecord, ledgerCounted } from './ledger.js';

const $ = (id) => document.getElementById(id);
$('nav').innerHTML = nav('index.html');

const draft = $('draft');
const marks = $('marks');
const tooltip = $('tooltip');
const state = { findings: [], packs: null, live: [], liveFindings: [], history: loadHistory(), playing: null };

const loadMs = await loadEngine();
await detectLedger();
const packsAnswer = engine.packs();
if (packsAnswer.type !== 'success') throw new Error(problems(packsAnswer));
state.packs = packsAnswer;
$('pack').innerHTML = packsAnswer.packs
  .map((p) => `<option value="${esc(p.id)}"${p.id === packsAnswer.default ? ' selected' : ''}>${esc(p.title)}（${esc(p.id)}）</option>`)
  .join('');

function pack() {
  return $('pack').value;
}

function context() {
  const dpd = Number.parseInt($('dpd').value, 10);
  return {
    dpd: Number.isFinite(dpd) ? dpd : undefined,
    party: $('party').value,
    identity_verified: $('verified').checked,
    third_party_informed: $('informed').checked,
    vulnerable: $('vulnerable').checked,
    channel: $('channel').value,
  };
}

// ---- The draft ----------------------------------------------------------------------------
function check() {
  const text = draft.value;
  const t0 = performance.now();
  const answer = engine.checkUtterance({ pack: pack(), text, context: context() });
  const ms = performance.now() - t0;
  $('timing').textContent = `检查 ${text.length} 字用时 ${ms.toFixed(2)} ms`;
  if (answer.type !== 'success') {
    state.findings = [];
    $('summary').innerHTML = `<span class="error-box">${esc(problems(answer))}</span>`;
    renderMarks();
    renderFindings();
    return;
  }
  state.findings = answer.findings;
  const errors = answer.findings.filter((f) => f.severity === 'error').length;
  $('summary').innerHTML = answer.findings.length
    ? `<span class="badge error">${errors} 处违规</span> <span class="badge warning">${answer.findings.length - errors} 处提醒</span>`
    : text.trim() ? '<span class="badge ok">未发现问题</span>' : '请输入话术';
  renderMarks();
  renderFindings();
  renderStage(answer.stage);
}

function renderMarks() {
  // The trailing newline keeps the layer as tall as the textarea when the text ends in one.
  marks.innerHTML = markSpans(draft.value, state.findings) + '\n';
  marks.scrollTop = draft.scrollTop;
}

function renderFindings() {
  $('count').textContent = state.findings.length;
  $('findings').innerHTML = state.findings.length
    ? state.findings.map((f, i) => `<div tabindex="0" data-index="${i}" class="finding-slot">${findingCard(f, { rewrite: true, index: i })}</div>`).join('')
    : '<p class="muted">暂无问题。</p>';
}

/** Replaces a finding's span with its rewrite, then re-checks. */
function applyRewrite(i) {
  const f = state.findings[i];
  if (!f || !(f.rewrite || f.suggestion)) return;
  draft.focus();
  // The rewrite replaces the whole clause with a sentence that reads as speech; a finding
  // without one (none today) falls back to its suggestion in place of the flagged words.
  if (f.rewrite) draft.setRangeText(f.rewrite.text, f.rewrite.utf16_start, f.rewrite.utf16_end, 'end');
  else draft.setRangeText(f.suggestion, f.utf16_start, f.utf16_end, 'end');
  hideTooltip();
  check();
}

draft.addEventListener('input', check);
draft.addEventListener('scroll', () => { marks.scrollTop = draft.scrollTop; });
new ResizeObserver(() => { marks.style.height = `${draft.offsetHeight}px`; }).observe(draft);
for (const id of ['pack', 'dpd', 'party', 'verified', 'informed', 'vulnerable', 'channel']) {
  $(id).addEventListener('input', () => { check(); gate(); });
  $(id).addEventListener('change', () => { check(); gate(); });
}
document.body.addEventListener('click', (e) => {
  const apply = e.target.closest('button.apply');
  if (apply) applyRewrite(Number(apply.dataset.finding));
});

// Hovering a flag, or the caret entering one, shows its reason, sources and rewrite.
let hideTimer = 0;
function showTooltip(i, anchor) {
  const f = state.findings[i];
  if (!f || !anchor) return;
  clearTimeout(hideTimer);
  tooltip.innerHTML = findingCard(f, { rewrite: true, index: i });
  tooltip.style.display = 'block';
  const r = anchor.getBoundingClientRect();
  tooltip.style.left = `${Math.min(r.left, window.innerWidth - 380)}px`;
  tooltip.style.top = `${r.bottom + 6}px`;
  for (const slot of document.querySelectorAll('.finding-slot')) {
    slot.firstElementChild?.classList.toggle('active', slot.dataset.index === String(i));
  }
}
function hideTooltip() {
  tooltip.style.display = 'none';
}
marks.addEventListener('mouseover', (e) => {
  const m = e.target.closest('mark.flag');
  if (m) showTooltip(Number(m.dataset.finding), m);
});
marks.addEventListener('mouseout', (e) => {
  if (e.target.closest('mark.flag')) hideTimer = setTimeout(hideTooltip, 400);
});
marks.addEventListener('click', (e) => {
  const m = e.target.closest('mark.flag');
  if (!m) return;
  const f = state.findings[Number(m.dataset.finding)];
  draft.focus();
  draft.setSelectionRange(f.utf16_start, f.utf16_end);
});
tooltip.addEventListener('mouseover', () => clearTimeout(hideTimer));
tooltip.addEventListener('mouseleave', () => { hideTimer = setTimeout(hideTooltip, 300); });
function caretFlag() {
  const at = draft.selectionStart;
  const i = state.findings.findIndex((f) => at >= f.utf16_start && at <= f.utf16_end && draft.selectionEnd <= f.utf16_end);
  if (i >= 0) showTooltip(i, marks.querySelector(`mark[data-finding="${i}"]`));
  else hideTooltip();
}
draft.addEventListener('keyup', caretFlag);
draft.addEventListener('click', caretFlag);
$('findings').addEventListener('focusin', (e) => {
  const slot = e.target.closest('.finding-slot');
  if (slot) showTooltip(Number(slot.dataset.index), marks.querySelector(`mark[data-finding="${slot.dataset.index}"]`) ?? slot);
});

// ---- Stage guidance -------------------------------------------------------------------------
function renderStage(stage) {
  const p = state.packs.packs.find((x) => x.id === pack());
  const rows = (p?.stages ?? [])
    .map((s) => `<tr${stage && s.id === stage.stage ? ' class="selected"' : ''}><td>${esc(s.id)}</td><td>${s.from}–${s.to ?? '∞'} 天</td><td>${esc(THIRD_PARTY_POLICY[s.third_party_contact] ?? s.third_party_contact)}</td></tr>`)
    .join('');
  if (!stage) {
    $('stage-name').textContent = '';
    $('guidance-body').innerHTML = '输入逾期天数后显示本阶段要求。';
    return;
  }
  $('stage-name').textContent = `${stage.name || stage.stage || ''}`;
  $('guidance-body').innerHTML = `
    <p><b>${esc(stage.name || '未分阶段')}</b></p>
    <ul>${stage.guidance.map((g) => `<li>${esc(g)}</li>`).join('')}</ul>
    <p><span class="badge ${stage.third_party_contact === 'never' ? 'error' : 'warning'}">第三方</span> ${esc(THIRD_PARTY_POLICY[stage.third_party_contact])}</p>
    <details><summary>各阶段一览</summary><table><thead><tr><th>阶段</th><th>逾期</th><th>第三方</th></tr></thead><tbody>${rows}</tbody></table></details>
    <details><summary>依据</summary><ul class="sources">${stage.sources.map((s) => `<li>${esc(s)}</li>`).join('')}</ul></details>`;
}

// ---- The calling clock ----------------------------------------------------------------------
function loadHistory() {
  try {
    const saved = JSON.parse(localStorage.getItem('callguard.history') ?? '[]');
    return Array.isArray(saved) ? saved : [];
  } catch {
    return [];
  }
}
function saveHistory() {
  localStorage.setItem('callguard.history', JSON.stringify(state.history));
}
function offsets() {
  return $('offsets').value.split(/[,，\s]+/).filter(Boolean);
}
function gateContact() {
  const party = $('party').value === 'third_party' ? 'third_party' : 'debtor';
  const { dpd, channel } = context();
  return {
    at: new Date().toISOString(),
    debtor_utc_offsets: offsets(),
    party,
    phone: party === 'debtor' ? 'debtor' : 'contact',
    channel,
    dpd,
    history: state.history,
  };
}
// The clock: on the server's ledger when it has one and a debtor and token are given (a stored
// decision, so only on a change or 重新检查, never on a timer), else on the local list.
let ledgerPending;
let ledgerAsked = 0; // the latest ledger question; older answers arriving late are dropped
let ledgerDecidedAt = null;
function gate({ timer = false, now = false } = {}) {
  if (ledgerReady()) {
    // A ledger verdict is a stored decision: the timer only marks it as dated.
    if (timer) return markStale();
    // Typing a DPD asks once, when the typing stops.
    clearTimeout(ledgerPending);
    ledgerPending = setTimeout(ledgerDecide, now ? 0 : 600);
    return;
  }
  $('ledger-status').textContent = ledgerStatus();
  showGate(engine.gateContact({ pack: pack(), contact: gateContact() }));
}
async function ledgerDecide() {
  const asked = ++ledgerAsked;
  let answer;
  try {
    answer = await ledgerGate({ ...gateContact(), pack: pack() });
  } catch (err) {
    if (asked === ledgerAsked) $('clock-body').innerHTML = `<div class="error-box">联系记录库：${esc(err.message)}</div>`;
    return;
  }
  if (asked !== ledgerAsked) return;
  showGate(answer);
  ledgerDecidedAt = Date.now();
  try {
    const counted = await ledgerCounted();
    if (asked === ledgerAsked) $('ledger-status').textContent = counted;
  } catch (err) {
    if (asked === ledgerAsked) $('ledger-status').textContent = `无法读取联系记录：${err.message}`;
  }
}
// A verdict from the ledger is for the moment it was asked; after two minutes it says so.
function markStale() {
  const verdict = $('clock-verdict');
  if (!verdict || ledgerDecidedAt === null) return;
  const minutes = Math.floor((Date.now() - ledgerDecidedAt) / 60_000);
  if (minutes < 2) return;
  verdict.classList.add('stale');
  verdict.dataset.stale = `（${minutes} 分钟前的判断，拨打前请点“重新检查”）`;
  $('clock-stale').textContent = verdict.dataset.stale;
}
function showGate(answer) {
  if (answer.type !== 'success') {
    $('clock-body').innerHTML = `<div class="error-box">${esc(problems(answer))}</div>`;
    return;
  }
  const local = answer.debtor_local_times.map((t, i) => `${esc(t.slice(11, 16))}（UTC${esc(offsets()[i] ?? '')}）`).join('、');
  const next = answer.next_allowed_at ? new Date(answer.next_allowed_at) : null;
  $('clock-body').innerHTML = `
    <div class="now">客户当地 ${local}</div>
    <div class="${answer.allowed ? 'allowed' : 'blocked'}" id="clock-verdict">${answer.allowed ? `${icon('check')} 现在可以联系` : `${icon('cross')} 现在不可联系`}</div>
    <div class="muted" id="clock-stale"></div>
    ${answer.findings.map((f) => `<div class="muted">· ${esc(categoryLabel(f.category))}：${esc(f.message)}</div>`).join('')}
    ${!answer.allowed && next ? `<div>下次可联系：<b id="next-allowed">${esc(answer.next_allowed_at.replace('T', ' ').slice(0, 16))}</b>（本机时间 ${next.toLocaleString('zh-CN', { hour12: false })}）</div>` : ''}`;
  const t = answer.today;
  const of = (n, limit) => `${n}${limit != null ? ` / ${limit}` : ''}`;
  $('counts').innerHTML = `今日接通 ${of(t.debtor_connected_today, t.debtor_connected_limit)} · 本号码拨打 ${of(t.phone_attempts_today, t.phone_attempts_limit)} · 第三方 ${of(t.third_party_calls_today, t.third_party_calls_limit)}`;
}
for (const b of document.querySelectorAll('[data-attempt]')) {
  b.addEventListener('click', async () => {
    const kind = b.dataset.attempt;
    const attempt = {
      at: new Date().toISOString(),
      party: kind === 'third_party' ? 'third_party' : 'debtor',
      phone: kind === 'third_party' ? 'contact' : 'debtor',
      outcome: kind === 'unanswered' ? 'unanswered' : 'connected',
      channel: 'call',
    };
    if (ledgerReady()) {
      try {
        await ledgerRecord(attempt);
      } catch (err) {
        $('clock-body').innerHTML = `<div class="error-box">记录失败：${esc(err.message)}</div>`;
        return;
      }
    } else {
      state.history.push(attempt);
      saveHistory();
    }
    gate({ now: true });
  });
}
$('history-clear').addEventListener('click', () => { state.history = []; saveHistory(); gate(); });
$('history-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  try {
    const data = JSON.parse(await file.text());
    const list = Array.isArray(data) ? data : data.history;
    if (!Array.isArray(list)) throw new Error('需要联系记录数组，或含 history 数组的对象');
    state.history = list;
    saveHistory();
    gate();
  } catch (err) {
    $('clock-body').innerHTML = `<div class="error-box">无法导入 \`${esc(file.name)}\`：${esc(err.message)}</div>`;
  }
});
$('offsets').addEventListener('input', gate);
setInterval(() => gate({ timer: true }), 30_000);
// The debtor, number and token ask when the field is left (or Enter), not at every keystroke.
for (const id of ['ledger-debtor', 'ledger-phone', 'ledger-token']) $(id).addEventListener('change', () => gate({ now: true }));
$('ledger-refresh').addEventListener('click', () => gate({ now: true }));

// ---- Live call mode -------------------------------------------------------------------------
const SPEAKER_ALIASES = { 坐席: 'agent', 催收员: 'agent', 客户: 'customer', 第三方: 'third_party' };

/**
 * Adds a turn from speech-to-text. With `{ partial: true }` the turn replaces the previous
 * partial turn of the same speaker, so interim results update in place.
 */
function appendTurn(speaker, text, { partial = false } = {}) {
  const who = SPEAKER_ALIASES[speaker] ?? speaker;
  if (!['agent', 'customer', 'third_party', 'unknown'].includes(who)) {
    throw new Error(`unknown speaker \`${speaker}\`; use agent, customer, third_party or unknown`);
  }
  const last = state.live[state.live.length - 1];
  if (last && last.partial && last.speaker === who) {
    last.text = String(text);
    last.partial = partial;
  } else {
    state.live.push({ speaker: who, text: String(text), partial });
  }
  scoreLive();
  return state.liveFindings.filter((f) => f.turn === state.live.length - 1);
}

function scoreLive() {
  if (!state.live.length) {
    $('live-turns').innerHTML = '';
    $('live-score').textContent = '';
    return;
  }
  const answer = engine.scoreTranscript({
    pack: pack(),
    dpd: context().dpd,
    transcript: { turns: state.live.map(({ speaker, text }) => ({ speaker, text })) },
  });
  if (answer.type !== 'success') {
    $('live-score').innerHTML = `<span class="error-box">${esc(problems(answer))}</span>`;
    return;
  }
  // Whole-call requirements (closing, promise) are judged when the call ends, not mid-call.
  state.liveFindings = answer.findings.filter((f) => !['missing_closing', 'vague_promise'].includes(f.category));
  $('live-turns').innerHTML = state.live
    .map((t, i) => {
      const fs = state.liveFindings.filter((f) => f.turn === i);
      return turnHtml(t, i, fs, `${esc(SPEAKER[t.speaker])}${t.partial ? ' · 识别中…' : ''}`);
    })
    .join('');
  const last = answer.timeline[answer.timeline.length - 1];
  const errors = state.liveFindings.filter((f) => f.severity === 'error').length;
  $('live-score').innerHTML = `${counterpartLabel(last)} · 违规 <b id="live-errors">${errors}</b> 处`;
}

async function playSample() {
  if (state.playing) return;
  const response = await fetch('samples/live-sample.json');
  if (!response.ok) throw new Error(`cannot load the sample call: HTTP ${response.status}`);
  const call = await response.json();
  state.live = [];
  if (call.dpd != null) $('dpd').value = call.dpd;
  $('play').disabled = true;
  let i = 0;
  state.playing = setInterval(() => {
    const turn = call.turns[i++];
    if (!turn) {
      clearInterval(state.playing);
      state.playing = null;
      $('play').disabled = false;
      return;
    }
    appendTurn(turn.speaker, turn.text);
  }, 600);
}
$('play').addEventListener('click', () => playSample().catch((e) => { $('live-score').textContent = e.message; }));
$('clear-live').addEventListener('click', () => { state.live = []; scoreLive(); });

window.callguard = { appendTurn, check, engine, loadMs };
check();
// Milliseconds from navigation to the first check answer on screen (bench/page-timing.mjs).
window.callguard.firstCheckAt = performance.now();
gate();
document.body.dataset.ready = 'true';
