export function request(ctx) {
  ctx.stash.trail.push('double');
  return { payload: ctx.prev.result * 2 };
}

export function response(ctx) {
  return ctx.result;
}
