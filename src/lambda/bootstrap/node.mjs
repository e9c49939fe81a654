// Lambda runtime bootstrap for Node.js functions (Node 18+, no dependencies).
//
// appsync-local embeds this file and runs one copy per worker process for
// `nodejs*` functions. It talks to the Lambda Runtime API that appsync-local
// serves on AWS_LAMBDA_RUNTIME_API, loads the handler named by _HANDLER from
// LAMBDA_TASK_ROOT, and behaves like the AWS-managed Node.js runtime wherever
// user code can notice: handler resolution, context, callbacks, error shapes.
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

import net from "node:net";
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { types } from "node:util";

const env = process.env;
const api = env.AWS_LAMBDA_RUNTIME_API ?? "127.0.0.1:9001";
const HOST = api.slice(0, api.lastIndexOf(":"));
const PORT = Number(api.slice(api.lastIndexOf(":") + 1));
// Set by a spare worker's assignment (see the end of this file).
let TASK_ROOT = env.LAMBDA_TASK_ROOT ?? process.cwd();
let HANDLER = env._HANDLER ?? "";
const PREFIX = "/2018-06-01/runtime";

// --- Runtime API client -----------------------------------------------------
//
// A minimal HTTP/1.1 client over one kept-alive socket: node:http costs more
// CPU per request than a small handler does, which capped a worker's
// throughput (AWS's runtime uses a native client for the same reason).
// Invocations are sequential and the server answers requests in the order
// they were sent, so after an invocation its outcome and the next `next` go
// out in one write, and the answers are matched to a queue of requests.

const NEXT = { data: `GET ${PREFIX}/invocation/next HTTP/1.1\r\nHost: ${api}\r\n\r\n`, done: onNext };
const POST_HEAD = ` HTTP/1.1\r\nHost: ${api}\r\nContent-Type: application/json\r\nContent-Length: `;

let socket = null; // connected when a request needs it
let queue = []; // requests written and not yet answered, oldest first: { data, done }
let reused = false; // whether `socket` has answered anything
let chunks = []; // bytes read and not yet parsed (the body of a response in progress)
let buffered = 0; // their total length
let want = 0; // parse once this much is buffered: a long body is copied once
let res = null; // the response whose head has been parsed (see parseHead)
let dying = false;

function die(message) {
  if (!dying) console.error(`runtime API: ${message}`);
  process.exit(1);
}

// Sends one request, or two pipelined in a single write.
function send(first, second) {
  if (socket === null) connect();
  else if (queue.length === 0) socket.ref();
  queue.push(first);
  if (second === undefined) socket.write(first.data);
  else {
    queue.push(second);
    socket.write(first.data + second.data);
  }
}

function connect() {
  const s = net.connect(PORT, HOST);
  let failure;
  s.setNoDelay(true);
  s.on("data", (chunk) => receive(s, chunk));
  s.on("error", (err) => { failure = err; }); // "close" follows
  s.on("close", () => lost(s, failure));
  socket = s;
  reused = false;
  chunks = [];
  buffered = want = 0;
  res = null;
}

// The connection ended, or the server said it would end it. It may close an
// idle kept-alive connection, or one with requests pipelined on it: those
// without a byte of answer were not handled, and go again on a new connection.
// A new connection that ends without an answer means the Runtime API is gone.
function lost(s, err) {
  if (s !== socket) return;
  if (res !== null && res.length === Infinity && err === undefined) {
    res.close = true; // a clean end of the connection is the end of this body
    const body = Buffer.concat(chunks, buffered);
    chunks = [];
    buffered = 0;
    return complete(s, body); // which comes back here
  }
  socket = null;
  s.destroy();
  if (queue.length === 0) return;
  if (!reused || res !== null || buffered > 0) die(err?.message ?? "connection closed by the server");
  const [first, second] = queue;
  queue = [];
  send(first, second);
}

