// Members and invitations of the current workspace: roles, removal, invite by email, revoke.
import { $, api, button, cell, definePage, onSubmit, when } from "../lib.js";

const BUILT_IN = ["owner", "admin", "member", "billing"];
let roleChoices = BUILT_IN.map((id) => ({ id, name: id }));

async function loadRoles() {
  try {
    const roles = await api("GET", "/v1/roles");
    roleChoices = roles.items.map((r) => ({ id: r.role_id, name: r.name || r.role_id }));
  } catch {
    roleChoices = BUILT_IN.map((id) => ({ id, name: id })); // custom roles unavailable: built-ins only
  }
  $("invite-role").replaceChildren(...roleChoices.map((r) => new Option(r.name, r.id, r.id === "member", r.id === "member")));
}

function roleSelect(member) {
  const select = document.createElement("select");
  select.setAttribute("aria-label", `Role of ${member.email || member.user_id}`);
  const current = member.roles[0];
  for (const r of roleChoices) select.append(new Option(r.name, r.id, r.id === current, r.id === current));
  return select;
}

async function loadMembers() {
  const page = await api("GET", "/v1/members");
  $("seat-count").textContent = `${page.seats} seat${page.seats === 1 ? "" : "s"}`;
  $("member-rows").replaceChildren(
    ...page.items.map((member) => {
      const tr = document.createElement("tr");
      const label = member.email || member.user_id;
      const roleCell = document.createElement("td");
      const select = roleSelect(member);
      roleCell.append(select);
      const actions = document.createElement("td");
      actions.append(
        button("Save role", async () => {
          $("members-error").textContent = "";
          try {
            await api("PATCH", `/v1/members/${encodeURIComponent(member.user_id)}`, { roles: [select.value] });
            $("members-status").textContent = `${label} is now ${select.value}.`;
            await loadMembers();
          } catch (error) {
            $("members-error").textContent = error.message;
          }
        }, { ariaLabel: `Save role of ${label}` }),
        button(member.you ? "Leave" : "Remove", async () => {
          $("members-error").textContent = "";
          try {
            await api("DELETE", `/v1/members/${encodeURIComponent(member.user_id)}`);
            if (member.you) {
              location.hash = "#/workspaces";
              location.reload(); // this session has no workspace left to work in: sign-in picks another
            }
            else await loadMembers();
          } catch (error) {
            $("members-error").textContent = error.message;
          }
        }, { ariaLabel: member.you ? "Leave this workspace" : `Remove ${label}` }),
      );
      tr.append(cell(`${label}${member.you ? " (you)" : ""}`), cell(member.name || ""), roleCell, cell(when(member.joined_at)), actions);
      return tr;
    }),
  );
}

async function loadInvitations() {
  let page;
  try {
    page = await api("GET", "/v1/invitations");
  } catch (error) {
    $("invitations-error").textContent = error.message;
    return;
  }
  $("invitation-rows").replaceChildren(
    ...page.items.map((invitation) => {
      const tr = document.createElement("tr");
      const actions = document.createElement("td");
      if (invitation.status === "pending") {
        actions.append(
          button("Revoke", async () => {
            try {
              await api("DELETE", `/v1/invitations/${encodeURIComponent(invitation.invitation_id)}`);
              await loadInvitations();
            } catch (error) {
              $("invitations-error").textContent = error.message;
            }
          }, { ariaLabel: `Revoke the invitation of ${invitation.email}` }),
        );
      }
      tr.append(cell(invitation.email), cell(invitation.roles.join(", ")), cell(invitation.status), cell(when(invitation.expires_at)), actions);
      return tr;
    }),
  );
}

definePage({
  view: "members",
  label: "Members",
  html: `
    <h2>Members</h2>
    <p id="seat-count" class="muted"></p>
    <table aria-label="Members">
      <thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Joined</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody id="member-rows"></tbody>
    </table>
    <p id="members-status" role="status" class="muted"></p>
    <p id="members-error" class="error" role="alert"></p>
    <h3>Invite someone</h3>
    <form id="invite-form">
      <label for="invite-email">Email</label>
      <input id="invite-email" type="email" autocomplete="off" required>
      <label for="invite-role">Role</label>
      <select id="invite-role"></select>
      <button type="submit">Send invitation</button>
      <p id="invite-status" role="status" class="muted"></p>
      <p id="invite-error" class="error" role="alert"></p>
    </form>
    <h3>Invitations</h3>
    <table aria-label="Invitations">
      <thead><tr><th scope="col">Email</th><th scope="col">Roles</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody id="invitation-rows"></tbody>
    </table>
    <p id="invitations-error" class="error" role="alert"></p>`,
  async load() {
    $("members-error").textContent = "";
    $("members-status").textContent = "";
    await loadRoles();
    await loadMembers();
    await loadInvitations();
  },
  init() {
    onSubmit("invite-form", "invite-error", async () => {
      const email = $("invite-email").value.trim();
      await api("POST", "/v1/invitations", { email, roles: [$("invite-role").value] });
      $("invite-email").value = "";
      $("invite-status").textContent = `Invitation sent to ${email}.`;
      await loadInvitations();
    });
  },
});
