// reco console: a small single-page application over reco serve's JSON API.
// Every value from the server is put into the page as text (textContent / SVG text nodes),
// never as HTML. The bearer token is kept in this tab's sessionStorage and sent in the
// Authorization header; it never appears in a URL.

const TOKEN_KEY = "reco-console-token";
const main = document.getElementById("main");
const statusLine = document.getElementById("status");
let pageTimer = null;  // the current page's refresh timer
let pageGeneration = 0;  // bumps on navigation: late answers of a left page are dropped

// ---------------------------------------------------------------------------------------------
// DOM helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function table(headers, rows, numeric = []) {
  const thead = h("thead", {}, h("tr", {}, headers.map((t, i) =>
    h("th", { scope: "col", class: numeric.includes(i) ? "num" : null }, t))));
  const tbody = h("tbody", {}, rows.map((r) => {
    const cells = Array.isArray(r) ? r : r.cells;
    return h("tr", r.attrs || {}, cells.map((c, i) =>
      h("td", { class: numeric.includes(i) ? "num" : "wrap" }, c)));
  }));
  return h("div", { class: "table-wrap" }, h("table", {}, thead, tbody));
}

function card(label, value) {
  return h("div", { class: "card" }, h("div", { class: "label" }, label),
    h("div", { class: "value" }, value));
}

function stateBadge(state) {
  return h("span", { class: `state state-${state}` }, state);
}

function fmt(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return Number(x).toFixed(digits);
}

function fmtSeconds(x) {
  if (x === null || x === undefined) return "–";
  if (x < 1) return `${(x * 1000).toFixed(x < 0.01 ? 2 : 0)} ms`;
  if (x < 120) return `${x.toFixed(1)} s`;
  const m = Math.floor(x / 60);
  return `${m} min ${Math.round(x - 60 * m)} s`;
}

function fmtCount(n) {
  return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US");
}

function announce(text) {
  statusLine.textContent = text;
}

function errorBox(e) {
  return h("div", { class: "error", role: "alert" }, e instanceof Error ? e.message : String(e));
}

function link(href, text) {
  return h("a", { href }, text);
}

function enc(x) {
  return encodeURIComponent(String(x));
}

// ---------------------------------------------------------------------------------------------
// The API

class Unauthorized extends Error {}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit",
    });
  } catch (e) {
    throw new Error(`the server did not answer ${method} ${path}: ${e.message}`);
  }
  if (res.status === 401) throw new Unauthorized("the token is missing or wrong");
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const message = data && data.error ? data.error : `${res.status} ${res.statusText}`;
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Plots: inline SVG, no library

const PALETTE = ["#1f4e79", "#c0562b", "#2e8540", "#7a4fa3", "#b58900", "#0f7d8c", "#a3324e",
  "#5b6570"];

function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toFixed(10));
  return ticks;
}

function legend(items) {
  return h("div", { class: "legend" }, items.map(([label, color]) => {
    const sw = h("span", { class: "swatch" });
    sw.style.background = color;  // CSSOM: allowed by the page's Content-Security-Policy
    return h("span", {}, sw, label);
  }));
}

