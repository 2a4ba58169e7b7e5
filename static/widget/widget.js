/*
 * The widget: opens the dialog, starts the booking session, lets htmx swap the server's
 * step fragments in, keeps the token (in memory only: no cookies, no storage), records
 * what the visitor does, and tells the host page (wrkbelt:* events).
 * Every listener it adds is removed by Wrkbelt.destroy().
 */

import { Dialog, Launcher } from "./dialog.js";
import { EventRecorder } from "./recorder.js";
import { forgetRoot, sandboxedHtmx } from "./sandbox.js";

const KEY_HEADER = "X-Scheduler-Key";
const SESSION_HEADER = "X-Scheduler-Session";
const SESSION_ID_HEADER = "X-Scheduler-Session-Id";
const PREFILL_FIELDS = ["zip", "name", "email", "phone"];
// The version of the wrkbelt:* events' schema (docs/EVENTS.md): a change that could break a
// listener (a name, a field's meaning) raises it.
const EVENTS_VERSION = 1;
const OFFLINE_MESSAGE = "We couldn't reach the booking service. Check your connection and try again.";

/** A wrkbelt:NAME event on the host page's window (its analytics listen there). */
function emit(name, detail) {
  window.dispatchEvent(new CustomEvent("wrkbelt:" + name, { detail }));
}

/** The IANA time zone the visitor's device is in ("America/Los_Angeles"), or "". */
function deviceZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return "";
  }
}

class Widget {
  constructor(key, api, locale, photosUrl) {
    this.key = key;
    this.api = api;
    // The photo code's chunk: imported the first time a step asks for photos.
    this.photosUrl = photosUrl;
    this.photos = null;
    // The page's data-wrkbelt-locale; the server settles the locale (else the browser's
    // language, else the company's default) and the session keeps it.
    this.locale = locale || null;
    this.token = null;
    this.sessionFlow = null;
    this.lastTrigger = null;
    this.triggers = [];
    this.removers = [];
    this.recorder = new EventRecorder(api, key);
    this.currentStep = null;
    this.stepSince = 0;
    // References already announced: wrkbelt:booking-confirmed fires once per booking
    // (a double click, a reopened confirmation), so the page's analytics count it once;
    // and likewise each session's lead and abandonment (docs/EVENTS.md).
    this.announced = new Set();
    this.booked = false;
    this.contactGiven = false;
  }

  listen(target, type, handler, options) {
    target.addEventListener(type, handler, options);
    this.removers.push(() => target.removeEventListener(type, handler, options));
  }

  /** The modal; or, given a [data-wrkbelt-inline] element, the widget in it. */
  mount(container) {
    this.dialog = new Dialog(container);
  }

  async loadHtmx(url) {
    const root = this.dialog.root;
    const { htmx, process } = await sandboxedHtmx(url, root, (target, type, handler) => this.listen(target, type, handler));
    this.htmx = htmx;
    this.listen(root, "htmx:config:request", (event) => {
      const headers = event.detail.ctx.request.headers;
      headers[KEY_HEADER] = this.key;
      headers["X-Request-Id"] = crypto.randomUUID(); // follows this request through the server's logs
      if (this.token) headers[SESSION_HEADER] = this.token;
      delete headers["HX-Current-URL"]; // the host page's full URL is not ours to send on every request
    });
    this.listen(root, "htmx:after:request", (event) => {
      const response = event.detail.ctx.response;
      const issued = response && response.headers.get(SESSION_HEADER);
      if (issued) {
        this.token = issued;
        this.recorder.begin(response.headers.get(SESSION_ID_HEADER), issued);
        if (this.dialog.isOpen) this.recorder.record("modal_opened", { flow: this.sessionFlow });
      }
    });
    this.listen(root, "htmx:after:swap", (event) => {
      // A part of the step answered alone ([data-wrkbelt-part]: "Welcome back" under the
      // phone and email) is no new step: focus stays where the visitor types.
      if (event.target instanceof Element && event.target.hasAttribute("data-wrkbelt-part")) return;
      this.stepShown();
    });
    this.listen(root, "htmx:error", (event) => {
      // A part that could not answer (the step moved on meanwhile, or the network blinked)
      // is no problem with the step: the visitor types their address as anyone would.
      if (event.target instanceof Element && event.target.hasAttribute("data-wrkbelt-part")) return;
      this.showProblem(OFFLINE_MESSAGE);
    });
    this.listen(root, "click", (event) => {
      const target = event.composedPath()[0];
      if (!(target instanceof Element)) return;
      if (target.closest(".wb-close")) this.close();
      else if (target.closest("[data-wrkbelt-done]")) this.done();
      else if (target.closest("[data-wrkbelt-restart]")) this.startSession(this.sessionFlow, {});
    });
    this.listen(this.dialog.element, "keydown", (event) => this.dialog.trapTab(event));
    this.listen(root, "keydown", (event) => moveInCalendar(event));
    this.listen(window, "pagehide", () => {
      if (this.dialog.isOpen && this.dialog.engaged) this.abandon("left"); // in the page: only once the visitor acted in it
    });
    this.listen(document, "visibilitychange", () => {
      if (document.visibilityState !== "hidden") return;
      this.recorder.record("page_hidden", {}, this.currentStep);
      this.recorder.beacon();
    });
    this.listen(this.dialog.element, "close", () => this.closed());
    process(root);
  }

