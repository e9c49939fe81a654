import { query } from '@aws-appsync/utils/dynamodb';

export function request(ctx) {
  return query({
    index: 'byAuthor',
    query: { author: { eq: ctx.args.author } },
    limit: ctx.args.limit ?? 20,
    nextToken: ctx.args.nextToken,
    scanIndexForward: false,
  });
}

export function response(ctx) {
  return { items: ctx.result.items, nextToken: ctx.result.nextToken };
}
