import { util } from '@aws-appsync/utils';

// Every booking emits BookingCreated on the flight-catalog bus.
export function request(ctx) {
  const booking = ctx.prev.result;
  return {
    operation: 'PutEvents',
    events: [
      {
        source: 'flight-catalog.bookings',
        detailType: 'BookingCreated',
        detail: {
          bookingId: booking.id,
          bookingReference: booking.bookingReference,
          customer: booking.customer,
          outboundFlightId: booking.outboundFlightId,
          price: booking.price,
          chargeId: ctx.stash.payment.chargeId,
        },
      },
    ],
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  // The booking goes on to the after step.
  return ctx.prev.result;
}