  async request(method, path, body) {
    const response = await fetch(this.api + path, {
      method,
      mode: "cors",
      credentials: "omit",
      headers: Object.assign({ [KEY_HEADER]: this.key }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  /** Resolve the flow for this page, apply its theme, and listen for the triggers (the
   * entry asked for them already: `known`). */
  async configure(known, stopEarly, listenForTriggers = true) {
    try {
      const [flow, triggers] = await Promise.all([
        this.request("POST", "/booking-flow-routers/resolve", Object.assign({ url: location.href }, this.locale ? { locale: this.locale } : {})),
        listenForTriggers
          ? (known || Promise.reject()).catch(() => this.request("GET", "/booking-flow-routers/button-triggers"))
          : { triggers: [] },
      ]);
      this.dialog.applyTheme(flow.theme);
      this.dialog.applyFrame(flow.company, flow.texts);
      this.locale = flow.locale || this.locale;
      this.triggers = triggers.triggers;
    } catch (error) {
      console.error(
        `Wrkbelt: the scheduler at ${this.api} refused this page (${location.origin}) or could not be reached. ` +
          "Check the publishable key and that this origin is among the organization's allowed origins.",
        error,
      );
      if (stopEarly) stopEarly();
      return false;
    }
    if (stopEarly) stopEarly(); // taps go to this listener from now on
    if (listenForTriggers) this.listen(document, "click", (event) => this.triggerClicked(event), true);
    return true;
  }

  triggerClicked(event) {
    const element = event.target instanceof Element ? event.target : null;
    if (!element) return;
    const opener = element.closest("[data-wrkbelt-open]");
    const match = opener ? null : this.triggers.find((t) => element.closest(t.selector));
    if (!opener && !match) return;
    event.preventDefault();
    const trigger = opener || element.closest(match.selector);
    const data = trigger.dataset;
    this.open({
      trigger,
      flow: (opener ? data.wrkbeltFlow : match.flow_id) || undefined,
      zip: data.wrkbeltZip,
      name: data.wrkbeltName,
      email: data.wrkbeltEmail,
      phone: data.wrkbeltPhone,
    });
  }

  stepShown() {
    const step = this.dialog.body.querySelector(".wb-step");
    if (!step) return;
    const now = performance.now();
    if (this.currentStep && this.currentStep !== step.dataset.step) {
      this.recorder.record("step_time", { ms: Math.round(now - this.stepSince) }, this.currentStep);
    }
    if (this.currentStep !== step.dataset.step) this.stepSince = now;
    this.currentStep = step.dataset.step;
    if (step.dataset.theme) this.dialog.applyTheme(JSON.parse(step.dataset.theme));
    const photos = step.querySelector("[data-wrkbelt-photos]");
    if (photos) this.attachPhotos(photos);
    this.dialog.element.scrollTop = 0; // a long step re-rendered with messages starts at its heading
    this.dialog.focusHeading();
    emit("step", { step: step.dataset.step });
    this.contactGiven = this.contactGiven || step.dataset.contact === "true";
    if (step.dataset.step === "Confirmation") this.booked = true;
    if (step.dataset.lead && this.once("lead")) {
      emit("lead", { step: step.dataset.step, reason: step.dataset.lead, flow: this.sessionFlow });
    }
    if (step.dataset.step === "Confirmation" && !this.announced.has(step.dataset.reference)) {
      this.announced.add(step.dataset.reference);
      emit("booking-confirmed", {
        reference: step.dataset.reference,
        status: step.dataset.status, // "confirmed", or "pending" until the company's system answers
        service: step.dataset.service,
        window: { date: step.dataset.date, label: step.dataset.window },
      });
    }
  }

  attachPhotos(fieldset) {
    this.photos = this.photos || import(this.photosUrl);
    const headers = () => Object.assign({ [KEY_HEADER]: this.key }, this.token ? { [SESSION_HEADER]: this.token } : {});
    this.photos
      .then((module) => module.attach(fieldset, headers))
      .catch((error) => {
        this.photos = null; // the next step shown tries again
        console.error("Wrkbelt: the photo uploader could not load.", error);
      });
  }

  /** True the first time `what` happens in this booking session (its token). */
  once(what) {
    const key = `${what}:${this.token}`;
    if (!this.token || this.announced.has(key)) return false;
    this.announced.add(key);
    return true;
  }

  /** The visitor closed the widget or left the page without booking: once per session. */
  abandon(reason) {
    if (this.booked || !this.currentStep || !this.once("abandon")) return;
    emit("abandon", { step: this.currentStep, contact_given: this.contactGiven, reason, flow: this.sessionFlow });
  }

  showProblem(message) {
    this.recorder.record("client_error", { message }, this.currentStep);
    this.dialog.showOffline(message);
  }

  startSession(flow, prefill) {
    this.token = null;
    this.booked = false;
    this.contactGiven = false;
    this.currentStep = null;
    this.sessionFlow = flow || null;
    const values = { page_url: location.href, referrer: document.referrer, time_zone: deviceZone() };
    if (flow) values.flow = flow;
    if (this.locale) values.locale = this.locale;
    for (const field of PREFILL_FIELDS) if (prefill[field]) values[field] = String(prefill[field]);
    const area = this.dialog.body;
    return this.htmx.ajax("POST", this.api + "/sessions", { source: area, target: area, values });
  }

  open(options = {}) {
    this.lastTrigger = options.trigger || document.activeElement;
    if (options.trigger && options.trigger.getAttribute("aria-busy") === "true") {
      options.trigger.removeAttribute("aria-busy"); // tapped before the widget was ready: it is now
      options.trigger.style.cursor = "";
    }
    if (this.dialog.show()) {
      emit("open", { flow: options.flow || null });
      this.recorder.record("modal_opened", { flow: options.flow || null }, this.currentStep);
    }
    this.dialog.focusHeading();
    const flow = options.flow || null;
    if (!this.token || flow !== this.sessionFlow || options.restart) return this.startSession(flow, options);
    const area = this.dialog.body;
    return this.htmx.ajax("GET", this.api + "/session/step", { source: area, target: area });
  }

  close() {
    this.dialog.close();
  }

  /** The visitor is done with a booking: close, and the next open starts a new one. */
  done() {
    this.token = null;
    this.close();
  }

  closed() {
    this.recorder.record("modal_closed", { ms: Math.round(performance.now() - this.stepSince) }, this.currentStep);
    this.dialog.restorePage();
    emit("close", {});
    this.abandon("closed");
    if (this.lastTrigger && this.lastTrigger.focus) this.lastTrigger.focus({ preventScroll: true });
  }

  destroy() {
    this.close();
    this.recorder.end();
    this.removers.splice(0).forEach((remove) => remove());
    forgetRoot(this.dialog.root);
    this.dialog.remove();
    if (this.launcher) this.launcher.remove();
  }
}

const CALENDAR_MOVES = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };

/**
 * The calendar as a WAI-ARIA grid: one day is in the Tab order; the arrow keys move among
 * the days that have windows (skipping the rest), Home/End to the week's ends, PageUp and
 * PageDown to the previous and next month. Enter or Space chooses the day.
 */
function moveInCalendar(event) {
  const day = event.composedPath()[0];
  if (!(day instanceof HTMLElement) || !day.classList.contains("wb-day")) return;
  const grid = day.closest(".wb-calendar");
  if (event.key === "PageUp" || event.key === "PageDown") {
    const month = grid.querySelector(`[aria-label="${event.key === "PageUp" ? "Previous" : "Next"} month"]:not([disabled])`);
    if (month) month.click();
    event.preventDefault();
    return;
  }
  const days = [...grid.querySelectorAll(".wb-day")];
  let at = days.indexOf(day);
  const step = CALENDAR_MOVES[event.key];
  let next = null;
  if (step) {
    for (at += step; at >= 0 && at < days.length; at += step) {
      if (!days[at].disabled) { next = days[at]; break; }
    }
  } else if (event.key === "Home" || event.key === "End") {
    const week = [...day.closest("tr").querySelectorAll(".wb-day:not([disabled])")];
    next = event.key === "Home" ? week[0] : week[week.length - 1];
  } else {
    return;
  }
  event.preventDefault();
  if (!next || next === day) return;
  day.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
}

/**
 * The widget in a [data-wrkbelt-inline] element: its own session of the element's flow
 * (data-wrkbelt-flow, else the page's), pre-filled from its data-wrkbelt-* attributes,
 * started at once; it grows and shrinks with its step.
 */
async function startInline(element, { key, api, locale, styles, htmxUrl, photosUrl }) {
  const data = element.dataset;
  const widget = new Widget(key, api, data.wrkbeltLocale || locale, photosUrl);
  widget.mount(element);
  await Promise.all([widget.dialog.adoptStyles(styles), widget.loadHtmx(htmxUrl)]);
  if (!(await widget.configure(null, null, false))) return widget;
  widget.open({ flow: data.wrkbeltFlow || undefined, zip: data.wrkbeltZip, name: data.wrkbeltName, email: data.wrkbeltEmail, phone: data.wrkbeltPhone });
  return widget;
}

/** Called by the entry (static/scheduler.js) once the core module has loaded. */
export async function start({ key, base, manifest, styles, calls, triggers, stopEarly, locale, floating }) {
  const api = manifest.api || new URL(base).origin;
  const photosUrl = new URL(manifest.photos + "?v=" + manifest.buildTime, base).href;
  const widget = new Widget(key, api, locale, photosUrl);
  if (document.readyState === "loading") await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
  widget.mount();
  const htmxUrl = new URL(manifest.vendor, base).href;
  await Promise.all([widget.dialog.adoptStyles(styles), widget.loadHtmx(htmxUrl)]);
  const inline = [...document.querySelectorAll("[data-wrkbelt-inline]")].map((element) =>
    startInline(element, { key, api, locale, styles, htmxUrl, photosUrl }).catch((error) => console.error("Wrkbelt: the inline booking form could not start.", error)),
  );
  if (floating) widget.launcher = new Launcher(floating, widget.dialog.root.adoptedStyleSheets, (button) => widget.open({ trigger: button }));
  window.Wrkbelt = {
    open: (options) => widget.open(options || {}),
    close: () => widget.close(),
    destroy: () => {
      widget.destroy();
      Promise.all(inline).then((widgets) => widgets.forEach((w) => w && w.destroy()));
      delete window.Wrkbelt;
    },
  };
  for (const [name, options] of calls.splice(0)) window.Wrkbelt[name](options);
  const configured = await widget.configure(triggers, stopEarly);
  for (const [name, options] of calls.splice(0)) window.Wrkbelt[name](options); // tapped meanwhile
  if (configured) {
    window.Wrkbelt.ready = true;
    emit("ready", { version: EVENTS_VERSION });
  }
}
