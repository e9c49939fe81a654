export function request(ctx) {
  return { payload: 'unterminated };
}

export function response(ctx) {
  return ctx.result;
}
