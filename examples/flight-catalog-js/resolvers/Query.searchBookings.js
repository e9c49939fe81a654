import { util } from '@aws-appsync/utils';

// Most relevant first; equally relevant bookings newest first, then by id,
// so every hit has a distinct sort position and search_after never skips or
// repeats one. nextToken is the last hit's sort values.
export function request(ctx) {
  const { text, nextToken } = ctx.args;
  const limit = ctx.args.limit ?? 10;
  if (limit < 1 || limit > 100) {
    util.error(`limit must be between 1 and 100, got ${limit}.`, 'ValidationError');
  }
  ctx.stash.limit = limit;
  // The caller's own bookings; every customer's for the Admin group. The
  // filter narrows the hits without changing their scores.
  const match = { match: { orderDescription: { query: text } } };
  const groups = ctx.identity?.groups ?? [];
  const query = groups.includes('Admin')
    ? match
    : { bool: { must: [match], filter: [{ term: { customer: ctx.identity?.sub } }] } };
  // One hit more than asked tells whether there is a next page.
  const body = {
    size: limit + 1,
    track_total_hits: true,
    query,
    sort: [{ _score: 'desc' }, { createdAt: 'desc' }, { id: 'asc' }],
    highlight: { fields: { orderDescription: {} } },
  };
  if (nextToken !== undefined && nextToken !== null) {
    body.search_after = JSON.parse(util.base64Decode(nextToken));
  }
  return {
    operation: 'GET',
    path: '/bookings/_search',
    params: { body },
  };
}

export function response(ctx) {
  // Version 2017-02-28 in the VTL demo raised a data-source error itself.
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  // OpenSearch answers errors (a malformed nextToken, say) with an `error` body.
  if (ctx.result.error) {
    util.error(ctx.result.error.reason, `OpenSearch:${ctx.result.error.type}`);
  }
  const limit = ctx.stash.limit;
  const hits = ctx.result.hits.hits;
  const items = [];
  for (const hit of hits) {
    if (items.length < limit) {
      items.push({
        // Booking.bookingDescription reads this instead of fetching the document again.
        booking: { ...hit._source, bookingDescription: hit._source.orderDescription },
        score: hit._score,
        highlights: hit.highlight?.orderDescription ?? null,
      });
    }
  }
  let nextToken = null;
  if (hits.length > limit) {
    nextToken = util.base64Encode(JSON.stringify(hits[limit - 1].sort));
  }
  return {
    items,
    total: ctx.result.hits.total.value,
    nextToken,
  };
}
