/*
 * Scheduler core: the booking modal in a shadow root on the host page, driven by the
 * server's HTML fragments through our own, scoped copy of htmx 4. The CDN build bundles
 * it with esbuild from the modules in static/widget/:
 *   widget.js    the widget: session, steps, triggers, wrkbelt:* events, open and close
 *   dialog.js    the modal, its frame (templates/widget/dialog.html), theme and focus
 *   sandbox.js   our htmx, kept to our shadow root
 *   recorder.js  the widget's events, over the session's WebSocket and by beacon
 */
export { start } from "./widget/widget.js";
