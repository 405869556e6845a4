// Platform admins: find a user by email, disable or enable them, impersonate them for a while.
// Only platform admins can use it (the API answers 403 to everyone else); console.js hides the
// nav link unless GET /v1/me lists a `platform:` permission.
import * as lib from "../lib.js";

const { $, TOKEN_KEY, api, button, definePage, onSubmit, when } = lib;

let found = null;

function renderUser(user) {
  found = user;
  $("admin-user").hidden = !user;
  $("admin-user-actions").hidden = !user;
  if (!user) return;
  const rows = [
    ["User", user.user_id],
    ["Email", user.email],
    ["Name", user.name || ""],
    ["Status", user.disabled ? `Disabled${user.disabled_at ? ` since ${when(user.disabled_at)}` : ""}` : "Active"],
    ["Platform roles", user.platform_roles.join(", ") || "none"],
    ["Home workspace", user.home_tenant_id],
    ["Workspaces", user.workspaces.join(", ")],
  ];
  $("admin-user-details").replaceChildren(
    ...rows.flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      return [dt, dd];
    }),
  );
  $("admin-toggle").replaceChildren(
    button(user.disabled ? "Enable" : "Disable", () => toggle(user), {
      ariaLabel: `${user.disabled ? "Enable" : "Disable"} ${user.email}`,
    }),
  );
  const workspaceChoice = $("impersonate-workspace");
  workspaceChoice.replaceChildren(
    ...user.workspaces.map((tenantId) => {
      const option = document.createElement("option");
      option.value = tenantId;
      option.textContent = tenantId === user.home_tenant_id ? `${tenantId} (home)` : tenantId;
      option.selected = tenantId === user.home_tenant_id;
      return option;
    }),
  );
  $("impersonate-form").hidden = user.disabled || user.platform_roles.length > 0;
}

async function toggle(user) {
  $("admin-action-error").textContent = "";
  $("admin-action-status").textContent = "";
  const reason = $("admin-state-reason").value.trim();
  if (!reason) {
    $("admin-action-error").textContent = "Give a reason first.";
    $("admin-state-reason").focus();
    return;
  }
  const verb = user.disabled ? "enable" : "disable";
  try {
    const updated = await api("POST", `/v1/admin/users/${encodeURIComponent(user.user_id)}/${verb}`, { reason });
    $("admin-state-reason").value = "";
    renderUser(updated);
    $("admin-action-status").textContent = `${updated.email} is now ${updated.disabled ? "disabled" : "enabled"}.`;
  } catch (error) {
    $("admin-action-error").textContent = error.message;
  }
}

definePage({
  view: "admin",
  label: "Admin",
  html: `
    <h2>Platform admin</h2>
    <p class="muted">For platform admins only. Every action here is recorded in the audit log.</p>
    <form id="admin-find-form">
      <label for="admin-email">Find a user by email</label>
      <input id="admin-email" name="email" type="email" autocomplete="off" required>
      <button type="submit">Find</button>
      <p id="admin-find-error" class="error" role="alert"></p>
    </form>
    <section id="admin-user" hidden aria-label="User">
      <dl id="admin-user-details"></dl>
    </section>
    <div id="admin-user-actions" hidden>
      <h3>Disable or enable</h3>
      <label for="admin-state-reason">Reason</label>
      <input id="admin-state-reason" name="reason" maxlength="500">
      <p id="admin-toggle"></p>
      <p id="admin-action-status" role="status" class="muted"></p>
      <p id="admin-action-error" class="error" role="alert"></p>
      <form id="impersonate-form">
        <h3>Impersonate</h3>
        <p class="muted">Your browser switches to a session as this user (without platform powers or
        sensitive actions) until it ends or you end it.</p>
        <label for="impersonate-workspace">Workspace</label>
        <select id="impersonate-workspace" name="tenant_id"></select>
        <label for="impersonate-reason">Reason (10 to 500 characters)</label>
        <input id="impersonate-reason" name="reason" required minlength="10" maxlength="500">
        <label for="impersonate-minutes">Minutes (1 to 60)</label>
        <input id="impersonate-minutes" name="minutes" type="number" min="1" max="60" value="30" required>
        <button type="submit">Impersonate</button>
        <p id="impersonate-error" class="error" role="alert"></p>
      </form>
    </div>`,
  load: async () => {
    $("admin-find-error").textContent = "";
  },
  init: () => {
    // Hidden until console.js sees a platform permission on GET /v1/me.
    for (const link of document.querySelectorAll('#nav a[href="/app/#/admin"]')) link.hidden = true;
    onSubmit("admin-find-form", "admin-find-error", async () => {
      $("admin-action-status").textContent = "";
      $("admin-action-error").textContent = "";
      renderUser(null);
      try {
        renderUser(await api("GET", `/v1/admin/users?email=${encodeURIComponent($("admin-email").value.trim())}`));
      } catch (error) {
        if (error.status === 404) throw new Error("No user has this address.");
        if (error.status === 403) throw new Error("Only platform admins can look users up.");
        throw error;
      }
    });
    onSubmit("impersonate-form", "impersonate-error", async () => {
      if (!found) throw new Error("Find a user first.");
      const issued = await api("POST", "/v1/admin/impersonations", {
        user_id: found.user_id,
        tenant_id: $("impersonate-workspace").value || undefined,
        reason: $("impersonate-reason").value.trim(),
        minutes: Number($("impersonate-minutes").value),
      });
      // Cookie sessions switched with the response; an API-token session switches its token.
      if (sessionStorage.getItem(TOKEN_KEY)) sessionStorage.setItem(TOKEN_KEY, issued.token);
      location.assign("/app/#/workspace");
      location.reload();
    });
  },
});
