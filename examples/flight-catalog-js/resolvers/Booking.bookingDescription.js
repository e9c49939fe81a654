import { util, runtime } from '@aws-appsync/utils';

export function request(ctx) {
  // A searchBookings hit already carries its search document: no second lookup.
  const description = ctx.source.bookingDescription ?? null;
  if (description !== null) {
    runtime.earlyReturn(description);
  }
  // Otherwise fetch the booking's document from the bookings index by id.
  return {
    operation: 'GET',
    path: `/bookings/_doc/${util.urlEncode(ctx.source.id)}`,
  };
}

export function response(ctx) {
  // Version 2017-02-28 in the VTL demo raised a data-source error itself;
  // its template's output was null here, so the error carries no data.
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  if (ctx.result.found) {
    return ctx.result._source.orderDescription ?? null;
  }
  return null;
}
