// Lambda runtime bootstrap for Node.js functions (Node 18+, no dependencies).
//
// appsync-local embeds this file and runs one copy per worker process for
// `nodejs*` functions. It talks to the Lambda Runtime API that appsync-local
// serves on AWS_LAMBDA_RUNTIME_API, loads the handler named by _HANDLER from
// LAMBDA_TASK_ROOT, and behaves like the AWS-managed Node.js runtime wherever
// user code can notice: handler resolution, context, callbacks, error shapes.
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

import http from "node:http";
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { types } from "node:util";

const env = process.env;
const api = env.AWS_LAMBDA_RUNTIME_API ?? "127.0.0.1:9001";
const HOST = api.slice(0, api.lastIndexOf(":"));
const PORT = Number(api.slice(api.lastIndexOf(":") + 1));
const TASK_ROOT = env.LAMBDA_TASK_ROOT ?? process.cwd();
const HANDLER = env._HANDLER ?? "";
const PREFIX = "/2018-06-01/runtime";

// Invocations are strictly sequential, so one kept-alive socket serves them
// all and saves a TCP handshake per call. No timeout: `next` is a long poll.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const NEXT = { host: HOST, port: PORT, method: "GET", path: `${PREFIX}/invocation/next`, agent };

function request(options, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => { data += chunk; });
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
      res.on("error", reject);
    });
    req.on("error", (err) => {
      // A kept-alive socket the server closed while idle fails on first
      // reuse; the request never reached the server, so retrying is safe.
      if (req.reusedSocket && err.code === "ECONNRESET") resolve(request(options, body));
      else reject(err);
    });
    req.end(body);
  });
}

function post(route, body, errorType) {
  const headers = { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) };
  // Header values must be printable ASCII; the body keeps the real name.
  if (errorType) headers["Lambda-Runtime-Function-Error-Type"] = errorType.replace(/[^\x20-\x7e]/g, "?");
  return request({ host: HOST, port: PORT, method: "POST", path: PREFIX + route, headers, agent }, body)
    .then((res) => {
      if (res.status !== 202) console.error(`runtime API: POST ${route} returned ${res.status}: ${res.body}`);
    });
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
let dying = false;

async function initFailed(body) {
  if (dying) return new Promise(() => {});
  dying = true;
  console.error(`INIT ERROR ${JSON.stringify(body)}`);
  await post("/init/error", JSON.stringify(body), body.errorType).catch(() => {});
  process.exit(1);
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

function makeContext(headers, callback, fail) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const context = {
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
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
  const clientContext = parseHeader(headers["lambda-runtime-client-context"]);
  if (clientContext !== undefined) context.clientContext = clientContext;
  const identity = parseHeader(headers["lambda-runtime-cognito-identity"]);
  if (identity !== undefined) context.identity = identity;
  return context;
}

// Resolves to [failed, value]: the handler's result, or an error body.
function invoke(handler, event, headers) {
  return new Promise((resolve) => {
    const finish = (failed, value) => {
      if (settle !== finish) return; // first outcome wins
      settle = null;
      resolve([failed, value]);
    };
    const ok = (result) => finish(false, result);
    const fail = (err) => finish(true, errorBody(err));
    const callback = (err, result) => (err === null || err === undefined ? ok(result) : fail(err));
    settle = finish;
    try {
      const returned = handler(JSON.parse(event), makeContext(headers, callback, fail), callback);
      if (typeof returned?.then === "function") returned.then(ok, fail);
      else if (returned !== undefined && handler.length < 3) ok(returned);
      // Otherwise, as on AWS, wait for the callback or context.succeed/fail/done,
      // or for the event loop to drain (see beforeExit below).
    } catch (err) {
      fail(err);
    }
  });
}

function postOutcome(id, failed, value) {
  const route = `/invocation/${encodeURIComponent(id)}`;
  if (failed) return post(`${route}/error`, JSON.stringify(value), value.errorType);
  let body;
  try {
    body = JSON.stringify(value === undefined ? null : value) ?? "null";
  } catch (err) {
    const marshal = { errorType: "Runtime.MarshalError", errorMessage: `Unable to stringify response body: ${err.message}`, stackTrace: [] };
    return post(`${route}/error`, JSON.stringify(marshal), marshal.errorType);
  }
  return post(`${route}/response`, body);
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
// Idle kept-alive sockets are unref'd, so they do not keep the loop alive.
process.on("beforeExit", () => { if (settle) settle(false, undefined); });

const handler = await loadHandler();
ready = true;

try {
  for (;;) {
    const next = await request(NEXT);
    if (next.status !== 200) throw new Error(`GET next returned ${next.status}: ${next.body}`);
    const headers = next.headers;
    inflight = true;
    const trace = headers["lambda-runtime-trace-id"];
    if (trace === undefined) delete env._X_AMZN_TRACE_ID;
    else env._X_AMZN_TRACE_ID = trace;
    const [failed, value] = await invoke(handler, next.body, headers);
    await postOutcome(headers["lambda-runtime-aws-request-id"], failed, value);
    inflight = false;
    if (crashing) process.exit(1);
  }
} catch (err) {
  console.error(`runtime API: ${err?.message ?? err}`);
  process.exit(1);
}
