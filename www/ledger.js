// The calling clock's link to the server's contact ledger (`callguard serve --db`). When the page
// is served by such a server, the clock counts every attempt the ledger holds for the debtor —
// all collectors' and dialers' — and the record buttons write there; opened alone, the page keeps
// its own local list. The API token and the debtor stay in this tab only (sessionStorage).

import { serverLedger, ledgerApi } from './common.js';

const $ = (id) => document.getElementById(id);

export const ledger = { enabled: false, backend: null };

const BACKEND = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

/** Asks the server whether it keeps a ledger; a page opened alone (no API) stays local. */
export async function detectLedger() {
  const info = await serverLedger();
  ledger.enabled = info !== null;
  ledger.backend = info?.backend ?? null;
  if (ledger.enabled) {
    $('ledger-fields').hidden = false;
    $('local-history-row').hidden = true;
    // The number is never kept, even in the tab: it is typed for each call.
    for (const id of ['ledger-debtor', 'ledger-token']) {
      $(id).value = sessionStorage.getItem(`callguard.${id}`) ?? '';
      $(id).addEventListener('input', () => sessionStorage.setItem(`callguard.${id}`, $(id).value));
    }
  }
  return ledger.enabled;
}

/** Whether the clock should ask the ledger: a server with one, a debtor and a token given. */
export function ledgerReady() {
  return ledger.enabled && $('ledger-debtor').value.trim() !== '' && $('ledger-token').value.trim() !== '';
}

/** Where the clock's counts come from, for the panel. */
export function ledgerStatus() {
  if (!ledger.enabled) return '';
  if (!ledgerReady()) return `本服务器有联系记录库（${BACKEND[ledger.backend] ?? ledger.backend}）：填写客户编号和 API 令牌后，按全部坐席与外呼系统的记录计数；未填写时只计本机记录。`;
  return '';
}

function call(method, path, body) {
  return ledgerApi(method, path, $('ledger-token').value, body);
}

function debtorPhone() {
  const phone = $('ledger-phone').value.trim();
  return { debtor_id: $('ledger-debtor').value.trim(), ...(phone ? { phone } : {}) };
}

/** A gate decision on the ledger's history (stored by the server as evidence). */
export function ledgerGate(contact) {
  const { history, phone, ...rest } = contact;
  return call('POST', '/v1/gate', { ...rest, ...debtorPhone() });
}

/** Records an attempt in the ledger. */
export function ledgerRecord(attempt) {
  const { phone, ...rest } = attempt;
  return call('POST', '/v1/contacts', { ...rest, ...debtorPhone() });
}

/** Says whose attempts were counted: how many records, from how many collectors. */
export async function ledgerCounted() {
  const { debtor_id } = debtorPhone();
  const limit = 5000;
  const v = await call('GET', `/v1/contacts?debtor_id=${encodeURIComponent(debtor_id)}&limit=${limit}`);
  const collectors = new Set(v.contacts.map((c) => c.collector_id ?? '（未登记坐席）'));
  const count = v.contacts.length >= limit ? `最近 ${limit} 条记录` : `全部记录 ${v.contacts.length} 条`;
  return `按联系记录库（${BACKEND[ledger.backend] ?? ledger.backend}）计数：客户 ${debtor_id} 的${count}，来自 ${collectors.size} 个坐席或外呼系统；本次判断已存档。`;
}