function receive(s, chunk) {
  chunks.push(chunk);
  buffered += chunk.length;
  if (buffered < want) return;
  const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, buffered);
  chunks = [];
  buffered = want = 0;
  let pos = 0;
  for (;;) {
    if (res === null) {
      const end = buf.indexOf("\r\n\r\n", pos, "latin1");
      if (end < 0) break;
      res = parseHead(buf.toString("latin1", pos, end));
      pos = end + 4;
    }
    let body;
    if (res.chunked) {
      const eol = buf.indexOf("\r\n", pos, "latin1");
      if (eol < 0) break;
      const size = parseInt(buf.toString("latin1", pos, eol), 16); // ignores any ";extension"
      if (!(size >= 0)) die("malformed chunked response");
      if (size > 0) {
        if (buf.length < eol + size + 4) { want = eol + size + 4 - pos; break; }
        res.parts.push(buf.subarray(eol + 2, eol + 2 + size));
        pos = eol + size + 4;
        continue;
      }
      const end = buf.indexOf("\r\n\r\n", eol, "latin1"); // after the trailers, if any
      if (end < 0) break;
      pos = end + 4;
      body = res.parts.length === 1 ? res.parts[0] : Buffer.concat(res.parts);
    } else {
      if (buf.length - pos < res.length) { want = res.length; break; } // Infinity: see lost
      body = buf.subarray(pos, (pos += res.length));
    }
    complete(s, body);
    if (socket !== s) return; // the rest belonged to a connection now closed
  }
  if (pos < buf.length) {
    chunks.push(buf.subarray(pos));
    buffered = buf.length - pos;
  }
  if (queue.length === 0) s.unref(); // idle: see beforeExit below
}

function complete(s, body) {
  const head = res;
  res = null;
  if (head.status < 200) return; // interim (100 Continue): the answer follows
  const request = queue.shift();
  reused = true;
  if (request === undefined) die(`unexpected response ${head.status}`);
  if (head.close) lost(s); // re-sends what was pipelined behind the request
  request.done(head, body);
}

// Keeps the few headers the runtime reads, in a fixed-shape object: a
// dictionary of all of them would cost more than the rest of this client.
function parseHead(text) {
  const lines = text.split("\r\n");
  const status = lines[0].startsWith("HTTP/1.") ? Number(lines[0].slice(9, 12)) : NaN;
  if (!(status >= 100)) die(`malformed response: ${lines[0]}`);
  const head = {
    status, length: Infinity, chunked: false, close: false, parts: null,
    requestId: undefined, deadline: undefined, functionArn: undefined,
    traceId: undefined, clientContext: undefined, identity: undefined,
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    switch (line.slice(0, colon).toLowerCase()) {
      case "content-length": head.length = Number(headerValue(line, colon)); break;
      case "transfer-encoding": head.chunked = /chunked/i.test(headerValue(line, colon)); break;
      case "connection": head.close = /close/i.test(headerValue(line, colon)); break;
      case "lambda-runtime-aws-request-id": head.requestId = headerValue(line, colon); break;
      case "lambda-runtime-deadline-ms": head.deadline = Number(headerValue(line, colon)); break;
      case "lambda-runtime-invoked-function-arn": head.functionArn = headerValue(line, colon); break;
      case "lambda-runtime-trace-id": head.traceId = headerValue(line, colon); break;
      case "lambda-runtime-client-context": head.clientContext = headerValue(line, colon); break;
      case "lambda-runtime-cognito-identity": head.identity = headerValue(line, colon); break;
    }
  }
  if (status < 200 || status === 204 || status === 304) {
    head.length = 0;
    head.chunked = false;
  }
  if (head.chunked) head.parts = [];
  else if (!(head.length >= 0)) die("malformed content-length");
  return head;
}

function headerValue(line, colon) {
  return line.slice(colon + 1).trim();
}

