export function request(ctx) {
  return { payload: 'ok' };
}

export function response(ctx) {
  return ctx.result;
}