// series: [{label, values: [y...], color}] over x = 1..n
function lineChart({ title, series, xLabel, yLabel, yDigits = 3 }) {
  const W = 420, H = 240, L = 52, R = 12, T = 12, B = 38;
  const all = series.flatMap((x) => x.values).filter((v) => v !== null && Number.isFinite(v));
  const n = Math.max(1, ...series.map((x) => x.values.length));
  if (all.length === 0) return h("figure", {}, h("figcaption", {}, title), h("p", { class: "muted" }, "nothing to plot"));
  let lo = Math.min(...all), hi = Math.max(...all);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 0.1;
  lo -= pad; hi += pad;
  const x = (i) => L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const svg = s("svg", { class: "plot", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  for (const t of niceTicks(lo, hi)) {
    svg.append(s("line", { class: "grid", x1: L, x2: W - R, y1: y(t), y2: y(t) }),
      s("text", { x: L - 6, y: y(t) + 4, "text-anchor": "end" }, t.toFixed(yDigits)));
  }
  const xt = niceTicks(1, n, Math.min(n, 8)).filter((t) => Number.isInteger(t) && t >= 1 && t <= n);
  for (const t of xt) svg.append(s("text", { x: x(t - 1), y: H - B + 16, "text-anchor": "middle" }, t));
  svg.append(s("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }),
    s("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }),
    s("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle" }, xLabel),
    s("text", { x: 12, y: (T + H - B) / 2, transform: `rotate(-90 12 ${(T + H - B) / 2})`, "text-anchor": "middle" }, yLabel));
  series.forEach((ser, k) => {
    const color = ser.color || PALETTE[k % PALETTE.length];
    const pts = ser.values.map((v, i) => (v === null || !Number.isFinite(v) ? null : [x(i), y(v)])).filter(Boolean);
    if (pts.length > 1) {
      svg.append(s("polyline", { points: pts.map((p) => p.join(",")).join(" "), fill: "none", stroke: color,
        "stroke-width": ser.width || 1.6, "stroke-dasharray": ser.dashed ? "5 3" : null }));
    }
    for (const [px, py] of pts) svg.append(s("circle", { cx: px, cy: py, r: 2.2, fill: color }));
  });
  return h("figure", {}, h("figcaption", {}, title), svg,
    legend(series.map((ser, k) => [ser.label, ser.color || PALETTE[k % PALETTE.length]])));
}

// groups: category labels; series: [{label, values: [one per group], color}]
function barChart({ title, groups, series, yLabel, yDigits = 3, yFrom }) {
  const W = 420, H = 240, L = 52, R = 12, T = 12, B = 38;
  const all = series.flatMap((x) => x.values).filter((v) => v !== null && Number.isFinite(v));
  if (all.length === 0) return h("figure", {}, h("figcaption", {}, title), h("p", { class: "muted" }, "nothing to plot"));
  let lo = yFrom !== undefined ? yFrom : Math.min(...all);
  let hi = Math.max(...all);
  if (yFrom === undefined) { const pad = (hi - lo) * 0.15 || 0.01; lo = Math.max(0, lo - pad); }
  hi += (hi - lo) * 0.08 || 1;
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const gw = (W - L - R) / groups.length;
  const bw = Math.max(1, (gw * 0.8) / series.length);
  const svg = s("svg", { class: "plot", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  for (const t of niceTicks(lo, hi)) {
    if (t < lo) continue;
    svg.append(s("line", { class: "grid", x1: L, x2: W - R, y1: y(t), y2: y(t) }),
      s("text", { x: L - 6, y: y(t) + 4, "text-anchor": "end" }, t.toFixed(yDigits)));
  }
  const every = Math.ceil(groups.length / 12);
  groups.forEach((g, gi) => {
    series.forEach((ser, k) => {
      const v = ser.values[gi];
      if (v === null || !Number.isFinite(v)) return;
      const color = ser.color || PALETTE[k % PALETTE.length];
      const bx = L + gi * gw + gw * 0.1 + k * bw;
      const rect = s("rect", { x: bx, y: y(v), width: Math.max(0.5, bw - 1), height: Math.max(0, y(lo) - y(v)), fill: color });
      rect.append(s("title", {}, `${ser.label}, ${g}: ${v}`));
      svg.append(rect);
    });
    if (gi % every === 0) svg.append(s("text", { x: L + gi * gw + gw / 2, y: H - B + 16, "text-anchor": "middle" }, g));
  });
  svg.append(s("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }),
    s("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }),
    s("text", { x: 12, y: (T + H - B) / 2, transform: `rotate(-90 12 ${(T + H - B) / 2})`, "text-anchor": "middle" }, yLabel));
  return h("figure", {}, h("figcaption", {}, title), svg,
    legend(series.map((ser, k) => [ser.label, ser.color || PALETTE[k % PALETTE.length]])));
}

// ---------------------------------------------------------------------------------------------
// Pages

function setPage(section, ...content) {
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  main.replaceChildren(...content.flat().filter(Boolean));
}

function every(ms, fn) {
  const gen = pageGeneration;
  const tick = async () => {
    if (gen !== pageGeneration) return;
    try {
      if ((await fn()) === false) return;  // the page says it has nothing more to refresh
    } catch (e) {
      if (e instanceof Unauthorized) return showLogin(e.message);
    }
    if (gen === pageGeneration) pageTimer = setTimeout(tick, ms);
  };
  pageTimer = setTimeout(tick, ms);
}

function current(gen) {
  return gen === pageGeneration;
}

// --- sign in

function showLogin(message) {
  clearTimeout(pageTimer);
  pageGeneration++;
  document.getElementById("signout").hidden = true;
  const input = h("input", { id: "token", name: "token", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", {
    class: "login", onsubmit: (ev) => {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      route();
    },
  },
  h("h1", {}, "Sign in"),
  message ? h("div", { class: "error", role: "alert" }, `401: ${message}. Nothing is shown without the server's token.`) : null,
  h("p", { class: "muted" }, "This server requires its bearer token (reco serve --token-file). It is kept only in this browser tab."),
  h("div", { class: "form-row" }, h("label", { for: "token" }, "Token"), input),
  h("button", { type: "submit" }, "Sign in"));
  setPage(null, form);
  input.focus();
}

// --- endpoints

let lastTraffic = new Map();  // endpoint -> {t, requests}

async function pageEndpoints() {
  const gen = pageGeneration;
  const body = h("div", {});
  setPage("endpoints", h("h1", {}, "Endpoints"), body);
  const render = async () => {
    const [data, models] = await Promise.all([api("GET", "/endpoints"), api("GET", "/models")]);
    if (!current(gen)) return;
    const versionsOf = new Map(models.models.map((m) => [m.model, m.versions]));
    const now = performance.now();
    const rows = data.endpoints.map((e) => {
      const t = e.traffic || { requests: 0, errors: 0, predictions: 0, latency_s: {} };
      const prev = lastTraffic.get(e.name);
      const rate = prev && now > prev.t ? ((t.requests - prev.requests) * 1000) / (now - prev.t) : null;
      lastTraffic.set(e.name, { t: now, requests: t.requests });
      const mean = t.requests ? t.latency_s.sum / t.requests : null;
      return {
        attrs: { "data-endpoint": e.name },
        cells: [
          h("span", {}, link(`#/endpoints/${enc(e.name)}`, e.name), data.default === e.name ? " (default)" : ""),
          stateBadge(e.state),
          e.model ? link(`#/models/${enc(e.model)}/${e.version}`, `${e.model} v${e.version}`) : e.artifact_uri,
          e.serving && e.serving.version !== null && e.serving.version !== e.version ? `v${e.serving.version}` : "",
          e.since,
          fmtCount(t.requests),
          rate === null ? "–" : rate.toFixed(1),
          fmtCount(t.errors),
          mean === null ? "–" : fmtSeconds(mean),
          t.requests ? fmtSeconds(t.latency_s.p95) : "–",
          deployControl(e, versionsOf.get(e.model) || [], () => render().catch(() => {})),
        ],
      };
    });
    const content = [];
    if (rows.length === 0) {
      content.push(h("p", {}, "No endpoint is deployed. Deploy one with ",
        h("code", {}, "reco endpoints deploy NAME models:/MODEL"), " or ",
        h("code", {}, "select deploy_model('NAME', 'models:/MODEL')"), "."));
    } else {
      content.push(table(["Endpoint", "State", "Model", "Serving", "Since", "Requests", "Req/s", "Errors",
        "Mean latency", "p95 latency", "Redeploy"], rows, [5, 6, 7, 8, 9]));
      const failed = data.endpoints.filter((e) => e.last_error);
      for (const e of failed) content.push(h("div", { class: "error" }, `${e.name}: ${e.last_error}`));
      content.push(h("p", { class: "muted" }, "Requests, errors and latency count /invocations since this server started; "
        + "the rate is measured between two refreshes (every 2 s)."));
    }
    const focused = document.activeElement && body.contains(document.activeElement) ? document.activeElement : null;
    if (focused && (focused.tagName === "SELECT" || focused.tagName === "BUTTON")) return;  // don't steal the user's control
    body.replaceChildren(...content);
  };
  try { await render(); } catch (e) { if (e instanceof Unauthorized) throw e; body.replaceChildren(errorBox(e)); }
  every(2000, render);
}

// What the user picked and what the last deployment said, per endpoint: kept across the page's
// refreshes, which rebuild the table every 2 s.
const chosenVersion = new Map();
const deployStatus = new Map();

// `refresh` redraws the page once a change is made, so the table shows it at once.
function deployControl(e, versions, refresh) {
  if (!e.model || versions.length === 0) return "";
  const id = `deploy-${e.name}`;
  const picked = chosenVersion.has(e.name) ? chosenVersion.get(e.name) : e.version;
  const select = h("select", {
    id, "aria-label": `Version to deploy on ${e.name}`,
    onchange: () => chosenVersion.set(e.name, Number(select.value)),
  }, versions.slice().reverse().map((v) => h("option", { value: v.version, selected: v.version === picked }, `v${v.version}${v.cv_rmse !== null && v.cv_rmse !== undefined ? ` (RMSE ${fmt(v.cv_rmse)})` : ""}`)));
  const out = h("span", { class: "muted", "data-deploy-status": e.name }, deployStatus.get(e.name) || "");
  // A button that changes the endpoint: `call` makes the request and returns what to say.
  const action = (label, attrs, busy, call) => {
    const b = h("button", {
      type: "button", class: "secondary", ...attrs, onclick: async () => {
        b.disabled = true;
        out.textContent = busy;
        try {
          deployStatus.set(e.name, await call());
        } catch (err) {
          deployStatus.set(e.name, err.message);
        } finally {
          out.textContent = deployStatus.get(e.name);
          b.disabled = false;
          b.blur();
          refresh();
        }
      },
    }, label);
    return b;
  };
  const button = action("Deploy", { "data-deploy": e.name }, "deploying…", async () => {
    const r = await api("PUT", `/endpoints/${enc(e.name)}`, { model_url: `models:/${e.model}/${Number(select.value)}` });
    chosenVersion.delete(e.name);
    announce(`${e.name} now serves ${e.model} version ${r.version}`);
    return `now v${r.version}`;
  });
  // Back to the version served before (the deployment history knows it).
  const back = action("Roll back", { "data-rollback": e.name }, "rolling back…", async () => {
    const r = await api("POST", `/endpoints/${enc(e.name)}/rollback`, {});
    announce(`${e.name} rolled back to version ${r.version}`);
    return `rolled back to v${r.version}`;
  });
  return h("span", { class: "actions" }, select, button, back, out);
}

async function pageEndpoint(name) {
  const gen = pageGeneration;
  let data;
  try {
    data = await api("GET", `/endpoints/${enc(name)}/history`);
  } catch (e) {
    if (e instanceof Unauthorized) throw e;
    setPage("endpoints", h("p", {}, link("#/endpoints", "← Endpoints")), h("h1", {}, `Endpoint ${name}`), errorBox(e));
    return;
  }
  if (!current(gen)) return;
  const version = (x) => (x && x.version ? `${x.model || ""} v${x.version}` : (x && x.artifact_uri) || "–");
  const rows = data.events.slice().reverse().map((ev) => [
    ev.time, ev.event, ev.cause, version(ev.old), version(ev.new),
    ev.new && ev.new.cv_rmse !== undefined ? fmt(ev.new.cv_rmse) : "–", ev.reason || "",
  ]);
  setPage("endpoints", h("p", {}, link("#/endpoints", "← Endpoints")), h("h1", {}, `Endpoint ${name}: deployment history`),
    rows.length ? table(["Time", "Event", "Cause", "From", "To", "CV RMSE (to)", "Reason"], rows, [5])
      : h("p", {}, "No deployment recorded."),
    data.skipped_lines ? h("div", { class: "note" }, `${data.skipped_lines} damaged line(s) of the history file were skipped.`) : null);
}

// --- jobs

async function pageJobs() {
  const gen = pageGeneration;
  const body = h("div", {});
  setPage("jobs", h("h1", {}, "Training jobs"), body);
  const render = async () => {
    const data = await api("GET", "/jobs");
    if (!current(gen)) return;
    const jobs = data.jobs.slice().sort((a, b) => (b.created_ns || 0) - (a.created_ns || 0));
    if (jobs.length === 0) {
      body.replaceChildren(h("p", {}, "No job yet. Train with ", h("code", {}, "reco train"), ", ",
        h("code", {}, "select train_and_get_recommendations(...)"), " or POST /train."));
      return;
    }
    body.replaceChildren(table(["Job", "Kind", "State", "Created", "Progress", "Model"], jobs.map((j) => [
      link(`#/jobs/${enc(j.id)}`, j.id), j.kind, stateBadge(j.state), j.created_at,
      j.state === "InProgress" ? progressText(j.progress) : "",
      j.result && j.result.model ? link(`#/models/${enc(j.result.model)}/${j.result.version}`, `${j.result.model} v${j.result.version}`) : "",
    ])));
  };
  try { await render(); } catch (e) { if (e instanceof Unauthorized) throw e; body.replaceChildren(errorBox(e)); }
  every(2000, render);
}

function progressText(p) {
  if (!p) return "";
  const parts = [p.step];
  if (p.fraction !== undefined) parts.push(`${(100 * p.fraction).toFixed(0)} %`);
  if (p.eta_s !== undefined) parts.push(`ETA ${fmtSeconds(p.eta_s)}`);
  if (p.detail) parts.push(p.detail);
  return parts.join(" · ");
}

async function pageJob(id) {
  const gen = pageGeneration;
  const body = h("div", {});
  setPage("jobs", h("p", {}, link("#/jobs", "← Jobs")), h("h1", {}, `Job ${id}`), body);
  let versionRun = null;
  const render = async () => {
    const j = await api("GET", `/jobs/${enc(id)}`);
    if (!current(gen)) return;
    const content = [h("div", { class: "cards" },
      card("State", stateBadge(j.state)), card("Kind", j.kind), card("Created", j.created_at),
      card("Finished", j.finished_at || "–"),
      j.request && j.request.input_table ? card("Input", j.request.input_table) : null,
      j.result && j.result.model ? card("Model", link(`#/models/${enc(j.result.model)}/${j.result.version}`, `${j.result.model} v${j.result.version}`)) : null)];
    if (j.state === "InProgress") {
      const p = j.progress || {};
      const bar = h("progress", { max: 1, "aria-label": "Progress" });
      if (p.fraction !== undefined) bar.value = p.fraction;
      content.push(h("h2", {}, "Progress"), h("div", { class: "progress", "data-fraction": p.fraction ?? "" }, bar,
        h("p", { id: "progress-text" }, progressText(p) || "starting")));
      const cancel = h("button", {
        type: "button", class: "danger", onclick: async () => {
          cancel.disabled = true;
          try {
            await api("DELETE", `/jobs/${enc(id)}`);
            announce(`cancel requested for ${id}`);
          } catch (err) { content.push(errorBox(err)); }
        },
      }, "Cancel job");
      content.push(h("div", { class: "actions" }, cancel));
    }
    if (j.failure) content.push(h("div", { class: "error" }, `${j.failure.kind || "error"}: ${j.failure.message || JSON.stringify(j.failure)}`));
    let cv = j.result && j.result.cv ? j.result.cv : null;
    if (!cv && j.result && j.result.model && j.state === "Completed") {
      if (!versionRun) {
        try { versionRun = await api("GET", `/models/${enc(j.result.model)}/versions/${j.result.version}`); } catch { versionRun = {}; }
      }
      cv = versionRun.run && versionRun.run.cv ? versionRun.run.cv : null;
    }
    if (cv) content.push(h("h2", {}, "Cross-validation"), cvTable(cv, versionRun && versionRun.run ? versionRun.run.cv_timings : null));
    if (j.log && j.log.length) content.push(h("h2", {}, "Log"), h("pre", { class: "log" }, j.log.join("\n")));
    body.replaceChildren(...content.filter(Boolean));
    return j.state;
  };
  try {
    const state = await render();
    if (state === "InProgress") {
      every(1000, async () => (await render()) === "InProgress");
    }
  } catch (e) {
    if (e instanceof Unauthorized) throw e;
    body.replaceChildren(errorBox(e));
  }
}

function cvTable(cv, timings) {
  const n = cv.rmse ? cv.rmse.length : 0;
  const head = ["", ...Array.from({ length: n }, (_, i) => `Fold ${i + 1}`), "Mean", "Std"];
  const row = (label, values, mean, std, digits) => [label, ...values.map((v) => fmt(v, digits)), fmt(mean, digits), fmt(std, digits)];
  const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
  const std = (v) => { const m = mean(v); return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length); };
  const rows = [row("RMSE (testset)", cv.rmse, cv.mean.rmse, cv.std.rmse, 4), row("MAE (testset)", cv.mae, cv.mean.mae, cv.std.mae, 4)];
  // The ranking rows (precision@10, ..., coverage, obscurity), labelled as the printout does.
  const LABELS = { precision: "Precision", recall: "Recall", ndcg: "NDCG", map: "MAP", hitrate: "HitRate", coverage: "Coverage", obscurity: "Obscurity" };
  for (const key of Object.keys(cv)) {
    const [name, k] = key.split("@");
    if (!LABELS[name] || !Array.isArray(cv[key])) continue;
    rows.push(row(`${LABELS[name]}${k ? `@${k}` : ""} (testset)`, cv[key], cv.mean[key], cv.std[key], 4));
  }
  if (timings && timings.fit_s) {
    rows.push(row("Fit time", timings.fit_s, mean(timings.fit_s), std(timings.fit_s), 2));
    rows.push(row("Test time", timings.test_s, mean(timings.test_s), std(timings.test_s), 2));
  }
  return table(head, rows, Array.from({ length: n + 2 }, (_, i) => i + 1));
}

// --- models

async function pageModels() {
  const gen = pageGeneration;
  const data = await api("GET", "/models");
  if (!current(gen)) return;
  if (data.models.length === 0) {
    setPage("models", h("h1", {}, "Models"), h("p", {}, "No model yet: ", h("code", {}, "reco train --input ratings"), " makes one."));
    return;
  }
  const sections = data.models.map((m) => {
    const boxes = [];
    const rows = m.versions.slice().reverse().map((v) => {
      const box = h("input", { type: "checkbox", value: v.version, "aria-label": `Compare ${m.model} v${v.version}` });
      boxes.push(box);
      return [box, link(`#/models/${enc(m.model)}/${v.version}`, `v${v.version}`), v.problem ? `DAMAGED: ${v.problem}` : v.algorithm,
        v.created_at || "", fmt(v.cv_rmse), fmt(v.cv_mae), fmtCount(v.ratings), (v.endpoints || []).join(", ")];
    });
    const compare = h("button", {
      type: "button", class: "secondary", onclick: () => {
        const picked = boxes.filter((b) => b.checked).map((b) => b.value);
        if (picked.length < 2) { announce("pick two or more versions to compare"); compare.nextSibling.textContent = "Pick two or more versions."; return; }
        location.hash = `#/compare/${enc(m.model)}/${picked.sort((a, b) => a - b).join(",")}`;
      },
    }, "Compare selected");
    return h("section", {}, h("h2", {}, m.model),
      table(["", "Version", "Algorithm", "Created", "CV RMSE", "CV MAE", "Ratings", "Endpoints"], rows, [4, 5, 6]),
      h("div", { class: "actions" }, compare, h("span", { class: "muted" })));
  });
  setPage("models", h("h1", {}, "Models"), sections);
}

async function versionData(name, version) {
  return api("GET", `/models/${enc(name)}/versions/${enc(version)}`);
}

function paramsOf(v) {
  return (v.metadata && v.metadata.hyperparameters) || {};
}

async function pageVersion(name, version) {
  const gen = pageGeneration;
  let v;
  try {
    v = await versionData(name, version);
  } catch (e) {
    if (e instanceof Unauthorized) throw e;
    setPage("models", h("p", {}, link("#/models", "← Models")), h("h1", {}, `${name} v${version}`), errorBox(e));
    return;
  }
  if (!current(gen)) return;
  const run = v.run || {};
  const md = v.metadata || {};
  const data = md.data || {};
  const t = run.timings || {};
  const content = [h("p", {}, link("#/models", "← Models")), h("h1", {}, `${name} v${v.version}`)];
  if (v.problem) content.push(h("div", { class: "error" }, `This version cannot be read: ${v.problem}`));
  content.push(h("div", { class: "cards" },
    card("Algorithm", v.algorithm || "–"), card("CV RMSE", fmt(v.cv_rmse)), card("CV MAE", fmt(v.cv_mae)),
    card("Ratings", fmtCount(v.ratings)), card("Users", fmtCount(v.users)), card("Items", fmtCount(v.items)),
    card("Created", v.created_at || "–"), card("Endpoints", (v.endpoints || []).join(", ") || "none"),
    card("Training table", data.table || run.input_table || "–"), card("Data fingerprint", data.fingerprint || "–"),
    card("Seed", md.seed ?? run.seed ?? "–"), card("Job", run.job ? link(`#/jobs/${enc(run.job)}`, run.job) : "–")));
  if (run.cv) content.push(h("h2", {}, "Cross-validation"), cvTable(run.cv, run.cv_timings));
  content.push(h("h2", {}, "Plots"), h("div", { class: "plots" }, plotsFor(v)));
  if (run.search && run.search.settings) {
    const sr = run.search;
    const names = Object.keys(sr.settings[0].params);
    const metrics = [...new Set([sr.metric, "rmse", "mae"])];
    content.push(h("h2", {}, `Search: ${sr.method}, ${sr.settings.length} settings, ${sr.lower_is_better ? "lowest" : "highest"} ${sr.metric} wins`),
      table(["", ...names, ...metrics, "Seconds"], sr.settings.map((x, i) => ({
        attrs: { class: i === sr.best ? "diff" : null },
        cells: [i === sr.best ? "best" : "", ...names.map((n) => JSON.stringify(x.params[n])), ...metrics.map((m) => fmt(x[m])), fmt(x.seconds, 2)],
      })), Array.from({ length: metrics.length + 1 }, (_, i) => names.length + 1 + i)));
  }
  const params = paramsOf(v);
  content.push(h("h2", {}, "Hyperparameters"), table(["Name", "Value"], Object.entries(params).map(([k, x]) => [k, JSON.stringify(x)])));
  if (Object.keys(t).length) {
    content.push(h("h2", {}, "Timings"), table(["Step", "Seconds"], Object.entries(t).map(([k, x]) => [k.replace(/_s$/, ""), x.toFixed(3)]), [1]));
  }
  content.push(h("p", { class: "muted" }, `Artifact: ${v.artifact_uri} (${fmtCount(v.bytes)} bytes)`));
  setPage("models", content);
}

function plotsFor(v) {
  const run = v.run || {};
  const cv = run.cv;
  const diag = run.diagnostics || {};
  const figs = [];
  if (cv && cv.rmse) {
    figs.push(barChart({
      title: "RMSE and MAE per fold", groups: cv.rmse.map((_, i) => `Fold ${i + 1}`),
      series: [{ label: "RMSE", values: cv.rmse }, { label: "MAE", values: cv.mae }], yLabel: "error",
    }));
  }
  const curves = (diag.epoch_rmse || []).map((c, i) => ({ label: `fold ${i + 1}`, values: c, width: 1.2 }));
  if (diag.fit_epoch_rmse && diag.fit_epoch_rmse.length) curves.push({ label: "fit on all ratings", values: diag.fit_epoch_rmse, color: "#1b1f24", width: 2.4, dashed: true });
  if (curves.some((c) => c.values.some((x) => x !== null))) {
    figs.push(lineChart({ title: "Learning curve: training RMSE per epoch", series: curves, xLabel: "epoch", yLabel: "training RMSE" }));
  }
  const hist = diag.predictions;
  if (hist && hist.bins && hist.bins.length) {
    figs.push(barChart({
      title: "Held-out ratings vs predictions", groups: hist.bins.map((b) => String(b)),
      series: [{ label: "actual rating", values: hist.actual }, { label: "prediction (nearest bin)", values: hist.predicted }],
      yLabel: "ratings", yDigits: 0, yFrom: 0,
    }));
  }
  if (figs.length === 0) figs.push(h("p", { class: "muted" }, "This version has no cross-validation to plot (trained with folds = 0, or before reco recorded plots)."));
  return figs;
}

async function pageCompare(name, list) {
  const gen = pageGeneration;
  const versions = list.split(",").filter(Boolean);
  let vs;
  try {
    vs = await Promise.all(versions.map((x) => versionData(name, x)));
  } catch (e) {
    if (e instanceof Unauthorized) throw e;
    setPage("models", h("p", {}, link("#/models", "← Models")), h("h1", {}, `Compare ${name}`), errorBox(e));
    return;
  }
  if (!current(gen)) return;
  const metric = (label, f, digits) => [label, ...vs.map((v) => (typeof f(v) === "number" ? fmt(f(v), digits) : f(v) ?? "–"))];
  const rows = [
    metric("Algorithm", (v) => v.algorithm), metric("CV RMSE", (v) => v.cv_rmse, 4), metric("CV MAE", (v) => v.cv_mae, 4),
    metric("Ratings", (v) => fmtCount(v.ratings)), metric("Training table", (v) => (v.metadata && v.metadata.data ? v.metadata.data.table : "–")),
    metric("Data fingerprint", (v) => (v.metadata && v.metadata.data ? v.metadata.data.fingerprint : "–")),
    metric("Created", (v) => v.created_at), metric("Train time (s)", (v) => (v.run && v.run.timings ? v.run.timings.total_s : null), 2),
  ];
  const names = [...new Set(vs.flatMap((v) => Object.keys(paramsOf(v))))].sort();
  for (const p of names) {
    const values = vs.map((v) => JSON.stringify(paramsOf(v)[p]));
    const differs = new Set(values).size > 1;
    rows.push({ attrs: { class: differs ? "diff" : null }, cells: [p, ...values.map((x) => x ?? "–")] });
  }
  const fig = barChart({
    title: "RMSE per fold", groups: (vs[0].run && vs[0].run.cv ? vs[0].run.cv.rmse : []).map((_, i) => `Fold ${i + 1}`),
    series: vs.map((v) => ({ label: `v${v.version}`, values: v.run && v.run.cv ? v.run.cv.rmse : [] })), yLabel: "RMSE",
  });
  setPage("models", h("p", {}, link("#/models", "← Models")), h("h1", {}, `Compare ${name}: ${vs.map((v) => `v${v.version}`).join(", ")}`),
    table(["", ...vs.map((v) => `v${v.version}`)], rows), h("p", { class: "muted" }, "Highlighted rows differ."),
    h("div", { class: "plots" }, fig));
}

// --- tasks

async function pageTasks() {
  const gen = pageGeneration;
  const body = h("div", {});
  setPage("tasks", h("h1", {}, "Tasks"), body);
  const render = async () => {
    const data = await api("GET", "/tasks");
    if (!current(gen)) return;
    if (data.tasks.length === 0) {
      body.replaceChildren(h("p", {}, "No task yet. Create one with ", h("code", {}, "select create_task('retrain', '60 MINUTE', 'select ...')"),
        " or ", h("code", {}, "reco tasks create"), "; ", h("code", {}, "reco serve"), " runs them."));
      return;
    }
    body.replaceChildren(table(["Task", "Schedule", "State", "Next run", "Last run", "Last state", "Runs"], data.tasks.map((t) => [
      link(`#/tasks/${enc(t.name)}`, t.name), t.schedule, stateBadge(t.state), t.next_run || "–",
      t.last_run ? t.last_run.started_at : "–", t.last_run ? stateBadge(t.last_run.state) : "–", fmtCount(t.runs),
    ]), [6]));
  };
  try { await render(); } catch (e) { if (e instanceof Unauthorized) throw e; body.replaceChildren(errorBox(e)); }
  every(5000, render);
}

async function pageTask(name) {
  const gen = pageGeneration;
  let t;
  try {
    t = await api("GET", `/tasks/${enc(name)}`);
  } catch (e) {
    if (e instanceof Unauthorized) throw e;
    setPage("tasks", h("p", {}, link("#/tasks", "← Tasks")), h("h1", {}, `Task ${name}`), errorBox(e));
    return;
  }
  if (!current(gen)) return;
  setPage("tasks", h("p", {}, link("#/tasks", "← Tasks")), h("h1", {}, `Task ${t.name}`),
    h("div", { class: "cards" }, card("State", stateBadge(t.state)), card("Schedule", t.schedule), card("Next run", t.next_run || "–"),
      card("Runs only when changed", t.when_changed || "always")),
    h("h2", {}, "SQL"), h("pre", { class: "log" }, t.sql),
    h("h2", {}, "Runs (newest first)"),
    t.history.length ? table(["Scheduled", "Started", "Finished", "State", "Trigger", "Jobs", "Error"], t.history.map((r) => [
      r.scheduled_time || "–", r.started_at, r.finished_at || "–", stateBadge(r.state), r.trigger,
      h("span", {}, r.jobs.map((j) => [link(`#/jobs/${enc(j)}`, j), " "])), r.error || "",
    ])) : h("p", {}, "No run yet."));
}

// --- user explorer

async function pageExplore(endpoint, user) {
  const gen = pageGeneration;
  const data = await api("GET", "/endpoints");
  if (!current(gen)) return;
  const names = data.endpoints.map((e) => e.name);
  const select = h("select", { id: "explore-endpoint", name: "endpoint" }, names.map((n) => h("option", { value: n, selected: n === endpoint }, n)));
  const input = h("input", { id: "explore-user", name: "user", inputmode: "numeric", pattern: "-?[0-9]+", required: true, value: user || "", size: 10 });
  const out = h("div", {});
  const form = h("form", {
    class: "form-row", onsubmit: (ev) => {
      ev.preventDefault();
      location.hash = `#/explore/${enc(select.value)}/${enc(input.value.trim())}`;
    },
  }, h("label", { for: "explore-endpoint" }, "Endpoint"), select, h("label", { for: "explore-user" }, "User id"), input,
  h("button", { type: "submit" }, "Show"));
  setPage("explore", h("h1", {}, "Users"), names.length ? form : h("p", {}, "Deploy an endpoint to explore its recommendations."), out);
  if (!endpoint || !user) { if (names.length) input.focus(); return; }
  try {
    const r = await api("GET", `/endpoints/${enc(endpoint)}/users/${enc(user)}`);
    if (!current(gen)) return;
    const parts = [];
    for (const n of r.notes || []) parts.push(h("div", { class: "note" }, n));
    const ratedRow = (x) => [x.title ?? "(no title)", x.item, x.rating === null ? "–" : fmt(x.rating, 1)];
    const SHOWN = 20;  // the best-rated first; the rest one click away
    const rated = h("div", {}, table(["Title", "Item", "Rating"], r.rated.slice(0, SHOWN).map(ratedRow), [1, 2]),
      r.rated.length > SHOWN ? h("details", {}, h("summary", {}, `All ${r.rated.length} ratings`),
        table(["Title", "Item", "Rating"], r.rated.slice(SHOWN).map(ratedRow), [1, 2])) : null);
    const recs = table(["#", "Title", "Item", "Predicted", "Score"], r.recommendations.map((x) => [x.rank, x.title ?? "(no title)", x.item, fmt(x.prediction, 3), fmt(x.score, 4)]), [0, 2, 3, 4]);
    parts.push(h("div", { class: "columns" },
      h("section", { id: "rated" }, h("h2", {}, `Rated by user ${r.user} (${r.rated.length})`), rated),
      h("section", { id: "recommended" }, h("h2", {}, `Top ${r.recommendations.length} from ${r.endpoint} (${r.model} v${r.version})`), recs,
        h("p", { class: "muted" }, "Predicted is clipped to the rating scale; the ranking uses the unclipped score."))));
    out.replaceChildren(...parts);
  } catch (e) {
    if (e instanceof Unauthorized) throw e;
    out.replaceChildren(errorBox(e));
  }
}

// --- warehouse

async function pageWarehouse() {
  const gen = pageGeneration;
  const data = await api("GET", "/warehouse/tables");
  if (!current(gen)) return;
  const sql = h("textarea", { id: "sql", name: "sql", spellcheck: "false", rows: 5 }, "select * from ratings limit 10");
  const limit = h("input", { id: "limit", name: "limit", type: "number", min: 1, max: 5000, value: 200, size: 6 });
  const out = h("div", { id: "result" });
  const run = async () => {
    out.replaceChildren(h("p", { class: "muted" }, "running…"));
    try {
      const r = await api("POST", "/warehouse/query", { sql: sql.value, limit: Number(limit.value) || 200 });
      const rows = r.rows.map((row) => row.map((x) => (x === null ? "NULL" : typeof x === "object" ? JSON.stringify(x) : x)));
      out.replaceChildren(h("p", { class: "muted" }, `${r.rows.length} row(s) in ${fmtSeconds(r.elapsed_s)}`
        + (r.truncated ? `; stopped at the limit of ${r.limit} rows` : "")), table(r.columns, rows));
      announce(`${r.rows.length} rows`);
    } catch (e) {
      if (e instanceof Unauthorized) return showLogin(e.message);
      out.replaceChildren(errorBox(e));
    }
  };
  const form = h("form", { onsubmit: (ev) => { ev.preventDefault(); run(); } },
    h("label", { for: "sql" }, "Read-only SQL"), sql,
    h("div", { class: "form-row" }, h("label", { for: "limit" }, "Row limit"), limit, h("button", { type: "submit" }, "Run"),
      h("span", { class: "muted" }, "One statement that only reads; at most 5 s. Ctrl+Enter runs it.")));
  sql.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); } });
  const tables = table(["Table", "Rows", "Columns"], data.tables.map((t) => [
    h("button", { type: "button", class: "link", onclick: () => { sql.value = `select * from "${t.name.replaceAll('"', '""')}" limit 20`; sql.focus(); } }, t.name),
    t.view ? "view" : fmtCount(t.rows), t.columns.map((c) => `${c.name}${c.type ? ` ${c.type}` : ""}`).join(", "),
  ]), [1]);
  const none = h("p", {}, "No table yet: ", h("code", {}, "reco load movielens DIR"), " or ", h("code", {}, "reco load csv FILE --table NAME"), " makes some.");
  setPage("warehouse", h("h1", {}, "Warehouse"), h("p", { class: "muted" }, `${data.backend}: ${data.location}`),
    data.tables.length ? tables : none,
    h("h2", {}, "Query"), form, out);
}

// ---------------------------------------------------------------------------------------------
// Routing: #/section/args

async function route() {
  clearTimeout(pageTimer);
  const gen = ++pageGeneration;
  const parts = location.hash.replace(/^#\/?/, "").split("/").map((p) => decodeURIComponent(p));
  const [section, a, b] = parts;
  document.getElementById("signout").hidden = !sessionStorage.getItem(TOKEN_KEY);
  try {
    switch (section) {
      case "jobs": await (a ? pageJob(a) : pageJobs()); break;
      case "tasks": await (a ? pageTask(a) : pageTasks()); break;
      case "models": await (a && b ? pageVersion(a, b) : pageModels()); break;
      case "compare": await pageCompare(a, b || ""); break;
      case "explore": await pageExplore(a, b); break;
      case "warehouse": await pageWarehouse(); break;
      default: await (section === "endpoints" && a ? pageEndpoint(a) : pageEndpoints()); break;
    }
    if (current(gen)) {
      const title = main.querySelector("h1");
      document.title = `${title ? title.textContent : "reco"} · reco console`;
    }
  } catch (e) {
    if (e instanceof Unauthorized) return showLogin(e.message);
    if (current(gen)) setPage(section, errorBox(e));
  }
}

document.getElementById("signout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin(null);
});
window.addEventListener("hashchange", () => { route(); main.focus({ preventScroll: true }); });
route();
