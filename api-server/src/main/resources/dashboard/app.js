// Gaffer dashboard: a client of the public REST API and its SSE stream, nothing more.
// Every string from the API goes into the page through textContent or attributes, never innerHTML:
// job parameters are user input.
"use strict";

const KEY_STORAGE = "gaffer.apiKey";
const ROLE_RANK = { read: 1, submit: 2, approve: 3, admin: 4 };
const TERMINAL = new Set(["completed", "failed", "cancelled", "rejected"]);
const PAGE_SIZE = 25;

const state = {
  key: localStorage.getItem(KEY_STORAGE),
  me: null, // {name, role} from /api/v3/me
  view: null, // "overview" | "jobs" | "job"
  jobId: null, // the job on the detail view
  revision: null, // the revision of its review as shown: decisions send it as If-Match
  gate: null, // the gate of its review as shown (plan, or a gate it stopped at): decisions name it
  previewTimer: null, // the next look at a preview being made
  jobs: { cursors: [null], page: 0, next: null, filter: {} },
  lastTimelineId: 0,
  subjobIds: new Set(),
  objectUrls: [],
  stream: { lastId: null, controller: null, running: false },
};

// ---------------------------------------------------------------------------------------------
// Small DOM helpers.

const $ = (id) => document.getElementById(id);

/** Creates an element; text is set with textContent, attributes with setAttribute. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function clear(node) {
  node.replaceChildren();
  return node;
}

function localTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

function timeEl(iso) {
  return el("time", { datetime: iso, title: iso, text: localTime(iso) });
}

function statusBadge(status) {
  return el("span", { class: "status status-" + status, text: status });
}

function progressBar(jobId, percent, status) {
  const p = clampPercent(percent);
  const bar = el("div", { class: "bar" });
  bar.style.width = p + "%";
  return el(
    "div",
    {
      class: "progress",
      role: "progressbar",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-valuenow": p,
      "aria-label": "Progress of job " + jobId,
      "data-progress": p,
      "data-status": status,
    },
    bar,
    el("span", { class: "pct", text: p + "%" }),
  );
}

function setProgress(node, percent, status, source) {
  if (!node) return;
  const p = clampPercent(percent);
  node.setAttribute("aria-valuenow", p);
  node.setAttribute("data-progress", p);
  if (status) node.setAttribute("data-status", status);
  if (source) node.setAttribute("data-source", source);
  node.querySelector(".bar").style.width = p + "%";
  node.querySelector(".pct").textContent = p + "%";
}

function clampPercent(v) {
  const n = Number(v);
  return Number.isFinite(n) ? Math.max(0, Math.min(100, Math.round(n))) : 0;
}

function canAct() {
  return !!state.me && (ROLE_RANK[state.me.role] || 0) >= ROLE_RANK.approve;
}

// ---------------------------------------------------------------------------------------------
// The API: bearer key when there is one; a 401 asks for a key.

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

function authHeaders() {
  return state.key ? { Authorization: "Bearer " + state.key } : {};
}

async function problemDetail(res) {
  try {
    const body = await res.json();
    return body.detail || body.title || "HTTP " + res.status;
  } catch (e) {
    return "HTTP " + res.status + " " + res.statusText;
  }
}

async function api(method, path, body, extraHeaders) {
  const headers = { Accept: "application/json", ...authHeaders(), ...(extraHeaders || {}) };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    const detail = await problemDetail(res);
    if (res.status === 401) askForKey(detail);
    throw new ApiError(res.status, detail);
  }
  return res.json();
}

/** Fetches a same-origin file with the key and returns an object URL for it (freed on navigation). */
async function fetchBlobUrl(path) {
  const url = new URL(path, location.origin);
  if (url.origin !== location.origin) throw new Error("refusing to send the key to " + url.origin);
  const res = await fetch(url.pathname + url.search, { headers: authHeaders() });
  if (!res.ok) throw new ApiError(res.status, await problemDetail(res));
  const objectUrl = URL.createObjectURL(await res.blob());
  state.objectUrls.push(objectUrl);
  return objectUrl;
}

// ---------------------------------------------------------------------------------------------
// The key and who we are.

function askForKey(reason) {
  stopStream();
  state.me = null;
  $("who").textContent = "";
  showView("key");
  $("key-error").textContent = state.key ? reason || "" : "";
  $("key-input").value = "";
  $("key-input").focus();
}

async function identify() {
  try {
    state.me = await api("GET", "/api/v3/me");
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) {
      showView("key");
      $("key-error").textContent = "The API did not answer: " + e.message;
    }
    return false;
  }
  $("who").textContent = state.me.name + " (" + state.me.role + ")";
  document.body.dataset.role = state.me.role;
  startStream();
  return true;
}

$("key-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const key = $("key-input").value.trim();
  if (!key) return;
  state.key = key;
  localStorage.setItem(KEY_STORAGE, key);
  if (await identify()) {
    $("key-error").textContent = "";
    route();
  }
});

$("key-forget").addEventListener("click", () => {
  localStorage.removeItem(KEY_STORAGE);
  state.key = null;
  $("key-error").textContent = "";
  $("key-input").value = "";
  $("key-input").focus();
});

$("change-key").addEventListener("click", () => askForKey(""));

// ---------------------------------------------------------------------------------------------
// Views and routing: #/ (overview), #/jobs?status=… (jobs), #/jobs/123 (one job).

