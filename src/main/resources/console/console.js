// The eventline operator console: no framework, no build step, nothing fetched from elsewhere.
// Everything shown from the server is set as text (never as HTML): event data, keys and errors come from
// producers and handlers, and are not trusted.
'use strict';

const TOKEN_KEY = 'eventline.console.token';
/** The most a feed may hold unparsed: a snapshot is about 150 bytes per partition; more means something is wrong. */
const MAX_PENDING = 64 * 1024 * 1024;
/** The server sends a snapshot every second: this long without one, and the feed is taken as lost. */
const SILENCE_MS = 5000;
const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  feed: null, // the AbortController of the open feed
  retryMs: 1000,
  snapshot: null,
  listed: [], // the dead letters shown
  search: null, // the function and filter that listed them: what the actions apply to
  watchdog: null,
  articles: new Map(), // function name -> its article's parts
};

// --- talking to the server --------------------------------------------------------------------------------

class Unauthorized extends Error {}

async function api(method, path, body) {
  const headers = { Authorization: 'Bearer ' + state.token };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) throw new Unauthorized('the admin token does not match');
  let answer = null;
  try { answer = await res.json(); } catch (e) { answer = null; }
  if (!res.ok) {
    const why = answer && (answer.detail || answer.message || answer.error);
    throw new Error(res.status + (why ? ': ' + why : ''));
  }
  return answer;
}

function fnPath(fn) {
  return '/admin/functions/' + encodeURIComponent(fn);
}

/** Reads the feed until it ends; then connects again, later and later (at most every 10 s). */
async function connect() {
  if (state.feed) state.feed.abort();
  const controller = new AbortController();
  state.feed = controller;
  let res;
  try {
    res = await fetch('/admin/console/stream', { headers: { Authorization: 'Bearer ' + state.token },
      cache: 'no-store', signal: controller.signal });
  } catch (e) {
    return reconnect(controller, 'the server cannot be reached');
  }
  if (res.status === 401) {
    signOut('The admin token does not match.');
    return;
  }
  if (!res.ok) {
    return reconnect(controller, 'the feed was refused (' + res.status + ')');
  }
  showMain();
  state.retryMs = 1000;
  setStatus('live');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  const silence = () => {
    clearTimeout(state.watchdog);
    state.watchdog = setTimeout(() => controller.abort('silent'), SILENCE_MS);
  };
  silence();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      silence();
      pending += value;
      let end;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        onMessage(pending.slice(0, end));
        pending = pending.slice(end + 2);
      }
      if (pending.length > MAX_PENDING) throw new Error('the feed sent an over-long message');
    }
  } catch (e) {
    if (controller.signal.aborted && controller.signal.reason !== 'silent') return;
  }
  clearTimeout(state.watchdog);
  if (controller.signal.reason === 'silent') {
    state.feed = null;
    setStatus('no snapshot for ' + SILENCE_MS / 1000 + ' s; reconnecting…');
    setTimeout(() => { if (state.token && !state.feed) connect(); }, 1000);
    return;
  }
  reconnect(controller, 'the feed ended');
}

function reconnect(controller, why) {
  if (state.feed !== controller || controller.signal.aborted) return;
  setStatus(why + '; reconnecting…');
  setTimeout(() => { if (state.feed === controller) connect(); }, state.retryMs);
  state.retryMs = Math.min(10000, state.retryMs * 2);
}

function onMessage(block) {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  try {
    if (event === 'snapshot' && data) render(JSON.parse(data));
    else if (event === 'failure' && data) setStatus('not live: ' + JSON.parse(data).message);
  } catch (e) {
    setStatus('a snapshot could not be read: ' + e.message);
  }
}

// --- signing in and out -------------------------------------------------------------------------------------

function signIn(token) {
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  setStatus('connecting…');
  connect();
}

function signOut(message) {
  if (state.feed) state.feed.abort();
  clearTimeout(state.watchdog);
  state.feed = null;
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  // nothing read with the token stays on the page
  state.articles.forEach((parts) => parts.article.remove());
  state.articles.clear();
  state.listed = [];
  state.search = null;
  pendingConfirm = null;
  $('dl-rows').replaceChildren();
  $('dl-summary').textContent = '';
  $('dl-message').textContent = '';
  $('dl-confirm').hidden = true;
  $('dl-detail').hidden = true;
  $('dl-detail-data').textContent = '';
  $('dl-detail-headers').replaceChildren();
  $('main').hidden = true;
  $('sign-out').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('token').value = '';
  setStatus('signed out');
}

function showMain() {
  $('login').hidden = true;
  $('main').hidden = false;
  $('sign-out').hidden = false;
  $('login-error').textContent = '';
}

