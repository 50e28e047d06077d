// 质检评分: score many transcripts in the browser. One table of calls that sorts on every column
// and filters by finding; files that failed are listed with their reason and counted; views per
// collector, team and date from the calls' metadata; one call's scorecard and turns with the
// findings in place; exports per call and per finding (CSV with Chinese headers, JSON).
import { engine, loadEngine, nav, esc, saveFile, findingCard, categoryLabel, CATEGORY, SPEAKER, PARTY, problems, turnHtml, counterpartLabel } from './common.js';
import { openReviews, reviewsWhere, callKey, findingKey, loadReviews, addReview, standing } from './reviews.js';
import { meta, agentOf, dateOf, verdictOf, VERDICT, when, reportHtml, scorecardsCsv, findingsCsv } from './review-model.js';

const $ = (id) => document.getElementById(id);
$('nav').innerHTML = nav('review.html');
await loadEngine();
await openReviews();
const packs = engine.packs();
if (packs.type !== 'success') throw new Error(problems(packs));
$('pack').innerHTML = packs.packs.map((p) => `<option value="${esc(p.id)}"${p.id === packs.default ? ' selected' : ''}>${esc(p.title)}（${esc(p.id)}）</option>`).join('');
$('category').innerHTML += Object.entries(CATEGORY).map(([id, zh]) => `<option value="${id}">${esc(zh)}</option>`).join('');

/** Every loaded file: { key, name, label, content, format, card?, turns?, error? }. `key` keeps
 *  two files of the same name apart; `label` shows which is which. */
const calls = [];
let nextKey = 1;
let selected = null;
/** The table's sort: a column and a direction; `null` is the default (auto-fails, then score). */
let sort = null;

function formatOf(name) {
  const ext = name.toLowerCase().split('.').pop();
  return { json: 'json', vtt: 'vtt', srt: 'srt', txt: 'text' }[ext] ?? 'text';
}

function scoreOne(call) {
  const dpd = Number.parseInt($('dpd').value, 10);
  const channel = Number.parseInt($('agent-channel').value, 10);
  const agent_channel = Number.isFinite(channel) && channel >= 0 ? channel : 0;
  const parsed = engine.parseTranscript({ content: call.content, format: call.format, agent_channel });
  // The page's DPD is the default: a file that states its own (a `# dpd:` header, a JSON `dpd`)
  // keeps it.
  const own = parsed.type === 'success' ? parsed.transcript.dpd : null;
  const answer = engine.scoreTranscript({
    pack: $('pack').value,
    content: call.content,
    format: call.format,
    dpd: own == null && Number.isFinite(dpd) ? dpd : undefined,
    id: call.name,
    agent_channel,
  });
  call.card = answer.type === 'success' ? answer : null;
  call.error = answer.type === 'success' ? null : problems(answer);
  call.turns = parsed.type === 'success' ? parsed.transcript.turns : [];
}

function rescoreAll() {
  for (const c of calls) scoreOne(c);
  render();
}


function filterActive() {
  return Boolean($('category').value || $('severity').value);
}

function matches(f) {
  return (!$('category').value || f.category === $('category').value) && (!$('severity').value || f.severity === $('severity').value);
}

/** The table's columns: header, sort key, cell. */
const COLUMNS = [
  ['通话', (c) => c.label, (c) => esc(c.label)],
  ['坐席', agentOf, (c) => esc(agentOf(c))],
  ['班组', (c) => meta(c).team ?? '', (c) => esc(meta(c).team ?? '')],
  ['日期', dateOf, (c) => esc(dateOf(c))],
  ['得分', (c) => c.card?.score ?? -1, (c) => (c.card ? `<span class="score">${c.card.score}</span>` : '—')],
  ['结论', (c) => ['无法评分', '自动不合格', '需改进', '合格'].indexOf(verdictOf(c)), (c) => {
    const v = verdictOf(c);
    return v === '自动不合格' || v === '无法评分' ? `<span class="fail">${v}</span>` : `<span class="badge ${v === '合格' ? 'ok' : 'warning'}">${v}</span>`;
  }],
  ['阶段', (c) => c.card?.stage ?? '', (c) => esc(c.card?.stage ?? '')],
  ['问题数', (c) => (c.card ? c.card.findings.filter(matches).length : -1), (c) => (c.card ? String(c.card.findings.filter(matches).length) : '')],
  ['主要问题', (c) => topCategories(c), (c) => (c.card ? esc(topCategories(c)) : esc(c.error ?? ''))],
  ['复核', (c) => reviewSummary(c), (c) => esc(reviewSummary(c))],
];

