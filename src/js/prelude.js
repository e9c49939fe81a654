// Runs once per context, after the native globals are installed. Returns
// `prepare`, which shapes each request's ctx, and `freeze`, which locks the
// built-ins once the built-in modules exist, so no handler can change what
// the next request sees.
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

  function prepare(ctx) {
    // AppSync always gives `arguments`, an empty object when there are
    // none (recorded by localstack's EvaluateCode tests).
    if (ctx.arguments === null || typeof ctx.arguments !== "object") {
      ctx.arguments = {};
    }
    // `args` is the same object as `arguments`, and it does not show twice
    // in JSON.stringify(ctx).
    Object.defineProperty(ctx, "args", {
      value: ctx.arguments,
      enumerable: false,
      writable: true,
      configurable: true,
    });
    // "JSON.stringify(ctx.info) omits selectionSetList and
    // selectionSetGraphQL" (resolver context reference for JS).
    const info = ctx.info;
    if (info !== null && typeof info === "object") {
      for (const key of ["selectionSetList", "selectionSetGraphQL"]) {
        if (Object.hasOwn(info, key)) {
          Object.defineProperty(info, key, { enumerable: false });
        }
      }
    }
    // The stash's keys change, the object itself stays.
    if (ctx.stash === null || typeof ctx.stash !== "object") {
      ctx.stash = {};
    }
    Object.defineProperty(ctx, "stash", { writable: false });
    for (const key of ["error", "prev"]) {
      if (ctx[key] === null) {
        delete ctx[key];
      }
    }
  }

  function freeze(...roots) {
    const seen = new Set();
    const pending = [g, ...roots];
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
      for (const key of Reflect.ownKeys(value)) {
        const d = Object.getOwnPropertyDescriptor(value, key);
        if (d === undefined) {
          continue;
        }
        if ("value" in d) pending.push(d.value);
        if (d.get) pending.push(d.get);
        if (d.set) pending.push(d.set);
      }
    }
  }

  return { prepare, freeze };
})();
