// appsync-local's subscription transport for GraphiQL. Written for this
// project (not fetched from npm); plain script, no build step.
//
// GraphiQL's own `createFetcher` speaks only the graphql-ws and
// graphql-transport-ws npm protocols; AppSync speaks its own over
// `/graphql/realtime`, so subscriptions come here instead:
//
//   AppSyncLocalRealtime.isSubscription(params)   does GraphiQL run a subscription?
//   AppSyncLocalRealtime.subscribe(params, headers)
//
// `subscribe` returns an async iterable of GraphQL results, which GraphiQL
// shows one by one; GraphiQL calls its `return()` when the user stops it.
// Each subscription gets its own connection, so stopping it closes that.
(function () {
  'use strict';

  const OPERATIONS = new Set(['query', 'mutation', 'subscription']);

  /**
   * The operations of a document, `[{type, name}]`, from a light lexer: the
   * definitions sit at brace depth 0, and only comments and strings can hide
   * a brace. Invalid documents give a best guess: the server reports them.
   */
  function operations(source) {
    const found = [];
    let depth = 0;
    // At depth 0: 'definition' (a keyword or `{` comes next), 'name' (an
    // operation's name may come next), or null (inside a definition's head).
    let expect = 'definition';
    let i = 0;
    while (i < source.length) {
      const c = source[i];
      if (c === '#') {
        while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
      } else if (source.startsWith('"""', i)) {
        // Block strings end at the first `"""` that is not escaped (`\"""`).
        i += 3;
        while (i < source.length && !source.startsWith('"""', i)) {
          i += source.startsWith('\\"""', i) ? 4 : 1;
        }
        i += 3;
      } else if (c === '"') {
        i++;
        while (i < source.length && source[i] !== '"' && source[i] !== '\n') {
          i += source[i] === '\\' ? 2 : 1;
        }
        i++;
      } else if (/[_A-Za-z]/.test(c)) {
        const start = i;
        while (i < source.length && /[_0-9A-Za-z]/.test(source[i])) i++;
        const word = source.slice(start, i);
        if (depth === 0 && expect === 'definition') {
          // `fragment` (or anything else) is no operation.
          if (OPERATIONS.has(word)) found.push({ type: word, name: null });
          expect = OPERATIONS.has(word) ? 'name' : null;
        } else if (depth === 0 && expect === 'name') {
          found[found.length - 1].name = word;
          expect = null;
        }
      } else {
        if (c === '{') {
          // `{ ... }` alone is a query (the shorthand).
          if (depth === 0 && expect === 'definition') found.push({ type: 'query', name: null });
          depth++;
          expect = null;
        } else if (c === '}') {
          depth = Math.max(0, depth - 1);
          if (depth === 0) expect = 'definition';
        } else if (depth === 0 && expect === 'name' && !/[\s,]/.test(c)) {
          // `(` or `@`: an anonymous operation with variables or directives.
          expect = null;
        }
        i++;
      }
    }
    return found;
  }

  /**
   * Whether GraphiQL is about to run a subscription: the operation named
   * `operationName`, or the document's only one.
   */
  function isSubscription(params) {
    const found = operations((params && params.query) || '');
    const name = params && params.operationName;
    const operation = name
      ? found.find((op) => op.name === name)
      : found.length === 1 ? found[0] : undefined;
    return operation !== undefined && operation.type === 'subscription';
  }

  /** Base64url without padding, as a subprotocol name allows no `+/=`. */
  function base64url(text) {
    let binary = '';
    for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  /** A message's `errors`: AppSync sends one kind as an object, not a list. */
  function errorsOf(message) {
    const errors = message.payload && message.payload.errors;
    if (Array.isArray(errors)) return errors;
    if (errors) return [errors];
    return [{ message: `The server sent ${message.type} without errors.` }];
  }

  let started = 0;

  /**
   * Runs the subscription over its own WebSocket; `headers` are the ones
   * GraphiQL would send over HTTP (the credentials).
   */
  function subscribe(params, headers) {
    // The credential goes both in the upgrade and in `start`, with `host`
    // beside it as AppSync expects (IAM signs it). Values must be strings.
    const authorization = { host: location.host };
    for (const [name, value] of Object.entries(headers || {})) {
      if (value !== undefined && value !== null) authorization[name] = String(value);
    }
    started += 1;
    const id = `graphiql-${Date.now().toString(36)}-${started}`;
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql/realtime`;
    const socket = new WebSocket(url, ['graphql-ws', 'header-' + base64url(JSON.stringify(authorization))]);

    // Results not yet taken, and the `next()` waiting for one.
    const results = [];
    let waiting = null;
    let finished = false;
    let running = false; // `start` sent, so `stop` is due when the user stops

    const send = (message) => socket.send(JSON.stringify(message));
    const finish = () => {
      finished = true;
      if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) {
        socket.close(1000);
      }
      if (waiting) {
        waiting({ value: undefined, done: true });
        waiting = null;
      }
    };
    const push = (result) => {
      if (finished) return;
      if (waiting) {
        waiting({ value: result, done: false });
        waiting = null;
      } else {
        results.push(result);
      }
    };
    // An error ends the subscription: GraphiQL shows it as the last result.
    const fail = (errors) => {
      push({ errors });
      finish();
    };

    socket.onopen = () => send({ type: 'connection_init' });
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (err) {
        fail([{ message: `The server sent a message that is not JSON: ${event.data}` }]);
        return;
      }
      switch (message.type) {
        case 'connection_ack':
          running = true;
          send({
            id,
            type: 'start',
            payload: {
              data: JSON.stringify({
                query: params.query,
                variables: params.variables,
                operationName: params.operationName,
              }),
              extensions: { authorization },
            },
          });
          break;
        case 'data':
          if (message.id === id) push(message.payload);
          break;
        case 'error':
        case 'connection_error':
          fail(errorsOf(message));
          break;
        case 'complete':
          // The server ended it (e.g. `invalidateSubscriptions`).
          finish();
          break;
        // `ka` only keeps the connection alive; `start_ack` says it runs.
      }
    };
    socket.onclose = (event) => {
      if (finished) return;
      const reason = event.reason ? `: ${event.reason}` : '';
      fail([{ message: `The real-time connection closed (code ${event.code}${reason}).` }]);
    };

    const iterator = {
      next() {
        if (results.length > 0) return Promise.resolve({ value: results.shift(), done: false });
        if (finished) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => { waiting = resolve; });
      },
      // The user stopped the operation. The browser sends `stop` before the
      // close frame, so the server ends the subscription either way.
      return() {
        if (!finished && running && socket.readyState === WebSocket.OPEN) {
          send({ type: 'stop', id });
        }
        results.length = 0;
        finish();
        return Promise.resolve({ value: undefined, done: true });
      },
      // GraphiQL asks for the iterator again to call `return()`: it must be
      // this same one.
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return iterator;
  }

  window.AppSyncLocalRealtime = { isSubscription, subscribe };
})();