function post(route, body, errorType, then) {
  // Header values must be printable ASCII; the body keeps the real name.
  const extra = errorType ? `Lambda-Runtime-Function-Error-Type: ${errorType.replace(/[^\x20-\x7e]/g, "?")}\r\n` : "";
  return {
    data: `POST ${PREFIX}${route}${POST_HEAD}${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
    done(head, answer) {
      if (head.status !== 202) console.error(`runtime API: POST ${route} returned ${head.status}: ${answer}`);
      then();
    },
  };
}

// --- Error shapes -----------------------------------------------------------

function errorBody(err, errorType) {
  try {
    if (types.isNativeError(err) || err instanceof Error) {
      // AWS reports `err.name`, so a subclass that does not set `name` is "Error".
      return {
        errorType: errorType ?? (typeof err.name === "string" && err.name ? err.name : "Error"),
        errorMessage: String(err.message ?? ""),
        stackTrace: stackLines(err.stack),
      };
    }
    return { errorType: errorType ?? "Error", errorMessage: describe(err), stackTrace: [] };
  } catch {
    // A throwing `name`/`message` getter must not take the runtime down.
    return { errorType: errorType ?? "Error", errorMessage: "error value could not be read", stackTrace: [] };
  }
}

// The stack starts with "Name: message", which may span lines; keep the frames.
function stackLines(stack) {
  if (typeof stack !== "string") return [];
  const lines = stack.split("\n");
  const first = lines.findIndex((line) => /^\s+at /.test(line));
  return first < 0 ? [] : lines.slice(first);
}

function describe(value) {
  if (typeof value === "object" && value !== null) {
    try { return JSON.stringify(value); } catch { /* cyclic: fall through */ }
  }
  return String(value);
}

// --- Handler loading --------------------------------------------------------

let ready = false;

// Never settles: the process exits once the error is posted (or cannot be).
function initFailed(body) {
  if (!dying) {
    dying = true;
    console.error(`INIT ERROR ${JSON.stringify(body)}`);
    send(post("/init/error", JSON.stringify(body), body.errorType, () => process.exit(1)));
  }
  return new Promise(() => {});
}

function lookup(root, name) {
  let value = root;
  for (const key of name.split(".")) {
    if (value === null || value === undefined) return undefined;
    value = value[key];
  }
  return value;
}

async function loadHandler() {
  // "dir/file.a.b": the module ends at the first dot after the last slash.
  const dot = HANDLER.indexOf(".", HANDLER.lastIndexOf("/") + 1);
  if (dot < 0) {
    return initFailed({ errorType: "Runtime.MalformedHandlerName", errorMessage: `Bad handler ${HANDLER}`, stackTrace: [] });
  }
  const modulePath = HANDLER.slice(0, dot);
  const name = HANDLER.slice(dot + 1);
  const base = path.resolve(TASK_ROOT, modulePath);
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) {
    const errorMessage = `Error: Cannot find module '${path.basename(modulePath)}'`;
    return initFailed({ errorType: "Runtime.ImportModuleError", errorMessage, stackTrace: [] });
  }

  let mod;
  try {
    // import() loads ES modules and CommonJS alike (module.exports becomes `default`).
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    const code = err?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      return initFailed({ ...errorBody(err, "Runtime.ImportModuleError"), errorMessage: `${err.name}: ${err.message}` });
    }
    if (err instanceof SyntaxError) {
      return initFailed({ ...errorBody(err, "Runtime.UserCodeSyntaxError"), errorMessage: `${err.name}: ${err.message}` });
    }
    return initFailed(errorBody(err));
  }

  // CommonJS named exports are only visible on the namespace when Node's
  // static analysis finds them; `default` always holds module.exports.
  let fn = lookup(mod, name);
  if (fn === undefined) fn = lookup(mod.default, name);
  if (fn === undefined) {
    return initFailed({ errorType: "Runtime.HandlerNotFound", errorMessage: `${HANDLER} is undefined or not exported`, stackTrace: [] });
  }
  if (typeof fn !== "function") {
    return initFailed({ errorType: "Runtime.HandlerNotFound", errorMessage: `${HANDLER} is not a function`, stackTrace: [] });
  }
  return fn;
}

// --- Invocation -------------------------------------------------------------

// Settles the invocation in flight (null when none, or once it has settled);
// process-level failures use it to fail that invocation.
let settle = null;
let inflight = false;
let crashing = false;

function parseHeader(value) {
  if (value === undefined) return undefined;
  try { return JSON.parse(value); } catch { return undefined; }
}

function makeContext(head, callback, fail) {
  const deadline = head.deadline;
  const context = {
    awsRequestId: head.requestId,
    invokedFunctionArn: head.functionArn,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    // Settable for compatibility; the response is posted as soon as the
    // handler settles rather than after the event loop drains.
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    succeed: (result) => callback(null, result),
    fail: (err) => fail(err ?? "handled"),
    done: callback,
  };
  const clientContext = parseHeader(head.clientContext);
  if (clientContext !== undefined) context.clientContext = clientContext;
  const identity = parseHeader(head.identity);
  if (identity !== undefined) context.identity = identity;
  return context;
}

// Responds once, with the handler's result or an error body.
function invoke(event, head) {
  const finish = (failed, value) => {
    if (settle !== finish) return; // first outcome wins
    settle = null;
    // After the handler's synchronous code, as the await of a promise would.
    process.nextTick(respond, head.requestId, failed, value);
  };
  const ok = (result) => finish(false, result);
  const fail = (err) => finish(true, errorBody(err));
  const callback = (err, result) => (err === null || err === undefined ? ok(result) : fail(err));
  settle = finish;
  try {
    const returned = handler(JSON.parse(event), makeContext(head, callback, fail), callback);
    if (typeof returned?.then === "function") returned.then(ok, fail);
    else if (returned !== undefined && handler.length < 3) ok(returned);
    // Otherwise, as on AWS, wait for the callback or context.succeed/fail/done,
    // or for the event loop to drain (see beforeExit below).
  } catch (err) {
    fail(err);
  }
}

function onNext(head, body) {
  if (head.status !== 200) die(`GET next returned ${head.status}: ${body}`);
  inflight = true;
  if (head.traceId === undefined) delete env._X_AMZN_TRACE_ID;
  else env._X_AMZN_TRACE_ID = head.traceId;
  // Off the socket's call stack, which stack traces would otherwise show.
  process.nextTick(invoke, body.toString(), head);
}

// Posts the outcome with the next poll behind it, so the runtime is waiting
// for its next event as soon as this one is answered: one write, no round trip.
function respond(id, failed, value) {
  const route = `/invocation/${encodeURIComponent(id)}`;
  let outcome;
  if (failed) outcome = post(`${route}/error`, JSON.stringify(value), value.errorType, posted);
  else {
    try {
      outcome = post(`${route}/response`, JSON.stringify(value === undefined ? null : value) ?? "null", undefined, posted);
    } catch (err) {
      const marshal = { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${err.message}`, stackTrace: [] };
      outcome = post(`${route}/error`, JSON.stringify(marshal), marshal.errorType, posted);
    }
  }
  // A crashing runtime must not take another event it will not handle.
  send(outcome, crashing ? undefined : NEXT);
}

