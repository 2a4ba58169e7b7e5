/*
 * Scheduler core: the booking modal in a shadow root on the host page, driven by the
 * server's HTML fragments through our own, scoped copy of htmx 4.
 *
 * Rules kept here (see ../shared/docs/EMBEDDING-HTMX.md):
 * - the host's window.htmx stays the host's; our htmx never processes the host's DOM,
 *   never touches its history, and its events stop at our shadow root;
 * - nothing is added to the host's <head>; styles are adopted by the shadow root;
 * - no cookies, no storage: the session token lives in this module's memory and travels
 *   in a request header;
 * - every listener we add is removed by Wrkbelt.destroy().
 */

const KEY_HEADER = "X-Scheduler-Key";
const SESSION_HEADER = "X-Scheduler-Session";
const SESSION_ID_HEADER = "X-Scheduler-Session-Id";
const CONTAINER_ID = "wrkbelt-scheduler-container";
const HOST_TAG = "wrkbelt-scheduler";
const PREFILL_FIELDS = ["zip", "name", "email", "phone"];

// Our instance's whole configuration: whatever a host's <meta name="htmx-config"> merged
// into it at construction is replaced by this.
const HTMX_CONFIG = {
  logAll: false,
  prefix: "data-hx-",
  transitions: false,
  history: false,
  mode: "cors",
  defaultSwap: "innerHTML",
  defaultFocusScroll: false,
  indicatorClass: "htmx-indicator",
  requestClass: "htmx-request",
  includeIndicatorCSS: false,
  defaultTimeout: 20000,
  extensions: "",
  morphIgnore: ["data-htmx-powered"],
  morphSkip: "[hx-morph-skip]",
  morphSkipChildren: "[hx-morph-skip-children]",
  morphScanLimit: 10,
  noSwap: [204, 304],
  implicitInheritance: false,
  defaultSettleDelay: 1,
  allowEmptySwapAfterOOB: false,
};

// Every event htmx 4.0.1 dispatches (grep "htmx:" in static/vendor/htmx.js). They are
// composed; we stop them at our shadow root so the host's listeners never see them.
const HTMX_EVENTS = [
  "htmx:abort", "htmx:after:cleanup", "htmx:after:init", "htmx:after:process",
  "htmx:after:request", "htmx:after:settle", "htmx:after:swap", "htmx:before:cleanup",
  "htmx:before:init", "htmx:before:morph:attr", "htmx:before:morph:node", "htmx:before:on:init",
  "htmx:before:process", "htmx:before:request", "htmx:before:response", "htmx:before:settle",
  "htmx:before:swap", "htmx:config:request", "htmx:confirm", "htmx:error", "htmx:finally:request",
  "htmx:finally:swap", "htmx:response:error", "htmx:scope",
];

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

// A batch the server was too busy to take goes again after this long.
const RESEND_MS = 5000;
// The widget's own events wait here until the server acknowledges them.
const MAX_PENDING = 500;
const MAX_BATCH = 50;
const MAX_BEACON = 200;
const BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 30000];

/**
 * Records the widget's events for the session: numbered, sent in batches over the
 * session's WebSocket, dropped only when acknowledged, resent after a drop (with
 * backoff), and handed to navigator.sendBeacon when the page hides.
 */
class EventRecorder {
  constructor(api, key) {
    this.api = api;
    this.key = key;
    this.session = null;
    this.token = null;
    this.seq = 0;
    this.pending = [];
    this.sent = new Set();
    this.socket = null;
    this.ready = false;
    this.attempt = 0;
    this.timer = null;
  }

  begin(sessionId, token) {
    if (this.session === sessionId) return;
    this.end();
    this.session = sessionId;
    this.token = token;
    this.seq = 0;
    this.pending = [];
    this.connect();
  }

  end() {
    this.session = null;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
    this.socket = null;
    this.ready = false;
  }

  record(type, data = {}, step = null) {
    if (!this.session) return;
    this.pending.push({ seq: ++this.seq, type, at: new Date().toISOString(), step, data });
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
    this.flush();
  }

