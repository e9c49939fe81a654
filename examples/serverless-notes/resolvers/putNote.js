import { util } from '@aws-appsync/utils';
import { put } from '@aws-appsync/utils/dynamodb';

export function request(ctx) {
  const item = {
    author: ctx.args.author,
    text: ctx.args.text,
    createdAt: util.time.nowISO8601(),
  };
  return put({ key: { id: util.autoId() }, item });
}

export function response(ctx) {
  return ctx.result;
}
