// The console talks only to the public API, like any other client.
const TOKEN_KEY = "ninefold.token";
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(`/api${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const message = (data && (data.detail || data.message)) || response.statusText;
    throw Object.assign(new Error(message), { status: response.status, data });
  }
  return data;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function loadAudit() {
  const page = await api("GET", "/v1/audit-events?limit=20");
  const rows = $("audit-rows");
  rows.replaceChildren(
    ...page.items.map((item) => {
      const tr = document.createElement("tr");
      tr.append(cell(new Date(item.occurred_at).toLocaleString()), cell(item.type), cell(item.actor_id || ""), cell(JSON.stringify(item.data)));
      return tr;
    }),
  );
}

async function showSignedIn() {
  const me = await api("GET", "/v1/me");
  const workspace = await api("GET", "/v1/workspace");
  $("who").textContent = `${me.user_id} in ${workspace.name}`;
  $("workspace-name").value = workspace.name;
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  $("sign-out").hidden = false;
  await loadAudit().catch(() => {});
}

function showSignedOut() {
  $("who").textContent = "";
  $("signed-out").hidden = false;
  $("signed-in").hidden = true;
  $("sign-out").hidden = true;
}

$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
  try {
    $("sign-in-error").textContent = "";
    await showSignedIn();
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("sign-in-error").textContent = error.status === 401 || error.status === 403 ? "That token is not valid." : error.message;
  }
});

$("rename-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const workspace = await api("PATCH", "/v1/workspace", { name: $("workspace-name").value });
    $("rename-status").textContent = `Renamed to ${workspace.name}.`;
    $("who").textContent = $("who").textContent.replace(/ in .*/, ` in ${workspace.name}`);
  } catch (error) {
    $("rename-status").textContent = error.message;
  }
});

$("refresh-audit").addEventListener("click", () => loadAudit());
$("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignedOut();
});

if (sessionStorage.getItem(TOKEN_KEY)) {
  showSignedIn().catch(showSignedOut);
}
