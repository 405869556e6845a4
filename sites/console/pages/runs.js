// Background job runs: filter by status and job (kept in the route, `#/runs?status=failed&job=…`),
// a run's error and attempts, cancel a queued run, replay a dead-lettered one; operators
// (platform:operate) also get the failed runs of every workspace (GET /v1/admin/runs).
import * as lib from "../lib.js";

const { $, api, button, cell, definePage, routeParams, when } = lib;

const STATUSES = ["queued", "running", "retrying", "succeeded", "failed", "cancelled"];
const PLATFORM_OPERATE = "platform:operate";

let nextCursor = null;
let declaredJobs = null; // from GET /v1/jobs, once

function filters() {
  const params = routeParams();
  const status = STATUSES.includes(params.get("status")) ? params.get("status") : "";
  return { status, job: params.get("job") || "" };
}

function query({ status, job }, cursor) {
  const params = new URLSearchParams();
  if (status) params.set("status", status);
  if (job) params.set("job", job);
  if (cursor) params.set("cursor", cursor);
  params.set("limit", "25");
  return params.toString();
}

function setOptions(select, values, selected, anyLabel) {
  const any = document.createElement("option");
  any.value = "";
  any.textContent = anyLabel;
  const options = values.map((value) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = value;
    return option;
  });
  select.replaceChildren(any, ...options);
  select.value = selected;
}

function showError(error) {
  $("runs-error").textContent = error ? error.message : "";
}

async function act(method, path) {
  showError(null);
  try {
    const run = await api(method, path);
    await load();
    await showDetail(run.run_id);
    // Another system's run (ADR 0014): the API passed the request on to the system that owns it.
    $("runs-notice").textContent =
      run.system && run.system !== "workflows"
        ? `Asked ${run.system}, which owns this run, to do it: the run changes here once it has.`
        : "";
  } catch (error) {
    showError(error);
  }
}

function runRow(run, { tenant = false } = {}) {
  const tr = document.createElement("tr");
  const cells = [
    run.run_id,
    run.job,
    run.system || "workflows",
    run.status,
    `${run.attempts} / ${run.max_attempts}`,
    when(run.created_at),
  ];
  if (tenant) cells.unshift(run.tenant_id);
  tr.append(...cells.map(cell), cell(when(run.finished_at)));
  const actions = document.createElement("td");
  if (!tenant) {
    actions.append(button("Details", () => showDetail(run.run_id), { ariaLabel: `Details of run ${run.run_id}` }));
    if (run.status === "queued" || run.status === "retrying") {
      actions.append(
        button("Cancel", () => act("POST", `/v1/runs/${run.run_id}/cancel`), {
          ariaLabel: `Cancel run ${run.run_id}`,
        }),
      );
    }
    if (run.status === "failed" && run.dead_lettered) {
      actions.append(
        button("Replay", () => act("POST", `/v1/runs/${run.run_id}/replay`), {
          ariaLabel: `Replay run ${run.run_id}`,
        }),
      );
    }
  }
  tr.append(actions);
  return tr;
}

async function showDetail(runId) {
  const panel = $("run-detail");
  showError(null);
  try {
    const run = await api("GET", `/v1/runs/${runId}`);
    $("run-detail-title").textContent = `Run ${run.run_id} (${run.job}): ${run.status}`;
    $("run-detail-error").textContent = run.last_error || "No error.";
    $("run-detail-next").textContent = run.next_attempt_at ? `Next attempt ${when(run.next_attempt_at)}` : "";
    $("run-attempts").replaceChildren(
      ...(run.attempt_log || []).map((a) => {
        const tr = document.createElement("tr");
        tr.append(cell(String(a.attempt)), cell(when(a.started_at)), cell(when(a.finished_at)), cell(a.error || "ok"));
        return tr;
      }),
    );
    panel.hidden = false;
    $("run-detail-title").focus();
  } catch (error) {
    showError(error);
  }
}