function showView(name) {
  for (const v of ["key", "overview", "jobs", "job"]) {
    $(v + "-view").hidden = v !== name;
  }
  state.view = name;
  for (const a of document.querySelectorAll(".top nav a")) {
    const current =
      (name === "overview" && a.dataset.nav === "overview") ||
      (name === "jobs" && a.dataset.nav === "jobs" && state.jobs.filter.status !== "pending") ||
      (name === "jobs" && a.dataset.nav === "pending" && state.jobs.filter.status === "pending");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function route() {
  if (!state.me) return;
  for (const u of state.objectUrls.splice(0)) URL.revokeObjectURL(u);
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const detail = path.match(/^\/jobs\/(\d+)$/);
  if (detail) {
    state.jobId = Number(detail[1]);
    showView("job");
    loadJob(true);
  } else if (path === "/jobs") {
    state.jobId = null;
    const params = new URLSearchParams(query || "");
    state.jobs.filter = {
      status: params.get("status") || "",
      type: params.get("type") || "",
      queue: params.get("queue") || "",
    };
    state.jobs.cursors = [null];
    state.jobs.page = 0;
    $("filter-status").value = state.jobs.filter.status;
    $("filter-type").value = state.jobs.filter.type;
    $("filter-queue").value = state.jobs.filter.queue;
    showView("jobs");
    loadJobs();
  } else {
    state.jobId = null;
    showView("overview");
    loadOverview();
  }
}

window.addEventListener("hashchange", () => {
  route();
  $("main").focus({ preventScroll: true });
});

/** Reloads whatever is on screen: after the stream (re)connects without a resume point. */
function refreshView() {
  if (state.view === "overview") loadOverview();
  else if (state.view === "jobs") loadJobs();
  else if (state.view === "job") loadJob(false);
}

// ---------------------------------------------------------------------------------------------
// Overview.

async function loadOverview() {
  $("overview-error").textContent = "";
  try {
    const [stats, workers] = await Promise.all([api("GET", "/api/v3/stats?minutes=60"), api("GET", "/api/v3/workers")]);
    renderCounts(stats);
    renderQueues(stats);
    renderThroughput(stats);
    renderWorkers(workers.workers);
  } catch (e) {
    if (e.status !== 401) $("overview-error").textContent = e.message;
  }
}

function renderCounts(stats) {
  const list = clear($("status-counts"));
  list.append(el("li", {}, el("a", { href: "#/jobs" }, el("span", { class: "n", text: stats.total }), "all jobs")));
  for (const [status, n] of Object.entries(stats.by_status)) {
    list.append(
      el(
        "li",
        { "data-status": status },
        el(
          "a",
          { href: "#/jobs?status=" + encodeURIComponent(status), class: status === "pending" && n > 0 ? "pending" : null },
          el("span", { class: "n", text: n }),
          status === "pending" ? "pending approval" : status,
        ),
      ),
    );
  }
}

function renderQueues(stats) {
  const body = clear($("queue-table").tBodies[0]);
  const statuses = ["pending", "approved", "processing", "waiting", "completed", "failed", "cancelled", "rejected"];
  const queues = Object.keys(stats.by_queue);
  if (queues.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: 8, class: "muted", text: "No jobs yet." })));
  }
  for (const q of queues) {
    const row = el("tr", {}, el("th", { scope: "row" }, el("a", { href: "#/jobs?queue=" + encodeURIComponent(q), text: q })));
    for (const s of statuses) row.append(el("td", { class: "num", text: stats.by_queue[q][s] || 0 }));
    body.append(row);
  }
}

