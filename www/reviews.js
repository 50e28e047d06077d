// Reviewers' work on scored calls: a verdict on each finding (确认 / 误报), notes on a call or a
// finding, a score adjusted with its reason — every change with who and when. Kept in this
// browser (IndexedDB) when the page is opened alone, and in the server's store (/v1/reviews) when
// it is served by `callguard serve --db` and the API token is given, so a QA team shares them.

import { serverLedger, ledgerApi } from './common.js';

const $ = (id) => document.getElementById(id);

let server = false;
let db = null;

/** Asks the server whether it keeps reviews; opens the browser's store either way. */
export async function openReviews() {
  server = (await serverLedger()) !== null;
  $('review-token-row').hidden = !server;
  $('reviewer').value = localStorage.getItem('callguard.reviewer') ?? '';
  $('reviewer').addEventListener('input', () => localStorage.setItem('callguard.reviewer', $('reviewer').value));
  $('review-token').value = sessionStorage.getItem('callguard.review-token') ?? '';
  $('review-token').addEventListener('input', () => sessionStorage.setItem('callguard.review-token', $('review-token').value));
  db = await new Promise((resolve, reject) => {
    const open = indexedDB.open('callguard-reviews', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('events', { keyPath: 'id' }).createIndex('call_key', 'call_key');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

/** Where reviews go now, for the page to say. */
export function reviewsWhere() {
  return usingServer() ? '复核记录保存在服务器，团队共享' : '复核记录保存在本浏览器';
}

function usingServer() {
  return server && $('review-token').value.trim() !== '';
}

function api(method, path, body) {
  return ledgerApi(method, path, $('review-token').value, body);
}

function tx(mode) {
  return db.transaction('events', mode).objectStore('events');
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** A call's key: the sha256 of the file's content, so the same file is the same call anywhere. */
export async function callKey(content) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(content));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A finding's key within its call. */
export function findingKey(f) {
  return `${f.rule}@${f.turn ?? ''}:${f.start}-${f.end}`;
}

/** Every change to these calls, oldest first. */
export async function loadReviews(keys) {
  if (!keys.length) return [];
  if (usingServer()) {
    const out = [];
    for (let i = 0; i < keys.length; i += 200) {
      const v = await api('GET', `/v1/reviews?call_key=${keys.slice(i, i + 200).join(',')}`);
      out.push(...v.reviews);
    }
    return out;
  }
  const index = tx('readonly').index('call_key');
  const lists = await Promise.all(keys.map((k) => request(index.getAll(k))));
  return lists.flat().sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
}

let sequence = 0;

/** Records one change; returns it as stored. */
export async function addReview(change) {
  const reviewer = $('reviewer').value.trim();
  if (!reviewer) throw new Error('请先填写复核人姓名');
  // The same checks as the server's, so a review kept in the browser is one it would accept.
  if (change.kind === 'score') {
    const { score, reason } = change.value;
    if (!Number.isInteger(score) || score < 0 || score > 100 || !reason) throw new Error('调整分数需要 0–100 的整数和调整原因');
  }
  if (change.kind === 'note' && (change.value.note ?? '').length > 4000) throw new Error('备注太长：最多 4000 字');
  const event = { ...change, reviewer };
  if (usingServer()) return (await api('POST', '/v1/reviews', event)).review;
  const at = new Date().toISOString();
  const stored = { ...event, id: `${Date.now().toString(16).padStart(13, '0')}-${(sequence++).toString(16).padStart(6, '0')}`, at };
  await request(tx('readwrite').put(stored));
  return stored;
}

/** What stands for one call: the latest verdict and note per finding, the call's note and score. */
export function standing(events) {
  const out = { verdicts: {}, notes: {}, callNote: null, score: null, history: events };
  for (const e of events) {
    if (e.kind === 'verdict') out.verdicts[e.finding_key] = e;
    else if (e.kind === 'note' && e.finding_key) out.notes[e.finding_key] = e;
    else if (e.kind === 'note') out.callNote = e;
    else if (e.kind === 'score') out.score = e;
  }
  return out;
}
