export function request(ctx) {
  return { payload: { ...ctx.prev.result, stamped: true } };
}

export function response(ctx) {
  return ctx.result;
}
