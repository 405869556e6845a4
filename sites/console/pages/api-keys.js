// The workspace's API keys: list (name, prefix, scopes, dates), create (the key is shown once), revoke.
import { $, api, button, cell, definePage, onSubmit, when, withStepUp } from "../lib.js";

// A key never holds more than its creator: scopes the person lacks are shown but cannot be ticked.
function holds(held, permission) {
  const resource = permission.split(":")[0];
  return held.has(permission) || held.has(`${resource}:*`) || held.has("*");
}

// The catalogue comes from the API (functions/identity/models/roles.py is its one source).
async function permissionChoices() {
  const catalogue = await api("GET", "/v1/permissions");
  return catalogue.permissions.map((p) => [p.permission, p.description]);
}

async function loadScopes() {
  let held = new Set();
  try {
    held = new Set((await api("GET", "/v1/me")).permissions || []);
  } catch {
    held = new Set();
  }
  const choices = await permissionChoices();
  $("key-scopes").replaceChildren(
    ...choices.map(([name, description], index) => {
      const id = `key-scope-${index}`;
      const row = document.createElement("div");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = id;
      box.value = name;
      box.name = "scope";
      box.disabled = !holds(held, name);
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = description ? `${name} — ${description}` : name;
      if (box.disabled) label.textContent += " (you do not have it)";
      row.append(box, label);
      return row;
    }),
  );
}

function status(key) {
  if (key.revoked_at) return `Revoked ${when(key.revoked_at)}`;
  if (new Date(key.expires_at) <= new Date()) return "Expired";
  return "Active";
}

async function loadKeys() {
  const page = await api("GET", "/v1/api-keys");
  $("key-empty").hidden = page.items.length > 0;
  $("key-rows").replaceChildren(
    ...page.items.map((key) => {
      const tr = document.createElement("tr");
      const actions = document.createElement("td");
      if (!key.revoked_at) {
        actions.append(
          button("Revoke", async () => {
            $("keys-error").textContent = "";
            if (!confirm(`Revoke the key "${key.name}"? Programs using it stop working at once.`)) return;
            try {
              await api("DELETE", `/v1/api-keys/${encodeURIComponent(key.key_id)}`);
              $("keys-status").textContent = `The key "${key.name}" was revoked.`;
              await loadKeys();
            } catch (error) {
              $("keys-error").textContent = error.message;
            }
          }, { ariaLabel: `Revoke the key ${key.name}` }),
        );
      }
      const prefix = cell("");
      const code = document.createElement("code");
      code.textContent = `${key.prefix}…`;
      prefix.append(code);
      tr.append(
        cell(key.name),
        prefix,
        cell(key.permissions.join(", ")),
        cell(when(key.created_at)),
        cell(when(key.expires_at)),
        cell(key.last_used_at ? when(key.last_used_at) : "Never"),
        cell(status(key)),
        actions,
      );
      return tr;
    }),
  );
}

function showNewKey(created) {
  $("new-key-value").value = created.key;
  $("new-key").hidden = false;
  $("new-key-value").focus();
  $("new-key-value").select();
}

definePage({
  view: "api-keys",
  label: "API keys",
  html: `
    <h2>API keys</h2>
    <p class="muted">Keys let programs call the API for this workspace, with the scopes you give them
      (never more than you have). Send a key as <code>X-API-Key</code> or <code>Authorization: Bearer</code>.</p>
    <div id="new-key" hidden>
      <h3>Your new key</h3>
      <p role="status">Copy it now: it is shown only this once. Store it somewhere safe, like a secrets manager.</p>
      <label for="new-key-value">API key</label>
      <input id="new-key-value" type="text" readonly autocomplete="off" spellcheck="false">
      <button type="button" class="secondary" id="new-key-copy">Copy</button>
      <button type="button" class="secondary" id="new-key-done">I have copied it</button>
      <p id="new-key-copied" role="status" class="muted"></p>
    </div>
    <table aria-label="API keys">
      <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Scopes</th><th scope="col">Created</th>
        <th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">Status</th>
        <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody id="key-rows"></tbody>
    </table>
    <p id="key-empty" class="muted" hidden>This workspace has no API keys.</p>
    <p id="keys-status" role="status" class="muted"></p>
    <p id="keys-error" class="error" role="alert"></p>
    <h3>Create a key</h3>
    <form id="key-form">
      <label for="key-name">Name</label>
      <input id="key-name" type="text" maxlength="100" required autocomplete="off">
      <label for="key-days">Expires after (days, 1 to 365)</label>
      <input id="key-days" type="number" min="1" max="365" value="90" required>
      <fieldset>
        <legend>Scopes</legend>
        <div id="key-scopes"></div>
      </fieldset>
      <button type="submit">Create key</button>
      <p id="key-error" class="error" role="alert"></p>
    </form>`,
  async load() {
    $("keys-error").textContent = "";
    $("keys-status").textContent = "";
    await loadScopes();
    await loadKeys();
  },
  init() {
    onSubmit("key-form", "key-error", async () => {
      const permissions = [...document.querySelectorAll("#key-scopes input[name=scope]:checked")].map((b) => b.value);
      if (!permissions.length) throw new Error("Choose at least one scope.");
      const body = { name: $("key-name").value.trim(), permissions, expires_in_days: Number($("key-days").value) };
      const create = () => api("POST", "/v1/api-keys", body);
      let created;
      try {
        created = await withStepUp(create);
      } catch (error) {
        const data = error.data || {};
        if (error.status === 403 && data.missing_permissions) {
          throw new Error(`You do not have: ${data.missing_permissions.join(", ")}.`);
        }
        if (error.status === 422 && data.errors) {
          throw new Error(data.errors.map((e) => `${e.field}: ${e.message}`).join("; "));
        }
        throw error;
      }
      $("key-form").reset();
      showNewKey(created);
      await loadKeys();
    });
    $("new-key-copy").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText($("new-key-value").value);
        $("new-key-copied").textContent = "Copied to the clipboard.";
      } catch {
        $("new-key-value").select();
        $("new-key-copied").textContent = "Select the key and copy it (Ctrl+C or ⌘C).";
      }
    });
    $("new-key-done").addEventListener("click", () => {
      $("new-key-value").value = "";
      $("new-key-copied").textContent = "";
      $("new-key").hidden = true;
    });
  },
});
