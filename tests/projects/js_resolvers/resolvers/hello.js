import { util } from '@aws-appsync/utils';
import { greet } from '../lib/greeting';

export function request(ctx) {
  console.log('hello for', ctx.args.name);
  return { payload: greet(ctx.args.name ?? 'world') };
}

export function response(ctx) {
  return ctx.result;
}
