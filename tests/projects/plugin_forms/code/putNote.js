import { put } from '@aws-appsync/utils/dynamodb';

export function request(ctx) {
  return put({ key: { id: ctx.args.id }, item: { text: ctx.args.text } });
}

export function response(ctx) {
  return ctx.result;
}
