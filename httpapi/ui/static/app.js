// The registry's web page: plain JavaScript over the native API (/v1), no
// framework and no build step. Every request carries the bearer token the
// user typed, so the page sees and does only what that principal may.
//
// Views follow location.hash: #/ (home), #/ns/<namespace>, #/a/<id>.
'use strict';

const TOKEN_KEY = 'registry.token';
const SUBTREE_LIMIT = 300; // containment nodes drawn at most
const SUBTREE_REQUESTS = 60; // child lists read at most, 6 at a time
const SCAN_PAGES = 10; // namespace scan: pages of 1,000 artifacts

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  session: 0, // counts sign-ins and sign-outs: an answer for an earlier one is dropped
  namespaces: null, // [{name, live, deleted}]
  nsCursor: { namespace: '', cursor: '', before: '', page: null },
  artifact: null, // the artifact on view
  nodes: new Map(), // id -> artifact drawn
  cy: null,
  preview: null, // {id, query, key, result, stale, done}
  ops: new Map(), // operation -> {operation, time, principal, reason, soft: [], hard: []}
  latest: new Map(), // artifact id -> its latest delete or restore event
  lastSeq: 0,
  events: null, // AbortController of the event stream
  restoreKeys: new Map(), // operation -> Idempotency-Key of its restore
};

// ---- small helpers ----

const $ = (sel, root = document) => root.querySelector(sel);

// h builds an element; text is always set as text, never as HTML.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// uuid returns a random UUID: crypto.randomUUID where the page is a secure
// context (https, localhost, 127.0.0.1), getRandomValues elsewhere.
function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmtTime = (t) => (t ? new Date(t).toLocaleString() : '');
const fqnOf = (a) => [a.namespace, a.name, a.version].filter((p) => p).map((p) => (p.includes('.') ? `"${p}"` : p)).join('.');
const short = (a) => (a.version ? `${a.name} v${a.version}` : a.name);

class APIError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// api calls the native API and returns the decoded JSON body; an error
// status throws an APIError carrying the problem details.
async function api(method, path, { query = {}, headers = {} } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const res = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, Accept: 'application/json', ...headers },
    cache: 'no-store',
  });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const problem = body && typeof body === 'object' ? body : { title: res.statusText, detail: text.slice(0, 300) };
    if (res.status === 401) signOut('The server did not accept the token: ' + (problem.detail || problem.title));
    throw new APIError(res.status, problem);
  }
  return body;
}

const enc = encodeURIComponent;

function showError(err) {
  const box = $('#error');
  if (!err) {
    box.hidden = true;
    return;
  }
  const p = err.problem || {};
  box.textContent = p.code ? `${p.code} (${err.status}): ${err.message}` : String(err.message || err);
  box.hidden = false;
}

function notice(text) {
  const box = $('#notice');
  box.textContent = text || '';
  box.hidden = !text;
}

// ---- sign in and out ----

