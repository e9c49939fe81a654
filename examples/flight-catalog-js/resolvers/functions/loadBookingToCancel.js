import { util } from '@aws-appsync/utils';
import { get } from '@aws-appsync/utils/dynamodb';

export function request(ctx) {
  return get({ key: { id: ctx.args.id }, consistentRead: true });
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  const bookingId = ctx.args.id;
  const booking = ctx.result ?? null;
  if (booking === null) {
    util.error(`Booking '${bookingId}' does not exist.`, 'BookingNotFound');
  }
  // Only the booking's customer may cancel it; the Admin group may not.
  if (booking.customer !== ctx.identity?.sub) {
    util.unauthorized();
  }
  if (booking.status === 'CANCELLED') {
    util.error(`Booking '${bookingId}' is already cancelled.`, 'BookingAlreadyCancelled');
  }
  // Only a confirmed booking holds a seat to give back.
  if (booking.status !== 'CONFIRMED') {
    util.error(
      `Booking '${bookingId}' is ${booking.status}; only confirmed bookings can be cancelled.`,
      'BookingNotConfirmed'
    );
  }
  return booking;
}
