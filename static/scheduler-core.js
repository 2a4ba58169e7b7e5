/*
 * Scheduler widget core: mounts the booking modal in a shadow root on the host page and
 * lets htmx drive the server-rendered steps inside it.
 *
 * Loaded with the page's htmx 4 already present as `window.htmx` (the demo page does
 * this; the one-tag embed with its own scoped htmx comes with the entry/CDN loader).
 * The script tag carries data-key="pk_…"; its src tells where the server is.
 * One global: window.Wrkbelt = { open(options), close() }.
 */
(() => {
  "use strict";
  if (window.Wrkbelt) return;

  const KEY_HEADER = "X-Scheduler-Key";
  const SESSION_HEADER = "X-Scheduler-Session";
  const CONTAINER_ID = "wrkbelt-scheduler-container";
  const PREFILL_FIELDS = ["zip", "name", "email", "phone"];

  const script = document.currentScript;
  const key = script && script.dataset.key;
  const server = script ? new URL(script.src, location.href).origin : location.origin;
  const htmx = window.htmx;

  let root, dialog, stepArea, token = null, sessionFlow = null, lastTrigger = null;
  const listeners = [];

  function listen(target, type, handler, options) {
    target.addEventListener(type, handler, options);
    listeners.push(() => target.removeEventListener(type, handler, options));
  }

  async function adoptStyles() {
    const response = await fetch(server + "/cdn/scheduler.css", { mode: "cors" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(await response.text());
    root.adoptedStyleSheets = [sheet];
  }

  function mount() {
    let host = document.getElementById(CONTAINER_ID);
    if (!host) {
      host = document.createElement("div");
      host.id = CONTAINER_ID;
      document.body.appendChild(host);
    }
    root = host.shadowRoot || host.attachShadow({ mode: "open" });
    root.innerHTML =
      '<dialog class="wb-dialog" aria-labelledby="wb-dialog-title">' +
      '<div class="wb-dialog__bar"><p class="wb-dialog__title" id="wb-dialog-title">Book a visit</p>' +
      '<button type="button" class="wb-close" aria-label="Close">×</button></div>' +
      '<div id="wb-step" class="wb-dialog__body" aria-live="polite"></div></dialog>';
    dialog = root.querySelector("dialog");
    stepArea = root.getElementById("wb-step");

    listen(root, "htmx:config:request", (event) => {
      const headers = event.detail.ctx.request.headers;
      if (key) headers[KEY_HEADER] = key;
      if (token) headers[SESSION_HEADER] = token;
    });
    listen(root, "htmx:after:request", (event) => {
      const issued = event.detail.ctx.response && event.detail.ctx.response.headers.get(SESSION_HEADER);
      if (issued) token = issued;
    });
    listen(root, "htmx:after:swap", focusHeading);
    listen(root, "htmx:error", () => showProblem("We couldn't reach the booking service. Check your connection and try again."));
    listen(root, "click", (event) => {
      const target = event.composedPath()[0];
      if (target.closest && target.closest(".wb-close")) close();
      if (target.closest && target.closest("[data-wrkbelt-restart]")) startSession(sessionFlow, {});
    });
    listen(dialog, "close", () => {
      document.documentElement.style.removeProperty("overflow");
      if (lastTrigger && lastTrigger.focus) lastTrigger.focus({ preventScroll: true });
    });
    htmx.config.mode = "cors";
    htmx.config.history = false;
    htmx.process(root);
  }

  function focusHeading() {
    const heading = stepArea.querySelector("[data-step-heading]");
    if (heading) heading.focus({ preventScroll: true });
  }

  function showProblem(message) {
    stepArea.innerHTML =
      '<section class="wb-step wb-step--problem"><h2 class="wb-step__title" tabindex="-1" data-step-heading>Something went wrong</h2>' +
      '<p class="wb-notice" role="alert"></p><p><button type="button" class="wb-button wb-button--primary" data-wrkbelt-restart>Try again</button></p></section>';
    stepArea.querySelector(".wb-notice").textContent = message;
    focusHeading();
  }

  function startSession(flow, prefill) {
    token = null;
    sessionFlow = flow || null;
    const values = { page_url: location.href, referrer: document.referrer };
    if (flow) values.flow = flow;
    for (const field of PREFILL_FIELDS) if (prefill[field]) values[field] = prefill[field];
    return htmx.ajax("POST", server + "/sessions", { source: stepArea, target: stepArea, values });
  }

  function open(options = {}) {
    if (!dialog) return;
    lastTrigger = options.trigger || document.activeElement;
    document.documentElement.style.overflow = "hidden";
    if (!dialog.open) dialog.showModal();
    focusHeading();
    const flow = options.flow || null;
    if (!token || flow !== sessionFlow || options.restart) return startSession(flow, options);
    return htmx.ajax("GET", server + "/session/step", { source: stepArea, target: stepArea });
  }

  function close() {
    if (dialog && dialog.open) dialog.close();
  }

  async function listenForTriggers() {
    let triggers = [];
    try {
      const response = await fetch(server + "/booking-flow-routers/button-triggers", {
        headers: { [KEY_HEADER]: key }, mode: "cors",
      });
      if (response.ok) triggers = (await response.json()).triggers;
    } catch (error) { /* the data-wrkbelt-open attribute and Wrkbelt.open() still work */ }
    listen(document, "click", (event) => {
      const element = event.target instanceof Element ? event.target : null;
      if (!element) return;
      const opener = element.closest("[data-wrkbelt-open]");
      const match = opener ? null : triggers.find((t) => element.closest(t.selector));
      if (!opener && !match) return;
      event.preventDefault();
      const trigger = opener || element.closest(match.selector);
      const data = trigger.dataset;
      open({
        trigger,
        flow: (opener ? data.wrkbeltFlow : match.flow_id) || undefined,
        zip: data.wrkbeltZip, name: data.wrkbeltName, email: data.wrkbeltEmail, phone: data.wrkbeltPhone,
      });
    });
  }

  function start() {
    mount();
    adoptStyles();
    listenForTriggers();
  }

  window.Wrkbelt = {
    open,
    close,
    destroy() { close(); listeners.splice(0).forEach((remove) => remove()); },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
})();
