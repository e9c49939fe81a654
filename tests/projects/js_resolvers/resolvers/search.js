export function request(ctx) {
  return {
    operation: 'GET',
    path: '/items/_search',
    params: { body: { query: { match: { title: ctx.args.text } }, sort: [{ owner: 'asc' }] } },
  };
}

export function response(ctx) {
  return ctx.result.hits.hits.map((hit) => hit._source);
}
