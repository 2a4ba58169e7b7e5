/*
 * For tag managers that can inject a script by URL only (Google Tag Manager's
 * injectScript): `loader.js?key=pk_…` adds the scheduler.js tag with that key.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var key = script && new URL(script.src).searchParams.get("key");
  if (!key) {
    console.error("Wrkbelt: load loader.js with ?key=pk_… in its URL.");
    return;
  }
  var tag = document.createElement("script");
  tag.src = new URL("scheduler.js", script.src).href;
  tag.async = true;
  tag.setAttribute("data-key", key);
  (document.body || document.documentElement).appendChild(tag);
})();