/** Completed and failed per minute over the window, as an inline SVG line chart. */
function renderThroughput(stats) {
  const minutes = stats.window_minutes || 60;
  const now = Math.floor(Date.now() / 60000);
  const completed = new Array(minutes).fill(0);
  const failed = new Array(minutes).fill(0);
  for (const t of stats.throughput) {
    const i = minutes - 1 - (now - Math.floor(new Date(t.minute).getTime() / 60000));
    if (i >= 0 && i < minutes) {
      completed[i] += t.completed;
      failed[i] += t.failed;
    }
  }
  const max = Math.max(1, ...completed, ...failed);
  const W = 600, H = 200, L = 36, R = 8, T = 10, B = 24;
  const x = (i) => L + (i * (W - L - R)) / Math.max(1, minutes - 1);
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const sum = (a) => a.reduce((s, v) => s + v, 0);
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute(
    "aria-label",
    `Last ${minutes} minutes: ${sum(completed)} completed, ${sum(failed)} failed; at most ${max} in one minute`,
  );
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  for (const v of [0, max / 2, max]) {
    add("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) });
    add("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, Number.isInteger(v) ? v : v.toFixed(1));
  }
  add("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B });
  const labels = [[0, `-${minutes} min`], [Math.floor(minutes / 2), `-${Math.ceil(minutes / 2)} min`], [minutes - 1, "now"]];
  for (const [i, text] of labels) {
    add("text", { x: x(i), y: H - 6, "text-anchor": i === 0 ? "start" : i === minutes - 1 ? "end" : "middle" }, text);
  }
  const bw = Math.max(1, (W - L - R) / minutes / 2 - 1);
  for (let i = 0; i < minutes; i++) {
    if (completed[i] > 0) add("rect", { class: "completed", x: x(i) - bw, y: y(completed[i]), width: bw, height: H - B - y(completed[i]) });
    if (failed[i] > 0) add("rect", { class: "failed", x: x(i), y: y(failed[i]), width: bw, height: H - B - y(failed[i]) });
  }
  clear($("throughput-chart")).append(svg);
}

function renderWorkers(workers) {
  const body = clear($("workers-table").tBodies[0]);
  if (workers.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "No live workers." })));
  }
  for (const w of workers) {
    body.append(
      el(
        "tr",
        { "data-worker-id": w.id },
        el("th", { scope: "row", text: w.name }),
        el("td", { text: w.host + " (pid " + w.pid + ")" }),
        el("td", { text: w.queues.join(", ") }),
        el("td", { class: "num", text: w.running + " of " + w.concurrency }),
        el("td", {}, timeEl(w.last_seen_at)),
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Jobs table.

$("filters").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const params = new URLSearchParams();
  for (const name of ["status", "type", "queue"]) {
    const v = $("filter-" + name).value.trim();
    if (v) params.set(name, v);
  }
  const q = params.toString();
  location.hash = "#/jobs" + (q ? "?" + q : "");
});

$("filter-reset").addEventListener("click", () => {
  location.hash = "#/jobs";
});

$("page-first").addEventListener("click", () => {
  state.jobs.cursors = [null];
  state.jobs.page = 0;
  loadJobs();
});
$("page-next").addEventListener("click", () => {
  if (!state.jobs.next) return;
  state.jobs.cursors[state.jobs.page + 1] = state.jobs.next;
  state.jobs.page++;
  loadJobs();
});
$("page-prev").addEventListener("click", () => {
  if (state.jobs.page === 0) return;
  state.jobs.page--;
  loadJobs();
});

let jobsLoad = 0;

async function loadJobs() {
  const load = ++jobsLoad;
  const params = new URLSearchParams({ limit: PAGE_SIZE });
  for (const [k, v] of Object.entries(state.jobs.filter)) if (v) params.set(k, v);
  const cursor = state.jobs.cursors[state.jobs.page];
  if (cursor) params.set("cursor", cursor);
  $("jobs-error").textContent = "";
  try {
    const page = await api("GET", "/api/v3/jobs?" + params);
    if (load !== jobsLoad) return; // a newer load started meanwhile
    state.jobs.next = page.next_cursor;
    const body = clear($("jobs-body"));
    for (const job of page.jobs) body.append(jobRow(job));
    $("jobs-empty").hidden = page.jobs.length > 0;
    $("page-prev").disabled = state.jobs.page === 0;
    $("page-first").disabled = state.jobs.page === 0;
    $("page-next").disabled = !page.next_cursor;
    $("page-label").textContent = "Page " + (state.jobs.page + 1);
  } catch (e) {
    if (e.status !== 401) $("jobs-error").textContent = e.message;
  }
}

function jobRow(job) {
  const row = el("tr", { "data-job-id": job.job_id });
  fillJobRow(row, job);
  return row;
}

function fillJobRow(row, job) {
  row.className = "job-row row-" + job.status + (job.status === "pending" ? " job-pending" : "");
  row.dataset.status = job.status;
  const statusCell = el("td", { class: "status-cell" }, statusBadge(job.status));
  const gate = job.status === "pending" && job.review && job.review.gate !== "plan" ? job.review.gate : null;
  if (job.status === "pending") {
    statusCell.append(el("span", { class: "pending-tag", text: gate ? `awaits review: ${gate}` : "awaits approval" }));
  }
  const actions = el("td", { class: "actions-cell" });
  // A gate is decided on its page, where what it produced is shown; a plan may be approved from the list.
  if (job.status === "pending" && !gate && canAct()) {
    const b = el("button", { type: "button", class: "small approve", "data-action": "approve", text: "Approve" });
    b.setAttribute("aria-label", "Approve job " + job.job_id);
    b.addEventListener("click", () => runAction(job.job_id, "approve", $("jobs-error"), b));
    actions.append(b);
  }
  row.replaceChildren(
    el("td", {}, el("a", { href: "#/jobs/" + job.job_id, class: "job-link", text: "#" + job.job_id })),
    el("td", { text: job.type }),
    el("td", { class: "wide-only", text: job.queue }),
    statusCell,
    el(
      "td",
      { class: "progress-cell" },
      progressBar(job.job_id, job.progress_percentage, job.status),
      el("span", { class: "stage", text: job.current_stage || "" }),
    ),
    el("td", { class: "wide-only" }, timeEl(job.inserted_at)),
    actions,
  );
}

/**
 * Moves a row's bar, stage and status from an event, without a round trip. In the jobs table a
 * status change also re-reads the job, so that its buttons and marks follow.
 */
function applyEventToRow(row, e, rereadOnStatusChange) {
  if (e.status && row.dataset.status !== e.status) {
    if (rereadOnStatusChange) refreshRow(row, e.job_id);
    row.classList.remove("job-pending", "row-" + row.dataset.status);
    row.classList.add("row-" + e.status);
    row.dataset.status = e.status;
    const cell = row.querySelector(".status-cell");
    if (cell) cell.replaceChildren(statusBadge(e.status));
  }
  const bar = row.querySelector(".progress");
  if (e.progress_percentage !== null && e.progress_percentage !== undefined) {
    setProgress(bar, e.progress_percentage, e.status, "sse");
  } else if (e.kind === "completed") {
    setProgress(bar, 100, e.status, "sse");
  }
  if (e.stage !== null && e.stage !== undefined) {
    const stage = row.querySelector(".stage");
    if (stage) stage.textContent = e.stage;
  }
}

const rowRefresh = new Map();

function refreshRow(row, jobId) {
  if (rowRefresh.has(jobId)) return;
  rowRefresh.set(
    jobId,
    setTimeout(async () => {
      rowRefresh.delete(jobId);
      try {
        const job = await api("GET", "/api/v3/jobs/" + jobId);
        if (row.isConnected) {
          const hadFocus = row.contains(document.activeElement);
          fillJobRow(row, job);
          row.querySelector(".progress").setAttribute("data-source", "sse");
          if (hadFocus) row.querySelector(".job-link").focus();
        }
      } catch (e) {
        /* the next event or reload will tell */
      }
    }, 100),
  );
}

/**
 * Decisions on the job page carry the comment box, the gate on screen and its revision (If-Match):
 * a decision made on what the page showed, never on what replaced it meanwhile.
 */
const DECISIONS = { approve: "comment", reject: "reason", "request-changes": "comment" };

async function runAction(jobId, action, errorNode, button, revision) {
  errorNode.textContent = "";
  let body;
  let headers;
  if (revision !== undefined && action in DECISIONS) {
    const comment = $("review-comment").value.trim();
    if (action !== "approve" && !comment) {
      errorNode.textContent = `Say why in the comment box before you ${action === "reject" ? "reject" : "request changes to"} job ${jobId}.`;
      $("review-comment").focus();
      return false;
    }
    body = { gate: state.gate };
    if (comment) body[DECISIONS[action]] = comment;
    headers = { "If-Match": `"${revision}"` };
  }
  if (button) button.disabled = true;
  try {
    await api("POST", `/api/v3/jobs/${jobId}/${action}`, body, headers);
    if (revision !== undefined && action in DECISIONS) $("review-comment").value = "";
    if (state.view === "job" && state.jobId === jobId) {
      $("action-note").textContent = `Job ${jobId}: ${action} done.`;
      loadJob(false);
    }
    return true;
  } catch (e) {
    errorNode.textContent = `Could not ${action} job ${jobId}: ${e.detail || e.message}`;
    if (button) button.disabled = false;
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// One job.

for (const b of document.querySelectorAll("#job-actions button")) {
  b.addEventListener("click", () => runAction(state.jobId, b.dataset.action, $("action-error"), b, state.revision));
}

async function loadJob(fresh) {
  const id = state.jobId;
  if (fresh) {
    $("action-error").textContent = "";
    $("action-note").textContent = "";
    clear($("job-timeline"));
    clear($("job-video"));
    clear($("job-revisions"));
    $("job-revisions-section").hidden = true;
    revisionsShown = null;
    state.lastTimelineId = 0;
  }
  try {
    const job = await api("GET", "/api/v3/jobs/" + id);
    if (state.jobId !== id) return;
    // Decisions change only while the job is pending (and as it leaves): a running video's reloads,
    // one per sub-job event, need not ask for them again.
    const reviewsMayChange = fresh || job.status === "pending" || $("job-view").dataset.status === "pending";
    renderJob(job, fresh);
    await Promise.all([
      loadTimeline(id),
      loadSubjobs(job),
      loadArtifacts(job).then((artifacts) => loadRevisions(job, artifacts)),
      loadPreview(job),
      reviewsMayChange ? loadReviews(id) : Promise.resolve(),
    ]);
  } catch (e) {
    if (e.status !== 401 && state.jobId === id) {
      $("job-title").textContent = "Job #" + id;
      $("action-error").textContent = e.message;
    }
  }
}

function renderJob(job, fresh) {
  $("job-title").textContent = `Job #${job.job_id} · ${job.type}`;
  document.title = `Job ${job.job_id} · Gaffer`;
  const status = clear($("job-status"));
  status.className = "status status-" + job.status;
  status.textContent = job.status;
  $("job-view").dataset.status = job.status;
  clear($("job-progress")).append(progressBar(job.job_id, job.progress_percentage, job.status));
  $("job-stage").textContent = job.current_stage || "";
  const review = job.review || { gate: "plan", revision: job.storyboard_revision, open: job.status === "pending" };
  const atGate = job.status === "pending" && review.gate !== "plan";
  $("job-pending-note").hidden = job.status !== "pending";
  $("job-pending-note").textContent = atGate
    ? `This job stopped at its gate “${review.gate}” and waits for a person's decision: approve to go on, request changes to make it again, reject to fail it.`
    : "This job waits for a person to review its plan.";
  state.revision = review.revision;
  state.gate = review.gate;
  renderGate(job, review, atGate);

  const acting = canAct();
  $("job-actions").hidden = !acting;
  $("job-review").hidden = !acting || job.status !== "pending";
  $("action-approve").hidden = job.status !== "pending";
  $("action-reject").hidden = job.status !== "pending";
  $("action-request-changes").hidden = job.status !== "pending";
  $("action-cancel").hidden = TERMINAL.has(job.status);
  $("action-retry").hidden = !(job.status === "failed" || job.status === "cancelled");
  for (const b of $("job-actions").querySelectorAll("button")) b.disabled = false;

  const facts = clear($("job-facts"));
  const fact = (name, value) => {
    if (value === null || value === undefined || value === "") return;
    facts.append(el("dt", { text: name }), el("dd", {}, value));
  };
  fact("Queue", job.queue);
  fact("Priority", String(job.priority));
  fact("Attempt", `${job.attempt} of ${job.max_attempts}`);
  if (job.parent_id) fact("Parent", el("a", { href: "#/jobs/" + job.parent_id, text: "#" + job.parent_id }));
  fact("Created", timeEl(job.inserted_at));
  fact("Created by", job.created_by);
  if (job.storyboard_revision > 1 || job.storyboard) fact("Storyboard revision", String(job.storyboard_revision));
  if (job.approved_at) fact("Approved", el("span", {}, timeEl(job.approved_at), " by " + (job.approved_by || "?")));
  if (job.run_at) fact("Runs at", timeEl(job.run_at));
  if (job.started_at) fact("Started", timeEl(job.started_at));
  if (job.finished_at) fact("Finished", timeEl(job.finished_at));
  fact("Worker", job.locked_by);
  if (job.subjobs && job.subjobs.total > 0) fact("Sub-jobs", `${job.subjobs.finished} of ${job.subjobs.total} finished`);

  $("job-error-section").hidden = !job.last_error;
  $("job-last-error").textContent = job.last_error || "";

  const hasResult = job.result !== null && job.result !== undefined;
  $("job-result-section").hidden = !hasResult;
  $("job-result").textContent = hasResult ? JSON.stringify(job.result, null, 2) : "";
  if (hasResult && job.type === "video" && job.status === "completed" && job.result.download_url) {
    if (fresh || !$("job-video").hasChildNodes()) showVideo(job);
  }

  renderParameters(job.parameters);
  renderStoryboard(job);
  renderStoryboardDiff(job).catch(() => {});
}

/** At a gate after the plan: what the handler left for the reviewers, scene clips played in place. */
function renderGate(job, review, atGate) {
  const section = $("job-gate-section");
  section.hidden = !atGate;
  const box = clear($("job-gate"));
  if (!atGate) return;
  const summary = review.summary;
  box.append(el("p", { class: "muted", text: `Gate ${review.gate}, revision ${review.revision}.` }));
  if (summary && typeof summary.look_at === "string") box.append(el("p", { text: "Look at " + summary.look_at + "." }));
  const scenes = summary && Array.isArray(summary.scenes) ? summary.scenes : null;
  if (!scenes) {
    if (summary !== null && summary !== undefined) box.append(el("pre", { class: "json", text: JSON.stringify(summary, null, 2) }));
    return;
  }
  const list = el("ol", { class: "gate-scenes" });
  for (const s of scenes) {
    const li = el("li", { "data-scene": String(s.index) }, el("span", { text: s.caption || `Scene ${s.index + 1}` }));
    if (typeof s.clip_url === "string" && s.clip_url.startsWith("/api/v3/")) {
      const play = el("button", { type: "button", class: "secondary", text: "Play clip" });
      play.addEventListener("click", async () => {
        play.disabled = true;
        try {
          const url = await fetchBlobUrl(s.clip_url);
          const video = el("video", { controls: true, preload: "metadata", "aria-label": `Clip of scene ${s.index + 1}` });
          video.src = url;
          play.replaceWith(video);
        } catch (e) {
          play.disabled = false;
          play.textContent = "Could not load the clip: " + (e.detail || e.message);
        }
      });
      li.append(" ", play);
    }
    list.append(li);
  }
  box.append(list);
}

/** Every leaf of a JSON document by its path (scenes[1].caption), as JSON text. */
function flatten(value, path, out) {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [`${path}[${i}]`, v]) : Object.entries(value).map(([k, v]) => [path ? `${path}.${k}` : k, v]);
    if (entries.length === 0) out.set(path || "(document)", JSON.stringify(value));
    for (const [p, v] of entries) flatten(v, p, out);
  } else {
    out.set(path || "(document)", JSON.stringify(value === undefined ? null : value));
  }
  return out;
}

/**
 * What the current storyboard revision changed from the one before it: each added, removed or
 * changed field by its path. Shown to a reviewer of a revised plan; fetched once per revision.
 */
async function renderStoryboardDiff(job) {
  const box = $("job-storyboard-diff");
  const rev = job.storyboard_revision;
  if (!(rev > 1)) {
    box.hidden = true;
    delete box.dataset.key;
    return;
  }
  const key = `${job.job_id}/${rev}`;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  let before;
  try {
    before = await api("GET", `/api/v3/jobs/${job.job_id}/storyboard?revision=${rev - 1}`);
  } catch (e) {
    box.hidden = true;
    return;
  }
  if (state.jobId !== job.job_id) return;
  const a = flatten(before, "", new Map());
  const b = flatten(job.storyboard, "", new Map());
  const list = clear($("job-storyboard-changes"));
  const paths = [...new Set([...a.keys(), ...b.keys()])];
  for (const p of paths) {
    if (a.get(p) === b.get(p)) continue;
    const li = el("li", { "data-path": p });
    if (!a.has(p)) li.append(el("span", { class: "diff-added", text: "added" }), ` ${p}: ${b.get(p)}`);
    else if (!b.has(p)) li.append(el("span", { class: "diff-removed", text: "removed" }), ` ${p}: ${a.get(p)}`);
    else li.append(el("span", { class: "diff-changed", text: "changed" }), ` ${p}: ${a.get(p)} → ${b.get(p)}`);
    list.append(li);
  }
  if (!list.hasChildNodes()) list.append(el("li", { class: "muted", text: "No change in the document." }));
  $("job-storyboard-diff-title").textContent = `Changes from revision ${rev - 1} to ${rev}`;
  box.hidden = false;
}

function renderParameters(params) {
  const box = clear($("job-parameters"));
  if (params === null || params === undefined || (typeof params === "object" && Object.keys(params).length === 0)) {
    box.append(el("p", { class: "muted", text: "None." }));
    return;
  }
  if (typeof params !== "object" || Array.isArray(params)) {
    box.append(el("pre", { class: "json", text: JSON.stringify(params, null, 2) }));
    return;
  }
  const dl = el("dl", { class: "facts" });
  for (const [k, v] of Object.entries(params)) {
    const value = v !== null && typeof v === "object" ? el("pre", { class: "json", text: JSON.stringify(v, null, 2) }) : String(v);
    dl.append(el("dt", { text: k }), el("dd", {}, value));
  }
  box.append(dl);
}

function renderStoryboard(job) {
  clear($("job-storyboard")).append(...storyboardNodes(job.storyboard, "scenes-table", "Scenes"));
}

/** A storyboard as the page shows one: its scenes as a table, or else its JSON. */
function storyboardNodes(sb, tableId, caption) {
  if (sb === null || sb === undefined) return [el("p", { class: "muted", text: "No storyboard." })];
  const scenes = sb && Array.isArray(sb.scenes) ? sb.scenes : null;
  if (!scenes) return [el("pre", { class: "json", text: JSON.stringify(sb, null, 2) })];
  const total = scenes.reduce((s, sc) => s + (Number(sc && sc.duration) || 0), 0);
  const table = el(
    "table",
    { id: tableId, class: "scenes" },
    el("caption", { class: "visually-hidden", text: caption }),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { scope: "col", text: "#" }),
        el("th", { scope: "col", text: "Duration" }),
        el("th", { scope: "col", text: "Background" }),
        el("th", { scope: "col", text: "Caption" }),
      ),
    ),
  );
  const body = el("tbody");
  scenes.forEach((sc, i) => {
    sc = sc || {};
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    // Only a value the browser accepts as a colour reaches the style.
    if (typeof sc.background === "string" && CSS.supports("color", sc.background)) swatch.style.background = sc.background;
    body.append(
      el(
        "tr",
        {},
        el("td", { class: "num", text: i + 1 }),
        el("td", { class: "num", text: sc.duration !== undefined ? sc.duration + " s" : "" }),
        el("td", {}, swatch, sc.background !== undefined ? String(sc.background) : ""),
        el("td", { text: sc.caption !== undefined ? String(sc.caption) : "" }),
      ),
    );
  });
  table.append(body);
  return [
    el("p", { class: "muted", text: `${scenes.length} scene${scenes.length === 1 ? "" : "s"}, ${total} s in all` }),
    el("div", { class: "table-wrap" }, table),
  ];
}

