export function request(ctx) {
  let n = 0;
  for (let i = 0; i < 3; i += 1) {
    n += i;
  }
  try {
    n = count(n);
  } catch (e) {
    n = 0;
  }
  return { payload: n };
}

function count(n) {
  return n > 0 ? count(n - 1) : 0;
}

export function response(ctx) {
  return ctx.result;
}
