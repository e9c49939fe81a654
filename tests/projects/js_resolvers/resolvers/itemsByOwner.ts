import { util, Context } from '@aws-appsync/utils';
import * as ddb from '@aws-appsync/utils/dynamodb';

type Item = { id: string; owner: string; title?: string };

export function request(ctx: Context<{ owner: string }>) {
  return ddb.query({ index: 'byOwner', query: { owner: { eq: ctx.args.owner } } });
}

export function response(ctx: Context): Item[] {
  const items = ctx.result.items as Item[];
  return items;
}
