#!/usr/bin/env node
// One CLI that drives a real AppSync real-time client library against a server.
//
//   node subscribe.mjs --client amplify6|link3|link4 --url http://127.0.0.1:PORT/graphql \
//     --api-key KEY --query 'subscription { ... }' [--variables '{"a":1}'] [--count N] [--trace]
//
// Stdout is JSON lines only:
//   {"event":"ready"}                        the server sent start_ack
//   {"event":"data","data":<next() payload>} once per message, N times
//   {"event":"done","frames":[...],"sent":[...]}  after unsubscribe → stop → complete/close; exit 0
//   {"event":"error","message":"...","frames":[...],"sent":[...]}  exit 1
// --trace prints the WebSocket URL, subprotocols and raw frames to stderr.
import { format, parseArgs } from 'node:util';
import * as shim from './ws-shim.mjs';

const CLIENTS = ['amplify6', 'link3', 'link4'];
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 20;

// Keep stdout for the JSON-lines protocol: library logging goes to stderr.
for (const name of ['log', 'info', 'debug', 'warn']) {
  console[name] = (...args) => process.stderr.write(format(...args) + '\n');
}

let finished = false;
function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
function finish(code, obj) {
  if (finished) return;
  finished = true;
  process.stdout.write(JSON.stringify(obj) + '\n', () => process.exit(code));
}
function fail(message) {
  finish(1, { event: 'error', message, frames: shim.frames, sent: shim.sent });
}
function describe(err) {
  if (err == null) return 'unknown error';
  if (Array.isArray(err.errors) && err.errors.length > 0) {
    return err.errors.map((e) => (e && e.message) || JSON.stringify(e)).join('; ');
  }
  // Apollo 4 wraps a non-Error (e.g. the link's {errors:[...]}) in an error whose
  // `cause` holds the original.
  if (err.cause !== undefined) return `${err.message} (${describe(err.cause)})`;
  if (err instanceof Error || typeof err.message === 'string') return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

process.on('uncaughtException', (err) => fail(`uncaught exception: ${describe(err)}`));
process.on('unhandledRejection', (err) => fail(`unhandled rejection: ${describe(err)}`));

function parseCli() {
  const { values } = parseArgs({
    options: {
      client: { type: 'string' },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      query: { type: 'string' },
      variables: { type: 'string' },
      count: { type: 'string', default: '1' },
      trace: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!CLIENTS.includes(values.client)) throw new Error(`--client must be one of ${CLIENTS.join(', ')}`);
  for (const required of ['url', 'api-key', 'query']) {
    if (!values[required]) throw new Error(`--${required} is required`);
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 0) throw new Error('--count must be a non-negative integer');
  let variables;
  if (values.variables !== undefined) {
    try {
      variables = JSON.parse(values.variables);
    } catch (err) {
      throw new Error(`--variables is not JSON: ${err.message}`);
    }
  }
  return { ...values, apiKey: values['api-key'], count, variables };
}

async function main() {
  const args = parseCli();
  shim.setTrace(args.trace);
  shim.install(); // before any client library is loaded
  const { subscribe } = await import(`./${args.client}/client.mjs`);

  let ready = false;
  let received = 0;
  let unsubscribe = null;
  let enough = false; // N messages printed: ignore the rest
  let stopping = false;

  const readyTimer = setTimeout(
    () => fail(`no start_ack within ${READY_TIMEOUT_MS / 1000} s`),
    READY_TIMEOUT_MS,
  );

  function stopAndFinish() {
    if (stopping) return;
    stopping = true;
    const sentFrom = shim.sent.length;
    const framesFrom = shim.frames.length;
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    try {
      unsubscribe();
    } catch (err) {
      fail(`unsubscribe threw: ${describe(err)}`);
      return;
    }
    const poll = () => {
      const stopSent = shim.sent.slice(sentFrom).includes('stop');
      const ended = shim.frames.slice(framesFrom).includes('complete') || shim.allSocketsClosed();
      if (stopSent && ended) {
        finish(0, { event: 'done', frames: shim.frames, sent: shim.sent });
      } else if (Date.now() > deadline) {
        fail(
          `after unsubscribe: stop sent=${stopSent}, complete or close seen=${ended} ` +
            `within ${STOP_TIMEOUT_MS / 1000} s`,
        );
      } else {
        setTimeout(poll, POLL_MS);
      }
    };
    poll();
  }

  shim.onFrame((type) => {
    if (type !== 'start_ack' || ready || finished) return;
    ready = true;
    clearTimeout(readyTimer);
    emit({ event: 'ready' });
    if (args.count === 0) {
      enough = true;
      // Let the library finish handling start_ack before unsubscribing.
      setImmediate(stopAndFinish);
    }
  });

  unsubscribe = subscribe({
    url: args.url,
    apiKey: args.apiKey,
    query: args.query,
    variables: args.variables,
    next: (payload) => {
      if (finished || enough) return;
      received += 1;
      emit({ event: 'data', data: payload });
      if (received >= args.count) {
        enough = true;
        setImmediate(stopAndFinish);
      }
    },
    error: (err) => {
      if (!stopping) fail(describe(err));
    },
  });
}

main().catch((err) => fail(describe(err)));
