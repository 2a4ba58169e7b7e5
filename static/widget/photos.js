/*
 * Photos of the problem: its own chunk (dist/{commit}/js/photos.{hash}.js), imported by the
 * widget only when a step carries [data-wrkbelt-photos] (templates/steps/_photos.html), so
 * flows without photos never load it.
 *
 * For each file the visitor takes or chooses: a preview at once, then
 *   1. POST {data-url} (content_type, size) → a presigned S3 form, or the server's reason;
 *   2. the file POSTed straight to S3 with that form (XMLHttpRequest: its upload reports
 *      progress); the scheduler never carries the bytes;
 *   3. POST check_url → the server checks the photo and keeps its copies (or says why not);
 * and DELETE remove_url takes one away. The words come from the fieldset's data-msg-*
 * attributes and the server's answers, in the visitor's language. While a photo uploads,
 * Continue waits. The step's photo styles are in scheduler.css (the step looks right before
 * this loads); what only this code shows (progress, a photo on its way) comes with it.
 */

const STYLES = `
.wb-photo--busy .wb-photo__image { opacity: 0.55; }
.wb-photo__progress { position: absolute; left: 6px; right: 6px; bottom: 6px; height: 6px; width: auto; appearance: none; border: 0; border-radius: 3px; background: rgba(255,255,255,0.8); overflow: hidden; }
.wb-photo__progress::-webkit-progress-bar { background: rgba(255,255,255,0.8); }
.wb-photo__progress::-webkit-progress-value { background: var(--wb-primary); }
.wb-photo__progress::-moz-progress-bar { background: var(--wb-primary); }
.wb-photos__status--problem { color: var(--wb-error); }
`;

const TYPES = ["image/jpeg", "image/png", "image/webp"];
const adopted = new WeakSet();

function adoptStyles(root) {
  if (adopted.has(root) || !root.adoptedStyleSheets) return;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(STYLES);
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  adopted.add(root);
}

/** The browser's POST of the file to S3, with its progress. Resolves to the HTTP status. */
function postToStorage(upload, file, onProgress) {
  return new Promise((resolve) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) body.append(name, value);
    body.append("file", file); // last: S3 ignores fields after the file
    const request = new XMLHttpRequest();
    request.open("POST", upload.url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => resolve({ status: request.status, text: request.responseText || "" }));
    request.addEventListener("error", () => resolve({ status: 0, text: "" }));
    request.addEventListener("abort", () => resolve({ status: 0, text: "" }));
    request.send(body);
  });
}

class PhotoField {
  constructor(fieldset, headers) {
    this.fieldset = fieldset;
    this.headers = headers;
    this.list = fieldset.querySelector(".wb-photos__list");
    this.adder = fieldset.querySelector(".wb-photos__add");
    this.status = fieldset.querySelector(".wb-photos__status");
    this.max = Number(fieldset.dataset.max) || 5;
    this.maxBytes = Number(fieldset.dataset.maxBytes) || 15 * 1024 * 1024;
    this.busy = 0;
    this.form = fieldset.closest("form");
    this.continueButton = this.form && this.form.querySelector(".wb-button--primary");
    fieldset.addEventListener("change", (event) => {
      const input = event.target;
      if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-photo-input")) return;
      const files = [...(input.files || [])];
      input.value = ""; // the same photo may be chosen again after a problem
      this.addAll(files);
    });
    fieldset.addEventListener("click", (event) => {
      const button = event.target instanceof Element && event.target.closest("[data-photo-remove]");
      if (button) this.remove(button.closest(".wb-photo"));
    });
    if (this.form) {
      // Continue (or Enter) while a photo uploads: wait, rather than go on without it.
      this.form.addEventListener("submit", (event) => {
        if (!this.busy) return;
        event.preventDefault();
        event.stopImmediatePropagation();
        this.say(this.message("wait"), true);
      }, true);
    }
  }

