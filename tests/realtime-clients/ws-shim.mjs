// A global `WebSocket` for Node 20 (which has none), built on the `ws` package.
//
// - Rewrites `wss://` to `ws://`: Amplify v6 always builds a `wss://` URL, even
//   for an `http://` GraphQL endpoint, and appsync-local serves plain ws.
// - Records the `type` of every incoming frame (`frames`) and every outgoing
//   message (`sent`), in order, so the CLI can see `start_ack` / `complete`
//   even when a library does not expose them.
// - With `trace` on, prints the URL, subprotocols and raw frames to stderr.
import WebSocketImpl from 'ws';

export const frames = [];
export const sent = [];
export const sockets = [];
const frameListeners = new Set();

let trace = false;
export function setTrace(on) {
  trace = Boolean(on);
}

export function onFrame(listener) {
  frameListeners.add(listener);
  return () => frameListeners.delete(listener);
}

function log(what, value) {
  if (trace) process.stderr.write(`[ws-shim] ${what} ${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
}

function typeOf(text) {
  try {
    const msg = JSON.parse(text);
    return msg && typeof msg.type === 'string' ? msg.type : '<no type>';
  } catch {
    return '<not json>';
  }
}

function asText(data) {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return String(data);
}

export class ShimWebSocket extends WebSocketImpl {
  constructor(url, protocols, options) {
    const requested = String(url);
    const actual = requested.replace(/^wss:\/\//i, 'ws://');
    super(actual, protocols, options);
    this.requestedUrl = requested;
    sockets.push(this);
    log('connect', { requested, actual, protocols: protocols ?? null });
    // Registered before the library sets onmessage, so it runs first.
    this.addEventListener('message', (event) => {
      const text = asText(event.data);
      const type = typeOf(text);
      frames.push(type);
      log('recv', text);
      for (const listener of frameListeners) listener(type, text);
    });
    this.addEventListener('open', () => log('open', { protocol: this.protocol }));
    this.addEventListener('close', (event) => {
      log('close', { code: event.code, reason: event.reason });
      for (const listener of frameListeners) listener('<close>', '');
    });
    this.addEventListener('error', (event) => log('error', String(event.message ?? event.error ?? 'error')));
  }

  send(data, ...rest) {
    const text = asText(data);
    sent.push(typeOf(text));
    log('send', text);
    return super.send(data, ...rest);
  }
}

export function allSocketsClosed() {
  return sockets.every((s) => s.readyState === WebSocketImpl.CLOSED);
}

export function install() {
  globalThis.WebSocket = ShimWebSocket;
}
