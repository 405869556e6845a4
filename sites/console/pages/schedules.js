// Schedules: a declared job enqueued on a cron or rate expression read in a time zone
// (docs/workflows.md#schedules). List them with their next run, enable / disable, delete, create.
import * as lib from "../lib.js";

const { $, api, button, cell, definePage, onSubmit, when, withStepUp } = lib;

const HINTS = {
  cron:
    "Six fields: minute hour day-of-month month day-of-week year, with ? in exactly one day field, " +
    "e.g. 0 9 * * ? * (every day at 09:00 in the time zone).",
  rate: "A period of at least 1 minute, e.g. 5 minutes, 1 hour or 2 days.",
};

let nextCursor = null;
let jobNames = null; // from GET /v1/jobs, once

function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function label(schedule) {
  return schedule.name || schedule.schedule_id;
}

// A 422 with field errors reads better as "field: message" than as the generic detail.
function problem(error) {
  const errors = (error.data || {}).errors;
  if (error.status === 422 && Array.isArray(errors) && errors.length) {
    return new Error(errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; "));
  }
  return error;
}

function showError(error) {
  $("schedules-error").textContent = error ? problem(error).message : "";
}

function state(schedule) {
  const base = schedule.enabled ? "Enabled" : "Disabled";
  return schedule.status && schedule.status !== "active" ? `${base} (${schedule.status})` : base;
}

async function change(action, message) {
  showError(null);
  $("schedules-status").textContent = "";
  try {
    await withStepUp(action);
    $("schedules-status").textContent = message;
    await loadPage(null);
  } catch (error) {
    showError(error);
  }
}

function scheduleRow(schedule) {
  const tr = document.createElement("tr");
  const name = label(schedule);
  const path = `/v1/schedules/${encodeURIComponent(schedule.schedule_id)}`;
  const actions = document.createElement("td");
  const toggle = schedule.enabled ? "Disable" : "Enable";
  actions.append(
    button(
      toggle,
      () =>
        change(
          () => api("PATCH", path, { enabled: !schedule.enabled }),
          `The schedule "${name}" was ${schedule.enabled ? "disabled" : "enabled"}.`,
        ),
      { ariaLabel: `${toggle} the schedule ${name}` },
    ),
    button(
      "Delete",
      () => {
        if (!confirm(`Delete the schedule "${name}"? It fires no more.`)) return;
        change(() => api("DELETE", path), `The schedule "${name}" was deleted.`);
      },
      { ariaLabel: `Delete the schedule ${name}` },
    ),
  );
  const expression = cell("");
  const code = document.createElement("code");
  code.textContent = schedule.expression;
  expression.append(code);
  tr.append(
    cell(schedule.name || ""),
    cell(schedule.job),
    expression,
    cell(schedule.timezone),
    cell(state(schedule)),
    cell(schedule.next_runs && schedule.next_runs.length ? when(schedule.next_runs[0]) : "—"),
    actions,
  );
  return tr;
}

async function loadJobs() {
  jobNames ??= (await api("GET", "/v1/jobs")).jobs.map((job) => job.name).sort();
  const select = $("schedule-job");
  const selected = select.value;
  select.replaceChildren(
    ...jobNames.map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      return option;
    }),
  );
  if (jobNames.includes(selected)) select.value = selected;
}

async function loadPage(cursor) {
  const params = new URLSearchParams({ limit: "25" });
  if (cursor) params.set("cursor", cursor);
  const page = await api("GET", `/v1/schedules?${params}`);
  const rows = page.items.map(scheduleRow);
  if (cursor) $("schedules-body").append(...rows);
  else $("schedules-body").replaceChildren(...rows);
  $("schedules-empty").hidden = $("schedules-body").children.length > 0;
  nextCursor = page.cursor || null;
  $("schedules-more").hidden = !nextCursor;
}

function showHint() {
  $("schedule-expression-hint").textContent = HINTS[$("schedule-kind").value] || "";
}

function readPayload() {
  const text = $("schedule-payload").value.trim() || "{}";
  let payload;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new Error(`The payload is not valid JSON: ${error.message}`);
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new Error('The payload must be a JSON object, e.g. {"message": "tick"}.');
  }
  return payload;
}

definePage({
  view: "schedules",
  label: "Schedules",
  html: `
    <h2>Schedules</h2>
    <p class="muted">Run one of this workspace's jobs on a cron or rate expression, read in a time zone.
      Each firing is its own run (see Runs).</p>
    <p id="schedules-status" role="status" class="muted"></p>
    <p id="schedules-error" class="error" role="alert"></p>
    <table>
      <caption>Schedules</caption>
      <thead>
        <tr>
          <th scope="col">Name</th><th scope="col">Job</th><th scope="col">Expression</th>
          <th scope="col">Time zone</th><th scope="col">State</th><th scope="col">Next run</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr>
      </thead>
      <tbody id="schedules-body"></tbody>
    </table>
    <p id="schedules-empty" class="muted" hidden>This workspace has no schedules.</p>
    <button type="button" id="schedules-more" class="secondary" hidden>More schedules</button>
    <h3>Create a schedule</h3>
    <form id="schedule-form">
      <label for="schedule-name">Name</label>
      <input id="schedule-name" type="text" maxlength="100" autocomplete="off">
      <label for="schedule-job">Job</label>
      <select id="schedule-job" required></select>
      <label for="schedule-kind">Kind</label>
      <select id="schedule-kind">
        <option value="cron">Cron</option>
        <option value="rate">Rate</option>
      </select>
      <label for="schedule-expression">Expression</label>
      <input id="schedule-expression" type="text" maxlength="256" required autocomplete="off" spellcheck="false"
        aria-describedby="schedule-expression-hint">
      <p id="schedule-expression-hint" class="muted"></p>
      <label for="schedule-timezone">Time zone</label>
      <input id="schedule-timezone" type="text" maxlength="64" required autocomplete="off" spellcheck="false"
        aria-describedby="schedule-timezone-hint">
      <p id="schedule-timezone-hint" class="muted">An IANA name, such as Europe/Paris or UTC.</p>
      <label for="schedule-payload">Payload (JSON)</label>
      <textarea id="schedule-payload" rows="4" spellcheck="false">{}</textarea>
      <button type="submit">Create schedule</button>
      <p id="schedule-status" role="status" class="muted"></p>
      <p id="schedule-error" class="error" role="alert"></p>
    </form>`,
  async load() {
    showError(null);
    $("schedules-status").textContent = "";
    try {
      await loadJobs();
      await loadPage(null);
    } catch (error) {
      showError(error);
    }
  },
  init() {
    $("schedule-timezone").defaultValue = browserTimeZone();
    showHint();
    $("schedule-kind").addEventListener("change", showHint);
    $("schedules-more").addEventListener("click", async () => {
      showError(null);
      try {
        await loadPage(nextCursor);
      } catch (error) {
        showError(error);
      }
    });
    onSubmit("schedule-form", "schedule-error", async (form) => {
      $("schedule-status").textContent = "";
      const payload = readPayload();
      const name = $("schedule-name").value.trim();
      const body = {
        job: $("schedule-job").value,
        payload,
        [$("schedule-kind").value]: $("schedule-expression").value.trim(),
        timezone: $("schedule-timezone").value.trim(),
      };
      if (name) body.name = name;
      let created;
      try {
        created = await withStepUp(() => api("POST", "/v1/schedules", body));
      } catch (error) {
        throw problem(error);
      }
      form.reset();
      showHint();
      $("schedule-status").textContent = `The schedule "${label(created)}" was created.`;
      showError(null);
      await loadPage(null);
    });
  },
});
