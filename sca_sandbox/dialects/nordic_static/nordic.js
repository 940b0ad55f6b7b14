// Nordbanken Sandbox: the hosted consent pages as a single page.
//
// The shell around this script is the same static page for every token. Each step of the
// flow comes as JSON from GET /sca/api/flow?token=..., and is rendered here, in Swedish;
// each action posts JSON (header X-CSRF-Token) to /sca/api/flow/{action}?token=..., whose
// answer is the next step, an end state, or {"redirect": destination}: the page then
// leaves with location.replace(destination). Between two steps the page shows "Laddar…"
// (aria-busy) for a random 200-600 ms, as a real provider's pages would.
"use strict";

const T = {
  loading: "Laddar…",
  summary: {
    heading: "Legitimering",
    intro: (brand) => `Jag legitimerar mig hos ${brand} att`,
    region: "Medgivande",
    confirm: "Godkänn",
    decline: "Avböj",
    hidden: "Begäran om medgivande",
    actions: {
      onboarding: "Slutför registreringen",
      payment_history: "Läs betalningshistorik",
      external_payment: "Gör en betalning",
      card_details: "Visa kortuppgifter",
      card_activation: "Aktivera kort",
    },
    amount: "Belopp",
    payee: "Mottagare",
    iban: "IBAN",
    account: "Konto",
    reference: "Meddelande",
    card: "Kort",
    name: "Namn",
  },
  identify: {
    heading: "Legitimera dig",
    lead: "Använd din nyckel för att legitimera dig i stället för koden.",
    passkey: "Använd nyckel",
    another: "Prova ett annat sätt",
  },
  passcode: { heading: "Ange din kod", label: "Kod", next: "Fortsätt" },
  locked: {
    heading: "För många felaktiga försök",
    lead: "Medgivandet kan inte längre godkännas.",
    close: "Stäng",
  },
  create: {
    heading: "Skapa din kod",
    lead: "Välj sex siffror. Du använder dem för att legitimera dig.",
    passcode: "Kod",
    repeat: "Upprepa koden",
    next: "Fortsätt",
  },
  sms: {
    heading: "Bekräfta ditt telefonnummer",
    lead: (phone) => `Vi har skickat en sexsiffrig kod med SMS till ${phone}.`,
    code: "SMS-kod",
    confirm: "Bekräfta",
  },
  addPasskey: {
    heading: "Lägg till en nyckel",
    lead: "Nästa gång kan du legitimera dig med fingeravtryck, ansikte eller skärmlås i stället för koden.",
    add: "Lägg till nyckel",
    skip: "Hoppa över",
  },
  pin: {
    heading: "Välj PIN-kod",
    lead: "Välj en fyrsiffrig PIN-kod.",
    label: "PIN-kod",
    next: "Fortsätt",
    cancel: "Avbryt",
  },
  cvc: {
    heading: "Kortaktivering",
    lead: "Ange den tresiffriga CVC2-koden från baksidan av ditt kort.",
    label: "CVC2-kod",
    activate: "Aktivera",
    cancel: "Avbryt",
  },
  activated: {
    heading: "Ditt kort är nu aktivt",
    lead: "Förvara kortet och kortuppgifterna säkert. Ditt första köp kan behöva göras med PIN-kod.",
    close: "Stäng",
  },
  details: {
    heading: "Kortuppgifter",
    holder: "Kortinnehavare",
    number: "Kortnummer",
    validThru: "Giltigt till",
    cvc: "CVC",
    close: "Stäng",
  },
  done: {
    heading: "Klart",
    approved: "Du har godkänt begäran.",
    declined: "Du har avböjt begäran.",
    failed: "Begäran kunde inte godkännas.",
    expired: "Begäran har gått ut.",
    other: "Du kan stänga fönstret.",
  },
  ends: {
    invalid: ["Länken är inte giltig", "Be tjänsten som skickade dig hit om en ny länk."],
    expired: ["Länken har gått ut", "Be om en ny länk för att försöka igen."],
    completed: [
      "Medgivandet är redan slutfört",
      "Här finns inget mer att göra. Du kan stänga fönstret.",
    ],
    refused: ["Begäran nekades", "Begäran kom inte från den här sidan. Öppna länken igen."],
    error: ["Något gick fel", "Försök igen om en stund."],
    close: "Stäng",
  },
  alerts: {
    wrong_passcode: (alert) => `Fel kod. ${alert.left} försök kvar.`,
    passcode_digits: () => "Koden måste vara 6 siffror.",
    passcodes_differ: () => "Koderna matchar inte.",
    wrong_code: () => "Fel kod.",
    wrong_cvc2: () => "Fel CVC2-kod.",
    pin_digits: () => "PIN-koden måste vara 4 siffror.",
    passkey: () => "Nyckeln godkändes inte. Försök igen eller prova ett annat sätt.",
  },
};

