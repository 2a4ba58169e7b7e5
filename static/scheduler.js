/*
 * Scheduler entry: the one tag a company adds to its site.
 *   <script src="https://…/scheduler.js" data-key="pk_…" async></script>
 * Tiny and never cached. It fetches the version manifest (with a cache-buster), then the
 * versioned core module and stylesheet the manifest names. Until the core has loaded,
 * Wrkbelt.open()/close() calls are queued. Defines one global: window.Wrkbelt.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (window.Wrkbelt) return; // the tag is on the page twice: the first one serves
  var key = script && script.getAttribute("data-key");
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
  var get = function (url) { return fetch(url, { mode: "cors", credentials: "omit" }); };
  get(base + "version-manifest.json?_=" + Date.now())
    .then(function (response) {
      if (!response.ok) throw new Error("version manifest: HTTP " + response.status);
      return response.json();
    })
    .then(function (manifest) {
      var styles = get(base + manifest.css).then(function (response) { return response.text(); });
      return import(base + manifest.core + "?v=" + manifest.buildTime).then(function (core) {
        return core.start({ key: key, base: base, manifest: manifest, styles: styles, calls: calls });
      });
    })
    .catch(function (error) {
      console.error("Wrkbelt: the booking widget could not load from " + base + ".", error);
    });
})();
