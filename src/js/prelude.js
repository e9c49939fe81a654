// Runs once per context, after the native globals are installed. Returns
// `ctx`, the prototype of each request's ctx object, and `freeze`, which
// locks the built-ins once the built-in modules exist, so no handler can
// change what the next request sees.
(function () {
  "use strict";
  const g = globalThis;

  // AppSync's JSON.parse returns "" for text that is not JSON instead of
  // throwing (developer guide, "Supported runtime features").
  const parse = JSON.parse;
  Object.defineProperty(JSON, "parse", {
    value: function (text, reviver) {
      try {
        return parse(text, reviver);
      } catch (e) {
        return "";
      }
    },
    writable: true,
    configurable: true,
  });

  // "The replace and replaceAll pattern is a Java regex" (developer
  // guide, "Supported runtime features"): a string pattern with a string
  // replacement goes through Java's replaceFirst / replaceAll.
  const javaReplace = g.__javaReplace;
  delete g.__javaReplace;
  for (const [name, all] of [["replace", false], ["replaceAll", true]]) {
    const plain = String.prototype[name];
    Object.defineProperty(String.prototype, name, {
      value: function (pattern, replacement) {
        if (typeof pattern === "string" && typeof replacement === "string") {
          return javaReplace(String(this), pattern, replacement, all);
        }
        return plain.call(this, pattern, replacement);
      },
      writable: true,
      configurable: true,
    });
  }

  // No promises in APPSYNC_JS ("Supported runtime features").
  delete g.Promise;

  // Code cannot compile code: AppSync rejects eval and the Function
  // constructor.
  delete g.eval;
  const refuse = function () {
    throw new TypeError("Function() is not supported");
  };
  Object.defineProperty(Function.prototype, "constructor", { value: refuse });

  // The ctx of a request. Its parts come from the host on first read
  // (`load`), so a handler pays only for what it reads, and the host writes
  // back only the stash and arguments a handler has read. `toJSON` gives
  // the whole object, so JSON.stringify(ctx) and console.log(ctx) show
  // every part.
  const load = g.__loadCtxPart;
  delete g.__loadCtxPart;
  const PARTS = ["arguments", "source", "result", "identity", "stash", "prev", "request", "info", "error", "env"];
  function own(ctx, key, value) {
    Object.defineProperty(ctx, key, {
      value: value,
      enumerable: true,
      // The stash's keys change, the object itself stays.
      writable: key !== "stash",
      configurable: true,
    });
    return value;
  }
  function read(ctx, key) {
    let value = load(key);
    if (key === "arguments" && (value === null || typeof value !== "object")) {
      // AppSync always gives `arguments`, an empty object when there are
      // none (recorded by localstack's EvaluateCode tests).
      value = {};
    } else if (key === "stash" && (value === null || typeof value !== "object")) {
      value = {};
    } else if ((key === "error" || key === "prev") && value === null) {
      value = undefined;
    } else if (key === "info" && value !== null && typeof value === "object") {
      // "JSON.stringify(ctx.info) omits selectionSetList and
      // selectionSetGraphQL" (resolver context reference for JS).
      for (const hidden of ["selectionSetList", "selectionSetGraphQL"]) {
        if (Object.hasOwn(value, hidden)) {
          Object.defineProperty(value, hidden, { enumerable: false });
        }
      }
    }
    return own(ctx, key, value);
  }
  const proto = {};
  for (const key of PARTS) {
    Object.defineProperty(proto, key, {
      get: function () {
        return read(this, key);
      },
      set: function (value) {
        own(this, key, value);
      },
      enumerable: false,
      configurable: false,
    });
  }
  // `args` is `arguments`, and does not show twice in JSON.stringify(ctx).
  Object.defineProperty(proto, "args", {
    get: function () {
      return this.arguments;
    },
    enumerable: false,
    configurable: false,
  });
  Object.defineProperty(proto, "toJSON", {
    value: function () {
      const out = {};
      for (const key of PARTS) {
        const value = this[key];
        if (value !== undefined) {
          out[key] = value;
        }
      }
      return out;
    },
    enumerable: false,
  });

  function freeze(...roots) {
    const seen = new Set();
    // Intrinsics no global names: the iterator prototypes, reached only
    // through an iterator (generators are refused at load).
    const iterators = [[], "", new Map(), new Set()].map((v) =>
      Object.getPrototypeOf(v[Symbol.iterator]()),
    );
    const pending = [g, ...roots, ...iterators];
    while (pending.length > 0) {
      const value = pending.pop();
      if (value === null || (typeof value !== "object" && typeof value !== "function")) {
        continue;
      }
      if (seen.has(value)) {
        continue;
      }
      seen.add(value);
      Object.freeze(value);
      pending.push(Object.getPrototypeOf(value));
      // A method's own properties are its name and length, both
      // primitives: frozen with it, nothing to walk. Constructors carry
      // their static methods and prototype, and are walked.
      if (typeof value === "function" && !Object.hasOwn(value, "prototype")) {
        continue;
      }
      for (const key of Reflect.ownKeys(value)) {
        const d = Object.getOwnPropertyDescriptor(value, key);
        if (d === undefined) {
          continue;
        }
        if ("value" in d) {
          pending.push(d.value);
        } else {
          pending.push(d.get, d.set);
        }
      }
    }
  }

  return { ctx: proto, freeze };
})();
