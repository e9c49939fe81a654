export function request(ctx) {
  return {};
}

export function response(ctx) {
  return JSON.stringify({ all: ctx.env, stage: ctx.env.STAGE, max: ctx.env.MAX_ITEMS, kind: typeof ctx.env.MAX_ITEMS });
}
