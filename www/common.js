// Shared by the three pages: loading the engine (the wasm-bindgen package in ./pkg) and the
// Chinese labels of categories, severities and parties. Everything runs in this page; nothing
// typed or uploaded leaves the machine.
import init, * as engine from './pkg/callguard.js';

export { engine };

/** Loads the WebAssembly engine once; resolves with the time it took in ms. */
export async function loadEngine() {
  const t0 = performance.now();
  await init({ module_or_path: new URL('./pkg/callguard_bg.wasm', import.meta.url) });
  return performance.now() - t0;
}

export const CATEGORY = {
  abusive_language: '侮辱谩骂',
  threat: '威胁恐吓',
  impersonation: '冒充身份',
  false_legal_claim: '虚假法律后果',
  unauthorized_promise: '越权承诺',
  improper_payment_channel: '违规收款渠道',
  debt_inducement: '诱导借贷',
  provocation: '挑衅讽刺',
  discourtesy: '态度生硬',
  third_party_disclosure: '向第三方泄露',
  third_party_collection: '向第三方催收',
  disclosure_before_verification: '核身前透露债务',
  pii_exposure: '泄露个人信息',
  minor_contact: '与未成年人谈债务',
  vulnerable_pressure: '向困难客户施压',
  missing_opening: '开场白缺失',
  missing_closing: '结束语缺失',
  vague_promise: '还款承诺不具体',
  review_needed: '需人工复核',
  outside_calling_window: '非允许时段',
  contact_frequency: '联系过于频繁',
  third_party_contact: '不得联系第三方',
  field_visit: '上门人数不足',
  long_silence: '长时间静音',
  talking_over: '抢话',
  fast_speech: '语速过快',
  talk_dominance: '坐席独占通话',
  repeated_demand: '反复催讨',
};

export const SEVERITY = { error: '违规', warning: '提醒', info: '提示' };
export const PARTY = { debtor: '债务人本人', third_party: '第三方', unknown: '身份未确认', minor: '未成年人' };
export const SPEAKER = { agent: '坐席', customer: '客户', third_party: '第三方', unknown: '未知' };
export const THIRD_PARTY_POLICY = {
  never: '不得联系第三方',
  if_unreachable: '仅在联系不上客户时可联系第三方（只请其转告）',
  if_unreachable_or_broken_promise: '联系不上客户或客户爽约时可联系第三方（只请其转告）',
  allowed: '可联系第三方（仍不得透露债务）',
};

export function categoryLabel(c) {
  return CATEGORY[c] ?? c;
}

