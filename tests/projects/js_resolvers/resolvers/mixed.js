// The before step puts n in the stash; the after step reads what the
// functions left there.
export function request(ctx) {
  ctx.stash.trail = ['before'];
  return ctx.args.n;
}

export function response(ctx) {
  ctx.stash.trail.push('after');
  return ctx.prev.result * 100 + ctx.stash.trail.length;
}
