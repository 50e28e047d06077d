// 话术助手: live checking of a draft, context controls, stage guidance, the calling clock and a
// live-call mode fed by speech-to-text through `callguard.appendTurn(speaker, text)`.
import {
  engine, loadEngine, nav, esc, icon, markSpans, findingCard, categoryLabel, THIRD_PARTY_POLICY, PARTY, problems, announcer,
} from './common.js';
import { liveCall } from './live-call.js';
import { detectLedger, ledgerReady, ledgerStatus, ledgerGate, ledgerRecord, ledgerCounted } from './ledger.js';

const $ = (id) => document.getElementById(id);
$('nav').innerHTML = nav('index.html');

const draft = $('draft');
const marks = $('marks');
const tooltip = $('tooltip');
const state = { findings: [], packs: null, history: loadHistory() };
const announce = announcer($('announce'));

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
  const before = new Set(state.findings.map((f) => f.rule));
  state.findings = answer.findings;
  const fresh = answer.findings.filter((f) => !before.has(f.rule));
  if (fresh.length) announce(`新问题：${[...new Set(fresh.map((f) => categoryLabel(f.category)))].join('、')}`);
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

/** Replaces a finding's span with its rewrite as an edit of the textarea's own (so Ctrl+Z undoes
 *  it), keeps the caret where it was in the text around it, then re-checks. */
function applyRewrite(i) {
  const f = state.findings[i];
  if (!f || !(f.rewrite || f.suggestion)) return;
  // The rewrite replaces the whole clause with a sentence that reads as speech; a finding
  // without one (none today) falls back to its suggestion in place of the flagged words.
  const [text, start, end] = f.rewrite
    ? [f.rewrite.text, f.rewrite.utf16_start, f.rewrite.utf16_end]
    : [f.suggestion, f.utf16_start, f.utf16_end];
  const caret = draft.selectionStart;
  const shift = text.length - (end - start);
  const after = caret <= start ? caret : caret >= end ? caret + shift : start + text.length;
  draft.focus();
  draft.setSelectionRange(start, end);
  // insertText goes through the browser's editing, so it joins the undo history; where it is
  // refused the text is set directly (no undo, the same text).
  if (!document.execCommand('insertText', false, text)) {
    draft.setRangeText(text, start, end, 'end');
    check();
  }
  draft.setSelectionRange(after, after);
  hideTooltip();
  announce(`已替换为：${text}`);
}

draft.addEventListener('input', check);
draft.addEventListener('scroll', () => { marks.scrollTop = draft.scrollTop; });
new ResizeObserver(() => { marks.style.height = `${draft.offsetHeight}px`; }).observe(draft);
for (const id of ['pack', 'dpd', 'party', 'verified', 'informed', 'vulnerable', 'channel']) {
  $(id).addEventListener('input', () => { check(); gate(); });
  $(id).addEventListener('change', () => { check(); gate(); });
}
// A live call without a DPD of its own is scored under the pack and DPD the collector sets.
for (const id of ['pack', 'dpd']) {
  $(id).addEventListener('change', () => live.rescore());
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
  const policy = (v) => esc(THIRD_PARTY_POLICY[v] ?? v);
  const packTitle = (id) => state.packs.packs.find((x) => x.id === id)?.title ?? id;
  // The policy in force (the strictest of the chain); a looser wording of this pack's own is
  // shown struck through with whose rule overrides it.
  const rows = (p?.stages ?? [])
    .map((s) => {
      const cell = s.in_force_pack
        ? `${policy(s.third_party_in_force)}<div class="muted"><span class="overridden">${policy(s.third_party_contact)}</span>（本规则包较宽的规定，按${esc(packTitle(s.in_force_pack))}执行）</div>`
        : policy(s.third_party_in_force ?? s.third_party_contact);
      return `<tr${stage && s.id === stage.stage ? ' class="selected"' : ''}><td>${esc(s.id)}</td><td>${s.from}–${s.to ?? '∞'} 天</td><td>${cell}</td></tr>`;
    })
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
    <details><summary>各阶段一览</summary><table><thead><tr><th>阶段</th><th>逾期</th><th>第三方（现行规定）</th></tr></thead><tbody>${rows}</tbody></table></details>
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
$('history-import').addEventListener('click', () => $('history-file').click());
$('history-clear').addEventListener('click', () => { state.history = []; saveHistory(); gate(); });
$('history-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  e.target.value = '';
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
// The party selector follows who the call has established is on the line, and says so.
function followParty(turnState) {
  const party = turnState.party === 'unknown' ? null : turnState.party;
  let changed = false;
  if (party && $('party').value !== party) {
    $('party').value = party;
    changed = true;
  }
  if (turnState.identity_verified && !$('verified').checked) {
    $('verified').checked = true;
    changed = true;
  }
  if (!changed) return;
  $('party-note').textContent = `已随通话更新：对方是${PARTY[party ?? $('party').value]}${turnState.identity_verified ? '，已核实身份' : ''}`;
  check();
  gate();
}
const live = liveCall({
  collector: () => ({ pack: pack(), dpd: context().dpd }),
  followParty,
  announce,
});

window.callguard = { appendTurn: live.appendTurn, endCall: live.endCall, check, engine, loadMs };
check();
// Milliseconds from navigation to the first check answer on screen (bench/page-timing.mjs).
window.callguard.firstCheckAt = performance.now();
gate();
document.body.dataset.ready = 'true';
