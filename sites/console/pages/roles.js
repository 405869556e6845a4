// Roles of the current workspace: the built-in ones (read only) and custom ones (create with
// permission checkboxes from GET /v1/permissions, edit, delete). No one gives a role permissions
// they do not hold themselves: those boxes are shown but cannot be ticked.
import { $, api, button, cell, definePage, onSubmit } from "../lib.js";

let catalogue = [];
let held = new Set();
let editing = null; // the custom role being edited, or null when creating

function holds(permission) {
  const resource = permission.split(":")[0];
  return held.has(permission) || held.has(`${resource}:*`) || held.has("*");
}

function problemMessage(error) {
  const data = error.data || {};
  if (error.status === 403 && data.missing_permissions) return `You do not have: ${data.missing_permissions.join(", ")}.`;
  if (error.status === 409 && data.held_by) {
    const h = data.held_by;
    return `${error.message} (members: ${h.members}, teams: ${h.teams}, pending invitations: ${h.invitations})`;
  }
  if (error.status === 422 && Array.isArray(data.errors)) return data.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  return error.message;
}

function renderChoices(checked = []) {
  const ticked = new Set(checked);
  $("role-permissions").replaceChildren(
    ...catalogue.map(({ permission, description }, index) => {
      const id = `role-permission-${index}`;
      const row = document.createElement("div");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = id;
      box.name = "permission";
      box.value = permission;
      box.checked = ticked.has(permission);
      box.disabled = !holds(permission);
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = `${permission} — ${description}`;
      if (box.disabled) label.textContent += " (you do not have it)";
      box.style.minWidth = "auto"; // a checkbox beside its label, not a 20rem text field
      label.style.display = "inline";
      label.style.fontWeight = "normal";
      row.append(box, label);
      return row;
    }),
  );
}

function startCreate() {
  editing = null;
  $("role-form").reset();
  $("role-form-title").textContent = "Create a role";
  $("role-submit").textContent = "Create role";
  $("role-cancel").hidden = true;
  renderChoices();
}

function startEdit(role) {
  editing = role;
  $("role-form-title").textContent = `Edit the role "${role.name}"`;
  $("role-submit").textContent = "Save changes";
  $("role-cancel").hidden = false;
  $("role-name").value = role.name;
  $("role-description").value = role.description || "";
  renderChoices(role.permissions);
  $("role-name").focus();
}

async function loadRoles() {
  const page = await api("GET", "/v1/roles");
  $("role-rows").replaceChildren(
    ...page.items.map((role) => {
      const tr = document.createElement("tr");
      const actions = document.createElement("td");
      if (role.built_in) {
        actions.append(document.createTextNode("Built in"));
      } else {
        actions.append(
          button("Edit", () => startEdit(role), { ariaLabel: `Edit the role ${role.name}` }),
          button("Delete", async () => {
            $("roles-error").textContent = "";
            if (!confirm(`Delete the role "${role.name}"?`)) return;
            try {
              await api("DELETE", `/v1/roles/${encodeURIComponent(role.role_id)}`);
              $("roles-status").textContent = `The role "${role.name}" was deleted.`;
              if (editing && editing.role_id === role.role_id) startCreate();
              await loadRoles();
            } catch (error) {
              $("roles-error").textContent = problemMessage(error);
            }
          }, { ariaLabel: `Delete the role ${role.name}` }),
        );
      }
      tr.append(cell(role.name), cell(role.description || ""), cell(role.permissions.join(", ")), actions);
      return tr;
    }),
  );
}

definePage({
  view: "roles",
  label: "Roles",
  html: `
    <h2>Roles</h2>
    <p class="muted">A role is a set of permissions. Built-in roles never change; custom roles are this
      workspace's own, and can be given to members, teams and invitations.</p>
    <table aria-label="Roles">
      <thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Permissions</th>
        <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody id="role-rows"></tbody>
    </table>
    <p id="roles-status" role="status" class="muted"></p>
    <p id="roles-error" class="error" role="alert"></p>
    <h3 id="role-form-title">Create a role</h3>
    <form id="role-form" aria-labelledby="role-form-title">
      <label for="role-name">Name</label>
      <input id="role-name" type="text" maxlength="64" required autocomplete="off">
      <label for="role-description">Description (optional)</label>
      <input id="role-description" type="text" maxlength="500" autocomplete="off">
      <fieldset>
        <legend>Permissions</legend>
        <div id="role-permissions"></div>
      </fieldset>
      <button type="submit" id="role-submit">Create role</button>
      <button type="button" class="secondary" id="role-cancel" hidden>Cancel</button>
      <p id="role-error" class="error" role="alert"></p>
    </form>`,
  async load() {
    $("roles-error").textContent = "";
    $("roles-status").textContent = "";
    const [found, me] = await Promise.all([api("GET", "/v1/permissions"), api("GET", "/v1/me").catch(() => ({}))]);
    catalogue = found.permissions;
    held = new Set(me.permissions || []);
    startCreate();
    await loadRoles();
  },
  init() {
    onSubmit("role-form", "role-error", async () => {
      const permissions = [...document.querySelectorAll("#role-permissions input[name=permission]:checked")].map((b) => b.value);
      if (!permissions.length) throw new Error("Choose at least one permission.");
      const body = { name: $("role-name").value.trim(), description: $("role-description").value.trim() || null, permissions };
      try {
        if (editing) {
          await api("PATCH", `/v1/roles/${encodeURIComponent(editing.role_id)}`, body);
          $("roles-status").textContent = `The role "${body.name}" was saved.`;
        } else {
          await api("POST", "/v1/roles", body);
          $("roles-status").textContent = `The role "${body.name}" was created.`;
        }
      } catch (error) {
        throw new Error(problemMessage(error));
      }
      startCreate();
      await loadRoles();
    });
    $("role-cancel").addEventListener("click", startCreate);
  },
});
