// Passkeys on the hosted pages: WebAuthn registration ("Add passkey") and assertion
// ("Use passkey"). The server makes the options and verifies the answers.
"use strict";

const toBuffer = (value) => {
  const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
};

const toBase64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function call(button, path, body) {
  const response = await fetch(button.dataset.base + path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": button.dataset.csrf },
    body: JSON.stringify(body || {}),
  });
  const answer = await response.json();
  if (answer.redirect) {
    window.location.assign(answer.redirect);
    return null;
  }
  if (!response.ok) {
    throw new Error(answer.errors ? answer.errors[0].message : "The passkey was not accepted.");
  }
  return answer;
}

function showError(button, message) {
  let alert = document.getElementById("passkey-alert");
  if (!alert) {
    alert = document.createElement("p");
    alert.id = "passkey-alert";
    alert.className = "alert";
    alert.setAttribute("role", "alert");
    button.closest(".actions").before(alert);
  }
  alert.textContent = message;
}

const descriptors = (list) => (list || []).map((d) => ({ ...d, id: toBuffer(d.id) }));

async function register(button) {
  const options = await call(button, "/passkey/register-options");
  if (!options) return;
  options.challenge = toBuffer(options.challenge);
  options.user.id = toBuffer(options.user.id);
  options.excludeCredentials = descriptors(options.excludeCredentials);
  const credential = await navigator.credentials.create({ publicKey: options });
  await call(button, "/passkey/register", {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: {
      clientDataJSON: toBase64url(credential.response.clientDataJSON),
      attestationObject: toBase64url(credential.response.attestationObject),
      transports: credential.response.getTransports ? credential.response.getTransports() : [],
    },
  });
}

async function authenticate(button) {
  const options = await call(button, "/passkey/options");
  if (!options) return;
  options.challenge = toBuffer(options.challenge);
  options.allowCredentials = descriptors(options.allowCredentials);
  const credential = await navigator.credentials.get({ publicKey: options });
  const response = credential.response;
  await call(button, "/passkey/verify", {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
    },
  });
}

// The buttons are rendered disabled: each is enabled only once its handler is attached, so
// that a click can never arrive before this script has run (a click on a disabled button
// waits, or is refused, instead of doing nothing). Without JavaScript they stay disabled and
// the passcode route ("Try another way", "Skip": plain forms) works as before.
function attach() {
  for (const button of document.querySelectorAll("button[data-passkey]")) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await (button.dataset.passkey === "register" ? register(button) : authenticate(button));
      } catch (error) {
        showError(button, error && error.message ? error.message : "The passkey was not accepted.");
      } finally {
        button.disabled = false;
      }
    });
    button.disabled = false;
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", attach);
else attach();