function setStatus(text) {
  $('status').textContent = text;
}

/** Runs an action; a wrong token signs out, other failures are said where the action was asked. */
async function act(where, work) {
  try {
    await work();
  } catch (e) {
    if (e instanceof Unauthorized) signOut('The admin token does not match (was it changed?).');
    else where.textContent = 'Failed: ' + e.message;
  }
}

// --- functions and partitions -------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c);
  return node;
}

function fixed(n, digits) {
  return typeof n === 'number' && isFinite(n) ? n.toFixed(digits) : '–';
}

function render(snapshot) {
  state.snapshot = snapshot;
  $('instance').textContent = snapshot.instance || 'unnamed';
  setStatus('live · broker ' + snapshot.broker + ' · ' + new Date(snapshot.at).toLocaleTimeString()
    + (snapshot.readsReports ? '' : ' · this instance runs no gate: it hears no progress reports, so owners and events '
      + 'in hand are unknown here'));
  const names = snapshot.functions.map((f) => f.name);
  fillFunctionChoice(names);
  for (const [name, parts] of state.articles) {
    if (!names.includes(name)) {
      parts.article.remove();
      state.articles.delete(name);
    }
  }
  for (const f of snapshot.functions) renderFunction(f);
}

function fillFunctionChoice(names) {
  const select = $('dl-function');
  const shown = Array.from(select.options).map((o) => o.value);
  if (shown.join('\n') === names.join('\n')) return;
  const chosen = select.value;
  select.replaceChildren(...names.map((n) => el('option', { value: n, textContent: n })));
  if (names.includes(chosen)) select.value = chosen;
}

function article(name) {
  let parts = state.articles.get(name);
  if (parts) return parts;
  const message = el('p', { class: 'message', role: 'status' });
  const intake = (paused) => act(message, async () => {
    await api('POST', fnPath(name) + '/intake', { paused });
    message.textContent = paused ? 'Intake paused: the gates answer 503 for its events.' : 'Intake resumed.';
  });
  const actions = el('div', { class: 'actions' },
    el('button', { type: 'button', textContent: 'Pause intake', 'data-action': 'pause', onclick: () => intake(true) }),
    el('button', { type: 'button', textContent: 'Resume intake', 'data-action': 'resume',
      onclick: () => intake(false) }),
    el('button', { type: 'button', textContent: 'Drain', 'data-action': 'drain', onclick: () => act(message, async () => {
      await api('POST', fnPath(name) + '/intake', { paused: true });
      message.textContent = 'Draining: intake paused; the consumers finish what is queued.';
    }) }));
  parts = {
    title: el('h3', {}, name),
    badges: el('span'),
    stats: el('div', { class: 'stats' }),
    partitions: el('tbody'),
    decisions: el('tbody'),
    message,
  };
  parts.title.append(parts.badges);
  parts.article = el('article', { class: 'function', 'data-function': name }, parts.title, parts.stats, actions,
    message,
    el('table', { class: 'partitions' }, el('thead', {}, row('th', ['partition', 'owner', 'depth', 'in hand',
      'lag (s)', 'window', 'ms per event', 'dead-letter queue full'])), parts.partitions),
    el('h4', {}, 'Gate decisions (this instance, since it started)'),
    el('table', { class: 'decisions' }, el('thead', {}, row('th', ['producer', 'admitted', 'delayed',
      '429 throttled', '503 unavailable'])), parts.decisions));
  $('functions').append(parts.article);
  state.articles.set(name, parts);
  return parts;
}

function row(cell, values, numeric) {
  return el('tr', {}, ...values.map((v, i) => el(cell, numeric && numeric[i] ? { class: 'num' } : {},
    v === null || v === undefined ? '–' : String(v))));
}

function stat(label, value, name) {
  return el('span', { 'data-stat': name }, label + ' ', el('b', {}, value));
}

