// The review page's model of a call and what leaves the page: metadata shown per call, the
// reviewer's verdict words, the printed one-call report and the CSV exports.
import { esc, categoryLabel, CATEGORY, SEVERITY, SPEAKER } from './common.js';
import { findingKey } from './reviews.js';

export const meta = (c) => c.card?.meta ?? {};
export const agentOf = (c) => meta(c).agent_name ? `${meta(c).agent_name}${meta(c).agent_id ? `（${meta(c).agent_id}）` : ''}` : meta(c).agent_id ?? '';
export const dateOf = (c) => (meta(c).started_at ?? '').slice(0, 10);
export const verdictOf = (c) => (!c.card ? '无法评分' : c.card.auto_fail ? '自动不合格' : c.card.score >= 90 ? '合格' : '需改进');

export const VERDICT = { confirmed: '已确认', disputed: '误报' };
export const when = (e) => `${esc(e.reviewer)} · ${esc(new Date(e.at).toLocaleString('zh-CN', { hour12: false }))}`;

/** The one-call report a team lead signs: what was scored, what was found and reviewed, by whom. */
export function reportHtml(c) {
  const card = c.card;
  const r = c.review ?? { verdicts: {}, notes: {}, history: [] };
  const m = meta(c);
  const row = (k, v) => (v ? `<tr><th>${k}</th><td>${esc(v)}</td></tr>` : '');
  const findings = card.findings
    .map((f) => {
      const start = f.turn == null ? null : c.turns[f.turn]?.start;
      const verdict = r.verdicts[findingKey(f)];
      return `<tr><td>${f.turn == null ? '' : f.turn + 1}</td><td>${start == null ? '' : `${String(Math.floor(start / 60)).padStart(2, '0')}:${String(Math.round(start % 60)).padStart(2, '0')}`}</td><td>${esc(categoryLabel(f.category))}</td><td>${esc(SEVERITY[f.severity] ?? f.severity)}</td><td>${esc(f.excerpt)}</td><td>${esc(f.message)}</td><td>${verdict ? VERDICT[verdict.value.verdict] : ''}</td><td>${esc(r.notes[findingKey(f)]?.value.note ?? '')}</td></tr>`;
    })
    .join('');
  const reviewers = [...new Set(r.history.map((e) => e.reviewer))].join('、');
  return `<section id="report" class="print-only printable" aria-hidden="true">
    <h1>通话质检报告</h1>
    <table class="report-meta">${row('通话', c.label)}${row('通话编号', m.call_id)}${row('坐席', agentOf(c))}${row('班组', m.team)}${row('通话时间', m.started_at)}${row('阶段', card.stage ? `${card.stage}（逾期 ${card.dpd} 天）` : '')}${row('规则包', `${card.pack.id} ${card.pack.version}`)}
      ${row('得分', r.score ? `${r.score.value.score}（调整；原 ${card.score}，原因：${r.score.value.reason}）` : String(card.score))}${row('自动不合格', card.auto_fail ? '是' : '否')}</table>
    <h2>扣分</h2><ul>${card.deductions.map((d) => `<li>${esc(categoryLabel(d.category))}：−${d.points} 分（${d.findings} 处）</li>`).join('') || '<li>无扣分</li>'}</ul>
    <h2>问题（${card.findings.length}）</h2>
    <table class="report-findings"><thead><tr><th>句</th><th>时间</th><th>类别</th><th>程度</th><th>摘录</th><th>说明</th><th>复核</th><th>备注</th></tr></thead><tbody>${findings}</tbody></table>
    ${r.callNote ? `<h2>通话备注</h2><p>${esc(r.callNote.value.note)}</p>` : ''}
    <h2>逐句</h2><ol class="report-turns">${c.turns.map((t) => `<li><b>${esc(SPEAKER[t.speaker] ?? t.speaker)}：</b>${esc(t.text)}</li>`).join('')}</ol>
    <table class="report-sign"><tr><th>复核人</th><td>${esc(reviewers)}</td><th>报告日期</th><td>${esc(new Date().toLocaleDateString('zh-CN'))}</td></tr>
      <tr><th>质检员签字</th><td class="sign"></td><th>组长签字</th><td class="sign"></td></tr></table>
  </section>`;
}

function csvCell(v) {
  const s = typeof v === 'boolean' ? (v ? '是' : '否') : String(v ?? '');
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A CSV a spreadsheet opens as UTF-8 (byte-order mark, CRLF). */
function csv(rowsOut) {
  return '\ufeff' + rowsOut.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** One line per call, failed files included with their reason. */
export function scorecardsCsv(list) {
  const cats = Object.keys(CATEGORY);
  const head = ['文件', '通话编号', '坐席', '班组', '日期', '得分', '自动不合格', '阶段', '问题数', '违规数', '状态', '调整后得分', '调整原因', '误报数', '通话备注', '复核人', ...cats.map((k) => CATEGORY[k])];
  const lines = list.map((c) => {
    const fs = c.card?.findings ?? [];
    const r = c.review ?? { verdicts: {}, history: [] };
    const disputed = Object.values(r.verdicts).filter((e) => e.value.verdict === 'disputed').length;
    const reviewers = [...new Set(r.history.map((e) => e.reviewer))].join('、');
    return [c.label, meta(c).call_id ?? '', agentOf(c), meta(c).team ?? '', dateOf(c), c.card?.score ?? '', c.card ? c.card.auto_fail : '', c.card?.stage ?? '', fs.length, fs.filter((f) => f.severity === 'error').length, c.card ? verdictOf(c) : `无法评分：${c.error}`, r.score?.value.score ?? '', r.score?.value.reason ?? '', disputed, r.callNote?.value.note ?? '', reviewers, ...cats.map((k) => fs.filter((f) => f.category === k).length)];
  });
  return csv([head, ...lines]);
}

/** One line per finding: where, what, and the excerpt. */
export function findingsCsv(list, matches) {
  const head = ['文件', '坐席', '句序号', '时间', '类别', '严重程度', '规则', '摘录', '说明', '复核结论', '复核备注', '复核人'];
  const lines = [];
  for (const c of list) {
    for (const f of (c.card?.findings ?? []).filter(matches)) {
      const start = f.turn == null ? null : c.turns[f.turn]?.start;
      const time = start == null ? '' : `${String(Math.floor(start / 60)).padStart(2, '0')}:${String(Math.round(start % 60)).padStart(2, '0')}`;
      const verdict = c.review?.verdicts[findingKey(f)];
      const note = c.review?.notes[findingKey(f)];
      lines.push([c.label, agentOf(c), f.turn == null ? '' : f.turn + 1, time, categoryLabel(f.category), SEVERITY[f.severity] ?? f.severity, f.rule, f.excerpt, f.message, verdict ? VERDICT[verdict.value.verdict] : '', note?.value.note ?? '', verdict?.reviewer ?? note?.reviewer ?? '']);
    }
  }
  return csv([head, ...lines]);
}
