// The semgate dashboard: reads /admin/v1 with the admin token kept in sessionStorage.
// Everything the API returns is put into the page as text (textContent), never as HTML:
// cached questions come from clients.
"use strict";

const API = "/admin/v1";
const TOKEN_KEY = "semgate-admin-token";
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

const state = {timer: null, chart: null, colors: {}, saved: null, byRoute: null, policyVersion: null, validatedText: null};

// ---------- API ----------

class AuthError extends Error {}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(API + path, {
    ...options,
    headers: {"Authorization": `Bearer ${token}`, "Content-Type": "application/json", ...(options.headers || {})},
  });
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (response.status === 401 || response.status === 403) {
    throw new AuthError(body && body.error ? body.error.message : `HTTP ${response.status}`);
  }
  return {status: response.status, body};
}

// ---------- login ----------

function showLogin(message) {
  stopPolling();
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token-input").focus();
}

async function enter() {
  $("login").hidden = true;
  $("app").hidden = false;
  await loadPolicy();
  await refresh();
  state.timer = setInterval(refresh, POLL_MS);
}

function stopPolling() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
  try {
    await api("/stats");  // checks the token before showing anything
    $("token-input").value = "";
    await enter();
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("token-input").value = "";
    showLogin(error.message);
  }
});

$("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin("");
});

// ---------- formatting ----------

const fmtInt = (n) => (n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US"));
const fmtPct = (share) => `${(share * 100).toFixed(1)}%`;
const fmtMs = (ms) => (ms === null || ms === undefined ? "–" : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const fmtBytes = (b) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`);
const fmtTtl = (s) => (s >= 86400 ? `${(s / 86400).toFixed(1)} d` : s >= 3600 ? `${(s / 3600).toFixed(1)} h`
  : s >= 60 ? `${(s / 60).toFixed(0)} min` : `${s.toFixed(0)} s`);

function setText(id, text, value) {
  const el = $(id);
  el.textContent = text;
  if (value !== undefined) el.dataset.value = String(value);
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    const spec = typeof cell === "object" && cell !== null ? cell : {text: cell};
    if (spec.badge) {
      const badge = document.createElement("span");
      badge.className = `badge ${spec.badge}`;
      badge.textContent = spec.text;
      td.appendChild(badge);
    } else {
      td.textContent = spec.text === null || spec.text === undefined ? "–" : String(spec.text);
    }
    if (spec.cls) td.className = spec.cls;
    if (spec.title) td.title = spec.title;
    tr.appendChild(td);
  }
  return tr;
}

function fillTable(id, rows, emptyText, columns) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren(...rows);
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = columns;
    td.className = "empty";
    td.textContent = emptyText;
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

function colorOf(name) {
  if (!state.colors[name]) {
    state.colors[name] = CHART_COLORS[Object.keys(state.colors).length % CHART_COLORS.length];
  }
  return state.colors[name];
}

// ---------- live figures ----------

async function refresh() {
  try {
    const [stats, upstreams] = await Promise.all([api("/stats"), api("/upstreams")]);
    renderStats(stats.body);
    renderUpstreams(upstreams.body.data);
    $("live-dot").className = "dot ok";
    setText("last-updated", `updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    if (error instanceof AuthError) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(error.message);
      return;
    }
    $("live-dot").className = "dot bad";
    setText("last-updated", `gateway unreachable (${error.message})`);
  }
}

