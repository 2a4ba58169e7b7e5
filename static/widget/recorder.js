/*
 * The widget's own events for its session: numbered, sent in batches over the session's
 * WebSocket, dropped only when acknowledged, resent after a drop (with backoff), and
 * handed to navigator.sendBeacon when the page hides.
 */

// A batch the server was too busy to take goes again after this long.
const RESEND_MS = 5000;
// The widget's own events wait here until the server acknowledges them.
const MAX_PENDING = 500;
const MAX_BATCH = 50;
const MAX_BEACON = 200;
const BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 30000];

export class EventRecorder {
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
