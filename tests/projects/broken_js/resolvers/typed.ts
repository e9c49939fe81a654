enum Color {
  Red,
}

export function request(ctx: unknown) {
  return { payload: Color.Red };
}

export function response(ctx: { result: unknown }) {
  return ctx.result;
}
