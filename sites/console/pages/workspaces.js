// The caller's workspaces: switch, create, delete the current one, restore a deleted one.
import { $, api, button, cell, definePage, onSubmit, when, withStepUp } from "../lib.js";

async function switchTo(workspace) {
  await api("POST", `/v1/workspaces/${encodeURIComponent(workspace.workspace_id)}/switch`);
  // The session changed workspace: reload so every page starts from the new context.
  location.hash = "#/workspace";
  location.reload();
}

async function loadWorkspaces() {
  const page = await api("GET", "/v1/workspaces");
  $("workspace-rows").replaceChildren(
    ...page.items.map((workspace) => {
      const tr = document.createElement("tr");
      const actions = document.createElement("td");
      if (workspace.status === "deleted") {
        if (workspace.roles.includes("owner")) {
          actions.append(
            button("Restore", async () => {
              try {
                await api("POST", `/v1/workspaces/${encodeURIComponent(workspace.workspace_id)}/restore`);
                await loadWorkspaces();
              } catch (error) {
                $("workspaces-error").textContent = error.message;
              }
            }, { ariaLabel: `Restore ${workspace.name}` }),
          );
        }
      } else if (!workspace.current) {
        actions.append(
          button("Switch", () => switchTo(workspace).catch((error) => {
            $("workspaces-error").textContent = error.message;
          }), { ariaLabel: `Switch to ${workspace.name}` }),
        );
      }
      const status = workspace.status === "deleted" ? `deleted, restorable until ${when(workspace.purge_at)}` : workspace.current ? "current" : "";
      tr.append(cell(workspace.name), cell(workspace.roles.join(", ")), cell(status), actions);
      return tr;
    }),
  );
}

definePage({
  view: "workspaces",
  label: "Workspaces",
  html: `
    <h2>Your workspaces</h2>
    <table aria-label="Your workspaces">
      <thead><tr><th scope="col">Name</th><th scope="col">Your roles</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody id="workspace-rows"></tbody>
    </table>
    <p id="workspaces-error" class="error" role="alert"></p>
    <h3>Create a workspace</h3>
    <form id="create-workspace-form">
      <label for="new-workspace-name">Workspace name</label>
      <input id="new-workspace-name" required maxlength="100">
      <button type="submit">Create workspace</button>
      <p id="create-workspace-status" role="status" class="muted"></p>
      <p id="create-workspace-error" class="error" role="alert"></p>
    </form>
    <h3>Delete this workspace</h3>
    <p class="muted">Its members lose access at once; an owner can restore it during the grace window.</p>
    <button id="delete-workspace" type="button" class="secondary">Delete this workspace</button>
    <p id="delete-workspace-error" class="error" role="alert"></p>`,
  load: loadWorkspaces,
  init() {
    onSubmit("create-workspace-form", "create-workspace-error", async () => {
      const workspace = await api("POST", "/v1/workspaces", { name: $("new-workspace-name").value });
      $("new-workspace-name").value = "";
      $("create-workspace-status").textContent = `Created ${workspace.name}.`;
      await loadWorkspaces();
    });
    $("delete-workspace").addEventListener("click", async () => {
      $("delete-workspace-error").textContent = "";
      if (!window.confirm("Delete this workspace? Its members lose access until an owner restores it.")) return;
      try {
        await withStepUp(() => api("DELETE", "/v1/workspace")); // a sensitive action: may ask to confirm it is you
        location.hash = "#/workspaces";
        location.reload();
      } catch (error) {
        $("delete-workspace-error").textContent = error.message;
      }
    });
  },
});