async function showVideo(job) {
  const box = clear($("job-video"));
  const status = el("p", { class: "muted", text: "Loading the video…" });
  box.append(status);
  try {
    const url = await fetchBlobUrl(job.result.download_url);
    if (state.jobId !== job.job_id) return;
    const name = job.result.download_url.split("/").pop() || "video.mp4";
    const video = el("video", { controls: true, preload: "metadata", "aria-label": "Video of job " + job.job_id });
    video.src = url;
    const link = el("a", { href: url, download: `job-${job.job_id}-${name}`, class: "download", text: "Download " + name });
    box.replaceChildren(video, el("p", {}, link));
  } catch (e) {
    status.textContent = "Could not load the video: " + (e.detail || e.message);
  }
}

async function loadTimeline(id) {
  let since = state.lastTimelineId;
  for (;;) {
    const page = await api("GET", `/api/v3/jobs/${id}/events?since=${since}&limit=1000`);
    if (state.jobId !== id) return;
    for (const e of page.events) appendTimeline(e);
    if (page.events.length < 1000) return;
    since = page.next_since;
  }
}

/** Adds an event to the timeline; false when it is already there. */
function appendTimeline(e) {
  if (e.id <= state.lastTimelineId) return false;
  state.lastTimelineId = e.id;
  const who = e.actor ? "by " + e.actor : e.worker_id ? "on " + e.worker_id : "";
  const bits = [e.status, who, e.progress_percentage !== null && e.progress_percentage !== undefined ? e.progress_percentage + "%" : "", e.stage || ""];
  const li = el(
    "li",
    { "data-kind": e.kind, "data-event-id": e.id },
    timeEl(e.created_at),
    el("span", { class: "kind", text: e.kind }),
    el("span", { text: bits.filter(Boolean).join(" · ") }),
  );
  if (e.message) li.append(el("div", { class: "muted", text: e.message }));
  $("job-timeline").append(li);
  return true;
}