function renderStats(s) {
  setText("stat-requests", fmtInt(s.requests), s.requests);
  setText("stat-outcomes",
          `${fmtInt(s.stale)} stale · ${fmtInt(s.misses)} miss · ${fmtInt(s.bypasses)} bypass · ${fmtInt(s.errors)} error`);
  setText("stat-hit-rate", fmtPct(s.hit_rate), s.hit_rate);
  setText("stat-hits", `${fmtInt(s.hits)} hits`);
  const saved = s.tokens_saved;
  setText("stat-tokens-saved", fmtInt(saved.total), saved.total);
  setText("stat-tokens-split", `${fmtInt(saved.prompt)} prompt · ${fmtInt(saved.completion)} completion`);
  state.saved = saved;
  renderCost();
  for (const [id, lat] of [["stat-lookup", s.lookup_latency], ["stat-upstream", s.upstream_latency]]) {
    setText(id, lat.p50_ms === null ? "–" : `${fmtMs(lat.p50_ms)} ms`, lat.p50_ms);
    setText(`${id}-tail`, `p90 ${fmtMs(lat.p90_ms)} · p99 ${fmtMs(lat.p99_ms)} ms`);
  }
  setText("stat-entries", fmtInt(s.entries.total), s.entries.total);
  setText("stat-memory", `RSS ${fmtBytes(s.memory.rss_bytes)} · index ${fmtBytes(s.memory.index_bytes)}`);

  const names = [...new Set([...Object.keys(s.effective), ...Object.keys(s.by_category)])].sort();
  fillTable("category-table", names.map((name) => {
    const tally = s.by_category[name];
    const eff = s.effective[name];
    const threshold = eff ? eff.similarity_threshold.toFixed(3) : "–";
    const configured = eff ? `configured ${eff.configured.similarity_threshold.toFixed(3)}, TTL ${eff.configured.ttl_seconds} s` : "";
    return row([
      {text: name, cls: "name"},
      {text: tally ? fmtInt(tally.requests) : "0", cls: "num"},
      {text: tally ? fmtPct(tally.hit_rate) : "–", cls: "num"},
      {text: threshold, cls: "num", title: configured},
      {text: eff ? fmtTtl(eff.ttl_seconds) : "–", cls: "num"},
      eff ? {text: eff.load_level, badge: eff.load_level === "normal" ? "ok" : "overloaded"} : "–",
      {text: fmtInt(s.entries.by_category[name] || 0), cls: "num"},
    ]);
  }), "no traffic yet", 7);

  state.byRoute = s.by_route;
  renderRoutes();

  fillTable("latency-table", [["cache lookup", s.lookup_latency], ["upstream", s.upstream_latency]].map(
    ([label, lat]) => row([label, {text: fmtMs(lat.p50_ms), cls: "num"}, {text: fmtMs(lat.p90_ms), cls: "num"},
                           {text: fmtMs(lat.p99_ms), cls: "num"}, {text: fmtInt(lat.count), cls: "num"}])), "", 5);

  fillTable("top-entries", s.top_entries.map((e) => row([
    {text: fmtInt(e.hits), cls: "num"}, {text: e.query_text, cls: "question", title: e.query_text},
    e.category, e.tenant, {text: e.id.slice(0, 12), cls: "id", title: e.id},
  ])), "no hits yet", 5);

  renderChart(s.timeline);
}

function costOf(saved) {
  const prompt = Number($("price-prompt").value) || 0;
  const completion = Number($("price-completion").value) || 0;
  return (saved.prompt * prompt + saved.completion * completion) / 1e6;
}

function fmtUsd(usd) {
  return `$${usd.toFixed(usd < 10 ? 4 : 2)}`;
}

function renderCost() {
  if (!state.saved) return;
  const usd = costOf(state.saved);
  setText("stat-cost-saved", fmtUsd(usd), usd);
  renderRoutes();
}

// Requests by the API they came through (chat, completion, embeddings, ...), priced like the total.
function renderRoutes() {
  if (!state.byRoute) return;
  fillTable("route-table", Object.entries(state.byRoute).map(([route, tally]) => row([
    {text: route, cls: "name"},
    {text: fmtInt(tally.requests), cls: "num"},
    {text: fmtInt(tally.hits), cls: "num"},
    {text: fmtInt(tally.misses), cls: "num"},
    {text: fmtInt(tally.tokens_saved.total), cls: "num"},
    {text: fmtUsd(costOf(tally.tokens_saved)), cls: "num"},
  ])), "no traffic yet", 6);
}

for (const [id, fallback] of [["price-prompt", "0.50"], ["price-completion", "1.50"]]) {
  $(id).value = localStorage.getItem(`semgate-${id}`) || fallback;
  $(id).addEventListener("input", () => {
    localStorage.setItem(`semgate-${id}`, $(id).value);
    renderCost();
  });
}

function renderChart(timeline) {
  state.chart = state.chart || new LineChart($("hitrate-chart"));
  const now = Date.now() / 1000;
  // Every bucket is listed, quiet ones too; a bucket where a category (or all traffic) had no
  // requests has no hit rate: null, which the chart draws as a gap, not a line across it.
  const names = new Set(timeline.points.flatMap((point) => Object.keys(point.by_category)));
  const series = Object.fromEntries([...names].map((name) => [name, []]));
  const all = [];
  for (const point of timeline.points) {
    // Plotted where the bucket ends (or now, for the bucket still filling).
    const t = Math.min(point.t + timeline.bucket_s, now);
    let requests = 0;
    let hits = 0;
    for (const name of names) {
      const c = point.by_category[name];
      series[name].push([t, c ? c.hits / c.requests : null]);
      requests += c ? c.requests : 0;
      hits += c ? c.hits : 0;
    }
    all.push([t, requests ? hits / requests : null]);
  }
  const first = timeline.points.length ? timeline.points[0].t : now;
  const span = Math.min(600, Math.max(60, now - first + timeline.bucket_s));
  const lines = Object.keys(series).sort().map((name) => ({name, color: colorOf(name), points: series[name]}));
  lines.push({name: "all traffic", color: "#1d2430", width: 3, points: all});
  state.chart.draw(lines, span);
  $("hitrate-legend").replaceChildren(...lines.map((line) => {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = line.color;
    item.append(swatch, line.name);
    return item;
  }));
  setText("chart-note", `${timeline.bucket_s} s buckets, last ${Math.round(span / 60)} min`);
}

