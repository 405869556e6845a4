// The page an invitation link opens (/app/accept-invitation#token=…): join with a new account, or
// sign in as the invited address and accept.
import { $, api, definePage, onSubmit } from "../lib.js";

const PENDING_KEY = "ninefold.invitation";

function linkToken() {
  const fromLink = new URLSearchParams(location.hash.replace(/^#/, "")).get("token");
  if (fromLink) sessionStorage.setItem(PENDING_KEY, fromLink); // survives a detour through sign-in
  return fromLink || sessionStorage.getItem(PENDING_KEY) || "";
}

function joined() {
  sessionStorage.removeItem(PENDING_KEY);
  location.assign("/app/#/workspace"); // another document: the console starts over in the new session
}

async function signedIn() {
  try {
    await api("GET", "/v1/me");
    return true;
  } catch {
    return false;
  }
}

definePage({
  view: "accept-invitation",
  public: true,
  html: `
    <h2>Join a workspace</h2>
    <p id="invitation-summary" role="status"></p>
    <p id="invitation-error" class="error" role="alert"></p>
    <form id="join-form" hidden>
      <label for="join-name">Your name</label>
      <input id="join-name" autocomplete="name" maxlength="100">
      <label for="join-password">Choose a password</label>
      <input id="join-password" type="password" autocomplete="new-password" required minlength="8">
      <button type="submit">Join</button>
      <p id="join-error" class="error" role="alert"></p>
    </form>
    <div id="accept-existing" hidden>
      <p>This address already has an account. <a href="/app/#/sign-in">Sign in</a> as it, then open the link again.</p>
      <button id="accept-signed-in" type="button">Accept invitation</button>
      <p id="accept-error" class="error" role="alert"></p>
    </div>`,
  async load() {
    $("invitation-error").textContent = "";
    $("join-form").hidden = true;
    $("accept-existing").hidden = true;
    const token = linkToken();
    if (!token) {
      $("invitation-summary").textContent = "";
      $("invitation-error").textContent = "This link has no invitation in it. Open the link from the email again.";
      return;
    }
    let preview;
    try {
      preview = await api("POST", "/v1/auth/invitations/preview", { token });
    } catch (error) {
      $("invitation-summary").textContent = "";
      $("invitation-error").textContent =
        error.status === 422 ? "This invitation is invalid, was revoked or has expired. Ask for a new one." : error.message;
      return;
    }
    $("invitation-summary").textContent = `You are invited to ${preview.workspace_name} as ${preview.roles.join(", ")} (${preview.email}).`;
    if (!preview.account_exists) $("join-form").hidden = false;
    else {
      $("accept-existing").hidden = false;
      $("accept-signed-in").disabled = !(await signedIn());
    }
  },
  init() {
    onSubmit("join-form", "join-error", async () => {
      const body = { token: linkToken(), password: $("join-password").value };
      if ($("join-name").value.trim()) body.name = $("join-name").value.trim();
      await api("POST", "/v1/auth/invitations/accept", body);
      $("join-password").value = "";
      joined();
    });
    $("accept-signed-in").addEventListener("click", async () => {
      $("accept-error").textContent = "";
      try {
        await api("POST", "/v1/invitations/accept", { token: linkToken() });
        joined();
      } catch (error) {
        $("accept-error").textContent = error.message;
      }
    });
  },
});