function renderFunction(f) {
  const parts = article(f.name);
  const badges = [el('span', { class: 'badge' }, f.mode)];
  if (f.stale) {
    badges.push(el('span', { class: 'badge bad', 'data-state': 'stale' }, f.readingAgeSeconds < 0 ? 'no reading yet'
      : 'readings ' + Math.round(f.readingAgeSeconds) + ' s old: the broker cannot be read'));
  }
  if (f.paused) {
    badges.push(f.drained ? el('span', { class: 'badge good', 'data-state': 'drained' }, 'paused · drained')
      : el('span', { class: 'badge warn', 'data-state': 'draining' }, 'paused · draining'));
  } else {
    badges.push(el('span', { class: 'badge', 'data-state': 'open' }, 'taking events'));
  }
  if (f.blockedPartitions > 0) badges.push(el('span', { class: 'badge bad' }, 'dead-letter queue full'));
  parts.badges.replaceChildren(...badges);
  parts.stats.replaceChildren(
    stat('depth', String(f.depth), 'depth'),
    stat('in retry delay', f.delayed < 0 ? '–' : String(f.delayed), 'delayed'),
    stat('drain', fixed(f.drainPerSecond, 1) + '/s', 'drain'),
    stat('lag', fixed(f.lagSeconds, 2) + ' s (target ' + f.latencyTargetMs + ' ms)', 'lag'),
    stat('dead letters', (f.deadLetters < 0 ? '–' : f.deadLetters) + ' of ' + f.deadLetterMax, 'dead-letters'),
    stat('instances', String(f.instances.length), 'instances'));
  parts.partitions.replaceChildren(...f.partitions.map((p) => {
    const r = row('td', [p.index, p.owner || 'none', p.depth < 0 ? '–' : p.depth, p.inHand ? 'yes' : 'no',
      p.inHand ? fixed(p.lagSeconds, 2) : '0', p.window, fixed(p.callMillis, 1), p.blocked ? 'waiting' : 'no'],
      [true, false, true, false, true, true, true, false]);
    r.setAttribute('data-partition', String(p.index));
    r.children[2].setAttribute('data-depth', String(p.depth));
    return r;
  }));
  parts.decisions.replaceChildren(...f.decisions.map((d) => row('td', [d.producer, d.accepted, d.delayed,
    d.throttled, d.unavailable], [false, true, true, true, true])));
}

// --- dead letters -------------------------------------------------------------------------------------------

function filters() {
  const f = {};
  for (const name of ['type', 'key', 'error', 'since', 'until']) {
    const v = $('dl-' + name).value.trim();
    if (v) f[name] = v;
  }
  return f;
}

async function search() {
  const fn = $('dl-function').value;
  const filter = filters();
  $('dl-detail').hidden = true;
  $('dl-confirm').hidden = true;
  pendingConfirm = null;
  const query = new URLSearchParams({ ...filter, limit: '200' });
  const page = await api('GET', fnPath(fn) + '/dead-letters?' + query);
  state.listed = page.events;
  state.search = { fn, filter, depth: page.depth };
  $('dl-summary').textContent = page.events.length + ' shown of ' + page.depth + ' in ' + fn + '’s dead-letter queue'
    + (page.more ? ' (more match: narrow the filter)' : '');
  $('dl-select-all').checked = false;
  $('dl-rows').replaceChildren(...page.events.map((e) => {
    const known = typeof e.id === 'string' && e.id !== '';
    const open = known ? el('button', { type: 'button', class: 'link', textContent: e.id,
      onclick: () => act($('dl-message'), () => showEvent(fn, e.id)) }) : el('span', {}, '(no id)');
    const r = el('tr', known ? { 'data-id': e.id } : {},
      el('td', {}, known ? el('input', { type: 'checkbox', class: 'pick', value: e.id }) : ''),
      el('td', {}, open), ...[e.type, e.key, e.reason, e.attempts, e.lastFailure, e.replays]
        .map((v) => el('td', {}, v === null || v === undefined ? '–' : String(v))));
    return r;
  }));
}

async function showEvent(fn, id) {
  const d = await api('GET', fnPath(fn) + '/dead-letters/event?' + new URLSearchParams({ id }));
  $('dl-detail-id').textContent = d.event.id;
  const history = [['type', d.event.type], ['key', d.event.key], ['reason', d.event.reason],
    ['attempts', d.event.attempts], ['error', [d.event.errorClass, d.event.errorMessage].filter(Boolean).join(': ')],
    ['first failure', d.event.firstFailure], ['last failure', d.event.lastFailure],
    ['from queue', d.event.originalQueue], ['replays', d.event.replays], ['size', d.event.bytes + ' bytes']];
  $('dl-detail-history').replaceChildren(...history.flatMap(([k, v]) => [el('dt', {}, k),
    el('dd', {}, v === null || v === undefined || v === '' ? '–' : String(v))]));
  $('dl-detail-encoding').textContent = '(' + (d.contentType || 'no content type') + ', ' + d.encoding
    + (d.truncated ? ', first 64 KiB' : '') + ')';
  let data = d.data;
  if (d.encoding === 'utf-8') {
    try { data = JSON.stringify(JSON.parse(d.data), null, 2); } catch (e) { data = d.data; }
  }
  $('dl-detail-data').textContent = data;
  $('dl-detail-headers').replaceChildren(...Object.entries(d.headers).map(([k, v]) => row('td', [k, v])));
  $('dl-detail').hidden = false;
}