async function loadReviews(id) {
  const page = await api("GET", `/api/v3/jobs/${id}/reviews`);
  if (state.jobId !== id) return;
  const list = clear($("job-reviews"));
  $("job-reviews-section").hidden = page.reviews.length === 0;
  for (const r of page.reviews) {
    const li = el(
      "li",
      { "data-decision": r.decision, "data-review-id": r.id },
      timeEl(r.decided_at),
      el("span", { class: "kind", text: r.decision.replace("_", " ") }),
      el("span", { text: `by ${r.reviewer} · ${r.gate === "plan" ? "plan" : "gate " + r.gate} · revision ${r.revision}` }),
    );
    if (r.comment) li.append(el("div", { class: "muted", text: r.comment }));
    list.append(li);
  }
}

async function loadSubjobs(job) {
  const section = $("job-subjobs-section");
  if (!job.subjobs || job.subjobs.total === 0) {
    section.hidden = true;
    state.subjobIds = new Set();
    return;
  }
  const list = await api("GET", `/api/v3/jobs/${job.job_id}/subjobs`);
  if (state.jobId !== job.job_id) return;
  section.hidden = false;
  state.subjobIds = new Set(list.subjobs.map((s) => s.job_id));
  const body = clear($("subjobs-body"));
  for (const s of list.subjobs) {
    body.append(
      el(
        "tr",
        { "data-job-id": s.job_id, "data-status": s.status, class: "job-row row-" + s.status },
        el("td", {}, el("a", { href: "#/jobs/" + s.job_id, class: "job-link", text: "#" + s.job_id })),
        el("td", { text: s.type }),
        el("td", { class: "status-cell" }, statusBadge(s.status)),
        el("td", { class: "progress-cell" }, progressBar(s.job_id, s.progress_percentage, s.status), el("span", { class: "stage", text: s.current_stage || "" })),
      ),
    );
  }
}