  message(name, number) {
    const text = this.fieldset.dataset["msg" + name.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())] || "";
    return number === undefined ? text : text.replace("{n}", String(number));
  }

  say(text, problem = false) {
    this.status.textContent = text;
    this.status.classList.toggle("wb-photos__status--problem", problem);
  }

  items() {
    return [...this.list.querySelectorAll(".wb-photo")];
  }

  refresh() {
    const items = this.items();
    items.forEach((item, index) => {
      const image = item.querySelector("img");
      if (image) image.alt = this.message("photo", index + 1);
      const remove = item.querySelector("[data-photo-remove]");
      if (remove) remove.setAttribute("aria-label", this.message("remove", index + 1));
    });
    this.adder.hidden = items.length >= this.max;
    if (this.continueButton) this.continueButton.toggleAttribute("aria-disabled", this.busy > 0);
  }

  addAll(files) {
    const room = this.max - this.items().length;
    if (files.length > room) this.say(this.message("too-many"), true);
    files.slice(0, Math.max(room, 0)).forEach((file) => this.add(file));
  }

  async add(file) {
    if (!TYPES.includes(file.type)) return this.say(this.message("not-photo"), true);
    if (file.size > this.maxBytes) return this.say(this.message("too-large"), true);
    const item = document.createElement("li");
    item.className = "wb-photo wb-photo--busy";
    const preview = URL.createObjectURL(file);
    item.innerHTML = '<img class="wb-photo__image" alt="" width="72" height="72"><progress class="wb-photo__progress" max="100" value="0"></progress>';
    item.querySelector("img").src = preview;
    const progress = item.querySelector("progress");
    this.list.append(item);
    this.busy += 1;
    this.refresh();
    this.say(this.message("uploading"));
    try {
      const asked = await this.call("POST", this.fieldset.dataset.url, new URLSearchParams({ content_type: file.type, size: String(file.size) }));
      const sent = await postToStorage(asked.upload, file, (share) => { progress.value = Math.round(share * 95); });
      if (sent.status < 200 || sent.status >= 300) {
        throw new Error(sent.text.includes("EntityTooLarge") ? this.message("too-large") : this.message("failed"));
      }
      this.say(this.message("checking"));
      const photo = await this.call("POST", asked.check_url);
      progress.remove();
      item.classList.remove("wb-photo--busy");
      item.dataset.id = photo.id;
      item.dataset.removeUrl = asked.remove_url;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "wb-photo__remove";
      remove.setAttribute("data-photo-remove", "");
      remove.textContent = "×";
      item.append(remove);
      this.busy -= 1;
      this.refresh();
      this.say(this.busy ? this.message("uploading") : this.message("added", this.items().indexOf(item) + 1));
    } catch (error) {
      item.remove();
      this.busy -= 1;
      this.refresh();
      this.say(error.message || this.message("failed"), true);
    } finally {
      URL.revokeObjectURL(preview);
    }
  }

  async remove(item) {
    if (!item || !item.dataset.removeUrl) return;
    item.classList.add("wb-photo--busy");
    try {
      await this.call("DELETE", item.dataset.removeUrl);
    } catch (error) {
      // Already gone on the server (404): it goes here too. Anything else: say so, keep it.
      if (!error.gone) {
        item.classList.remove("wb-photo--busy");
        return this.say(error.message || this.message("failed"), true);
      }
    }
    item.remove();
    this.refresh();
    this.say(this.message("removed"));
  }

  /** A request to the scheduler with the widget's key and session; its JSON, or an Error
   * carrying the server's message (in the visitor's language). */
  async call(method, url, body) {
    let response;
    try {
      response = await fetch(url, { method, mode: "cors", credentials: "omit", headers: this.headers(), body });
    } catch (error) {
      throw new Error(this.message("failed"));
    }
    if (response.status === 204) return {};
    let answer = {};
    try {
      answer = await response.json();
    } catch (error) {
      answer = {};
    }
    if (!response.ok) {
      const problem = new Error(answer.message || this.message("failed"));
      problem.gone = response.status === 404;
      throw problem;
    }
    return answer;
  }
}

/** Make a step's [data-wrkbelt-photos] fieldset work; `headers()` gives the widget's key and session. */
export function attach(fieldset, headers) {
  if (fieldset.wrkbeltPhotos) return;
  adoptStyles(fieldset.getRootNode());
  fieldset.wrkbeltPhotos = new PhotoField(fieldset, headers);
  fieldset.wrkbeltPhotos.refresh();
}
