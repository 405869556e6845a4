// What every console page shares: the API client, small DOM helpers and the page registry.
// A page lives in its own module under `pages/` (listed by a <script type="module"> in
// index.html) and registers itself with `definePage`; the router in console.js loads and shows it.
export const TOKEN_KEY = "ninefold.token";
export const $ = (id) => document.getElementById(id);

export function cookie(name) {
  const found = document.cookie.split("; ").find((part) => part.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

export async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (method !== "GET" && cookie("nf_csrf")) headers["X-CSRF-Token"] = cookie("nf_csrf");
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = data && (data.detail || data.message);
    const message = typeof detail === "string" ? detail : response.statusText || `Request failed (${response.status})`;
    throw Object.assign(new Error(message), { status: response.status, data });
  }
  return data;
}

export function cell(text) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  return td;
}

export function when(value) {
  return value ? new Date(value).toLocaleString() : "";
}

export function button(label, onClick, { secondary = true, ariaLabel } = {}) {
  const b = document.createElement("button");
  b.type = "button";
  if (secondary) b.className = "secondary";
  b.textContent = label;
  if (ariaLabel) b.setAttribute("aria-label", ariaLabel);
  b.addEventListener("click", onClick);
  return b;
}

// Run a form's handler on submit: the submit button is disabled meanwhile and errors are shown.
export function onSubmit(formId, errorId, handler) {
  $(formId).addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const submit = form.querySelector("button[type=submit]");
    $(errorId).textContent = "";
    submit.disabled = true;
    try {
      await handler(form);
    } catch (error) {
      $(errorId).textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });
}

// -- the page registry ---------------------------------------------------------------------------

export const pages = new Map();

// view: the route (`#/<view>`); label: its nav link (omit for pages reached by links only);
// html: the section's inner HTML (its <h2> gets focus); load(params): fetch and render before
// the page is shown; init(): wire up event handlers once, after the HTML is in the document.
// public: the page needs no sign-in (e.g. accepting an invitation from an email link).
export function definePage({ view, label, html, load, init, public: isPublic = false }) {
  const section = document.createElement("section");
  section.id = `view-${view}`;
  section.dataset.view = "";
  section.hidden = true;
  section.innerHTML = html;
  const heading = section.querySelector("h2");
  if (heading) {
    heading.tabIndex = -1;
    if (!heading.id) heading.id = `${view}-title`;
    section.setAttribute("aria-labelledby", heading.id);
  }
  document.querySelector("main").append(section);
  if (label) {
    const link = document.createElement("a");
    link.href = `/app/#/${view}`;
    link.textContent = label;
    $("nav").append(link);
  }
  pages.set(view, { view, load, public: isPublic });
  if (init) init();
}

// Query parameters of the current route, e.g. `#/runs?status=failed`.
export function routeParams() {
  const query = location.hash.split("?")[1] || "";
  return new URLSearchParams(query);
}

// -- step-up -------------------------------------------------------------------------------------

function isStepUpRequired(error) {
  if (!error || error.status !== 403) return false;
  const data = error.data || {};
  return String(data.type || "").endsWith("step-up-required") || data.code === "step-up-required";
}

// Ask the person to confirm it is them (password, or a code / recovery code when two-factor is on)
// in a modal <dialog>; resolves true once POST /v1/me/step-up accepted it, false if they cancel.
function askToStepUp() {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.setAttribute("role", "alertdialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-labelledby", "step-up-title");
    dialog.setAttribute("aria-describedby", "step-up-help");
    dialog.innerHTML = `
      <form method="dialog" id="step-up-form">
        <h2 id="step-up-title">Confirm it is you</h2>
        <p id="step-up-help">This action needs you to confirm your identity again. Enter your password, or, if two-factor
          authentication is on, a code from your authenticator app or one of your recovery codes.</p>
        <label for="step-up-method">Confirm with</label>
        <select id="step-up-method">
          <option value="password">Password</option>
          <option value="code">Authenticator code</option>
          <option value="recovery_code">Recovery code</option>
        </select>
        <label for="step-up-value" id="step-up-value-label">Password</label>
        <input id="step-up-value" type="password" autocomplete="current-password" required>
        <p id="step-up-error" class="error" role="alert"></p>
        <button type="submit" id="step-up-submit">Confirm</button>
        <button type="button" class="secondary" id="step-up-cancel">Cancel</button>
      </form>`;
    document.body.append(dialog);
    const method = dialog.querySelector("#step-up-method");
    const input = dialog.querySelector("#step-up-value");
    const label = dialog.querySelector("#step-up-value-label");
    const error = dialog.querySelector("#step-up-error");
    const finish = (ok) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    method.addEventListener("change", () => {
      const kind = method.value;
      label.textContent = { password: "Password", code: "Authenticator code", recovery_code: "Recovery code" }[kind];
      input.type = kind === "password" ? "password" : "text";
      input.autocomplete = kind === "password" ? "current-password" : "one-time-code";
      input.inputMode = kind === "code" ? "numeric" : "text";
      input.value = "";
      input.focus();
    });
    dialog.querySelector("#step-up-cancel").addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    dialog.querySelector("#step-up-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const submit = dialog.querySelector("#step-up-submit");
      submit.disabled = true;
      try {
        await api("POST", "/v1/me/step-up", { [method.value]: input.value.trim() });
        finish(true);
      } catch (failure) {
        error.textContent = failure.status === 429 ? "Too many attempts. Wait a moment and try again." : failure.message;
        input.focus();
      } finally {
        submit.disabled = false;
      }
    });
    dialog.showModal();
    input.focus();
  });
}

// Run `fn`; if the API answers 403 step-up-required, ask the person to confirm it is them and run
// `fn` once more. Any other failure (or a cancelled dialog) is thrown as it came.
export async function withStepUp(fn) {
  try {
    return await fn();
  } catch (error) {
    if (!isStepUpRequired(error)) throw error;
    if (!(await askToStepUp())) throw error;
    return fn();
  }
}