/** A call's review at a glance: disputed and confirmed findings, an adjusted score. */
function reviewSummary(c) {
  const r = c.review;
  if (!r) return '';
  const verdicts = Object.values(r.verdicts).map((e) => e.value.verdict);
  const parts = [];
  const disputed = verdicts.filter((v) => v === 'disputed').length;
  const confirmed = verdicts.filter((v) => v === 'confirmed').length;
  if (disputed) parts.push(`误报 ${disputed}`);
  if (confirmed) parts.push(`确认 ${confirmed}`);
  if (r.score) parts.push(`调整为 ${r.score.value.score}`);
  if (r.callNote) parts.push('有备注');
  return parts.join(' · ');
}

/** Loads every call's reviews from where they are kept. */
async function refreshReviews() {
  const keys = [...new Set(calls.map((c) => c.ckey))];
  let events = [];
  try {
    events = await loadReviews(keys);
    $('review-status').textContent = reviewsWhere();
  } catch (err) {
    $('review-status').textContent = `无法读取复核记录：${err.message}`;
  }
  for (const c of calls) c.review = standing(events.filter((e) => e.call_key === c.ckey));
}

async function review(c, change) {
  try {
    await addReview({ call_key: c.ckey, call_label: c.label, ...change });
    await refreshReviews();
    render();
    $('review-status').textContent = `已保存（${reviewsWhere()}）`;
  } catch (err) {
    $('review-status').textContent = `未保存：${err.message}`;
  }
}

function topCategories(c) {
  if (!c.card) return '';
  return [...new Set(c.card.findings.filter(matches).map((f) => categoryLabel(f.category)))].slice(0, 3).join('、');
}

function defaultOrder(a, b) {
  return Number(Boolean(b.error)) - Number(Boolean(a.error)) || Number(b.card?.auto_fail ?? 0) - Number(a.card?.auto_fail ?? 0) || (a.card?.score ?? 0) - (b.card?.score ?? 0) || a.label.localeCompare(b.label, 'zh-CN');
}

/** The rows shown: filtered by finding when a filter is set (failed files stay listed), sorted. */
function rows() {
  const shown = calls.filter((c) => !c.card || !filterActive() || c.card.findings.some(matches));
  if (!sort) return shown.sort(defaultOrder);
  const key = COLUMNS[sort.column][1];
  return shown.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN');
    return (sort.descending ? -order : order) || defaultOrder(a, b);
  });
}

/** Per collector, team or date: calls, average score, auto-fails, failed files, the top
 *  categories and the worst call. */
