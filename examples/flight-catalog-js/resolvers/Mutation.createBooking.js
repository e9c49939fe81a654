import { util, extensions } from '@aws-appsync/utils';

// Before the functions run: fixed once, so every step sees the same booking.
export function request(ctx) {
  const bookingId = util.autoId();
  ctx.stash.bookingId = bookingId;
  ctx.stash.createdAt = util.time.nowISO8601();
  // A short reference for travellers; the id stays the key.
  ctx.stash.bookingReference = bookingId.replaceAll('-', '').slice(0, 6).toUpperCase();
  return {};
}

// After the functions: the flight's seatCapacity changed, so drop its cached
// getFlight entry.
export function response(ctx) {
  extensions.evictFromApiCache('Query', 'getFlight', {
    'context.arguments.id': ctx.prev.result.outboundFlightId,
  });
  return ctx.prev.result;
}
