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