const app = document.getElementById("nb-app");
const BRAND = "Nordbanken Sandbox";
// The sandbox's faults of these pages (sca_sandbox/faults.py), as the shell names them.
const FAULTS = new Set(
  (document.querySelector('meta[name="sandbox-faults"]')?.content || "").split(",").filter(Boolean),
);
const fault = (name) => FAULTS.has(name);
if (fault("page-without-lang")) document.documentElement.removeAttribute("lang"); // A11Y-4
if (fault("focus-not-drawn")) document.documentElement.classList.add("focus-not-drawn"); // A11Y-2
const query = "?token=" + encodeURIComponent(new URLSearchParams(location.search).get("token") || "");
let csrf = "";

// --- the DOM ----------------------------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

// A new step: its title in the tab's title, the focus on its first field, else its heading
// (a screen reader then reads the new step, and Tab goes on from there).
function screen(heading, ...parts) {
  const title = el("h1", { tabindex: "-1" }, heading);
  app.replaceChildren(title, ...parts.filter(Boolean));
  app.setAttribute("aria-busy", "false");
  document.title = `${heading} · ${BRAND}`;
  (app.querySelector("input") || title).focus();
}

const lead = (text) => el("p", { class: "nb-lead" }, text);
const actions = (...buttons) => el("div", { class: "nb-actions" }, ...buttons);
const button = (text, kind, onclick) =>
  el("button", { type: "button", class: `nb-btn nb-${kind}`, onclick }, text);
const alertBox = (alert) =>
  alert && T.alerts[alert.code]
    ? el(
        "p",
        { role: fault("refusal-not-announced") ? null : "alert", class: "nb-alert",
          "aria-hidden": fault("alert-hidden") ? "true" : null }, // A11Y-3
        T.alerts[alert.code](alert),
      )
    : null;

// An input named by a separate element (aria-labelledby), never by <label> or aria-label.
function secret(label, name, digits) {
  const labelId = `nb-label-${name}`;
  return el(
    "div",
    { class: "nb-field" },
    el(
      "span",
      { id: labelId, class: "nb-label" },
      fault("field-without-name") ? el("span", { "aria-hidden": "true" }, label) : label, // A11Y-1
    ),
    el("input", {
      id: `nb-input-${name}`,
      "data-field": name,
      type: "password",
      inputmode: "numeric",
      autocomplete: "off",
      size: digits,
      "aria-labelledby": fault("labels-as-captions") ? null : labelId, // A11Y-4
    }),
  );
}

const value = (name) => app.querySelector(`[data-field="${name}"]`).value;

// A value named by a separate element, as the dynamic-linking lines and card details are.
function fact(key, label, text, className) {
  const labelId = `nb-fact-${key}`;
  return [
    el("span", { id: labelId, class: "nb-label" }, label),
    el("span", { class: className || "nb-value", "aria-labelledby": labelId }, text),
  ];
}

// Enter in an input presses the page's primary button (there are no forms to submit).
app.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !event.target.matches("input")) return;
  const primary = app.querySelector(".nb-primary");
  if (primary) {
    event.preventDefault();
    primary.click();
  }
});

// --- formats ----------------------------------------------------------------------------

function amount(minor, currency) {
  const units = String(Math.floor(minor / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
  const cents = String(minor % 100).padStart(2, "0");
  const symbol = { EUR: "€", SEK: "kr" }[currency] || currency;
  return `${units},${cents} ${symbol}`;
}

const printedIban = (iban) => iban.replace(/(.{4})(?!$)/g, "$1 ");

// --- talking to the server --------------------------------------------------------------

const pause = () => new Promise((done) => setTimeout(done, 200 + Math.random() * 400));

function loading() {
  app.setAttribute("aria-busy", "true");
  app.replaceChildren(el("p", { role: "status", class: "nb-loading" }, T.loading));
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method === "POST") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = csrf;
  }
  try {
    const response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { ok: response.ok, answer: await response.json() };
  } catch (error) {
    return { ok: false, answer: null };
  }
}

