import { runtime } from '@aws-appsync/utils';

export function request(ctx) {
  if (ctx.args.skip === 'first') {
    runtime.earlyReturn(`${ctx.prev.result}|first-skipped`);
  }
  if (ctx.args.skip === 'end') {
    runtime.earlyReturn(`${ctx.prev.result}|to-end`, { skipTo: 'END' });
  }
  return { payload: `${ctx.prev.result}|first` };
}

export function response(ctx) {
  return ctx.result;
}
