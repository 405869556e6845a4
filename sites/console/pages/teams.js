// Teams of the current workspace: list, create with the roles the team grants, delete; open a
// team to see its members, add or remove them and make them lead or member. Leads manage their
// own team's members; everything else needs teams:manage.
import { $, api, button, cell, definePage, onSubmit, when } from "../lib.js";

let roles = []; // [{role_id, name}]
let people = []; // workspace members, when the members API answers: [{user_id, label}]
let openTeam = null;

function problemMessage(error) {
  const data = error.data || {};
  if (error.status === 403 && data.refused_roles) return `You cannot grant: ${data.refused_roles.map(roleName).join(", ")}.`;
  if (error.status === 403 && data.missing_permissions) return `You do not have: ${data.missing_permissions.join(", ")}.`;
  if (error.status === 422 && Array.isArray(data.errors)) return data.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  return error.message;
}

function roleName(roleId) {
  const found = roles.find((r) => r.role_id === roleId);
  return found ? found.name : roleId;
}

function renderRoleChoices() {
  $("team-roles").replaceChildren(
    ...roles.map((role, index) => {
      const id = `team-role-${index}`;
      const row = document.createElement("div");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = id;
      box.name = "team-role";
      box.value = role.role_id;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = role.built_in ? `${role.name} (built in)` : role.name;
      box.style.minWidth = "auto"; // a checkbox beside its label, not a 20rem text field
      label.style.display = "inline";
      label.style.fontWeight = "normal";
      row.append(box, label);
      return row;
    }),
  );
}

async function loadChoices() {
  try {
    roles = (await api("GET", "/v1/roles")).items;
  } catch {
    roles = ["owner", "admin", "member", "billing"].map((id) => ({ role_id: id, name: id, built_in: true }));
  }
  renderRoleChoices();
  try {
    people = (await api("GET", "/v1/members")).items.map((m) => ({ user_id: m.user_id, label: m.email || m.user_id }));
  } catch {
    people = []; // the members list is not available: type the user id instead
  }
  const list = $("team-member-people");
  list.replaceChildren(...people.map((p) => new Option(p.label, p.user_id)));
}

function personLabel(userId) {
  const found = people.find((p) => p.user_id === userId);
  return found ? found.label : userId;
}

async function loadTeams() {
  const page = await api("GET", "/v1/teams");
  $("team-empty").hidden = page.items.length > 0;
  $("team-rows").replaceChildren(
    ...page.items.map((team) => {
      const tr = document.createElement("tr");
      const actions = document.createElement("td");
      actions.append(
        button("Open", () => showTeam(team), { ariaLabel: `Open the team ${team.name}` }),
        button("Delete", async () => {
          $("teams-error").textContent = "";
          if (!confirm(`Delete the team "${team.name}"? Its members lose the roles it grants.`)) return;
          try {
            await api("DELETE", `/v1/teams/${encodeURIComponent(team.team_id)}`);
            $("teams-status").textContent = `The team "${team.name}" was deleted.`;
            if (openTeam && openTeam.team_id === team.team_id) closeTeam();
            await loadTeams();
          } catch (error) {
            $("teams-error").textContent = problemMessage(error);
          }
        }, { ariaLabel: `Delete the team ${team.name}` }),
      );
      tr.append(cell(team.name), cell(team.description || ""), cell(team.roles.map(roleName).join(", ")), actions);
      return tr;
    }),
  );
}

function closeTeam() {
  openTeam = null;
  $("team-detail").hidden = true;
}

async function showTeam(team) {
  openTeam = team;
  $("team-detail-title").textContent = `Team "${team.name}"`;
  $("team-detail-roles").textContent = team.roles.length
    ? `Grants its members: ${team.roles.map(roleName).join(", ")}.`
    : "Grants no roles.";
  $("team-detail").hidden = false;
  $("team-member-error").textContent = "";
  await loadTeamMembers();
  $("team-detail-title").focus();
}

function teamRoleSelect(member) {
  const select = document.createElement("select");
  select.setAttribute("aria-label", `Team role of ${personLabel(member.user_id)}`);
  for (const value of ["member", "lead"]) select.append(new Option(value, value, value === member.team_role, value === member.team_role));
  return select;
}

async function setMember(userId, teamRole) {
  await api("PUT", `/v1/teams/${encodeURIComponent(openTeam.team_id)}/members/${encodeURIComponent(userId)}`, {
    team_role: teamRole,
  });
}

