// 质检评分: score many transcripts in the browser, sort them (auto-fails first, then by score),
// show one call's scorecard and turns with the findings in place, filter, export JSON and CSV.
import { engine, loadEngine, nav, esc, findingCard, categoryLabel, CATEGORY, SPEAKER, PARTY, problems, turnHtml, counterpartLabel } from './common.js';

const $ = (id) => document.getElementById(id);
$('nav').innerHTML = nav('review.html');
await loadEngine();
const packs = engine.packs();
if (packs.type !== 'success') throw new Error(problems(packs));
$('pack').innerHTML = packs.packs.map((p) => `<option value="${esc(p.id)}"${p.id === packs.default ? ' selected' : ''}>${esc(p.title)}（${esc(p.id)}）</option>`).join('');
$('category').innerHTML += Object.entries(CATEGORY).map(([id, zh]) => `<option value="${id}">${esc(zh)}</option>`).join('');

/** Every loaded file: { name, content, format, card?, turns?, error? }. */
const calls = [];
let selected = null;

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

function matches(f) {
  return (!$('category').value || f.category === $('category').value) && (!$('severity').value || f.severity === $('severity').value);
}

function sorted() {
  const good = calls.filter((c) => c.card);
  good.sort((a, b) => Number(b.card.auto_fail) - Number(a.card.auto_fail) || a.card.score - b.card.score || a.name.localeCompare(b.name));
  return good;
}

function render() {
  const rows = sorted();
  $('errors').innerHTML = calls.filter((c) => c.error).map((c) => `<div class="error-box">无法评分 \`${esc(c.name)}\`：${esc(c.error)}</div>`).join('');
  $('calls').tBodies[0].innerHTML = rows.length
    ? rows
        .map((c, i) => {
          const fs = c.card.findings.filter(matches);
          const top = [...new Set(fs.map((f) => categoryLabel(f.category)))].slice(0, 3).join('、');
          return `<tr data-name="${esc(c.name)}"${selected === c.name ? ' class="selected"' : ''}>
            <td>${i + 1}</td><td>${esc(c.name)}</td><td class="score">${c.card.score}</td>
            <td>${c.card.auto_fail ? '<span class="fail">自动不合格</span>' : c.card.score >= 90 ? '<span class="badge ok">合格</span>' : '<span class="badge warning">需改进</span>'}</td>
            <td>${esc(c.card.stage ?? '')}</td><td>${fs.length}</td><td>${esc(top)}</td></tr>`;
        })
        .join('')
    : '<tr><td colspan="7" class="muted">尚未载入通话。</td></tr>';
  const n = rows.length;
  const fails = rows.filter((c) => c.card.auto_fail).length;
  const avg = n ? rows.reduce((s, c) => s + c.card.score, 0) / n : 0;
  $('kpi').innerHTML = n ? `<div>通话<b id="kpi-calls">${n}</b></div><div>平均分<b>${avg.toFixed(1)}</b></div><div>自动不合格<b class="fail" id="kpi-fails">${fails}</b></div>` : '';
  $('export-json').disabled = $('export-csv').disabled = !n;
  renderDetail();
}

function renderDetail() {
  const c = calls.find((x) => x.name === selected && x.card);
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
      return turnHtml(t, i, tf, `#${i} ${esc(SPEAKER[t.speaker] ?? t.speaker)}${state && t.speaker === 'agent' ? ` · ${counterpartLabel(state)}` : ''}`);
    })
    .join('');
  $('detail').innerHTML = `<div class="grid" style="grid-template-columns: minmax(0, 1fr) 360px">
    <div class="panel"><h2>${esc(c.name)} · 逐句</h2><div class="turns">${turns}</div></div>
    <div>
      <div class="panel" id="scorecard"><h2>评分卡</h2>
        <p class="score">得分 <span id="detail-score">${card.score}</span>${card.auto_fail ? ' · <span class="fail">自动不合格</span>' : ''}</p>
        <p class="muted">阶段 ${esc(card.stage ?? '—')} · 对方 ${esc(PARTY[card.counterpart] ?? card.counterpart)} · ${card.identity_verified ? '已核实身份' : '未核实身份'}${card.promise ? ` · 还款承诺${card.promise.concrete ? '具体' : '不具体'}` : ''}</p>
        <ul>${deductions || '<li>无扣分</li>'}</ul>
      </div>
      <div class="panel"><h2>全部问题（${fs.length}）</h2>${fs.map((f) => findingCard(f)).join('') || '<p class="muted">没有符合筛选条件的问题。</p>'}</div>
    </div></div>`;
}

async function addFiles(files) {
  for (const file of files) {
    const call = { name: file.name, content: await file.text(), format: formatOf(file.name) };
    const old = calls.findIndex((c) => c.name === call.name);
    if (old >= 0) calls.splice(old, 1);
    scoreOne(call);
    calls.push(call);
  }
  render();
}

function download(name, type, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function csvCell(v) {
  const s = String(v ?? '');
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function scorecardsCsv() {
  const cats = Object.keys(CATEGORY);
  const head = ['file', 'score', 'auto_fail', 'stage', 'findings', 'errors', ...cats];
  const lines = sorted().map((c) => {
    const fs = c.card.findings;
    return [c.name, c.card.score, c.card.auto_fail, c.card.stage ?? '', fs.length, fs.filter((f) => f.severity === 'error').length, ...cats.map((k) => fs.filter((f) => f.category === k).length)];
  });
  // A byte-order mark so that spreadsheet programs read the Chinese file names as UTF-8.
  return '\ufeff' + [head, ...lines].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

$('files').addEventListener('change', (e) => addFiles([...e.target.files]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); addFiles([...e.dataTransfer.files]); });
$('calls').addEventListener('click', (e) => {
  const row = e.target.closest('tr[data-name]');
  if (!row) return;
  selected = row.dataset.name;
  render();
  $('detail').scrollIntoView({ behavior: 'smooth' });
});
for (const id of ['category', 'severity']) $(id).addEventListener('change', render);
for (const id of ['pack', 'dpd', 'agent-channel']) $(id).addEventListener('change', rescoreAll);
$('clear').addEventListener('click', () => { calls.length = 0; selected = null; render(); });
$('samples').addEventListener('click', async () => {
  const list = await (await fetch('samples/index.json')).json();
  const files = await Promise.all(list.map(async (name) => new File([await (await fetch(`samples/${name}`)).text()], name)));
  await addFiles(files);
});
$('export-json').addEventListener('click', () => download('callguard-scorecards.json', 'application/json', JSON.stringify(sorted().map((c) => ({ file: c.name, ...c.card })), null, 2)));
$('export-csv').addEventListener('click', () => download('callguard-scorecards.csv', 'text/csv;charset=utf-8', scorecardsCsv()));

window.callguardReview = { addFiles, calls, scorecardsCsv };
document.body.dataset.ready = 'true';