function picked() {
  return Array.from(document.querySelectorAll('#dl-rows input.pick:checked')).map((c) => c.value);
}

/** What the actions apply to: the last search's function, and its ticked events or its whole filter. */
function target(selectedOnly) {
  if (!state.search) throw new Error('search first: actions apply to the events listed');
  if (selectedOnly) {
    const ids = picked();
    if (ids.length === 0) throw new Error('tick the events first');
    return { fn: state.search.fn, sel: { ids } };
  }
  const f = state.search.filter;
  return { fn: state.search.fn, sel: Object.keys(f).length ? { ...f } : { all: true } };
}

function describe(sel) {
  if (sel.ids) return sel.ids.length + ' ticked event' + (sel.ids.length === 1 ? '' : 's');
  if (sel.all) return 'every event';
  return 'every event matching ' + Object.entries(sel).map(([k, v]) => k + ' "' + v + '"').join(', ');
}

async function replay(fn, sel) {
  const rate = parseInt($('dl-rate').value, 10);
  const r = await api('POST', fnPath(fn) + '/dead-letters/replay',
    { ...sel, ratePerSecond: Number.isFinite(rate) && rate > 0 ? rate : undefined });
  $('dl-message').textContent = 'Replayed ' + r.replayed + ' of ' + r.matched + ' matching'
    + (r.skipped.length ? '; skipped: ' + r.skipped.join('; ') : '') + (r.more ? '; more remain' : '') + '.';
  await search();
}

async function purge(fn, sel, typed) {
  // the server checks the confirmation: what was typed is sent as it is
  const r = await api('POST', fnPath(fn) + '/dead-letters/purge', { ...sel, confirm: typed });
  $('dl-message').textContent = 'Purged ' + r.purged + ' of ' + r.matched + ' matching' + (r.more ? '; more remain' : '')
    + '.';
  await search();
}

/** An action that waits for a second click (and, for a purge, the function's name typed). */
let pendingConfirm = null;

function askConfirm(text, needsName, run) {
  pendingConfirm = { needsName, run };
  $('dl-confirm-text').textContent = text;
  $('dl-confirm-name').hidden = !needsName;
  $('dl-confirm-input').value = '';
  $('dl-confirm-go').textContent = needsName ? 'Purge for good' : 'Replay';
  $('dl-confirm').hidden = false;
  (needsName ? $('dl-confirm-input') : $('dl-confirm-go')).focus();
}

function askPurge(selectedOnly) {
  const { fn, sel } = target(selectedOnly);
  askConfirm('Purging deletes ' + describe(sel) + ' from the dead-letter queue of ' + fn + ', for good.', true,
    (typed) => purge(fn, sel, typed));
}

function askReplay(selectedOnly) {
  const { fn, sel } = target(selectedOnly);
  if (sel.all) {
    askConfirm('Replay every event in the dead-letter queue of ' + fn + ' (' + state.search.depth + ' now)?', false,
      () => replay(fn, sel));
    return;
  }
  return replay(fn, sel);
}

async function confirmed() {
  if (!pendingConfirm) return;
  const { run } = pendingConfirm;
  $('dl-message').textContent = '';
  await run($('dl-confirm-input').value);
  pendingConfirm = null;
  $('dl-confirm').hidden = true;
}

// --- wiring -------------------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    $('login-error').textContent = '';
    signIn($('token').value.trim());
  });
  $('sign-out').addEventListener('click', () => signOut(''));
  $('dl-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    $('dl-message').textContent = '';
    act($('dl-message'), search);
  });
  $('dl-select-all').addEventListener('change', (e) => {
    document.querySelectorAll('#dl-rows input.pick').forEach((c) => { c.checked = e.target.checked; });
  });
  $('dl-replay-selected').addEventListener('click', () => act($('dl-message'), async () => askReplay(true)));
  $('dl-replay-matching').addEventListener('click', () => act($('dl-message'), async () => askReplay(false)));
  $('dl-purge-selected').addEventListener('click', () => act($('dl-message'), async () => askPurge(true)));
  $('dl-purge-matching').addEventListener('click', () => act($('dl-message'), async () => askPurge(false)));
  $('dl-confirm-go').addEventListener('click', () => act($('dl-message'), confirmed));
  $('dl-confirm-cancel').addEventListener('click', () => {
    pendingConfirm = null;
    $('dl-confirm').hidden = true;
    $('dl-message').textContent = 'Nothing was done.';
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
});
