// The caller's profile: their name, and moving the account to a new email address (a sensitive
// action: it may ask to confirm it is you, then a link goes to the new address). Also the public
// page that link opens (/app/confirm-email#token=…).
import { $, api, definePage, onSubmit, withStepUp } from "../lib.js";

definePage({
  view: "profile",
  label: "Profile",
  html: `
    <h2>Profile</h2>
    <form id="profile-form">
      <label for="profile-name">Your name</label>
      <input id="profile-name" autocomplete="name" required maxlength="100">
      <button type="submit">Save name</button>
      <p id="profile-status" role="status" class="muted"></p>
      <p id="profile-error" class="error" role="alert"></p>
    </form>
    <h3>Email address</h3>
    <p>Your account uses <strong id="profile-email"></strong>.</p>
    <form id="email-form">
      <label for="new-email">New email address</label>
      <input id="new-email" type="email" autocomplete="email" required>
      <button type="submit">Send a confirmation link</button>
      <p id="email-status" role="status" class="muted"></p>
      <p id="email-error" class="error" role="alert"></p>
    </form>`,
  async load() {
    const me = await api("GET", "/v1/me");
    if (!$("profile-name").dataset.edited) $("profile-name").value = me.name || "";
    $("profile-email").textContent = me.email || "";
  },
  init() {
    $("profile-name").addEventListener("input", () => {
      $("profile-name").dataset.edited = "1";
    });
    onSubmit("profile-form", "profile-error", async () => {
      const me = await api("PATCH", "/v1/me", { name: $("profile-name").value });
      delete $("profile-name").dataset.edited;
      $("profile-status").textContent = `Saved: ${me.name}.`;
    });
    onSubmit("email-form", "email-error", async () => {
      const reply = await withStepUp(() => api("POST", "/v1/me/email", { new_email: $("new-email").value.trim() }));
      $("new-email").value = "";
      $("email-status").textContent = reply.detail;
    });
  },
});

definePage({
  view: "confirm-email",
  public: true,
  html: `
    <h2>Confirm your new address</h2>
    <p id="confirm-email-status" role="status"></p>
    <p id="confirm-email-error" class="error" role="alert"></p>
    <p><a href="/app/#/profile">Back to your profile</a></p>`,
  async load() {
    $("confirm-email-status").textContent = "Confirming…";
    $("confirm-email-error").textContent = "";
    const token = new URLSearchParams(location.hash.replace(/^#/, "")).get("token") || "";
    try {
      const reply = await api("POST", "/v1/auth/email-change/confirm", { token });
      history.replaceState(null, "", location.pathname); // single use: drop it from the address
      $("confirm-email-status").textContent = reply.detail;
    } catch (error) {
      $("confirm-email-status").textContent = "";
      $("confirm-email-error").textContent =
        error.status === 422 ? "This link is invalid, was already used or has expired. Ask for a new one." : error.message;
    }
  },
});
