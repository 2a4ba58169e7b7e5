/*
 * Our own copy of htmx 4, kept to our shadow root (see ../shared/docs/EMBEDDING-HTMX.md):
 * the host's window.htmx stays the host's; our htmx never processes the host's DOM,
 * never touches its history, and its events stop at our shadow root.
 */

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
export const HTMX_EVENTS = [
  "htmx:abort", "htmx:after:cleanup", "htmx:after:init", "htmx:after:process",
  "htmx:after:request", "htmx:after:settle", "htmx:after:swap", "htmx:before:cleanup",
  "htmx:before:init", "htmx:before:morph:attr", "htmx:before:morph:node", "htmx:before:on:init",
  "htmx:before:process", "htmx:before:request", "htmx:before:response", "htmx:before:settle",
  "htmx:before:swap", "htmx:config:request", "htmx:confirm", "htmx:error", "htmx:finally:request",
  "htmx:finally:swap", "htmx:response:error", "htmx:scope",
];

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

// One htmx for every widget on the page (the modal, each inline one), processing only
// their shadow roots.
const roots = new Set();
let loading = null;

/**
 * Our htmx, processing our shadow roots only (its start-up pass over document.body, and
 * anything else outside them, is skipped); `root` joins them, and `listen(target, type,
 * handler)` adds listeners the widget removes on destroy. Returns htmx and the unrestricted
 * process, to process the root once the widget's own listeners are in place.
 */
export async function sandboxedHtmx(url, root, listen) {
  loading = loading || importScopedHtmx(url).then((htmx) => {
    const process = htmx.process.bind(htmx);
    htmx.process = (element, force) => {
      if (roots.has(element) || (element && element.getRootNode && roots.has(element.getRootNode()))) process(element, force);
    };
    return { htmx, process };
  });
  const scoped = await loading;
  roots.add(root);
  for (const name of HTMX_EVENTS) listen(root, name, (event) => event.stopPropagation());
  return scoped;
}

/** The widget whose root this was is gone. */
export function forgetRoot(root) {
  roots.delete(root);
}