async function go(method, path, body) {
  loading();
  const [result] = await Promise.all([call(method, path, body), pause()]);
  present(result.answer);
}

const act = (name, fields) => go("POST", `/sca/api/flow/${name}${query}`, fields || {});

function present(answer) {
  if (answer && typeof answer.redirect === "string") {
    location.replace(answer.redirect);
    return;
  }
  if (!answer || typeof answer.step !== "string") {
    end("error", {});
    return;
  }
  if (answer.csrf) csrf = answer.csrf;
  const show = STEPS[answer.step];
  if (show) show(answer);
  else end(T.ends[answer.step] ? answer.step : "error", answer);
}

function end(kind, answer) {
  const [heading, text] = T.ends[kind];
  screen(
    heading,
    lead(text),
    answer.close ? actions(button(T.ends.close, "primary", () => act("close"))) : null,
  );
}

// --- the steps --------------------------------------------------------------------------

function summaryLines(details) {
  const t = T.summary;
  const lines = [];
  if (details.amount !== undefined) {
    lines.push(["amount", t.amount, amount(details.amount, details.currency), "nb-value nb-amount"]);
  }
  if (details.payee !== undefined) lines.push(["payee", t.payee, details.payee]);
  if (details.iban !== undefined) lines.push(["iban", t.iban, printedIban(details.iban)]);
  if (details.account !== undefined) lines.push(["account", t.account, details.account]);
  if (details.reference !== undefined) lines.push(["reference", t.reference, details.reference]);
  if (details.last4 !== undefined) lines.push(["card", t.card, `•••• ${details.last4}`]);
  if (details.name !== undefined) lines.push(["name", t.name, details.name]);
  return lines.map(([key, label, text, className]) => el("li", {}, ...fact(key, label, text, className)));
}

function declineButton(text) {
  const decline = button(text, "danger", () => act("decline"));
  if (fault("control-pointer-only")) decline.tabIndex = -1; // A11Y-2: the pointer only
  if (fault("decline-low-contrast")) decline.style.color = "#e4572e"; // A11Y-1: 3.7:1
  return decline;
}

const STEPS = {
  summary(answer) {
    const t = T.summary;
    const summary = answer.summary;
    const lines = summaryLines(summary.details);
    screen(
      t.heading,
      lead(t.intro(summary.brand)),
      el(
        "section",
        { class: "nb-consent", "aria-labelledby": "nb-consent-name" },
        el("p", { id: "nb-consent-name", class: "nb-eyebrow" }, t.region),
        el("h2", {}, summary.action ? t.actions[summary.action] : t.hidden),
        lines.length ? el("ul", { class: "nb-lines" }, ...lines) : null,
      ),
      actions(
        button(t.confirm, "primary", () => act("confirm")),
        summary.decline ? declineButton(t.decline) : null,
      ),
    );
  },

  identify(answer) {
    const t = T.identify;
    screen(
      t.heading,
      lead(t.lead),
      actions(
        answer.passkey ? button(t.passkey, "primary", (event) => usePasskey(event.currentTarget)) : null,
        button(t.another, "link", () => act("another-way")),
      ),
    );
  },

  passcode(answer) {
    const t = T.passcode;
    screen(
      t.heading,
      alertBox(answer.alert),
      secret(t.label, "passcode", 6),
      actions(button(t.next, "primary", () => act("passcode", { passcode: value("passcode") }))),
    );
  },

  locked() {
    const t = T.locked;
    screen(t.heading, lead(t.lead), actions(button(t.close, "primary", () => act("close"))));
  },

  create_passcode(answer) {
    const t = T.create;
    screen(
      t.heading,
      lead(t.lead),
      alertBox(answer.alert),
      secret(t.passcode, "passcode", 6),
      secret(t.repeat, "repeat_passcode", 6),
      actions(
        button(t.next, "primary", () =>
          act("create-passcode", {
            passcode: value("passcode"),
            repeat_passcode: value("repeat_passcode"),
          }),
        ),
      ),
    );
  },

  sms(answer) {
    const t = T.sms;
    screen(
      t.heading,
      lead(t.lead(answer.phone)),
      alertBox(answer.alert),
      secret(t.code, "code", 6),
      actions(button(t.confirm, "primary", () => act("sms", { code: value("code") }))),
    );
  },

  add_passkey() {
    const t = T.addPasskey;
    screen(
      t.heading,
      lead(t.lead),
      actions(
        button(t.add, "primary", (event) => addPasskey(event.currentTarget)),
        button(t.skip, "secondary", () => act("skip-passkey")),
      ),
    );
  },

  pin(answer) {
    const t = T.pin;
    screen(
      t.heading,
      lead(t.lead),
      alertBox(answer.alert),
      secret(t.label, "pin", 4),
      actions(
        button(t.next, "primary", () => act("pin", { pin: value("pin") })),
        button(t.cancel, "secondary", () => act("decline")),
      ),
    );
  },

  cvc(answer) {
    const t = T.cvc;
    screen(
      t.heading,
      lead(t.lead),
      secret(t.label, "cvc", 3),
      alertBox(answer.alert),
      actions(
        button(t.activate, "primary", () => act("cvc", { cvc: value("cvc") })),
        button(t.cancel, "secondary", () => act("decline")),
      ),
    );
  },

  activated() {
    const t = T.activated;
    screen(t.heading, lead(t.lead), actions(button(t.close, "primary", () => act("close"))));
  },

  details(answer) {
    const t = T.details;
    const card = answer.card;
    const box = (key, label, text, wide) =>
      el("div", { class: wide ? "nb-fact nb-wide" : "nb-fact" }, ...fact(key, label, text));
    screen(
      t.heading,
      el(
        "div",
        { class: "nb-facts" },
        box("holder", t.holder, card.holder, true),
        box("number", t.number, card.number, true),
        box("valid-thru", t.validThru, card.valid_thru, false),
        box("cvc", t.cvc, card.cvc, false),
      ),
      actions(button(t.close, "primary", () => act("close"))),
    );
  },
};