function renderUpstreams(upstreams) {
  fillTable("upstreams-table", upstreams.map((u) => row([
    {text: u.name, title: `${u.base_url}\nmodels: ${u.models.join(", ")}`},
    {text: u.health, badge: u.health},
    {text: `${u.in_flight} / ${u.capacity}`, cls: "num"},
    {text: `${fmtMs(u.recent.p50_ms)} / ${fmtMs(u.recent.p99_ms)}`, cls: "num"},
    {text: fmtPct(u.recent.error_rate), cls: "num"},
    {text: fmtPct(u.recent.throttle_rate), cls: "num"},
  ])), "no upstreams configured", 6);
}

// ---------- policy editor ----------

const editor = $("policy-text");

function renderGutter(badLines = new Set()) {
  const count = editor.value.split("\n").length;
  const lines = [];
  for (let i = 1; i <= count; i++) {
    const span = document.createElement("span");
    span.textContent = `${i}\n`;
    if (badLines.has(i)) span.className = "bad";
    lines.push(span);
  }
  $("policy-gutter").replaceChildren(...lines);
  $("policy-gutter").scrollTop = editor.scrollTop;
}

function setPolicyStatus(text, kind) {
  $("policy-status").textContent = text;
  $("policy-status").className = `small ${kind || ""}`;
}

function showIssues(issues) {
  const items = issues.map((issue) => {
    const li = document.createElement("li");
    const where = document.createElement("b");
    where.textContent = issue.line ? `line ${issue.line}${issue.column ? `:${issue.column}` : ""}` : "policy";
    const path = issue.path ? ` ${issue.path}:` : "";
    const allowed = issue.allowed ? ` (allowed: ${issue.allowed})` : "";
    li.append(where, ` —${path} ${issue.message}${allowed}`);
    if (issue.line) li.addEventListener("click", () => goToLine(issue.line));
    return li;
  });
  $("policy-errors").replaceChildren(...items);
  renderGutter(new Set(issues.map((i) => i.line).filter(Boolean)));
}

function goToLine(line) {
  const lines = editor.value.split("\n");
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  editor.focus();
  editor.setSelectionRange(start, start + (lines[line - 1] || "").length);
  editor.scrollTop = Math.max(0, (line - 5) * 18);
}

async function loadPolicy() {
  const {status, body} = await api("/policies");
  if (status !== 200) {
    editor.value = "";
    editor.disabled = true;
    setPolicyStatus(body.error.message, "bad");
    renderGutter();
    return;
  }
  state.policyVersion = body.version;
  setText("policy-version", `version ${body.version}`, body.version);
  setText("policy-source", body.source === "<admin>" ? "applied from this API" : `from ${body.source}`);
  editor.value = body.yaml === null ? "" : body.yaml;
  if (body.yaml === null) setPolicyStatus("The policy file changed since it was loaded; its text is not in force.", "bad");
  state.validatedText = null;
  $("policy-apply").disabled = true;
  showIssues([]);
}

editor.addEventListener("input", () => {
  // Any edit needs a fresh validation before it may be applied.
  state.validatedText = null;
  $("policy-apply").disabled = true;
  setPolicyStatus("", "");
  renderGutter();
});
editor.addEventListener("scroll", () => { $("policy-gutter").scrollTop = editor.scrollTop; });
editor.addEventListener("keydown", (event) => {
  if (event.key === "Tab") {  // two spaces, as YAML wants
    event.preventDefault();
    editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end");
    editor.dispatchEvent(new Event("input"));
  }
});

$("policy-reload").addEventListener("click", () => loadPolicy().then(() => setPolicyStatus("Reloaded.", "")));

$("policy-validate").addEventListener("click", async () => {
  const text = editor.value;
  setPolicyStatus("Validating…", "");
  const {status, body} = await api("/policies/validate", {method: "POST", body: JSON.stringify({yaml: text})});
  if (status !== 200) {
    setPolicyStatus(body.error.message, "bad");
    return;
  }
  showIssues(body.errors);
  if (body.valid && editor.value === text) {
    state.validatedText = text;
    $("policy-apply").disabled = false;
    setPolicyStatus(`Valid: ${body.categories.length} categories (${body.categories.join(", ")}). Apply to use it.`, "ok");
  } else if (!body.valid) {
    setPolicyStatus(`${body.errors.length} problem(s); nothing was changed.`, "bad");
  }
});

$("policy-apply").addEventListener("click", async () => {
  const text = state.validatedText;
  if (text === null || text !== editor.value) return;
  $("policy-apply").disabled = true;
  setPolicyStatus("Applying…", "");
  const {status, body} = await api("/policies", {
    method: "PUT", body: JSON.stringify({yaml: text, base_version: state.policyVersion}),
  });
  if (status === 200) {
    await loadPolicy();
    setPolicyStatus(`Applied: version ${body.version} is in force.`, "ok");
  } else {
    if (body.error.issues) showIssues(body.error.issues);
    setPolicyStatus(body.error.message, "bad");
  }
});

// ---------- start ----------

if (sessionStorage.getItem(TOKEN_KEY)) {
  enter().catch((error) => showLogin(error instanceof AuthError ? error.message : String(error)));
} else {
  showLogin("");
}