/**
 * A pending plan's preview (made by a worker before anyone decides): the frames it returned, each
 * fetched with the key into a blob. While it is being made the page looks again every second.
 */
async function loadPreview(job) {
  const section = $("job-preview-section");
  clearTimeout(state.previewTimer);
  const atPlan = job.status === "pending" && (!job.review || job.review.gate === "plan");
  if (!atPlan) {
    section.hidden = true;
    return;
  }
  let preview;
  try {
    preview = await api("GET", `/api/v3/jobs/${job.job_id}/preview`);
  } catch (e) {
    if (e.status === 404) {
      section.hidden = true;
      return;
    }
    throw e;
  }
  if (state.jobId !== job.job_id) return;
  section.hidden = false;
  const list = $("job-preview");
  const key = `${job.job_id}/${preview.revision}/${preview.status}`;
  const shown = list.dataset.key === key;
  list.dataset.key = key;
  if (preview.status === "queued" || preview.status === "running") {
    $("job-preview-status").textContent = `Revision ${preview.revision}: a worker is making the preview…`;
    clear(list);
    state.previewTimer = setTimeout(() => {
      if (state.view === "job" && state.jobId === job.job_id) loadPreview(job).catch(() => {});
    }, 1000);
    return;
  }
  if (preview.status === "failed") {
    $("job-preview-status").textContent = `Revision ${preview.revision}: no preview (${preview.error}).`;
    clear(list);
    return;
  }
  $("job-preview-status").textContent = `Revision ${preview.revision}: what each scene will look like.`;
  if (shown) return;
  clear(list);
  const frames = preview.result && Array.isArray(preview.result.frames) ? preview.result.frames : [];
  for (const f of frames) {
    const li = el("li", { "data-frame": String(f.index) }, el("span", { text: f.caption || `Scene ${f.index + 1}` }));
    list.append(li);
    if (typeof f.url === "string" && f.url.startsWith("/api/v3/")) {
      fetchBlobUrl(f.url)
        .then((url) => {
          const img = el("img", { alt: `Scene ${f.index + 1}: ${f.caption || ""}`, width: String(preview.result.width || 160) });
          img.src = url;
          li.prepend(img);
        })
        .catch((e) => li.append(el("span", { class: "muted", text: " (frame not loaded: " + (e.detail || e.message) + ")" })));
    }
  }
}

