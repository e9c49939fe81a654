// A liveness check through the NONE data source: its payload is the result.
export function request(ctx) {
  return { payload: 'pong' };
}

export function response(ctx) {
  return ctx.result;
}