function done() {
  const status = new URLSearchParams(location.search).get("status");
  const t = T.done;
  screen(t.heading, lead(t[status] && status !== "heading" ? t[status] : t.other));
}

// --- passkeys (WebAuthn; the server makes the options and checks the answers) -----------

const toBuffer = (text) => {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
};

const toBase64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

const descriptors = (list) => (list || []).map((d) => ({ ...d, id: toBuffer(d.id) }));

const passkeyCall = (name, body) => call("POST", `/sca/api/passkey/${name}${query}`, body || {});

function passkeyRefused(trigger) {
  if (!document.body.contains(trigger)) return;
  let alert = app.querySelector(".nb-passkey-alert");
  if (!alert) {
    alert = el("p", { role: "alert", class: "nb-alert nb-passkey-alert" });
    trigger.closest(".nb-actions").before(alert);
  }
  alert.textContent = T.alerts.passkey();
  trigger.disabled = false;
}

// Options first; an answer without them is a step or an end state to show instead.
async function withPasskey(trigger, optionsCall, ceremony) {
  trigger.disabled = true;
  try {
    const started = await passkeyCall(optionsCall);
    if (!started.ok) {
      if (started.answer && typeof started.answer.step === "string") {
        loading();
        await pause();
        present(started.answer);
      } else {
        passkeyRefused(trigger);
      }
      return;
    }
    const result = await ceremony(started.answer);
    if (!result.answer || result.answer.errors) {
      passkeyRefused(trigger);
      return;
    }
    loading();
    await pause();
    present(result.answer);
  } catch (error) {
    passkeyRefused(trigger);
  }
}

function addPasskey(trigger) {
  return withPasskey(trigger, "register-options", async (options) => {
    options.challenge = toBuffer(options.challenge);
    options.user.id = toBuffer(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    const credential = await navigator.credentials.create({ publicKey: options });
    return passkeyCall("register", {
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
  });
}

function usePasskey(trigger) {
  return withPasskey(trigger, "options", async (options) => {
    options.challenge = toBuffer(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    const credential = await navigator.credentials.get({ publicKey: options });
    const response = credential.response;
    return passkeyCall("verify", {
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
  });
}

// --- start ------------------------------------------------------------------------------

if (location.pathname.endsWith("/sca/done")) {
  loading();
  pause().then(done);
} else {
  go("GET", `/sca/api/flow${query}`);
}