async function loadPage(cursor) {
  const current = filters();
  const page = await api("GET", `/v1/runs?${query(current, cursor)}`);
  declaredJobs ??= (await api("GET", "/v1/jobs")).jobs.map((job) => job.name);
  // A run of a job no longer declared still shows under its own name.
  const jobs = new Set([...declaredJobs, ...page.items.map((run) => run.job), ...(current.job ? [current.job] : [])]);
  setOptions($("runs-status"), STATUSES, current.status, "Any status");
  setOptions($("runs-job"), [...jobs].sort(), current.job, "Any job");
  const rows = page.items.map((run) => runRow(run));
  if (cursor) $("runs-body").append(...rows);
  else $("runs-body").replaceChildren(...rows);
  $("runs-empty").hidden = $("runs-body").children.length > 0;
  nextCursor = page.cursor || null;
  $("runs-more").hidden = !nextCursor;
}

async function loadAllTenants() {
  let permissions = [];
  try {
    permissions = (await api("GET", "/v1/me")).permissions || [];
  } catch {
    permissions = [];
  }
  const operator = permissions.includes(PLATFORM_OPERATE);
  $("runs-all-tenants").hidden = !operator;
  if (!operator) return;
  const page = await api("GET", "/v1/admin/runs?limit=50");
  $("runs-all-body").replaceChildren(...page.items.map((run) => runRow(run, { tenant: true })));
}

async function load() {
  showError(null);
  $("run-detail").hidden = true;
  try {
    await loadPage(null);
    await loadAllTenants();
  } catch (error) {
    showError(error);
  }
}

function applyFilters() {
  const hash = `#/runs?${query({ status: $("runs-status").value, job: $("runs-job").value })}`;
  if (location.hash !== hash) location.hash = hash; // hashchange routes and calls load()
}

definePage({
  view: "runs",
  label: "Runs",
  html: `
    <h2>Runs</h2>
    <p>Background job runs of this workspace, newest first: its own jobs, and the work other systems
      run for it (such as identity's purges), each under the system that owns it.</p>
    <form id="runs-filters" aria-label="Filter runs">
      <label for="runs-status">Status</label>
      <select id="runs-status" name="status"></select>
      <label for="runs-job">Job</label>
      <select id="runs-job" name="job"></select>
    </form>
    <p id="runs-error" role="alert"></p>
    <p id="runs-notice" role="status"></p>
    <table>
      <caption>Runs</caption>
      <thead>
        <tr>
          <th scope="col">Run</th><th scope="col">Job</th><th scope="col">System</th><th scope="col">Status</th>
          <th scope="col">Attempts</th><th scope="col">Created</th><th scope="col">Finished</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody id="runs-body"></tbody>
    </table>
    <p id="runs-empty" hidden>No runs match.</p>
    <button type="button" id="runs-more" class="secondary" hidden>More runs</button>
    <section id="run-detail" hidden aria-labelledby="run-detail-title">
      <h3 id="run-detail-title" tabindex="-1">Run</h3>
      <p id="run-detail-next"></p>
      <h4>Last error</h4>
      <pre id="run-detail-error"></pre>
      <table>
        <caption>Attempts</caption>
        <thead>
          <tr><th scope="col">Attempt</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col">Result</th></tr>
        </thead>
        <tbody id="run-attempts"></tbody>
      </table>
    </section>
    <section id="runs-all-tenants" hidden aria-labelledby="runs-all-title">
      <h3 id="runs-all-title">All tenants: recent failed runs</h3>
      <table>
        <caption>Failed runs of every workspace (operators)</caption>
        <thead>
          <tr>
            <th scope="col">Workspace</th><th scope="col">Run</th><th scope="col">Job</th><th scope="col">System</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th><th scope="col">Created</th><th scope="col">Finished</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody id="runs-all-body"></tbody>
      </table>
    </section>`,
  load,
  init() {
    $("runs-status").addEventListener("change", applyFilters);
    $("runs-job").addEventListener("change", applyFilters);
    $("runs-more").addEventListener("click", async () => {
      try {
        await loadPage(nextCursor);
      } catch (error) {
        showError(error);
      }
    });
  },
});