/** The job's files, newest revision of each; returns them (null when not asked for yet). */
async function loadArtifacts(job) {
  const section = $("job-artifacts-section");
  if (!TERMINAL.has(job.status) && job.status !== "waiting") {
    section.hidden = true;
    return null;
  }
  const list = await api("GET", `/api/v3/jobs/${job.job_id}/artifacts`);
  if (state.jobId !== job.job_id) return null;
  section.hidden = list.artifacts.length === 0;
  const ul = clear($("job-artifacts"));
  for (const a of list.artifacts) {
    ul.append(el("li", {}, el("strong", { text: a.name }), ` ${a.content_type}, ${a.size_bytes} bytes `, downloadButton(a, "Download " + a.name, a.name)));
  }
  return list.artifacts;
}

/** A button that fetches a file with the key and saves it under the given name. */
function downloadButton(a, label, filename) {
  const b = el("button", { type: "button", class: "secondary small", text: "Download" });
  b.setAttribute("aria-label", label);
  b.addEventListener("click", async () => {
    try {
      const url = await fetchBlobUrl(a.download_url);
      const link = el("a", { href: url, download: filename });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (e) {
      $("action-error").textContent = "Could not download " + a.name + ": " + (e.detail || e.message);
    }
  });
  return b;
}

let revisionsLoad = 0;
let revisionsShown = null; // what the Revisions section was last drawn from

/**
 * The job's revision history, when it has one (a storyboard edited after a run, or a file stored
 * more than once): each storyboard revision, newest first, how it ended, who replaced it and when,
 * its storyboard on demand and the files it made, each played or downloaded as that revision.
 * Drawn again only when the history changed, so that a video being played stays while the job's
 * events reload the page.
 */
async function loadRevisions(job, artifacts) {
  if (state.jobId !== job.job_id) return;
  const load = ++revisionsLoad;
  const section = $("job-revisions-section");
  const several = job.storyboard_revision > 1 || (Array.isArray(artifacts) && artifacts.some((a) => a.revision > 1));
  if (!several) {
    section.hidden = true;
    clear($("job-revisions"));
    revisionsShown = null;
    return;
  }
  const history = await api("GET", `/api/v3/jobs/${job.job_id}/revisions`);
  if (load !== revisionsLoad || state.jobId !== job.job_id) return;
  section.hidden = false;
  const key = job.job_id + ":" + JSON.stringify(history.revisions);
  if (revisionsShown === key) return;
  revisionsShown = key;
  clear($("job-revisions")).append(...history.revisions.map((r) => revisionItem(job.job_id, r)));
}

function revisionItem(jobId, r) {
  const li = el("li", {
    class: "revision" + (r.current ? " revision-current" : ""),
    "data-revision": r.revision,
    "data-status": r.status,
    "data-current": r.current ? "true" : "false",
  });
  const head = el(
    "div",
    { class: "revision-head" },
    el("strong", { class: "revision-number", text: "Revision " + r.revision }),
    r.current ? el("span", { class: "current-tag", text: "current" }) : null,
    statusBadge(r.status),
  );
  if (!r.current && (r.replaced_by || r.replaced_at)) {
    head.append(
      el(
        "span",
        { class: "muted replaced" },
        "replaced" + (r.replaced_by ? " by " + r.replaced_by : ""),
        r.replaced_at ? " · " : null,
        r.replaced_at ? timeEl(r.replaced_at) : null,
      ),
    );
  }
  li.append(head);

  if (typeof r.storyboard_url === "string" && r.storyboard_url.startsWith("/api/v3/")) {
    const boxId = `job-${jobId}-revision-${r.revision}-storyboard`;
    const box = el("div", { id: boxId, class: "revision-storyboard", hidden: true });
    const toggle = el("button", {
      type: "button",
      class: "secondary small",
      "aria-expanded": "false",
      "aria-controls": boxId,
      text: "Show storyboard",
    });
    toggle.addEventListener("click", async () => {
      const open = box.hidden;
      if (open && (!box.hasChildNodes() || box.dataset.failed)) {
        toggle.disabled = true;
        try {
          const sb = await api("GET", r.storyboard_url);
          delete box.dataset.failed;
          clear(box).append(...storyboardNodes(sb, null, `Scenes of revision ${r.revision}`));
        } catch (e) {
          box.dataset.failed = "true";
          clear(box).append(el("p", { class: "error", text: "Could not load the storyboard: " + (e.detail || e.message) }));
        }
        toggle.disabled = false;
      }
      box.hidden = !open;
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      toggle.textContent = open ? "Hide storyboard" : "Show storyboard";
    });
    head.append(toggle);
    li.append(box);
  }

  const files = Array.isArray(r.artifacts) ? r.artifacts : [];
  if (files.length === 0) {
    li.append(el("p", { class: "muted", text: "No files from this revision." }));
  } else {
    li.append(el("ul", { class: "plain revision-files" }, ...files.map((a) => revisionFile(jobId, a))));
  }
  return li;
}

/** One file of a revision: what it is, and Play (video) or Download for that very revision. */
function revisionFile(jobId, a) {
  const sha = typeof a.sha256 === "string" ? a.sha256.slice(0, 12) : "";
  const li = el(
    "li",
    { class: "revision-file", "data-artifact": a.name, "data-artifact-revision": a.revision },
    el("strong", { text: a.name }),
    ` revision ${a.revision} · ${a.size_bytes} bytes`,
    sha ? " · sha256 " : null,
    sha ? el("code", { title: a.sha256, text: sha }) : null,
  );
  const filename = `job-${jobId}-r${a.revision}-${a.name}`;
  const actions = el("span", { class: "file-actions" });
  if (typeof a.content_type === "string" && a.content_type.toLowerCase().startsWith("video/")) {
    const play = el("button", { type: "button", class: "small", "data-action": "play", text: "Play" });
    play.setAttribute("aria-label", `Play ${a.name}, revision ${a.revision}`);
    play.addEventListener("click", async () => {
      play.disabled = true;
      try {
        const url = await fetchBlobUrl(a.download_url);
        if (!li.isConnected) return;
        const video = el("video", {
          controls: true,
          preload: "metadata",
          "aria-label": `${a.name}, revision ${a.revision}, of job ${jobId}`,
          "data-artifact-revision": a.revision,
          "data-src-path": a.download_url,
        });
        video.src = url;
        const link = el("a", { href: url, download: filename, class: "download", text: `Download ${a.name} (revision ${a.revision})` });
        actions.replaceWith(video, el("p", { class: "file-link" }, link));
      } catch (e) {
        play.disabled = false;
        play.textContent = "Could not load the video: " + (e.detail || e.message);
      }
    });
    actions.append(play);
  }
  actions.append(downloadButton(a, `Download ${a.name}, revision ${a.revision}`, filename));
  li.append(" ", actions);
  return li;
}

let jobReload = null;

function scheduleJobReload() {
  if (jobReload) return;
  jobReload = setTimeout(() => {
    jobReload = null;
    if (state.view === "job") loadJob(false);
  }, 150);
}

// ---------------------------------------------------------------------------------------------
// Live events: /api/v3/events read with fetch (EventSource cannot send the key), resumed with
// Last-Event-ID after a drop.

function setLive(on) {
  const n = $("live");
  n.dataset.live = on ? "true" : "false";
  n.textContent = on ? "live" : "offline";
}

function stopStream() {
  state.stream.running = false;
  if (state.stream.controller) state.stream.controller.abort();
  setLive(false);
}

function startStream() {
  stopStream();
  state.stream.running = true;
  state.stream.lastId = null;
  const token = {};
  state.stream.token = token;
  runStream(token);
}

/** One reader loop; it ends when a newer one starts (token) or the stream is stopped. */
async function runStream(token) {
  let retryMs = 2000;
  while (state.stream.running && state.stream.token === token) {
    const controller = new AbortController();
    state.stream.controller = controller;
    try {
      const headers = { Accept: "text/event-stream", ...authHeaders() };
      if (state.stream.lastId !== null) headers["Last-Event-ID"] = String(state.stream.lastId);
      const res = await fetch("/api/v3/events", { headers, signal: controller.signal, cache: "no-store" });
      if (res.status === 401) {
        askForKey(await problemDetail(res));
        return;
      }
      if (!res.ok) throw new Error("HTTP " + res.status);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let event = { id: null, data: [] };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let nl;
        while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
          if (line === "") {
            if (event.data.length > 0) dispatch(event);
            event = { id: null, data: [] };
          } else if (line.startsWith(":")) {
            if (line.trim() === ": connected") connected();
          } else {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            let val = colon < 0 ? "" : line.slice(colon + 1);
            if (val.startsWith(" ")) val = val.slice(1);
            if (field === "id") event.id = val;
            else if (field === "data") event.data.push(val);
            else if (field === "retry" && /^\d+$/.test(val)) retryMs = Number(val);
          }
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
    }
    setLive(false);
    await new Promise((r) => setTimeout(r, retryMs));
  }
}

function connected() {
  setLive(true);
  // Without a resume point the stream starts now: reload the view so nothing between the page's
  // first read and this moment is missed. With one, the server replays what was missed.
  if (state.stream.lastId === null) refreshView();
}

function dispatch(raw) {
  let e;
  try {
    e = JSON.parse(raw.data.join("\n"));
  } catch (err) {
    return;
  }
  if (raw.id !== null && /^\d+$/.test(raw.id)) state.stream.lastId = Number(raw.id);
  onJobEvent(e);
}

let statsReload = null;

function onJobEvent(e) {
  if (state.view === "jobs") {
    const row = document.querySelector(`#jobs-body tr[data-job-id="${Number(e.job_id)}"]`);
    if (row) applyEventToRow(row, e, true);
    else if (e.kind === "created" && state.jobs.page === 0) scheduleJobsReload();
  } else if (state.view === "job") {
    if (e.job_id === state.jobId) {
      const isNew = appendTimeline(e);
      const bar = $("job-progress").querySelector(".progress");
      if (e.progress_percentage !== null && e.progress_percentage !== undefined) setProgress(bar, e.progress_percentage, e.status, "sse");
      if (e.stage) $("job-stage").textContent = e.stage;
      // A change the page has not drawn yet: re-read the job (buttons, result, sub-jobs follow).
      if (e.kind !== "progress" && (isNew || $("job-view").dataset.status !== e.status)) scheduleJobReload();
    } else if (state.subjobIds.has(e.job_id)) {
      const row = document.querySelector(`#subjobs-body tr[data-job-id="${Number(e.job_id)}"]`);
      if (row) applyEventToRow(row, e, false);
      if (e.kind !== "progress") scheduleJobReload();
    } else if (e.kind === "created" && $("job-view").dataset.status === "processing") {
      scheduleJobReload(); // perhaps a new sub-job of this one
    }
  } else if (state.view === "overview" && e.kind !== "progress" && !statsReload) {
    statsReload = setTimeout(() => {
      statsReload = null;
      if (state.view === "overview") loadOverview();
    }, 1000);
  }
}

let jobsReload = null;

function scheduleJobsReload() {
  if (jobsReload) return;
  jobsReload = setTimeout(() => {
    jobsReload = null;
    if (state.view === "jobs") loadJobs();
  }, 200);
}

// Workers have no events: the overview re-reads them every 10 s while it is shown.
setInterval(() => {
  if (state.view === "overview" && state.me && !document.hidden) loadOverview();
}, 10000);

// ---------------------------------------------------------------------------------------------
// Start: who are we (works without a key in dev mode), then the view in the address bar.

(async () => {
  if (await identify()) route();
})();
