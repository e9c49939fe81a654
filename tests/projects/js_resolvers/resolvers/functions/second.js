export function request(ctx) {
  return { payload: `${ctx.prev.result}|second` };
}

export function response(ctx) {
  return ctx.result;
}
