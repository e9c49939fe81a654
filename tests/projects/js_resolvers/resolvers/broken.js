export function request(ctx) {
  return { payload: ctx.args.missing.field };
}

export function response(ctx) {
  return ctx.result;
}