  connect() {
    const url = `${this.api.replace(/^http/, "ws")}/ws/sessions/${encodeURIComponent(this.session)}?key=${encodeURIComponent(this.key)}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.ready = false;
    socket.onopen = () => socket.send(JSON.stringify({ type: "hello", token: this.token }));
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "ready") {
        this.ready = true;
        this.attempt = 0;
        this.sent = new Set(); // a new connection: everything unacknowledged goes again
        this.flush();
      } else if (data.type === "ack") {
        const acked = new Set(data.seqs);
        this.pending = this.pending.filter((event) => !acked.has(event.seq));
        for (const seq of acked) this.sent.delete(seq);
        this.flush();
      } else if (data.type === "error" && data.retry) {
        // The server is busy and did not take the batch: send what is unacknowledged again shortly.
        clearTimeout(this.resend);
        this.resend = setTimeout(() => { this.sent = new Set(); this.flush(); }, RESEND_MS);
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.ready = false;
      if (!this.session) return;
      const base = BACKOFF_MS[Math.min(this.attempt++, BACKOFF_MS.length - 1)];
      this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
    };
  }

  flush() {
    if (!this.ready) return;
    const batch = this.pending.filter((event) => !this.sent.has(event.seq)).slice(0, MAX_BATCH);
    if (!batch.length) return;
    for (const event of batch) this.sent.add(event.seq);
    this.socket.send(JSON.stringify({ type: "events", events: batch }));
  }

  /** The page is going away: what is not acknowledged goes by beacon (duplicates are ignored). */
  beacon() {
    if (!this.session || !this.pending.length || !navigator.sendBeacon) return;
    const body = JSON.stringify({ key: this.key, token: this.token, events: this.pending.slice(-MAX_BEACON) });
    navigator.sendBeacon(`${this.api}/sessions/${encodeURIComponent(this.session)}/events`, new Blob([body], { type: "text/plain" }));
  }
}

function emit(name, detail) {
  window.dispatchEvent(new CustomEvent("wrkbelt:" + name, { detail }));
}

/** Import htmx's ES module build without letting it keep hold of the host's globals. */
async function importScopedHtmx(url) {
  const hadHtmx = Object.prototype.hasOwnProperty.call(window, "htmx");
  const hostHtmx = window.htmx;
  let htmx;
  try {
    htmx = (await import(url)).default;
  } finally {
    if (hadHtmx) window.htmx = hostHtmx;
    else delete window.htmx;
  }
  for (const name of Object.keys(htmx.config)) if (!(name in HTMX_CONFIG)) delete htmx.config[name];
  Object.assign(htmx.config, HTMX_CONFIG);
  if (htmx.indicatorStyleSheet) {
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((sheet) => sheet !== htmx.indicatorStyleSheet);
  }
  return htmx;
}

class Widget {
  constructor(key, api) {
    this.key = key;
    this.api = api;
    this.token = null;
    this.sessionFlow = null;
    this.lastTrigger = null;
    this.savedOverflow = null;
    this.triggers = [];
    this.removers = [];
    this.recorder = new EventRecorder(api, key);
    this.currentStep = null;
    this.stepSince = 0;
  }

  listen(target, type, handler, options) {
    target.addEventListener(type, handler, options);
    this.removers.push(() => target.removeEventListener(type, handler, options));
  }

  mount() {
    let host = document.getElementById(CONTAINER_ID);
    if (!host) {
      // A custom element: the host page's rules for div and friends do not match it.
      host = document.createElement(HOST_TAG);
      host.id = CONTAINER_ID;
      document.body.appendChild(host);
    }
    this.host = host;
    this.root = host.shadowRoot || host.attachShadow({ mode: "open" });
    this.root.innerHTML =
      '<dialog class="wb-dialog" aria-labelledby="wb-dialog-title">' +
      '<div class="wb-dialog__bar"><p class="wb-dialog__title" id="wb-dialog-title">Book a visit</p>' +
      '<button type="button" class="wb-close" aria-label="Close">×</button></div>' +
      '<div id="wb-step" class="wb-dialog__body"></div></dialog>';
    this.dialog = this.root.querySelector("dialog");
    this.stepArea = this.root.getElementById("wb-step");
    this.themeSheet = new CSSStyleSheet();
  }

  async adoptStyles(styles) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(await styles);
    this.root.adoptedStyleSheets = [sheet, this.themeSheet];
  }

  applyTheme(variables) {
    const safe = Object.entries(variables || {}).filter(
      ([name, value]) => /^--wb-[a-z-]+$/.test(name) && typeof value === "string" && !/[;{}<>]/.test(value),
    );
    this.themeSheet.replaceSync(":host { " + safe.map(([name, value]) => `${name}: ${value};`).join(" ") + " }");
  }

  async loadHtmx(url) {
    const htmx = await importScopedHtmx(url);
    const root = this.root;
    // Our htmx processes our shadow root only: its start-up pass over document.body,
    // and anything else outside the root, is skipped.
    const process = htmx.process.bind(htmx);
    htmx.process = (element, force) => {
      if (element === root || (element && element.getRootNode && element.getRootNode() === root)) process(element, force);
    };
    this.htmx = htmx;
    for (const name of HTMX_EVENTS) this.listen(root, name, (event) => event.stopPropagation());
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
        if (this.dialog.open) this.recorder.record("modal_opened", { flow: this.sessionFlow });
      }
    });
    this.listen(root, "htmx:after:swap", () => this.stepShown());
    this.listen(root, "htmx:error", () =>
      this.showProblem("We couldn't reach the booking service. Check your connection and try again."),
    );
    this.listen(root, "click", (event) => {
      const target = event.composedPath()[0];
      if (!(target instanceof Element)) return;
      if (target.closest(".wb-close")) this.close();
      else if (target.closest("[data-wrkbelt-restart]")) this.startSession(this.sessionFlow, {});
    });
    this.listen(this.dialog, "keydown", (event) => this.trapTab(event));
    this.listen(document, "visibilitychange", () => {
      if (document.visibilityState !== "hidden") return;
      this.recorder.record("page_hidden", {}, this.currentStep);
      this.recorder.beacon();
    });
    this.listen(this.dialog, "close", () => this.closed());
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

  /** Resolve the flow for this page, apply its theme, and listen for the triggers. */
  async configure() {
    try {
      const [flow, triggers] = await Promise.all([
        this.request("POST", "/booking-flow-routers/resolve", { url: location.href }),
        this.request("GET", "/booking-flow-routers/button-triggers"),
      ]);
      this.applyTheme(flow.theme);
      this.triggers = triggers.triggers;
    } catch (error) {
      console.error(
        `Wrkbelt: the scheduler at ${this.api} refused this page (${location.origin}) or could not be reached. ` +
          "Check the publishable key and that this origin is among the organization's allowed origins.",
        error,
      );
      return false;
    }
    this.listen(document, "click", (event) => this.triggerClicked(event), true);
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

  focusHeading() {
    const heading = this.stepArea.querySelector("[data-step-heading]");
    if (heading) heading.focus({ preventScroll: true });
  }

  stepShown() {
    const step = this.stepArea.querySelector(".wb-step");
    if (!step) return;
    const now = performance.now();
    if (this.currentStep && this.currentStep !== step.dataset.step) {
      this.recorder.record("step_time", { ms: Math.round(now - this.stepSince) }, this.currentStep);
    }
    if (this.currentStep !== step.dataset.step) this.stepSince = now;
    this.currentStep = step.dataset.step;
    if (step.dataset.theme) this.applyTheme(JSON.parse(step.dataset.theme));
    this.dialog.scrollTop = 0; // a long step re-rendered with messages starts at its heading
    this.focusHeading();
    emit("step", { step: step.dataset.step });
    if (step.dataset.step === "Confirmation") {
      emit("booking-confirmed", {
        reference: step.dataset.reference,
        status: step.dataset.status, // "confirmed", or "pending" until the company's system answers
        service: step.dataset.service,
        window: { date: step.dataset.date, label: step.dataset.window },
      });
    }
  }

  showProblem(message) {
    this.recorder.record("client_error", { message }, this.currentStep);
    this.stepArea.innerHTML =
      '<section class="wb-step wb-step--problem" data-step="Problem"><h2 class="wb-step__title" tabindex="-1" data-step-heading>Something went wrong</h2>' +
      '<p class="wb-notice" role="alert"></p><p><button type="button" class="wb-button wb-button--primary" data-wrkbelt-restart>Try again</button></p></section>';
    this.stepArea.querySelector(".wb-notice").textContent = message;
    this.focusHeading();
  }

  trapTab(event) {
    if (event.key !== "Tab") return;
    const focusable = [...this.dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = this.root.activeElement;
    if (event.shiftKey && (active === first || !this.dialog.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  startSession(flow, prefill) {
    this.token = null;
    this.sessionFlow = flow || null;
    const values = { page_url: location.href, referrer: document.referrer };
    if (flow) values.flow = flow;
    for (const field of PREFILL_FIELDS) if (prefill[field]) values[field] = String(prefill[field]);
    return this.htmx.ajax("POST", this.api + "/sessions", { source: this.stepArea, target: this.stepArea, values });
  }

  open(options = {}) {
    this.lastTrigger = options.trigger || document.activeElement;
    if (!this.dialog.open) {
      this.savedOverflow = document.documentElement.style.overflow;
      document.documentElement.style.overflow = "hidden";
      this.dialog.showModal();
      emit("open", { flow: options.flow || null });
      this.recorder.record("modal_opened", { flow: options.flow || null }, this.currentStep);
    }
    this.focusHeading();
    const flow = options.flow || null;
    if (!this.token || flow !== this.sessionFlow || options.restart) return this.startSession(flow, options);
    return this.htmx.ajax("GET", this.api + "/session/step", { source: this.stepArea, target: this.stepArea });
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  closed() {
    this.recorder.record("modal_closed", { ms: Math.round(performance.now() - this.stepSince) }, this.currentStep);
    document.documentElement.style.overflow = this.savedOverflow || "";
    emit("close", {});
    if (this.lastTrigger && this.lastTrigger.focus) this.lastTrigger.focus({ preventScroll: true });
  }

  destroy() {
    this.close();
    this.recorder.end();
    this.removers.splice(0).forEach((remove) => remove());
    this.host.remove();
  }
}

/** Called by the entry (static/scheduler.js) once this module has loaded. */
export async function start({ key, base, manifest, styles, calls }) {
  const widget = new Widget(key, manifest.api || new URL(base).origin);
  const ready = () => {
    widget.mount();
    return Promise.all([widget.adoptStyles(styles), widget.loadHtmx(new URL(manifest.vendor, base).href)]);
  };
  if (document.readyState === "loading") await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
  await ready();
  window.Wrkbelt = {
    open: (options) => widget.open(options || {}),
    close: () => widget.close(),
    destroy: () => {
      widget.destroy();
      delete window.Wrkbelt;
    },
  };
  for (const [name, options] of calls.splice(0)) window.Wrkbelt[name](options);
  if (await widget.configure()) {
    window.Wrkbelt.ready = true;
    emit("ready", {});
  }
}
