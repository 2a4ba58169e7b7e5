// The host page's own script: it records what the widget tells the page, what leaks out
// of it, and any Content-Security-Policy violation.
window.__wrkbeltEvents = [];
window.__leakedEvents = [];
window.__cspViolations = [];
for (const name of ["ready", "open", "step", "lead", "booking-confirmed", "abandon", "close"]) {
  window.addEventListener("wrkbelt:" + name, (event) => window.__wrkbeltEvents.push({ name, detail: event.detail }));
}
for (const name of ["htmx:config:request", "htmx:after:swap", "htmx:before:request", "htmx:after:request", "htmx:before:process"]) {
  document.addEventListener(name, (event) => {
    const origin = event.composedPath()[0];
    if (origin && origin.getRootNode && origin.getRootNode() !== document) window.__leakedEvents.push(name);
  });
}
document.addEventListener("securitypolicyviolation", (event) => window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI));