/** Escapes text for innerHTML. */
export function esc(text) {
  return String(text ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** Renders a failure answer's errors as one line each. */
export function problems(answer) {
  return (answer.errors ?? []).map((e) => e.message + (e.help ? `（${e.help}）` : '')).join('\n');
}

/** HTML of `text` with each finding's UTF-16 span wrapped in a <mark>. Overlaps are merged. */
export function markSpans(text, findings, attrs = () => '') {
  const sorted = [...findings]
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.utf16_end > f.utf16_start)
    .sort((a, b) => a.f.utf16_start - b.f.utf16_start || b.f.utf16_end - a.f.utf16_end);
  let html = '';
  let at = 0;
  for (const { f, i } of sorted) {
    if (f.utf16_start < at) continue;
    html += esc(text.slice(at, f.utf16_start));
    html += `<mark class="flag ${f.severity}" data-finding="${i}" ${attrs(f, i)}>${esc(text.slice(f.utf16_start, f.utf16_end))}</mark>`;
    at = f.utf16_end;
  }
  return html + esc(text.slice(at));
}

/** The shared page header with the three pages. */
/** Small inline icons: drawn by the page itself, so they never depend on an emoji font. */
const ICONS = {
  lock: '<path d="M5 7V5a3 3 0 0 1 6 0v2h1v7H4V7h1zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2z"/>',
  check: '<path d="M6.2 11.6 2.8 8.2l1.1-1.1 2.3 2.3 5.9-5.9 1.1 1.1z"/>',
  cross: '<path d="m4.2 3.1 3.8 3.8 3.8-3.8 1.1 1.1L9.1 8l3.8 3.8-1.1 1.1L8 9.1l-3.8 3.8-1.1-1.1L6.9 8 3.1 4.2z"/>',
  play: '<path d="M5 3v10l8-5z"/>',
  warn: '<path d="M8 1.5 15 14H1zm-.8 4.5v4h1.6V6zm0 5v1.6h1.6V11z"/>',
};
export function icon(name) {
  return `<svg class="icon" viewBox="0 0 16 16" width="1em" height="1em" aria-hidden="true" focusable="false" fill="currentColor">${ICONS[name] ?? ''}</svg>`;
}

export function nav(current) {
  const pages = [
    ['index.html', '话术助手', 'Script assistant'],
    ['review.html', '质检评分', 'QA review'],
    ['train.html', '培训练习', 'Trainer'],
  ];
  const links = pages
    .map(([href, zh, en]) => `<a href="${href}"${href === current ? ' aria-current="page"' : ''}>${zh}<small>${en}</small></a>`)
    .join('');
  return `<span class="brand">callguard <small>催收合规</small></span><nav>${links}</nav><span class="local" title="全部在本机浏览器中运行，不上传任何内容">${icon('lock')} 本地运行 · 不上传</span>`;
}

/** A finding as a card: reason, rule, sources and (optionally) a rewrite button. */
export function findingCard(f, { rewrite = false, index = 0 } = {}) {
  const sources = (f.sources ?? []).map((s) => `<li>${esc(s)}</li>`).join('');
  const better = f.rewrite?.text ?? f.suggestion;
  const fix = better
    ? `<div class="suggestion">建议改为：<q>${esc(better)}</q>${rewrite ? ` <button type="button" class="apply" data-finding="${index}">一键替换</button>` : ''}</div>`
    : '';
  return `<div class="card ${f.severity}">
    <div class="card-head"><span class="badge ${f.severity}">${SEVERITY[f.severity] ?? f.severity}</span> <b title="规则 ${esc(f.rule)}">${esc(categoryLabel(f.category))}</b>${f.excerpt ? ` · “${esc(f.excerpt)}”` : ''}</div>
    <p>${esc(f.message)}</p>${fix}
    ${sources ? `<details><summary>依据</summary><ul class="sources">${sources}</ul></details>` : ''}
  </div>`;
}

/** One line per rule broken in a turn (a rule flagged at several spans is listed once). */
function turnNotes(findings) {
  const seen = new Set();
  return findings
    .filter((f) => !seen.has(f.rule) && seen.add(f.rule))
    .map((f) => `<div class="muted">${icon('warn')} <span class="badge ${f.severity}">${SEVERITY[f.severity] ?? f.severity}</span> ${esc(categoryLabel(f.category))}：${esc(f.message)}${(f.rewrite?.text ?? f.suggestion) ? ` 建议：“${esc(f.rewrite?.text ?? f.suggestion)}”` : ''}</div>`)
    .join('');
}

/** One transcript turn: `who` (HTML) above the text, findings marked in place and listed below. */
export function turnHtml(turn, index, findings, who) {
  return `<div class="turn ${turn.speaker}${findings.length ? ' has-findings' : ''}" data-turn="${index}">
    <div class="who">${who}</div>
    <div>${markSpans(turn.text, findings)}</div>
    ${turnNotes(findings)}
  </div>`;
}

const COUNTERPART = { debtor: '本人', third_party: '第三方', unknown: '未确认', minor: '未成年人' };

/** Who was on the line at a turn of a scorecard's timeline: 对方：本人（已核身）. */
export function counterpartLabel(state) {
  return `对方：${esc(COUNTERPART[state.party] ?? state.party)}${state.identity_verified ? '（已核身）' : ''}`;
}

/** What `GET /v1/ledger` says of the server serving the page, or null when the page is opened
 *  alone (no API) — the calling clock and the review page both ask. */
export async function serverLedger() {
  try {
    const r = await fetch('/v1/ledger', { headers: { Accept: 'application/json' } });
    if (!r.ok) return null;
    const v = await r.json();
    return v.type === 'success' && v.enabled === true ? v : null;
  } catch {
    return null;
  }
}

/** A call to the server's ledger API with the API token; a failure answer becomes an Error with
 *  the server's (Chinese) message. */
export async function ledgerApi(method, path, token, body) {
  const r = await fetch(path, {
    method,
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.trim()}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const v = await r.json().catch(() => ({}));
  if (v.type !== 'success') throw new Error(v.errors?.[0]?.message ?? `服务器返回 ${r.status}`);
  return v;
}

/** A screen reader's voice for a page: `announcer(region)` gives `announce(text)`, which speaks
 *  through the polite live region once typing pauses, so a reader hears the latest finding rather
 *  than one per keystroke. */
export function announcer(region) {
  let pending = 0;
  return (text) => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      // A changed text is what a live region announces; the same text twice is spoken again.
      region.textContent = region.textContent === text ? `${text}\u200b` : text;
    }, 600);
  };
}

/** Hands `text` to the browser as a download named `name` (a file the user keeps; nothing is sent). */
export function saveFile(name, type, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
