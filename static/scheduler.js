/*
 * Scheduler entry: the one tag a company adds to its site.
 *   <script src="https://…/scheduler.js" data-key="pk_…" async></script>
 * Tiny and never cached. It fetches the version manifest (with a cache-buster), then the
 * versioned core module and stylesheet the manifest names. Until the core has loaded,
 * Wrkbelt.open()/close() calls are queued, and so is a tap on a trigger (a
 * [data-wrkbelt-open] element, or one of the company's trigger selectors, asked for as soon
 * as the manifest names the API): the trigger shows it is busy at once, and the widget
 * opens with it when ready. Defines one global: window.Wrkbelt.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (window.Wrkbelt) return; // the tag is on the page twice: the first one serves
  var key = script && script.getAttribute("data-key");
  var locale = script && script.getAttribute("data-wrkbelt-locale");
  var floating = script && script.getAttribute("data-wrkbelt-floating");
  if (!key) {
    console.error('Wrkbelt: the scheduler.js script tag needs data-key="pk_…".');
    return;
  }
  var base = new URL(".", script.src).href;
  var calls = [];
  window.Wrkbelt = {
    open: function (options) { calls.push(["open", options]); },
    close: function () { calls.push(["close"]); },
  };
  var get = function (url, headers) { return fetch(url, { mode: "cors", credentials: "omit", headers: headers }); };
  var selectors = [];
  var early = function (event) {
    var element = event.target instanceof Element ? event.target : null;
    var trigger = element && element.closest("[data-wrkbelt-open]");
    var flow = trigger && trigger.getAttribute("data-wrkbelt-flow");
    for (var i = 0; element && !trigger && i < selectors.length; i++) {
      trigger = element.closest(selectors[i].selector);
      flow = selectors[i].flow_id;
    }
    if (!trigger) return;
    event.preventDefault();
    trigger.setAttribute("aria-busy", "true");
    trigger.style.cursor = "progress";
    var data = trigger.dataset;
    calls.push(["open", { trigger: trigger, flow: flow || undefined, zip: data.wrkbeltZip, name: data.wrkbeltName, email: data.wrkbeltEmail, phone: data.wrkbeltPhone }]);
  };
  document.addEventListener("click", early, true);
  var stopEarly = function () { document.removeEventListener("click", early, true); };
  get(base + "version-manifest.json?_=" + Date.now())
    .then(function (response) {
      if (!response.ok) throw new Error("version manifest: HTTP " + response.status);
      return response.json();
    })
    .then(function (manifest) {
      var triggers = get((manifest.api || new URL(base).origin) + "/booking-flow-routers/button-triggers", { "X-Scheduler-Key": key })
        .then(function (response) { return response.ok ? response.json() : { triggers: [] }; })
        .then(function (body) { selectors = body.triggers || []; return body; });
      var styles = get(base + manifest.css).then(function (response) { return response.text(); });
      return import(base + manifest.core + "?v=" + manifest.buildTime).then(function (core) {
        return core.start({ key: key, base: base, manifest: manifest, styles: styles, calls: calls, triggers: triggers, stopEarly: stopEarly, locale: locale, floating: floating });
      });
    })
    .catch(function (error) {
      console.error("Wrkbelt: the booking widget could not load from " + base + ".", error);
    });
})();