function groups(by) {
  const keyOf = { agent: agentOf, team: (c) => meta(c).team ?? '', date: dateOf }[by];
  const out = new Map();
  for (const c of calls) {
    const k = keyOf(c) || '（未注明）';
    if (!out.has(k)) out.set(k, []);
    out.get(k).push(c);
  }
  return [...out.entries()].map(([name, cs]) => {
    const scored = cs.filter((c) => c.card);
    const counts = new Map();
    for (const f of scored.flatMap((c) => c.card.findings)) counts.set(f.category, (counts.get(f.category) ?? 0) + 1);
    const worst = [...scored].sort((a, b) => a.card.score - b.card.score)[0];
    return {
      name,
      calls: cs.length,
      failed: cs.length - scored.length,
      average: scored.length ? scored.reduce((s, c) => s + c.card.score, 0) / scored.length : null,
      autoFails: scored.filter((c) => c.card.auto_fail).length,
      top: [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${categoryLabel(k)} ${n}`).join('、'),
      worst,
    };
  }).sort((a, b) => (a.average ?? 101) - (b.average ?? 101));
}

function renderTable() {
  const list = rows();
  const head = COLUMNS.map(([title], i) => {
    const state = sort?.column === i ? (sort.descending ? 'descending' : 'ascending') : 'none';
    return `<th aria-sort="${state}"><button type="button" class="sort" data-column="${i}">${title}${state === 'ascending' ? ' ▲' : state === 'descending' ? ' ▼' : ''}</button></th>`;
  }).join('');
  $('calls').tHead.innerHTML = `<tr><th>#</th>${head}</tr>`;
  $('calls').tBodies[0].innerHTML = list.length
    ? list.map((c, i) => `<tr data-key="${c.key}" data-name="${esc(c.name)}" tabindex="0"${selected === c.key ? ' class="selected"' : ''}><td>${i + 1}</td>${COLUMNS.map(([, , cell]) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('')
    : `<tr><td colspan="${COLUMNS.length + 1}" class="muted">${calls.length ? '没有符合筛选条件的通话。' : '尚未载入通话。'}</td></tr>`;
}

function renderGroups() {
  const by = $('view').value;
  if (by === 'calls') {
    $('groups').innerHTML = '';
    return;
  }
  const title = { agent: '坐席', team: '班组', date: '日期' }[by];
  $('groups').innerHTML = `<div class="table-scroll"><table id="group-table"><thead><tr><th>${title}</th><th>通话</th><th>平均分</th><th>自动不合格</th><th>无法评分</th><th>主要问题</th><th>最差通话</th></tr></thead><tbody>${groups(by)
    .map((g) => `<tr><td>${esc(g.name)}</td><td>${g.calls}</td><td>${g.average == null ? '—' : g.average.toFixed(1)}</td><td>${g.autoFails}</td><td>${g.failed}</td><td>${esc(g.top)}</td><td>${g.worst ? `<button type="button" class="link" data-open="${g.worst.key}">${esc(g.worst.label)}（${g.worst.card.score}）</button>` : '—'}</td></tr>`)
    .join('')}</tbody></table></div>`;
}

function render() {
  const scored = calls.filter((c) => c.card);
  const failed = calls.length - scored.length;
  const fails = scored.filter((c) => c.card.auto_fail).length;
  const avg = scored.length ? scored.reduce((s, c) => s + c.card.score, 0) / scored.length : 0;
  $('kpi').innerHTML = calls.length
    ? `<div>通话<b id="kpi-calls">${scored.length}</b></div><div>平均分<b>${avg.toFixed(1)}</b></div><div>自动不合格<b class="fail" id="kpi-fails">${fails}</b></div><div>无法评分<b id="kpi-failed">${failed}</b></div>`
    : '';
  $('errors').innerHTML = calls.filter((c) => c.error).map((c) => `<div class="error-box">无法评分 \`${esc(c.label)}\`：${esc(c.error)}</div>`).join('');
  for (const id of ['export-json', 'export-csv', 'export-findings']) $(id).disabled = !calls.length;
  renderTable();
  renderGroups();
  renderDetail();
}

function renderDetail() {
  const c = calls.find((x) => x.key === selected && x.card);
  if (!c) {
    $('detail').innerHTML = '';
    return;
  }
  const card = c.card;
  const fs = card.findings.filter(matches);
  const deductions = card.deductions.map((d) => `<li>${esc(categoryLabel(d.category))}：−${d.points} 分（${d.findings} 处）</li>`).join('');
  const turns = c.turns
    .map((t, i) => {
      const tf = fs.filter((f) => f.turn === i && f.utf16_end > f.utf16_start);
      const state = card.timeline[i];
      return turnHtml(t, i, tf, `#${i + 1} ${esc(SPEAKER[t.speaker] ?? t.speaker)}${state && t.speaker === 'agent' ? ` · ${counterpartLabel(state)}` : ''}`);
    })
    .join('');
  const m = meta(c);
  const who = [agentOf(c) && `坐席 ${agentOf(c)}`, m.team && `班组 ${m.team}`, m.started_at && `时间 ${m.started_at}`, m.call_id && `通话编号 ${m.call_id}`].filter(Boolean).map(esc).join(' · ');
  const notes = (card.notes ?? []).map((n) => `<li>${esc(n)}</li>`).join('');
  $('detail').innerHTML = `<div class="grid side-right wide-side">
    <div class="panel"><h2>${esc(c.label)} · 逐句</h2>${who ? `<p class="muted" id="detail-meta">${who}</p>` : ''}<div class="turns">${turns}</div></div>
    <div>
      <div class="panel" id="scorecard"><h2>评分卡</h2>
        <p class="score">得分 <span id="detail-score">${card.score}</span>${card.auto_fail ? ' · <span class="fail">自动不合格</span>' : ''}</p>
        <p class="muted">阶段 ${esc(card.stage ?? '—')} · 对方 ${esc(PARTY[card.counterpart] ?? card.counterpart)} · ${card.identity_verified ? '已核实身份' : '未核实身份'}${card.promise ? ` · 还款承诺${card.promise.concrete ? '具体' : '不具体'}` : ''}</p>
        <ul>${deductions || '<li>无扣分</li>'}</ul>
        ${notes ? `<h3>说明</h3><ul class="muted" id="detail-notes">${notes}</ul>` : ''}
        <button type="button" class="secondary" id="print-report">打印报告</button>
      </div>
      ${callReviewPanel(c)}
      <div class="panel"><h2>全部问题（${fs.length}）</h2>${fs.map((f) => reviewedFinding(c, f)).join('') || '<p class="muted">没有符合筛选条件的问题。</p>'}</div>
    </div></div>${reportHtml(c)}`;
}


/** A finding with the reviewer's verdict, note and the buttons to change them. */
function reviewedFinding(c, f) {
  const key = findingKey(f);
  const verdict = c.review?.verdicts[key];
  const note = c.review?.notes[key];
  return `<div class="reviewed" data-finding="${esc(key)}">${findingCard(f)}
    <div class="row review-tools">
      <button type="button" class="secondary" data-verdict="confirmed" aria-pressed="${verdict?.value.verdict === 'confirmed'}">确认</button>
      <button type="button" class="secondary" data-verdict="disputed" aria-pressed="${verdict?.value.verdict === 'disputed'}">误报</button>
      ${verdict ? `<span class="muted verdict">${VERDICT[verdict.value.verdict]}（${when(verdict)}）</span>` : ''}
    </div>
    <div class="row review-tools"><label class="visually-hidden" for="note-${esc(key)}">问题备注</label><input type="text" id="note-${esc(key)}" class="finding-note" placeholder="备注" value="${esc(note?.value.note ?? '')}" style="flex:1"><button type="button" class="secondary" data-save-note>保存备注</button></div>
  </div>`;
}

/** The call's note and score adjustment, and every change with who and when. */
function callReviewPanel(c) {
  const r = c.review ?? { history: [] };
  const history = r.history.map((e) => `<li>${when(e)}：${esc({ verdict: `${VERDICT[e.value.verdict] ?? ''} ${e.finding_key}`, note: `备注 ${e.value.note ?? ''}`, score: `分数调整为 ${e.value.score}（${e.value.reason ?? ''}）` }[e.kind] ?? e.kind)}</li>`).join('');
  return `<div class="panel" id="call-review"><h2>复核</h2>
    ${r.score ? `<p>调整后得分 <b id="adjusted-score">${r.score.value.score}</b>（原 ${c.card.score}；${esc(r.score.value.reason)}；${when(r.score)}）</p>` : ''}
    <label for="call-note">通话备注</label><textarea id="call-note" rows="2" style="width:100%">${esc(r.callNote?.value.note ?? '')}</textarea>
    <button type="button" class="secondary" id="save-call-note">保存备注</button>
    <div class="row" style="margin-top:.5rem"><label for="adjust-score" style="margin:0">调整分数</label><input id="adjust-score" type="number" min="0" max="100" style="width:5rem" value="${r.score?.value.score ?? ''}">
    <label for="adjust-reason" style="margin:0">原因</label><input id="adjust-reason" type="text" style="flex:1" value="${esc(r.score?.value.reason ?? '')}"><button type="button" class="secondary" id="save-score">保存</button></div>
    ${history ? `<details><summary>复核记录（${r.history.length}）</summary><ul class="muted" id="review-history">${history}</ul></details>` : ''}
  </div>`;
}

async function addFiles(files) {
  for (const file of files) {
    const call = { key: nextKey++, name: file.name, content: await file.text(), format: formatOf(file.name) };
    const same = calls.filter((c) => c.name === call.name).length;
    call.label = same ? `${call.name}（${same + 1}）` : call.name;
    call.ckey = await callKey(call.content);
    scoreOne(call);
    calls.push(call);
  }
  await refreshReviews();
  render();
}

$('files').addEventListener('change', (e) => {
  const chosen = [...e.target.files];
  // Cleared so that choosing the same file again loads it again.
  e.target.value = '';
  addFiles(chosen);
});
// The picker opens from its button (Tab, then Enter) or a click anywhere on the drop zone.
$('drop').addEventListener('click', () => $('files').click());
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); addFiles([...e.dataTransfer.files]); });
function open(key) {
  selected = key;
  render();
  $('detail').scrollIntoView({ behavior: 'smooth' });
}
$('calls').addEventListener('click', (e) => {
  const button = e.target.closest('button.sort');
  if (button) {
    const column = Number(button.dataset.column);
    sort = sort?.column === column ? (sort.descending ? null : { column, descending: true }) : { column, descending: false };
    render();
    return;
  }
  const row = e.target.closest('tr[data-key]');
  if (row) open(Number(row.dataset.key));
});
$('calls').addEventListener('keydown', (e) => {
  const row = e.target.closest('tr[data-key]');
  if (row && (e.key === 'Enter' || e.key === ' ')) {
    e.preventDefault();
    open(Number(row.dataset.key));
  }
});
$('detail').addEventListener('click', (e) => {
  const c = calls.find((x) => x.key === selected && x.card);
  if (!c) return;
  const box = e.target.closest('[data-finding]');
  const f = box && c.card.findings.find((x) => findingKey(x) === box.dataset.finding);
  const finding = f && { rule: f.rule, category: f.category, severity: f.severity, excerpt: f.excerpt, message: f.message, turn: f.turn };
  if (f && e.target.closest('[data-verdict]')) {
    review(c, { finding_key: box.dataset.finding, kind: 'verdict', value: { verdict: e.target.closest('[data-verdict]').dataset.verdict }, finding });
  } else if (f && e.target.closest('[data-save-note]')) {
    review(c, { finding_key: box.dataset.finding, kind: 'note', value: { note: box.querySelector('.finding-note').value }, finding });
  } else if (e.target.closest('#print-report')) {
    window.print();
  } else if (e.target.closest('#save-call-note')) {
    review(c, { kind: 'note', value: { note: $('call-note').value } });
  } else if (e.target.closest('#save-score')) {
    const score = $('adjust-score').value.trim() === '' ? Number.NaN : Number($('adjust-score').value);
    review(c, { kind: 'score', value: { score, reason: $('adjust-reason').value.trim() } });
  }
});
$('review-token').addEventListener('change', async () => { await refreshReviews(); render(); });
$('groups').addEventListener('click', (e) => {
  const link = e.target.closest('[data-open]');
  if (link) open(Number(link.dataset.open));
});
for (const id of ['category', 'severity', 'view']) $(id).addEventListener('change', render);
for (const id of ['pack', 'dpd', 'agent-channel']) $(id).addEventListener('change', rescoreAll);
$('clear').addEventListener('click', () => { calls.length = 0; selected = null; render(); });
$('samples').addEventListener('click', async () => {
  const list = await (await fetch('samples/index.json')).json();
  const files = await Promise.all(list.map(async (name) => new File([await (await fetch(`samples/${name}`)).text()], name)));
  await addFiles(files);
});
$('export-json').addEventListener('click', () => saveFile('callguard-scorecards.json', 'application/json', JSON.stringify(rows().map((c) => (c.card ? { file: c.label, ...c.card, review: c.review?.history ?? [] } : { file: c.label, type: 'failure', error: c.error })), null, 2)));
$('export-csv').addEventListener('click', () => saveFile('callguard-通话.csv', 'text/csv;charset=utf-8', scorecardsCsv(rows())));
$('export-findings').addEventListener('click', () => saveFile('callguard-问题.csv', 'text/csv;charset=utf-8', findingsCsv(rows(), matches)));

window.callguardReview = { addFiles, calls, scorecardsCsv: () => scorecardsCsv(rows()), findingsCsv: () => findingsCsv(rows(), matches) };
$('review-status').textContent = reviewsWhere();
render();
document.body.dataset.ready = 'true';
