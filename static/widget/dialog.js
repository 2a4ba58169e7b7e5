/*
 * The modal: a custom element on the host page, its shadow root, the dialog inside it
 * (templates/widget/dialog.html), the stylesheet and theme adopted by the root, focus
 * kept inside while it is open, and the offline panel (templates/widget/offline.html).
 * Nothing is added to the host's <head>.
 */

/* global WIDGET_DIALOG_HTML, WIDGET_INLINE_HTML, WIDGET_LAUNCHER_HTML, WIDGET_OFFLINE_HTML -- the templates, put in by cdn/build.py */

const CONTAINER_ID = "wrkbelt-scheduler-container";
const HOST_TAG = "wrkbelt-scheduler";
const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export class Dialog {
  /** The modal; or, given `container` (a [data-wrkbelt-inline] element), the widget in the page. */
  constructor(container) {
    this.inline = Boolean(container);
    let host = this.inline ? null : document.getElementById(CONTAINER_ID);
    if (!host) {
      // A custom element: the host page's rules for div and friends do not match it.
      host = document.createElement(HOST_TAG);
      if (this.inline) {
        container.replaceChildren(host); // the company's "loading" text, if any, gives way
      } else {
        host.id = CONTAINER_ID;
        document.body.appendChild(host);
      }
    }
    this.host = host;
    this.root = host.shadowRoot || host.attachShadow({ mode: "open" });
    this.root.innerHTML = this.inline ? WIDGET_INLINE_HTML : WIDGET_DIALOG_HTML;
    this.element = this.root.querySelector(this.inline ? ".wb-inline" : "dialog");
    this.body = this.root.getElementById("wb-step");
    this.themeSheet = new CSSStyleSheet();
    this.savedOverflow = null;
    // In the page, the first step must not pull focus (or the page's scroll) to itself:
    // focus follows the visitor once they act in the widget.
    this.engaged = !this.inline;
    if (this.inline) {
      const engage = () => { this.engaged = true; };
      this.root.addEventListener("pointerdown", engage, { once: true });
      this.root.addEventListener("keydown", engage, { once: true });
    }
  }

  get isOpen() {
    return this.inline || this.element.open;
  }

  async adoptStyles(styles) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(await styles);
    this.sheet = sheet;
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
    if (this.inline || this.element.open) return false;
    this.savedOverflow = document.documentElement.style.overflow;
    document.documentElement.style.overflow = "hidden";
    this.element.showModal();
    return true;
  }

  close() {
    if (!this.inline && this.element.open) this.element.close();
  }

  /** After the dialog closed: the host page scrolls again. */
  restorePage() {
    document.documentElement.style.overflow = this.savedOverflow || "";
  }

  focusHeading() {
    if (!this.engaged) return;
    const heading = this.body.querySelector("[data-step-heading]");
    if (!heading) return;
    heading.focus({ preventScroll: true });
    // In the page, a step taller than the last may start above the screen: bring its top in.
    if (this.inline && heading.getBoundingClientRect().top < 0) heading.scrollIntoView({ block: "start" });
  }

  /**
   * The title bar: the company's logo, name and a Call us link, in the visitor's language
   * (`texts` from the server's resolve answer). Text goes in as text, never as HTML.
   */
  applyFrame(company, texts) {
    this.texts = texts || {};
    const bar = this.element.querySelector(".wb-dialog__bar");
    const name = bar.querySelector(".wb-company__name");
    const subtitle = bar.querySelector(".wb-dialog__title");
    if (company && company.name) {
      name.textContent = company.name;
      name.hidden = false;
    }
    if (this.texts.title) subtitle.textContent = this.texts.title; // the dialog's name: what it is for
    const logo = bar.querySelector(".wb-company__logo");
    if (company && /^https:\/\//.test(company.logo_url || "")) {
      logo.addEventListener("error", () => { logo.hidden = true; }, { once: true });
      logo.src = company.logo_url;
      logo.hidden = false;
    }
    const call = bar.querySelector(".wb-company__call");
    if (company && /^tel:\+?\d+$/.test(company.phone_href || "")) {
      call.href = company.phone_href;
      call.textContent = this.texts.call || company.phone;
      call.setAttribute("aria-label", `${this.texts.call || ""} ${company.phone}`.trim());
      call.hidden = false;
    }
    const close = bar.querySelector(".wb-close"); // the modal's (in the page there is none)
    if (close && this.texts.close) close.setAttribute("aria-label", this.texts.close);
  }

  showOffline(message) {
    this.body.innerHTML = WIDGET_OFFLINE_HTML;
    const texts = this.texts || {};
    if (texts.offline_title) this.body.querySelector("[data-step-heading]").textContent = texts.offline_title;
    if (texts.try_again) this.body.querySelector("[data-wrkbelt-restart]").textContent = texts.try_again;
    this.body.querySelector(".wb-notice").textContent = texts.offline_message || message;
    this.focusHeading();
  }

  /** Tab and Shift+Tab go round the dialog's controls, never out to the host page. */
  trapTab(event) {
    if (this.inline || event.key !== "Tab") return; // in the page, Tab goes on to the page
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

/**
 * The floating button: fixed in the page's corner, in a shadow root of its own (with the
 * widget's stylesheet), saying `label` as text. `onPress(button)` opens the modal.
 */
export class Launcher {
  constructor(label, styles, onPress) {
    this.host = document.createElement("wrkbelt-launcher");
    const root = this.host.attachShadow({ mode: "open" });
    root.innerHTML = WIDGET_LAUNCHER_HTML;
    root.adoptedStyleSheets = styles;
    this.button = root.querySelector(".wb-launcher");
    this.button.textContent = label;
    this.button.addEventListener("click", () => onPress(this.button));
    document.body.appendChild(this.host);
  }

  remove() {
    this.host.remove();
  }
}
