import { util, extensions } from '@aws-appsync/utils';
import { put } from '@aws-appsync/utils/dynamodb';

export function request(ctx) {
  const { id, owner, title } = ctx.args;
  return put({ key: { id }, item: { owner, title } });
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  extensions.evictFromApiCache('Query', 'item', { 'ctx.args.id': ctx.args.id });
  return ctx.result;
}
