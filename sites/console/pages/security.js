// Security: two-factor authentication (an authenticator app + recovery codes) for the signed-in user.
// Enrolling, regenerating codes and turning it off need a recent step-up: `withStepUp` asks for the
// password (or a code) in a dialog when the API says so, then retries.
import { $, api, button, definePage, onSubmit, withStepUp } from "../lib.js";

function showCodes(codes, intro) {
  $("security-codes-intro").textContent = intro;
  $("security-codes").replaceChildren(
    ...codes.map((code) => {
      const li = document.createElement("li");
      const text = document.createElement("code");
      text.textContent = code;
      li.append(text);
      return li;
    }),
  );
  $("security-codes-box").hidden = false;
  $("security-codes-title").focus();
}

function hideEnrolment() {
  $("security-enrol-box").hidden = true;
  $("security-secret").textContent = "";
  $("security-uri").textContent = "";
  $("security-confirm-code").value = "";
}

async function loadStatus() {
  const status = await api("GET", "/v1/me/two-factor");
  const on = status.enabled;
  $("security-status").textContent = on
    ? `Two-factor authentication is on. ${status.recovery_codes_left} recovery code${status.recovery_codes_left === 1 ? "" : "s"} left.`
    : "Two-factor authentication is off. Signing in needs only your password.";
  const actions = on
    ? [
        button("Regenerate recovery codes", regenerate, { ariaLabel: "Regenerate recovery codes (the old ones stop working)" }),
        button("Turn off two-factor", disable),
      ]
    : [button("Set up an authenticator app", enrol, { secondary: false })];
  $("security-actions").replaceChildren(...actions);
}

async function guarded(action) {
  $("security-error").textContent = "";
  $("security-notice").textContent = "";
  try {
    await action();
  } catch (error) {
    $("security-error").textContent = error.message;
  }
}

function enrol() {
  return guarded(async () => {
    const enrolment = await withStepUp(() => api("POST", "/v1/me/two-factor/enrol"));
    $("security-codes-box").hidden = true;
    $("security-secret").textContent = enrolment.secret;
    $("security-uri").textContent = enrolment.otpauth_uri;
    $("security-enrol-box").hidden = false;
    $("security-confirm-code").focus();
  });
}

function regenerate() {
  return guarded(async () => {
    const result = await withStepUp(() => api("POST", "/v1/me/two-factor/recovery-codes"));
    showCodes(result.recovery_codes, "Your new recovery codes. The old ones no longer work. Save these now: they are shown only once.");
    await loadStatus();
  });
}

function disable() {
  return guarded(async () => {
    if (!window.confirm("Turn off two-factor authentication? Signing in will need only your password.")) return;
    await withStepUp(() => api("POST", "/v1/me/two-factor/disable"));
    $("security-codes-box").hidden = true;
    hideEnrolment();
    $("security-notice").textContent = "Two-factor authentication is off.";
    await loadStatus();
  });
}

definePage({
  view: "security",
  label: "Security",
  html: `
    <h2 id="security-title">Security</h2>
    <h3>Two-factor authentication</h3>
    <p id="security-status" role="status"></p>
    <p id="security-notice" role="status" class="muted"></p>
    <div id="security-actions"></div>
    <p id="security-error" class="error" role="alert"></p>
    <div id="security-enrol-box" hidden>
      <h3>Add Ninefold to your authenticator app</h3>
      <p>Enter this key in your app (or paste the link into one that accepts <code>otpauth://</code> links).
        It is shown only now.</p>
      <p>Key: <code id="security-secret"></code></p>
      <p>Link: <code id="security-uri" style="word-break: break-all"></code></p>
      <form id="security-confirm-form">
        <label for="security-confirm-code">Code from the app</label>
        <input id="security-confirm-code" name="code" inputmode="numeric" autocomplete="one-time-code"
          pattern="[0-9 ]{6,7}" maxlength="7" required aria-describedby="security-confirm-hint">
        <p id="security-confirm-hint" class="muted">The 6 digits the app shows for Ninefold.</p>
        <button type="submit">Turn on two-factor</button>
        <p id="security-confirm-error" class="error" role="alert"></p>
      </form>
    </div>
    <div id="security-codes-box" hidden>
      <h3 id="security-codes-title" tabindex="-1">Recovery codes</h3>
      <p id="security-codes-intro"></p>
      <ul id="security-codes" aria-labelledby="security-codes-title"></ul>
      <p class="muted">Each code signs you in once if you lose your authenticator app.</p>
    </div>`,
  load: async () => {
    hideEnrolment();
    $("security-codes-box").hidden = true;
    $("security-error").textContent = "";
    $("security-notice").textContent = "";
    await loadStatus();
  },
  init: () => {
    onSubmit("security-confirm-form", "security-confirm-error", async () => {
      const result = await api("POST", "/v1/me/two-factor/confirm", { code: $("security-confirm-code").value.trim() });
      hideEnrolment();
      showCodes(result.recovery_codes, "Two-factor authentication is on. Save these recovery codes now: they are shown only once.");
      await loadStatus();
    });
  },
});
