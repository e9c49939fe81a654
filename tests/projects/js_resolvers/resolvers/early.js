import { runtime } from '@aws-appsync/utils';

export function request(ctx) {
  if (ctx.args.skip === 'all') {
    runtime.earlyReturn('skipped');
  }
  return 'start';
}

export function response(ctx) {
  return `${ctx.prev.result}|after`;
}