async function loadTeamMembers() {
  const page = await api("GET", `/v1/teams/${encodeURIComponent(openTeam.team_id)}/members`);
  $("team-member-empty").hidden = page.items.length > 0;
  $("team-member-rows").replaceChildren(
    ...page.items.map((member) => {
      const tr = document.createElement("tr");
      const label = personLabel(member.user_id);
      const roleCell = document.createElement("td");
      const select = teamRoleSelect(member);
      roleCell.append(select);
      const actions = document.createElement("td");
      actions.append(
        button("Save", async () => {
          $("team-member-error").textContent = "";
          try {
            await setMember(member.user_id, select.value);
            $("team-member-status").textContent = `${label} is now ${select.value} of the team.`;
            await loadTeamMembers();
          } catch (error) {
            $("team-member-error").textContent = problemMessage(error);
          }
        }, { ariaLabel: `Save the team role of ${label}` }),
        button("Remove", async () => {
          $("team-member-error").textContent = "";
          try {
            await api("DELETE", `/v1/teams/${encodeURIComponent(openTeam.team_id)}/members/${encodeURIComponent(member.user_id)}`);
            $("team-member-status").textContent = `${label} left the team.`;
            await loadTeamMembers();
          } catch (error) {
            $("team-member-error").textContent = problemMessage(error);
          }
        }, { ariaLabel: `Remove ${label} from the team` }),
      );
      tr.append(cell(label), roleCell, cell(when(member.added_at)), actions);
      return tr;
    }),
  );
}

definePage({
  view: "teams",
  label: "Teams",
  html: `
    <h2>Teams</h2>
    <p class="muted">Every member of a team gets the roles the team grants, from their next request on.
      A team's leads manage its members.</p>
    <table aria-label="Teams">
      <thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Grants</th>
        <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody id="team-rows"></tbody>
    </table>
    <p id="team-empty" class="muted" hidden>This workspace has no teams.</p>
    <p id="teams-status" role="status" class="muted"></p>
    <p id="teams-error" class="error" role="alert"></p>
    <div id="team-detail" hidden>
      <h3 id="team-detail-title" tabindex="-1"></h3>
      <p id="team-detail-roles" class="muted"></p>
      <table aria-labelledby="team-detail-title">
        <thead><tr><th scope="col">Person</th><th scope="col">Team role</th><th scope="col">Added</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody id="team-member-rows"></tbody>
      </table>
      <p id="team-member-empty" class="muted" hidden>Nobody is in this team yet.</p>
      <form id="team-member-form">
        <label for="team-member-user">Add a workspace member (pick or type a user id)</label>
        <input id="team-member-user" type="text" list="team-member-people" required autocomplete="off">
        <datalist id="team-member-people"></datalist>
        <label for="team-member-role">As</label>
        <select id="team-member-role"><option value="member" selected>member</option><option value="lead">lead</option></select>
        <button type="submit">Add to team</button>
        <button type="button" class="secondary" id="team-close">Close</button>
      </form>
      <p id="team-member-status" role="status" class="muted"></p>
      <p id="team-member-error" class="error" role="alert"></p>
    </div>
    <h3>Create a team</h3>
    <form id="team-form">
      <label for="team-name">Name</label>
      <input id="team-name" type="text" maxlength="64" required autocomplete="off">
      <label for="team-description">Description (optional)</label>
      <input id="team-description" type="text" maxlength="500" autocomplete="off">
      <fieldset>
        <legend>Roles the team grants its members</legend>
        <div id="team-roles"></div>
      </fieldset>
      <button type="submit">Create team</button>
      <p id="team-error" class="error" role="alert"></p>
    </form>`,
  async load() {
    $("teams-error").textContent = "";
    $("teams-status").textContent = "";
    closeTeam();
    await loadChoices();
    await loadTeams();
  },
  init() {
    onSubmit("team-form", "team-error", async () => {
      const granted = [...document.querySelectorAll("#team-roles input[name=team-role]:checked")].map((b) => b.value);
      const body = { name: $("team-name").value.trim(), description: $("team-description").value.trim() || null, roles: granted };
      try {
        await api("POST", "/v1/teams", body);
      } catch (error) {
        throw new Error(problemMessage(error));
      }
      $("teams-status").textContent = `The team "${body.name}" was created.`;
      $("team-form").reset();
      await loadTeams();
    });
    onSubmit("team-member-form", "team-member-error", async () => {
      const typed = $("team-member-user").value.trim();
      const match = people.find((p) => p.label === typed);
      const userId = match ? match.user_id : typed;
      try {
        await setMember(userId, $("team-member-role").value);
      } catch (error) {
        if (error.status === 404) throw new Error(`${typed} is not a member of this workspace.`);
        throw new Error(problemMessage(error));
      }
      $("team-member-status").textContent = `${personLabel(userId)} was added to the team.`;
      $("team-member-form").reset();
      await loadTeamMembers();
    });
    $("team-close").addEventListener("click", closeTeam);
  },
});
