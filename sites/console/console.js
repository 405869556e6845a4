// The console talks only to the public API, like any other client.
// Browsers sign in with email + password: the session lives in the HttpOnly `__Host-nf_session`
// cookie and every write echoes the `nf_csrf` cookie as `X-CSRF-Token`. An API token pasted under
// "Use an API token instead" is sent as a bearer token instead (kept in sessionStorage).
import { $, TOKEN_KEY, api, cell, onSubmit, pages, when, withStepUp } from "./lib.js";

const PUBLIC_VIEWS = new Set(["sign-in", "sign-up", "check-email", "verify", "reset-request", "reset-confirm"]);
let signedIn = false;

// -- navigation --------------------------------------------------------------------------------

function fragmentToken() {
  return new URLSearchParams(location.hash.replace(/^#/, "")).get("token") || "";
}

function currentView() {
  const path = location.pathname.replace(/\/+$/, "");
  if (path === "/app/verify-email") return "verify";
  if (path === "/app/reset-password") return fragmentToken() ? "reset-confirm" : "reset-request";
  const route = location.hash.replace(/^#\/?/, "").split("?")[0];
  const page = path.startsWith("/app/") ? path.slice("/app/".length) : ""; // e.g. /app/sign-in from an email
  if (pages.get(page)?.public) return page; // a public page opened from an email link (its token in the fragment)
  return route || page || "workspace";
}

function show(view, { focus = true } = {}) {
  for (const section of document.querySelectorAll("[data-view]")) section.hidden = section.id !== `view-${view}`;
  const heading = document.querySelector(`#view-${view} h2`);
  if (focus && heading) heading.focus();
}

// Routes overlap: a click on the nav while the previous page still loads starts a second route.
// Only the newest may show its view, or a slow earlier load would hide the page the user is on.
let routeGeneration = 0;

async function route() {
  const generation = ++routeGeneration;
  const current = () => generation === routeGeneration;
  const view = currentView();
  if (!document.getElementById(`view-${view}`)) {
    location.hash = "#/workspace";
    return;
  }
  const page = pages.get(view);
  if (PUBLIC_VIEWS.has(view) || page?.public) {
    if (page?.load) await page.load();
    if (!current()) return;
    show(view);
    if (view === "verify") await verifyEmail();
    return;
  }
  if (!signedIn && !(await refreshIdentity())) {
    if (!current()) return;
    $("notice").textContent = "Please sign in to continue.";
    show("sign-in");
    return;
  }
  if (!current()) return;
  $("notice").textContent = "";
  // Load before showing, so nothing typed into a visible form is overwritten.
  if (view === "workspace") {
    const name = (await api("GET", "/v1/workspace")).name;
    // A route that overlaps another (hashchange + an explicit call) must not clobber typing.
    if (!$("workspace-name").dataset.edited) $("workspace-name").value = name;
  }
  if (view === "sessions") await loadSessions();
  if (page?.load) await page.load();
  if (!current()) return;
  show(view);
  if (view === "workspace") await loadAudit().catch(() => {});
}

$("workspace-name").addEventListener("input", () => {
  $("workspace-name").dataset.edited = "1";
});

function go(hash) {
  if (location.pathname.replace(/\/+$/, "") !== "/app") {
    history.pushState(null, "", `/app/${hash}`);
    route();
  } else if (location.hash === hash) {
    route();
  } else {
    location.hash = hash; // hashchange routes
  }
}

// -- identity ----------------------------------------------------------------------------------

async function refreshIdentity() {
  try {
    const me = await api("GET", "/v1/me");
    const workspace = await api("GET", "/v1/workspace");
    signedIn = true;
    $("who").textContent = `${me.email || me.user_id} in ${workspace.name}`;
    $("nav").hidden = false;
    $("sign-out").hidden = false;
    // Platform pages (Admin) only for platform admins and operators.
    const platform = (me.permissions || []).some((p) => p.startsWith("platform:"));
    for (const link of document.querySelectorAll('#nav a[href="/app/#/admin"]')) link.hidden = !platform;
    showImpersonation(me);
    return true;
  } catch (error) {
    if (error.status !== 401 && error.status !== 403) throw error;
    $("impersonation-banner").hidden = true;
    forgetIdentity();
    return false;
  }
}

// While a platform admin acts as someone (impersonation), say so on every page, with a way out.
function showImpersonation(me) {
  const banner = $("impersonation-banner");
  banner.hidden = !me.impersonated_by;
  if (!me.impersonated_by) return banner.replaceChildren();
  const until = me.impersonation_expires_at ? ` until ${when(me.impersonation_expires_at)}` : "";
  const text = document.createElement("span");
  text.textContent = `You are acting as ${me.email || me.user_id} for "${me.impersonation_reason || ""}"${until} — `;
  const end = document.createElement("button");
  end.type = "button";
  end.textContent = "End";
  end.setAttribute("aria-label", "End impersonation and sign out");
  end.addEventListener("click", async () => {
    end.disabled = true;
    try {
      await api("POST", "/v1/admin/impersonations/end");
    } catch (error) {
      if (error.status !== 401 && error.status !== 403) {
        end.disabled = false;
        $("notice").textContent = error.message;
        return;
      }
    }
    banner.hidden = true;
    banner.replaceChildren();
    await signOut();
  });
  $("sign-out").addEventListener("click", () => (banner.hidden = true), { once: true });
  banner.replaceChildren(text, end);
}

function forgetIdentity() {
  signedIn = false;
  delete $("workspace-name").dataset.edited;
  sessionStorage.removeItem(TOKEN_KEY);
  $("who").textContent = "";
  $("nav").hidden = true;
  $("sign-out").hidden = true;
}

let signInChallenge = null; // set while a two-factor sign-in waits for its code

function showSignInStep(twoFactor) {
  $("sign-in-form").hidden = twoFactor;
  $("sign-in-2fa-form").hidden = !twoFactor;
  $("sign-in-2fa-error").textContent = "";
  useRecoveryCode(false);
  if (twoFactor) $("sign-in-2fa-title").focus();
  else signInChallenge = null;
}

async function signedInNow() {
  $("sign-in-password").value = "";
  showSignInStep(false);
  await refreshIdentity();
  go("#/workspace");
}

onSubmit("sign-in-form", "sign-in-error", async () => {
  sessionStorage.removeItem(TOKEN_KEY);
  let answer;
  try {
    answer = await api("POST", "/v1/auth/sign-in", { email: $("sign-in-email").value, password: $("sign-in-password").value });
  } catch (error) {
    if (error.status === 401 || error.status === 403) throw new Error("That email and password do not match an account.");
    if (error.status === 429) throw new Error("Too many attempts. Wait a moment and try again.");
    throw error;
  }
  $("sign-in-password").value = "";
  if (answer && answer.status === "two-factor-required") {
    signInChallenge = answer.challenge;
    showSignInStep(true);
    return;
  }
  await signedInNow();
});

function useRecoveryCode(recovery) {
  $("sign-in-2fa-form").dataset.recovery = recovery ? "1" : "";
  $("sign-in-2fa-recovery").textContent = recovery ? "Use an authenticator code instead" : "Use a recovery code instead";
  $("sign-in-2fa-label").textContent = recovery ? "Recovery code" : "Authenticator code";
  $("sign-in-2fa-help").textContent = recovery
    ? "Enter one of the recovery codes you saved (like abcd-efgh-jk). Each works once."
    : "Enter the 6-digit code your authenticator app shows for Ninefold.";
  $("sign-in-2fa-code").inputMode = recovery ? "text" : "numeric";
  $("sign-in-2fa-code").value = "";
}

$("sign-in-2fa-recovery").addEventListener("click", () => {
  useRecoveryCode(!$("sign-in-2fa-form").dataset.recovery);
  $("sign-in-2fa-code").focus();
});

$("sign-in-2fa-cancel").addEventListener("click", () => {
  showSignInStep(false);
  $("sign-in-password").focus();
});

onSubmit("sign-in-2fa-form", "sign-in-2fa-error", async () => {
  const value = $("sign-in-2fa-code").value.trim();
  const body = { challenge: signInChallenge };
  if ($("sign-in-2fa-form").dataset.recovery) body.recovery_code = value;
  else body.code = value;
  try {
    await api("POST", "/v1/auth/sign-in/two-factor", body);
  } catch (error) {
    if (error.status === 401) {
      showSignInStep(false);
      $("sign-in-error").textContent = "That sign-in attempt expired. Sign in again.";
      return;
    }
    if (error.status === 422) throw new Error("That code is not right, or was already used.");
    if (error.status === 429) throw new Error("Too many attempts. Wait a moment and try again.");
    throw error;
  }
  await signedInNow();
});

onSubmit("token-form", "token-error", async () => {
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  if (!(await refreshIdentity())) throw new Error("That token is not valid.");
  go("#/workspace");
});

onSubmit("sign-up-form", "sign-up-error", async () => {
  const body = { email: $("sign-up-email").value, password: $("sign-up-password").value };
  if ($("sign-up-name").value.trim()) body.name = $("sign-up-name").value.trim();
  if ($("sign-up-workspace").value.trim()) body.workspace_name = $("sign-up-workspace").value.trim();
  await api("POST", "/v1/auth/sign-up", body);
  $("sign-up-password").value = "";
  $("check-email-text").textContent = `If ${body.email} can be used, we sent it a link to verify it. Follow the link, then sign in.`;
  go("#/check-email");
});

async function verifyEmail() {
  $("verify-status").textContent = "Verifying…";
  $("verify-error").textContent = "";
  const token = fragmentToken();
  if (!token) {
    $("verify-status").textContent = "";
    $("verify-error").textContent = "This link has no token. Open the link from the email again.";
    return;
  }
  try {
    await api("POST", "/v1/auth/verify-email", { token });
    history.replaceState(null, "", location.pathname); // the token is single use: drop it from the address
    $("verify-status").textContent = "Your email address is verified.";
  } catch (error) {
    $("verify-status").textContent = "";
    $("verify-error").textContent =
      error.status === 422 ? "This link is invalid or has expired. Request a new one." : error.message;
  }
}

onSubmit("reset-request-form", "reset-request-error", async () => {
  const email = $("reset-email").value;
  await api("POST", "/v1/auth/password-reset/request", { email });
  $("check-email-text").textContent = `If ${email} has an account, we sent it a link to choose a new password.`;
  go("#/check-email");
});

onSubmit("reset-confirm-form", "reset-confirm-error", async () => {
  try {
    await api("POST", "/v1/auth/password-reset/confirm", { token: fragmentToken(), new_password: $("reset-new-password").value });
  } catch (error) {
    if (error.status === 422 && !error.data?.detail?.length) throw new Error("This link is invalid or has expired.");
    throw error;
  }
  $("notice").textContent = "Your password was changed. Sign in with the new one.";
  forgetIdentity();
  history.pushState(null, "", "/app/#/sign-in");
  show("sign-in");
});

// -- workspace and audit log -------------------------------------------------------------------

async function loadAudit() {
  const page = await api("GET", "/v1/audit-events?limit=20");
  $("audit-rows").replaceChildren(
    ...page.items.map((item) => {
      const tr = document.createElement("tr");
      tr.append(cell(when(item.occurred_at)), cell(item.type), cell(item.actor_id || ""), cell(JSON.stringify(item.data)));
      return tr;
    }),
  );
}

onSubmit("rename-form", "rename-error", async () => {
  $("rename-status").textContent = "";
  const workspace = await api("PATCH", "/v1/workspace", { name: $("workspace-name").value });
  delete $("workspace-name").dataset.edited;
  $("rename-status").textContent = `Renamed to ${workspace.name}.`;
  $("who").textContent = $("who").textContent.replace(/ in .*/, ` in ${workspace.name}`);
});

$("refresh-audit").addEventListener("click", () => loadAudit());

// -- sessions ----------------------------------------------------------------------------------

async function loadSessions() {
  const page = await api("GET", "/v1/sessions");
  $("session-rows").replaceChildren(
    ...page.items.map((session) => {
      const tr = document.createElement("tr");
      const device = cell(session.user_agent || "Unknown device");
      if (session.current) {
        const badge = document.createElement("strong");
        badge.textContent = " (this session)";
        device.append(badge);
      }
      const actions = document.createElement("td");
      const button = document.createElement("button");
      button.className = "secondary";
      button.textContent = session.current ? "Sign out" : "Revoke";
      button.setAttribute("aria-label", session.current ? "Sign out of this session" : `Revoke session started ${when(session.created_at)}`);
      button.addEventListener("click", () => revoke(session));
      actions.append(button);
      tr.append(cell(when(session.created_at)), cell(when(session.last_seen_at)), device, cell(session.ip_address || ""), actions);
      return tr;
    }),
  );
}

async function revoke(session) {
  $("sessions-error").textContent = "";
  try {
    if (session.current) return await signOut();
    await api("DELETE", `/v1/sessions/${encodeURIComponent(session.session_id)}`);
    await loadSessions();
    $("sessions-title").focus();
  } catch (error) {
    $("sessions-error").textContent = error.message;
  }
}

$("revoke-all").addEventListener("click", async () => {
  $("sessions-error").textContent = "";
  try {
    await api("POST", "/v1/sessions/revoke-all");
    await signOut();
  } catch (error) {
    $("sessions-error").textContent = error.message;
  }
});

onSubmit("password-form", "password-error", async () => {
  // With two-factor on, a password change needs a recent step-up: withStepUp asks for a code.
  const body = { current_password: $("current-password").value, new_password: $("new-password").value };
  await withStepUp(() => api("POST", "/v1/me/password", body));
  $("current-password").value = "";
  $("new-password").value = "";
  // Changing the password ends every session, this one included.
  forgetIdentity();
  $("notice").textContent = "Your password was changed. Sign in with the new one.";
  history.pushState(null, "", "/app/#/sign-in");
  show("sign-in");
});

// -- sign out ----------------------------------------------------------------------------------

async function signOut() {
  if (!sessionStorage.getItem(TOKEN_KEY)) await api("POST", "/v1/auth/sign-out").catch(() => {});
  forgetIdentity();
  $("notice").textContent = "You are signed out.";
  history.pushState(null, "", "/app/#/sign-in");
  show("sign-in");
}

$("sign-out").addEventListener("click", () => signOut());

window.addEventListener("hashchange", () => route());
window.addEventListener("popstate", () => route());
// Page modules (pages/*.js) run before DOMContentLoaded: route once every page is registered.
function start() {
  route().catch((error) => {
    $("notice").textContent = error.message;
  });
}
// Module scripts run while readyState is "interactive", before DOMContentLoaded, in document order.
if (document.readyState === "complete") start();
else document.addEventListener("DOMContentLoaded", start);
