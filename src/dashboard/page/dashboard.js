// The fleetgate dashboard: polls /dashboard/state and redraws. Plain browser JavaScript, no build step.
// Everything from the server goes in as text (textContent), never as markup: node ids, tenants and
// error messages are not ours to trust.

const POLL_MS = 1000;
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const num = (value, digits = 1) => (value === null || value === undefined ? "–" : value.toFixed(digits));
const ms = (value) =>
  value === null ? "–" : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
const pct = (value) => `${(value * 100).toFixed(1)}%`;
const time = (iso) => new Date(iso).toLocaleTimeString();

// --- login ---------------------------------------------------------------------------------------

function showLogin(message = "") {
  $("board").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token").focus();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = $("token").value;
  const res = await fetch("/dashboard/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  }).catch(() => undefined);
  $("token").value = "";
  if (res?.ok) {
    $("login").hidden = true;
    poll();
    return;
  }
  const body = await res?.json().catch(() => undefined);
  showLogin(res ? `Not accepted: ${body?.error?.message ?? res.status}` : "The gateway did not answer.");
});

$("logout").addEventListener("click", async () => {
  await fetch("/dashboard/logout", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  clearTimeout(timer);
  poll();
});

// --- polling -------------------------------------------------------------------------------------

let timer;

async function poll() {
  clearTimeout(timer);
  let res;
  try {
    res = await fetch("/dashboard/state", { cache: "no-store" });
  } catch {
    res = undefined;
  }
  if (res?.status === 401) {
    // Polling resumes after a login; a browser whose proxy adds the token never gets here.
    showLogin();
    return;
  }
  $("stale").hidden = res?.ok === true;
  if (res?.ok) render(await res.json());
  timer = setTimeout(poll, POLL_MS);
}

// --- rendering -----------------------------------------------------------------------------------

function render(state) {
  $("login").hidden = true;
  $("board").hidden = false;
  $("logout").hidden = false;
  const s = state.summary;
  const badge = $("gateway-state");
  badge.textContent = s.gateway;
  badge.className = `badge ${s.gateway === "serving" ? "good" : "bad"}`;
  $("updated").textContent = `updated ${time(state.generated_at)}`;
  $("window").textContent = String(state.recent_window_s);
  $("started").textContent = new Date(state.started_at).toLocaleString();
  renderSummary(s);
  renderNodes(state.nodes);
  renderChart($("chart-requests"), state.series.requests_per_s, (v) => num(v, 1));
  renderChart($("chart-ttft"), state.series.ttft_ms, ms);
  renderUsage($("usage-keys"), state.usage.keys);
  renderUsage($("usage-tenants"), state.usage.tenants);
  renderErrors(state.errors);
}

function renderSummary(s) {
  const cards = [
    ["nodes healthy", `${s.healthy} / ${s.nodes}`],
    ["requests/s", num(s.requests_per_s, 2)],
    ["TTFT p50", ms(s.ttft_p50_ms)],
    ["TTFT p95", ms(s.ttft_p95_ms)],
    ["tokens/s", num(s.tokens_per_s, 1)],
    ["error rate", pct(s.error_rate)],
    ["in flight", String(s.in_flight)],
    ["slots busy", `${s.slots_busy} / ${s.slots_total}`],
    ["requests", String(s.requests_total)],
  ];
  $("summary").replaceChildren(
    ...cards.map(([label, value]) =>
      el(
        "div",
        { class: "card", "data-card": label },
        el("div", { class: "label" }, label),
        el("div", { class: "value" }, value),
      ),
    ),
  );
}

function renderNodes(nodes) {
  const rows = nodes.map((n) => {
    const bar = el("span", { class: "share" }, el("span"));
    bar.firstChild.style.width = `${Math.round(n.share * 100)}%`;
    const state = el("td", { class: `state ${n.state}` }, n.state);
    if (n.last_error && n.state !== "healthy") state.title = n.last_error;
    return el(
      "tr",
      { "data-node": n.id },
      el("td", {}, n.id),
      state,
      el("td", { class: `breaker ${n.breaker}` }, n.breaker),
      el("td", {}, n.region ?? "–"),
      el("td", { class: "slots" }, `${n.slots_busy} / ${n.slots_total ?? "?"}`),
      el("td", { class: "in-flight" }, String(n.in_flight)),
      el("td", {}, ms(n.ttft_p50_ms)),
      el("td", {}, ms(n.ttft_p95_ms)),
      el("td", { class: "tokens" }, num(n.tokens_per_s, 1)),
      el("td", {}, pct(n.error_rate)),
      el("td", { class: "share-cell" }, pct(n.share), bar),
    );
  });
  fill($("nodes"), rows, 11, "no nodes configured");
}

function renderUsage(table, rows) {
  const body = rows.map((u) =>
    el(
      "tr",
      { "data-name": u.name },
      el("td", {}, u.name),
      el("td", { class: "requests" }, String(u.requests)),
      el("td", {}, String(u.errors)),
      el("td", {}, String(u.prompt_tokens)),
      el("td", {}, String(u.completion_tokens)),
    ),
  );
  fill(table, body, 5, "nothing yet");
}

function renderErrors(errors) {
  const rows = errors.map((e) =>
    el(
      "tr",
      {},
      el("td", {}, time(e.at)),
      el("td", {}, String(e.status)),
      el(
        "td",
        { class: e.recovered ? "loading" : "unhealthy" },
        e.recovered ? `${e.code} (recovered)` : e.code,
      ),
      el("td", {}, e.attempts.map((a) => (a.code ? `${a.node} ✗` : a.node)).join(" → ") || "–"),
      el("td", {}, e.model ?? "–"),
      el("td", {}, e.tenant),
      el("td", {}, e.key_id ?? "–"),
      el("td", { class: "muted" }, e.request_id),
    ),
  );
  fill($("errors"), rows, 8, "no errors");
}

function fill(table, rows, columns, empty) {
  const body = table.tBodies[0];
  body.replaceChildren(
    ...(rows.length ? rows : [el("tr", {}, el("td", { class: "empty", colspan: String(columns) }, empty))]),
  );
}

/** A line over the last 15 minutes; null values (no data in that step) break the line. */
function renderChart(target, values, format) {
  const width = Math.max(200, target.clientWidth);
  const height = 140;
  const pad = { left: 8, right: 8, top: 16, bottom: 18 };
  const present = values.filter((v) => v !== null);
  const max = Math.max(...present, 0) || 1;
  const x = (i) => pad.left + (i / Math.max(1, values.length - 1)) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  const parts = [];
  for (const [i, v] of values.entries()) {
    if (v === null) continue;
    parts.push(`${values[i - 1] === null || i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  }
  target.setAttribute("viewBox", `0 0 ${width} ${height}`);
  target.replaceChildren(
    svg("line", { class: "grid", x1: pad.left, x2: width - pad.right, y1: y(max), y2: y(max) }),
    svg("line", { class: "grid", x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0) }),
    svg("text", { class: "axis", x: pad.left, y: pad.top - 4 }, `max ${format(max)}`),
    svg("text", { class: "axis", x: pad.left, y: height - 4 }, "−15 min"),
    svg("text", { class: "axis", x: width - pad.right, y: height - 4, "text-anchor": "end" }, "now"),
    svg("path", { class: "line", d: parts.join(" ") }),
  );
}

poll();
