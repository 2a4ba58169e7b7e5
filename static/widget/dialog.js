/*
 * The modal: a custom element on the host page, its shadow root, the dialog inside it
 * (templates/widget/dialog.html), the stylesheet and theme adopted by the root, focus
 * kept inside while it is open, and the offline panel (templates/widget/offline.html).
 * Nothing is added to the host's <head>.
 */

/* global WIDGET_DIALOG_HTML, WIDGET_OFFLINE_HTML -- the templates, put in by cdn/build.py */

const CONTAINER_ID = "wrkbelt-scheduler-container";
const HOST_TAG = "wrkbelt-scheduler";
const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export class Dialog {
  constructor() {
    let host = document.getElementById(CONTAINER_ID);
    if (!host) {
      // A custom element: the host page's rules for div and friends do not match it.
      host = document.createElement(HOST_TAG);
      host.id = CONTAINER_ID;
      document.body.appendChild(host);
    }
    this.host = host;
    this.root = host.shadowRoot || host.attachShadow({ mode: "open" });
    this.root.innerHTML = WIDGET_DIALOG_HTML;
    this.element = this.root.querySelector("dialog");
    this.body = this.root.getElementById("wb-step");
    this.themeSheet = new CSSStyleSheet();
    this.savedOverflow = null;
  }

  get isOpen() {
    return this.element.open;
  }

  async adoptStyles(styles) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(await styles);
    this.root.adoptedStyleSheets = [sheet, this.themeSheet];
  }

  /** The flow's theme: CSS custom properties on the shadow host (never inline styles). */
  applyTheme(variables) {
    const safe = Object.entries(variables || {}).filter(
      ([name, value]) => /^--wb-[a-z-]+$/.test(name) && typeof value === "string" && !/[;{}<>]/.test(value),
    );
    this.themeSheet.replaceSync(":host { " + safe.map(([name, value]) => `${name}: ${value};`).join(" ") + " }");
  }

  /** Open as a modal; the host page stops scrolling behind it. False when it was open. */
  show() {
    if (this.element.open) return false;
    this.savedOverflow = document.documentElement.style.overflow;
    document.documentElement.style.overflow = "hidden";
    this.element.showModal();
    return true;
  }

  close() {
    if (this.element.open) this.element.close();
  }

  /** After the dialog closed: the host page scrolls again. */
  restorePage() {
    document.documentElement.style.overflow = this.savedOverflow || "";
  }

  focusHeading() {
    const heading = this.body.querySelector("[data-step-heading]");
    if (heading) heading.focus({ preventScroll: true });
  }

  showOffline(message) {
    this.body.innerHTML = WIDGET_OFFLINE_HTML;
    this.body.querySelector(".wb-notice").textContent = message;
    this.focusHeading();
  }

  /** Tab and Shift+Tab go round the dialog's controls, never out to the host page. */
  trapTab(event) {
    if (event.key !== "Tab") return;
    const focusable = [...this.element.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = this.root.activeElement;
    if (event.shiftKey && (active === first || !this.element.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  remove() {
    this.close();
    this.host.remove();
  }
}