function posted() {
  inflight = false;
  if (crashing) process.exit(1);
}

// Failures outside the handler call: the invocation in flight gets the error
// and the process exits afterwards, because its state can no longer be trusted.
function fatal(label, body) {
  if (!ready) return initFailed(body);
  console.error(`${label} ${JSON.stringify(body)}`);
  if (!inflight) process.exit(1);
  crashing = true;
  if (settle) settle(true, body);
}

process.on("uncaughtException", (err) => fatal("Uncaught Exception", errorBody(err)));
process.on("unhandledRejection", (reason) => {
  const body = errorBody(reason, "Runtime.UnhandledPromiseRejection");
  // AWS names the rejected error in the message ("TypeError: ...").
  if (types.isNativeError(reason) || reason instanceof Error) body.errorMessage = String(reason);
  fatal("Unhandled Promise Rejection", body);
});

// Nothing left to wait for while a handler has not answered: it never called
// back (or its promise can never settle), so the result is null, as on AWS.
// The socket is unref'd while no request is pending, so it does not keep the
// loop alive.
process.on("beforeExit", () => { if (settle) settle(false, undefined); });

// A spare worker (APPSYNC_LOCAL_SPARE=1): appsync-local starts the
// interpreter before it knows which function will need it, so a cold start
// costs the handler's load rather than Node's own start. The function's
// environment arrives here, and is in place before any user code runs.
if (env.APPSYNC_LOCAL_SPARE === "1") {
  const assignment = await new Promise((resolve) => {
    send({
      data: `GET /2018-06-01/appsync-local/assignment HTTP/1.1\r\nHost: ${api}\r\n\r\n`,
      done(head, body) {
        if (head.status !== 200) die(`GET assignment returned ${head.status}: ${body}`);
        resolve(JSON.parse(body.toString()));
      },
    });
  });
  delete env.APPSYNC_LOCAL_SPARE;
  Object.assign(env, assignment.environment);
  process.chdir(assignment.cwd);
  TASK_ROOT = env.LAMBDA_TASK_ROOT ?? process.cwd();
  HANDLER = env._HANDLER ?? "";
}

const handler = await loadHandler();
ready = true;
send(NEXT);
