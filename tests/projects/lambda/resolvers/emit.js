export function request(ctx) {
  // AWSJSON arguments reach resolvers parsed.
  const event = { detail: ctx.args.detail };
  if (ctx.args.source) event.source = ctx.args.source;
  if (ctx.args.detailType) event.detailType = ctx.args.detailType;
  return { operation: 'PutEvents', events: [event] };
}

export function response(ctx) {
  return ctx.result;
}