async function signIn(token) {
  state.token = token;
  try {
    await api('GET', '/v1/artifacts', { query: { limit: 1 } });
  } catch (err) {
    if (err.status !== 401) showError(err);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  showError(null);
  start();
}

function signOut(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  state.session++;
  if (state.events) state.events.abort();
  state.events = null;
  state.ops.clear();
  state.latest.clear();
  state.lastSeq = 0;
  state.namespaces = null;
  if (state.cy) state.cy.destroy();
  state.cy = null;
  state.artifact = null;
  clearPreview();
  crumbs();
  $('#namespaces').replaceChildren();
  $('#operations').replaceChildren();
  $('#artifacts tbody').replaceChildren();
  $('#app').hidden = true;
  $('#session').hidden = true;
  $('#login').hidden = false;
  $('#welcome').hidden = false;
  $('#token').value = '';
  notice('');
  showError(why ? new Error(why) : null);
}

function start() {
  state.session++;
  $('#login').hidden = true;
  $('#session').hidden = false;
  $('#welcome').hidden = true;
  $('#app').hidden = false;
  followEvents();
  loadNamespaces().then(route);
}

// ---- routing ----

function route() {
  if (!state.token) return;
  showError(null);
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  for (const id of ['#home-view', '#namespace-view', '#artifact-view']) $(id).hidden = true;
  if (parts[0] === 'ns' && parts[1] !== undefined) return showNamespace(decodeURIComponent(parts[1]));
  if (parts[0] === 'a' && parts[1]) return showArtifact(decodeURIComponent(parts[1]));
  crumbs();
  markNamespace('');
  $('#home-view').hidden = false;
}

function crumbs(namespace, artifact) {
  const nav = $('#crumbs');
  nav.replaceChildren();
  if (namespace !== undefined) nav.append(h('a', { href: `#/ns/${enc(namespace)}` }, namespace));
  if (artifact) nav.append(' / ', short(artifact));
}

// ---- namespaces ----

// loadNamespaces scans the artifact list (every state) for its namespaces:
// the native API has no list of namespaces, and a principal sees only its
// own anyway.
async function loadNamespaces() {
  const session = state.session;
  const counts = new Map();
  let cursor = '';
  let pages = 0;
  try {
    do {
      const page = await api('GET', '/v1/artifacts', { query: { include: 'all', limit: 1000, cursor } });
      for (const a of page.data) {
        const c = counts.get(a.namespace) || { name: a.namespace, live: 0, deleted: 0 };
        if (a.deleted) c.deleted++;
        else c.live++;
        counts.set(a.namespace, c);
      }
      cursor = page.after && page.next ? page.after : '';
      pages++;
    } while (cursor && pages < SCAN_PAGES);
  } catch (err) {
    if (session === state.session) showError(err);
  }
  if (session !== state.session) return;
  state.namespaces = [...counts.values()].sort((a, b) => a.name.localeCompare(b.name));
  $('#namespaces-note').textContent = cursor ? `the first ${pages * 1000} artifacts scanned` : '';
  const list = $('#namespaces');
  list.replaceChildren(
    ...state.namespaces.map((n) =>
      h('li', { dataset: { ns: n.name } },
        h('a', { href: `#/ns/${enc(n.name)}`, dataset: { ns: n.name } }, n.name),
        h('span', { class: 'count' }, `${n.live}${n.deleted ? ` + ${n.deleted} deleted` : ''}`))),
  );
  if (!state.namespaces.length) list.append(h('li', {}, 'none visible to this token'));
}

function markNamespace(ns) {
  for (const li of document.querySelectorAll('#namespaces li')) li.classList.toggle('current', li.dataset.ns === ns);
}

// ---- one namespace ----

async function showNamespace(ns, { cursor = '', before = '' } = {}) {
  crumbs(ns);
  markNamespace(ns);
  $('#namespace-title').textContent = `Namespace ${ns}`;
  const include = $('#show-deleted').checked ? 'all' : 'non-deleted';
  const session = state.session;
  let page;
  try {
    page = await api('GET', '/v1/artifacts', { query: { namespace: ns, include, limit: 50, cursor, before } });
  } catch (err) {
    return session === state.session && showError(err);
  }
  if (session !== state.session) return;
  state.nsCursor = { namespace: ns, page };
  const names = new Map(page.data.map((a) => [a.id, a]));
  const rows = page.data.map((a) =>
    h('tr', { class: a.deleted ? 'deleted' : '' },
      h('td', {}, h('a', { href: `#/a/${a.id}`, dataset: { id: a.id, fqn: fqnOf(a) } }, a.name)),
      h('td', {}, a.kind),
      h('td', {}, a.version || '—'),
      h('td', {}, stateBadge(a)),
      h('td', {}, a.parent ? h('a', { href: `#/a/${a.parent}` }, names.has(a.parent) ? short(names.get(a.parent)) : 'parent') : ''),
      h('td', {}, fmtTime(a.updatedAt))));
  $('#artifacts tbody').replaceChildren(...rows);
  if (!rows.length) $('#artifacts tbody').append(h('tr', {}, h('td', { colspan: 6 }, 'no artifacts')));
  $('#prev-page').disabled = !page.prev;
  $('#next-page').disabled = !page.next;
  $('#namespace-view').hidden = false;
}

function stateBadge(a) {
  if (a.deleted) return h('span', { class: 'badge deleted' }, 'soft deleted');
  if (a.endpoints && a.endpoints.length) {
    const n = a.endpoints.length;
    return h('span', { class: 'badge deployed', title: a.endpoints.join('\n') }, n === 1 ? 'deployed' : `deployed ×${n}`);
  }
  return h('span', { class: 'badge' }, 'live');
}

// ---- one artifact ----

async function showArtifact(id) {
  $('#artifact-view').hidden = false;
  const session = state.session;
  let a;
  try {
    a = await api('GET', `/v1/artifacts/${enc(id)}`, { query: { include: 'all' } });
  } catch (err) {
    if (session !== state.session) return;
    $('#artifact-view').hidden = true;
    state.artifact = null;
    crumbs();
    if (err.status === 404) {
      showError(new Error(`NOT_FOUND: no artifact ${id} that this token may read: it never existed, was deleted for good, or is in a namespace outside the token's.`));
      return;
    }
    return showError(err);
  }
  if (session !== state.session) return;
  const same = state.artifact && state.artifact.id === a.id;
  state.artifact = a;
  crumbs(a.namespace, a);
  markNamespace(a.namespace);
  $('#artifact-title').textContent = fqnOf(a);
  $('#artifact-state').replaceWith(Object.assign(stateBadge(a), { id: 'artifact-state' }));
  $('#restore-artifact').hidden = !a.deleted;
  $('#delete-target').textContent = fqnOf(a);
  details(a);
  if (!same) {
    $('#delete-form').reset();
    formChanged();
    clearPreview();
  }
  await drawGraph(a);
  if (state.preview && state.preview.id === a.id && state.preview.result && !state.preview.done) paintPreview(state.preview.result);
}

function details(a) {
  const rows = [
    ['ID', h('code', {}, a.id)],
    ['kind', a.kind],
    ['revision', `${a.revision} (entity version ${(a.revision / 10).toFixed(1)})`],
    ['contained in', a.parent ? h('a', { href: `#/a/${a.parent}` }, a.parent) : '—'],
    ['endpoints', a.endpoints && a.endpoints.length ? a.endpoints.join(', ') : '—'],
    ['storage', a.storageUris && a.storageUris.length ? a.storageUris.join('\n') : '—'],
    ['updated', `${fmtTime(a.updatedAt)} by ${a.updatedBy}`],
  ];
  if (a.displayName) rows.splice(1, 0, ['display name', a.displayName]);
  if (a.description) rows.push(['description', a.description]);
  if (a.tags && a.tags.length) rows.push(['tags', a.tags.join(', ')]);
  if (a.owners && a.owners.length) rows.push(['owners', a.owners.join(', ')]);
  if (a.deletedUpstreams && a.deletedUpstreams.length) rows.push(['lost upstreams', a.deletedUpstreams.join('\n')]);
  if (a.deleted) {
    rows.push(['deleted', `${fmtTime(a.deletedAt)} by ${a.deletedBy}`]);
    rows.push(['operation', h('code', {}, a.deleteOperation || '')]);
    if (a.deleteReason) rows.push(['reason', a.deleteReason]);
  }
  $('#details').replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// gather reads what the graph draws: the artifact, its parent, its other
// versions, its containment subtree (breadth first, up to SUBTREE_LIMIT)
// and its lineage both ways to the chosen depth, every deletion state.
async function gather(a) {
  const nodes = new Map([[a.id, a]]);
  const roles = new Map([[a.id, 'focus']]);
  const depth = Math.min(10, Math.max(1, Number($('#depth').value) || 2));
  const [versions, lineage, parent] = await Promise.all([
    api('GET', `/v1/namespaces/${enc(a.namespace)}/names/${enc(a.name)}/versions`, { query: { include: 'all', limit: 1000 } }),
    api('GET', `/v1/artifacts/${enc(a.id)}/lineage`, { query: { direction: 'both', depth, include: 'all' } }),
    a.parent ? api('GET', `/v1/artifacts/${enc(a.parent)}`, { query: { include: 'all' } }).catch(() => null) : null,
  ]);
  for (const v of versions.data) if (!nodes.has(v.id)) nodes.set(v.id, v), roles.set(v.id, 'version');
  if (parent) nodes.set(parent.id, parent), roles.set(parent.id, 'parent');
  for (const n of lineage.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n), roles.set(n.id, 'lineage');
  // Breadth first, a few child lists at a time, within SUBTREE_LIMIT
  // nodes and SUBTREE_REQUESTS requests.
  let truncated = false;
  let frontier = [a.id];
  let drawn = 0;
  let requests = 0;
  while (frontier.length && !truncated) {
    const next = [];
    for (let i = 0; i < frontier.length && !truncated; i += 6) {
      const batch = frontier.slice(i, i + 6);
      if (requests + batch.length > SUBTREE_REQUESTS) {
        truncated = true;
        break;
      }
      requests += batch.length;
      const pages = await Promise.all(batch.map((pid) =>
        api('GET', '/v1/artifacts', { query: { parent: pid, include: 'all', limit: SUBTREE_LIMIT + 1 } })));
      for (const page of pages) {
        for (const c of page.data) {
          if (drawn >= SUBTREE_LIMIT) {
            truncated = true;
            break;
          }
          drawn++;
          if (!nodes.has(c.id)) nodes.set(c.id, c), roles.set(c.id, 'child');
          next.push(c.id);
        }
        if (page.next) truncated = true;
      }
    }
    frontier = next;
  }
  return { nodes, roles, edges: lineage.edges, versions: versions.data, truncated, depth };
}

async function drawGraph(a) {
  const session = state.session;
  let g;
  try {
    g = await gather(a);
  } catch (err) {
    return session === state.session && showError(err);
  }
  if (session !== state.session) return;
  $('#versions').replaceChildren(
    ...g.versions.map((v) =>
      h('li', { class: v.id === a.id ? 'current' : '' },
        h('a', { href: `#/a/${v.id}` }, v.version || '(unversioned)'), ' ', stateBadge(v))),
  );
  $('#graph-note').textContent = g.truncated ? `containment drawn in part (at most ${SUBTREE_LIMIT} artifacts); a preview adds what it names` : '';
  state.nodes = g.nodes;
  const elements = [];
  for (const [id, n] of g.nodes) elements.push(nodeElement(n, g.roles.get(id)));
  for (const e of g.edges) {
    if (g.nodes.has(e.upstream) && g.nodes.has(e.downstream)) {
      elements.push({ group: 'edges', data: { id: `l:${e.upstream}:${e.downstream}`, source: e.upstream, target: e.downstream }, classes: 'lineage' });
    }
  }
  for (const n of g.nodes.values()) {
    if (n.parent && g.nodes.has(n.parent)) elements.push(containsEdge(n));
  }
  for (const v of g.versions) {
    if (v.id !== a.id) elements.push({ group: 'edges', data: { id: `v:${a.id}:${v.id}`, source: a.id, target: v.id }, classes: 'version' });
  }
  render(elements);
}

function nodeElement(n, role) {
  const flags = [n.kind];
  if (n.deleted) flags.push('deleted');
  if (n.endpoints && n.endpoints.length) flags.push('deployed');
  const classes = [role || 'extra'];
  if (n.deleted) classes.push('deleted');
  if (n.endpoints && n.endpoints.length) classes.push('deployed');
  return {
    group: 'nodes',
    data: { id: n.id, kind: n.kind, label: `${short(n)}\n${flags.join(' · ')}`, base: `${short(n)}\n${flags.join(' · ')}` },
    classes: classes.join(' '),
  };
}

const containsEdge = (n) => ({ group: 'edges', data: { id: `c:${n.parent}:${n.id}`, source: n.parent, target: n.id }, classes: 'contains' });

const graphStyle = [
  { selector: 'node', style: {
    label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'center', 'text-halign': 'center', 'font-size': 11,
    color: '#1b2430', shape: 'round-rectangle', width: 'label', height: 'label', padding: '9px',
    'background-color': '#e3ebf8', 'border-width': 1, 'border-color': '#7a8ba6' } },
  { selector: 'node[kind = "dataset"]', style: { shape: 'barrel', 'background-color': '#e2f2e6' } },
  { selector: 'node[kind = "code"]', style: { shape: 'cut-rectangle', 'background-color': '#f1e8f8' } },
  { selector: 'node.deleted', style: { 'border-style': 'dashed', 'background-opacity': 0.45, color: '#6b7684' } },
  { selector: 'node.deployed', style: { 'border-width': 2, 'border-color': '#b35c00' } },
  { selector: 'node.focus', style: { 'border-width': 3, 'border-color': '#1f4ea3', 'font-weight': 'bold' } },
  { selector: 'edge', style: { width: 1.6, 'curve-style': 'bezier', 'line-color': '#5b7db1', 'target-arrow-color': '#5b7db1', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.9 } },
  { selector: 'edge.contains', style: { 'line-style': 'dashed', 'line-color': '#8c8c8c', 'target-arrow-color': '#8c8c8c', 'target-arrow-shape': 'none', 'source-arrow-shape': 'diamond', 'source-arrow-color': '#8c8c8c' } },
  { selector: 'edge.version', style: { 'line-style': 'dotted', 'line-color': '#aaa', 'target-arrow-shape': 'none' } },
  { selector: 'node.p-delete', style: { 'background-color': '#f4b9b2', 'background-opacity': 1, 'border-color': '#c0392b', 'border-width': 3 } },
  { selector: 'node.p-failed', style: { 'background-color': '#ffd98a', 'background-opacity': 1, 'border-color': '#d35400', 'border-width': 4, 'border-style': 'double' } },
  { selector: 'node.p-skipped', style: { 'background-color': '#e3e3e3', 'background-opacity': 1, 'border-color': '#777', 'border-width': 2, 'border-style': 'dashed' } },
  { selector: 'node.p-detached', style: { 'background-color': '#dcd0f5', 'background-opacity': 1, 'border-color': '#6c3fb5', 'border-width': 3 } },
  { selector: 'edge.p-cut', style: { 'line-color': '#c0392b', 'target-arrow-color': '#c0392b', 'line-style': 'dashed', width: 2.4 } },
  { selector: 'node.hover', style: { 'overlay-color': '#1f4ea3', 'overlay-opacity': 0.12, 'overlay-padding': 4 } },
];

function render(elements) {
  if (state.cy) state.cy.destroy();
  const container = $('#graph');
  container.dataset.ready = 'false';
  const cy = cytoscape({
    container,
    elements,
    style: graphStyle,
    wheelSensitivity: 0.3,
    minZoom: 0.2,
    maxZoom: 2.5,
  });
  state.cy = cy;
  layout();
  cy.on('tap', 'node', (e) => {
    const id = e.target.id();
    if (state.artifact && id !== state.artifact.id) location.hash = `#/a/${id}`;
  });
  cy.on('mouseover', 'node', (e) => {
    showTip(e.target);
    hoverPlan(e.target.id(), true);
  });
  cy.on('mouseout', 'node', (e) => {
    $('#tip').hidden = true;
    hoverPlan(e.target.id(), false);
  });
}

function layout() {
  const cy = state.cy;
  const l = cy.layout({ name: 'dagre', rankDir: 'LR', nodeSep: 18, rankSep: 70, edgeSep: 8, padding: 16, fit: true, animate: false });
  l.one('layoutstop', () => {
    if (cy.zoom() > 1.3) cy.zoom({ level: 1.3, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
    cy.center();
    const container = $('#graph');
    container.dataset.nodes = String(cy.nodes().length);
    container.dataset.edges = String(cy.edges().length);
    container.dataset.ready = 'true';
  });
  l.run();
}

function showTip(node) {
  const n = state.nodes.get(node.id());
  if (!n) return;
  const lines = [fqnOf(n), `${n.kind}${n.deleted ? ', soft deleted' : ''}${n.endpoints && n.endpoints.length ? `, deployed on ${n.endpoints.join(', ')}` : ''}`];
  const why = node.data('why');
  if (why) lines.push(why);
  const tip = $('#tip');
  tip.textContent = lines.join('\n');
  const p = node.renderedPosition();
  const graph = $('#graph');
  tip.style.left = `${graph.offsetLeft + Math.min(p.x + 14, graph.clientWidth - 200)}px`;
  tip.style.top = `${graph.offsetTop + p.y + 14}px`;
  tip.hidden = false;
}

function hoverPlan(id, on) {
  for (const li of document.querySelectorAll(`#plan li[data-id="${CSS.escape(id)}"]`)) li.classList.toggle('hover', on);
}

// ---- delete: form, preview, confirm ----

function formOptions() {
  const f = $('#delete-form').elements;
  const q = {};
  if (f.hard.checked) q.hard = 'true';
  if (f.recursive.checked) q.recursive = 'true';
  if (f.cascade.checked) {
    q.cascade = 'true';
    if (f.cascadeLimit.value) q.cascadeLimit = f.cascadeLimit.value;
  }
  if (f.hard.checked || f.cascade.checked) q.lineage = f.lineage.value;
  if (f.atomic.checked) q.atomic = 'true';
  if (f.reason.value) q.reason = f.reason.value;
  return q;
}

const sameQuery = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

// formChanged enables the options that apply, and makes a preview stale
// when the options differ from the previewed ones: Confirm sends only what
// was previewed.
function formChanged() {
  const f = $('#delete-form').elements;
  f.cascadeLimit.disabled = !f.cascade.checked;
  f.lineage.disabled = !(f.hard.checked || f.cascade.checked);
  const p = state.preview;
  if (p && !p.done) {
    p.stale = !sameQuery(p.query, formOptions());
    updateConfirm();
  }
}

function updateConfirm() {
  const p = state.preview;
  const btn = $('#confirm');
  const note = $('#preview-note');
  if (!p || !p.result) {
    btn.disabled = true;
    btn.textContent = 'Confirm';
    note.textContent = 'Preview first: Confirm sends exactly the previewed delete.';
    return;
  }
  if (p.done) {
    btn.disabled = true;
    btn.textContent = 'Done';
    note.textContent = '';
    return;
  }
  const n = p.result.delete_success_list.length;
  const failed = p.result.delete_failed_list.length;
  btn.textContent = `Confirm: ${p.query.hard ? 'delete for good' : 'delete'} ${n}${failed ? `, ${failed} failing` : ''}`;
  btn.disabled = p.stale || p.sending || n === 0;
  if (p.stale) note.textContent = 'The options changed since the preview: preview again.';
  else if (n === 0) note.textContent = p.result.problem ? 'The delete would fail: nothing would change.' : 'Nothing would be deleted.';
  else note.textContent = `Idempotency-Key ${p.key}: a retry or a second click deletes once.`;
}

function clearPreview() {
  state.preview = null;
  $('#plan').hidden = true;
  $('#result').hidden = true;
  if (state.cy) {
    state.cy.elements().removeClass('p-delete p-failed p-skipped p-detached p-cut');
    state.cy.nodes().forEach((n) => n.data({ label: n.data('base'), why: '' }));
  }
  updateConfirm();
}

// problemResult turns the error of a delete that targets one artifact (the
// registry returns its failure as the error) into the shape of a report.
function problemResult(id, err) {
  const p = err.problem || {};
  return {
    operation: '',
    hard: false,
    delete_success_list: [],
    deletedItems: [],
    delete_failed_list: [{ model_id: p.id || id, fullyQualifiedName: '', kind: '', error_code: p.code || String(err.status), error_message: err.message }],
    problem: p,
  };
}

async function preview(ev) {
  ev.preventDefault();
  const a = state.artifact;
  if (!a) return;
  showError(null);
  const query = formOptions();
  // The key is made with the preview and sent with it (a dry run checks it
  // and stores nothing), so that Confirm differs only by dryRun.
  const p = { id: a.id, query, key: uuid(), result: null, stale: false, done: false };
  $('#plan').dataset.state = 'loading';
  let result;
  try {
    result = await api('DELETE', `/v1/artifacts/${enc(a.id)}`, { query: { ...query, dryRun: 'true' }, headers: { 'Idempotency-Key': p.key } });
  } catch (err) {
    if (!err.problem || !err.problem.code || err.status === 400 || err.status === 401) {
      $('#plan').dataset.state = '';
      return showError(err);
    }
    // A failed atomic or single-target delete is an error that carries
    // its report (the problem's result member) when it has one.
    result = err.problem.result ? { ...err.problem.result, problem: err.problem } : problemResult(a.id, err);
  }
  clearPreview();
  p.result = result;
  state.preview = p;
  await addMissing(result);
  paintPreview(result);
  planList(result);
  updateConfirm();
}

// addMissing draws the artifacts a report names that the graph lacks
// (deeper children, dependents further down, versions past the page).
async function addMissing(r) {
  const ids = [...r.delete_success_list, ...r.delete_failed_list.map((f) => f.model_id), ...(r.skipped || []), ...(r.detached || [])]
    .filter((id) => id && !state.nodes.has(id))
    .slice(0, 200);
  if (!ids.length) return;
  const found = await Promise.all(ids.map((id) => api('GET', `/v1/artifacts/${enc(id)}`, { query: { include: 'all' } }).catch(() => null)));
  const add = [];
  for (const n of found) {
    if (!n || state.nodes.has(n.id)) continue;
    state.nodes.set(n.id, n);
    add.push(nodeElement(n, 'extra'));
  }
  for (const n of found) if (n && n.parent && state.nodes.has(n.parent)) add.push(containsEdge(n));
  if (add.length) {
    state.cy.add(add);
    layout();
  }
}

function paintPreview(r) {
  const cy = state.cy;
  if (!cy) return;
  const mark = (id, cls, why, tag) => {
    const n = cy.getElementById(id);
    if (!n.nonempty()) return;
    n.addClass(cls);
    n.data({ why, label: `${n.data('base')}\n${tag}` });
  };
  const deleted = new Set(r.delete_success_list);
  for (const id of r.delete_success_list) mark(id, 'p-delete', r.hard ? 'would be deleted for good' : 'would be soft deleted', r.hard ? '✗ delete for good' : '✗ soft delete');
  for (const f of r.delete_failed_list) mark(f.model_id, 'p-failed', `fails: ${f.error_code}: ${f.error_message}`, `⚠ ${f.error_code}`);
  for (const id of r.skipped || []) mark(id, 'p-skipped', `skipped: ${r.skipReason || 'past the cascade limit'}`, '– skipped');
  for (const id of r.detached || []) mark(id, 'p-detached', 'stays, and loses its upstream edges to what is deleted', '↯ detached');
  if (r.hard) cy.edges('.lineage').filter((e) => deleted.has(e.source().id()) || deleted.has(e.target().id())).addClass('p-cut');
}

function itemLabel(id, items, fallback) {
  const it = (items || []).find((i) => i.id === id);
  if (it) return it.fullyQualifiedName;
  const n = state.nodes.get(id);
  return n ? fqnOf(n) : fallback || id;
}

const PLAN_LIMIT = 500; // items listed per section of a plan

// capped lists the first PLAN_LIMIT items and says how many more there are.
function capped(tag, items, render) {
  const list = h(tag, {}, items.slice(0, PLAN_LIMIT).map(render));
  if (items.length > PLAN_LIMIT) list.append(h('li', { class: 'note' }, `and ${items.length - PLAN_LIMIT} more`));
  return list;
}

function planLink(id, text) {
  return state.nodes.has(id) ? h('a', { href: `#/a/${id}` }, text) : text;
}

function planList(r) {
  const plan = $('#plan');
  const parts = [h('h3', {}, r.problem ? `Preview: the delete fails as a whole (${r.problem.code}); nothing would change` : `Preview (dry run): ${r.hard ? 'hard' : 'soft'} delete`)];
  if (r.delete_success_list.length) {
    parts.push(h('p', { class: 'note' }, 'Deleted in this order:'));
    parts.push(capped('ol', r.delete_success_list, (id) => {
      const label = itemLabel(id, r.deletedItems);
      return h('li', { dataset: { id, status: 'delete' } }, planLink(id, label));
    }));
  }
  if (r.delete_failed_list.length) {
    parts.push(h('p', { class: 'note' }, r.problem || !r.delete_success_list.length ? 'Fails:' : 'Fails (the rest goes ahead, as the delete is not atomic):'));
    parts.push(capped('ul', r.delete_failed_list, (f) => {
      const label = f.fullyQualifiedName || itemLabel(f.model_id, [], f.model_id || 'an artifact you may not read');
      return h('li', { dataset: { id: f.model_id, status: 'failed', code: f.error_code } },
        planLink(f.model_id, label), ` — ${f.error_code}`,
        h('span', { class: 'reason' }, f.error_message + (f.cause ? ` (because of ${itemLabel(f.cause)})` : '')));
    }));
  }
  if (r.skipped && r.skipped.length) {
    parts.push(h('p', { class: 'note' }, `Skipped: ${r.skipReason || ''}`));
    parts.push(capped('ul', r.skipped, (id) => h('li', { dataset: { id, status: 'skipped' } }, planLink(id, itemLabel(id, r.skippedItems)))));
  }
  if (r.detached && r.detached.length) {
    parts.push(h('p', { class: 'note' }, 'Detached (stay, and lose their upstream):'));
    parts.push(capped('ul', r.detached, (id) => h('li', { dataset: { id, status: 'detached' } }, planLink(id, itemLabel(id, r.detachedItems)))));
  }
  if (!r.delete_success_list.length && !r.delete_failed_list.length) parts.push(h('p', {}, 'Nothing to delete.'));
  plan.replaceChildren(...parts);
  plan.dataset.state = 'previewed';
  plan.hidden = false;
  for (const li of plan.querySelectorAll('li[data-id]')) {
    li.addEventListener('mouseenter', () => state.cy && state.cy.getElementById(li.dataset.id).addClass('hover'));
    li.addEventListener('mouseleave', () => state.cy && state.cy.getElementById(li.dataset.id).removeClass('hover'));
  }
}

async function confirmDelete() {
  const p = state.preview;
  if (!p || !p.result || p.stale || p.done || p.sending) return;
  p.sending = true;
  updateConfirm();
  let r;
  try {
    r = await api('DELETE', `/v1/artifacts/${enc(p.id)}`, { query: p.query, headers: { 'Idempotency-Key': p.key } });
  } catch (err) {
    p.sending = false;
    updateConfirm();
    const box = $('#result');
    box.className = 'failed';
    box.replaceChildren(h('h3', {}, 'The delete failed; nothing changed'), h('p', {}, `${(err.problem && err.problem.code) || err.status}: ${err.message}`));
    box.dataset.state = 'failed';
    box.hidden = false;
    return;
  }
  p.sending = false;
  p.done = true;
  showResult(r);
  updateConfirm();
  await loadNamespaces();
  if (r.hard && r.delete_success_list.includes(p.id)) {
    state.artifact = null;
    notice(`${fqnOf(state.nodes.get(p.id) || { namespace: '', name: p.id })} was deleted for good.`);
    const ns = state.nodes.get(p.id);
    $('#artifact-view').hidden = true;
    if (ns) location.hash = `#/ns/${enc(ns.namespace)}`;
    return;
  }
  await showArtifact(p.id);
}

function showResult(r) {
  const box = $('#result');
  box.className = r.delete_failed_list.length ? 'failed' : '';
  const list = (title, ids, items) =>
    ids && ids.length ? [h('p', { class: 'note' }, title), capped('ul', ids, (id) => h('li', {}, itemLabel(id, items)))] : [];
  box.replaceChildren(
    h('h3', {}, `Done: ${r.hard ? 'hard' : 'soft'} delete${r.replayed ? ' (replayed: the first result of this key)' : ''}`),
    h('p', {}, 'Operation ', h('code', {}, r.operation),
      `: ${r.delete_success_list.length} deleted, ${r.delete_failed_list.length} failed, ${(r.skipped || []).length} skipped, ${(r.detached || []).length} detached.`),
    ...list('Deleted:', r.delete_success_list, r.deletedItems),
    ...(r.delete_failed_list.length ? [h('p', { class: 'note' }, 'Failed:'), capped('ul', r.delete_failed_list, (f) => h('li', {}, `${f.fullyQualifiedName || f.model_id} — ${f.error_code}: ${f.error_message}`))] : []),
    ...list('Skipped:', r.skipped, r.skippedItems),
    ...list('Detached:', r.detached, r.detachedItems),
    r.hard ? '' : h('p', { class: 'note' }, 'A soft delete: restore it from the operations history.'),
  );
  box.dataset.operation = r.operation;
  box.dataset.state = 'done';
  box.hidden = false;
}

async function restoreArtifact() {
  const a = state.artifact;
  if (!a) return;
  try {
    await api('POST', `/v1/artifacts/${enc(a.id)}/restore`, { headers: { 'Idempotency-Key': uuid() } });
  } catch (err) {
    return showError(err);
  }
  if (state.preview && state.preview.done) clearPreview();
  await loadNamespaces();
  await showArtifact(a.id);
  notice(`Restored ${fqnOf(a)}.`);
}

// ---- operations history, from the event stream ----

// followEvents reads GET /v1/events (Server-Sent Events) with fetch, since
// EventSource cannot send the Authorization header: first the audit log,
// then live events, resuming after the last seq when the stream breaks.
async function followEvents() {
  if (state.events) state.events.abort();
  const ctrl = new AbortController();
  state.events = ctrl;
  while (!ctrl.signal.aborted) {
    try {
      const headers = { Authorization: `Bearer ${state.token}`, Accept: 'text/event-stream' };
      if (state.lastSeq) headers['Last-Event-ID'] = String(state.lastSeq);
      const res = await fetch('/v1/events', { headers, signal: ctrl.signal, cache: 'no-store' });
      if (res.status === 401) return signOut('The server did not accept the token.');
      if (!res.ok) throw new Error(`events: HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n?/g, '\n');
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          sseBlock(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
      }
    } catch (err) {
      if (ctrl.signal.aborted) return;
    }
    await sleep(2000);
  }
}

function sseBlock(block) {
  let type = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const at = line.indexOf(':');
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return;
  let ev;
  try {
    ev = JSON.parse(data.join('\n'));
  } catch {
    return;
  }
  if (type === 'dropped') {
    $('#operations').dataset.dropped = String(ev.dropped);
    return;
  }
  addEvent(ev);
}

let opsTimer = 0;
function addEvent(ev) {
  if (ev.seq && ev.seq <= state.lastSeq) return;
  if (ev.seq) state.lastSeq = ev.seq;
  const t = ev.type;
  if (ev.artifactId && ['soft-deleted', 'deleted', 'restored', 'created'].includes(t)) state.latest.set(ev.artifactId, ev);
  if (t === 'soft-deleted' || t === 'deleted') {
    let op = state.ops.get(ev.operation);
    if (!op) {
      op = { operation: ev.operation, time: ev.time, principal: ev.principal, reason: ev.reason, soft: [], hard: [] };
      state.ops.set(ev.operation, op);
    }
    (t === 'deleted' ? op.hard : op.soft).push(ev);
  }
  clearTimeout(opsTimer);
  opsTimer = setTimeout(renderOps, 80);
}

// restorable: the artifacts the operation soft deleted that are still soft
// deleted by it (their latest delete or restore event is its own).
const restorable = (op) => op.soft.filter((e) => {
  const last = state.latest.get(e.artifactId);
  return last && last.type === 'soft-deleted' && last.operation === op.operation;
});

function renderOps() {
  const ops = [...state.ops.values()].reverse().slice(0, 100);
  const items = ops.map((op) => {
    const open = restorable(op);
    const what = [op.soft.length ? `soft deleted ${op.soft.length}` : '', op.hard.length ? `deleted ${op.hard.length} for good` : ''].filter(Boolean).join(', ');
    const fqns = [...op.soft, ...op.hard].map((e) => e.fullyQualifiedName).filter(Boolean);
    let action;
    if (open.length) {
      action = h('button', { type: 'button', class: 'restore', onclick: (e) => restoreOperation(op, e.target) }, `Restore this operation (${open.length})`);
    } else if (op.soft.length) {
      action = h('span', { class: 'note' }, 'restored');
    } else {
      action = h('span', { class: 'note' }, 'permanent');
    }
    return h('li', { dataset: { operation: op.operation, restorable: String(open.length) } },
      h('div', { class: 'op-head' }, h('span', { class: 'op-what' }, what), h('span', {}, fmtTime(op.time))),
      h('div', {}, `by ${op.principal}${op.reason ? ` — “${op.reason}”` : ''}`),
      h('div', { class: 'fqns' }, fqns.slice(0, 4).join(', ') + (fqns.length > 4 ? ` and ${fqns.length - 4} more` : '')),
      action);
  });
  if (!items.length) items.push(h('li', { class: 'note' }, 'no deletes yet'));
  $('#operations').replaceChildren(...items);
}

async function restoreOperation(op, button) {
  button.disabled = true;
  // One key per operation: a second click or a retry restores once.
  if (!state.restoreKeys.has(op.operation)) state.restoreKeys.set(op.operation, uuid());
  let out;
  try {
    out = await api('POST', `/v1/operations/${enc(op.operation)}/restore`, { headers: { 'Idempotency-Key': state.restoreKeys.get(op.operation) } });
  } catch (err) {
    button.disabled = false;
    return showError(err);
  }
  for (const a of out.items) state.latest.set(a.id, { type: 'restored', operation: '' });
  renderOps();
  // What was previewed or done before no longer describes the registry.
  if (state.preview && state.preview.done) clearPreview();
  await loadNamespaces();
  if (state.artifact) await showArtifact(state.artifact.id);
  else route();
  notice(`Restored ${out.items.length} artifact${out.items.length === 1 ? '' : 's'}: ${out.items.map(fqnOf).join(', ')}`);
}

// ---- wiring ----

function init() {
  // A blocked script, style or request would fail quietly: say it where
  // developers and the browser test look.
  document.addEventListener('securitypolicyviolation', (e) =>
    console.error(`Content-Security-Policy blocked ${e.blockedURI || 'inline code'} (${e.violatedDirective})`));
  $('#login').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn($('#token').value.trim());
  });
  $('#signout').addEventListener('click', () => signOut());
  $('#refresh-namespaces').addEventListener('click', loadNamespaces);
  $('#show-deleted').addEventListener('change', () => showNamespace(state.nsCursor.namespace));
  $('#prev-page').addEventListener('click', () => showNamespace(state.nsCursor.namespace, { before: state.nsCursor.page.before }));
  $('#next-page').addEventListener('click', () => showNamespace(state.nsCursor.namespace, { cursor: state.nsCursor.page.after }));
  $('#depth').addEventListener('change', () => state.artifact && showArtifact(state.artifact.id));
  $('#delete-form').addEventListener('submit', preview);
  $('#delete-form').addEventListener('input', formChanged);
  $('#delete-form').addEventListener('change', formChanged);
  $('#confirm').addEventListener('click', confirmDelete);
  $('#restore-artifact').addEventListener('click', restoreArtifact);
  window.addEventListener('hashchange', () => {
    notice('');
    route();
  });
  if (typeof cytoscape !== 'function') {
    showError(new Error('The graph library did not load (vendor/cytoscape.min.js).'));
    return;
  }
  if (state.token) start();
  else signOut();
}

init();
