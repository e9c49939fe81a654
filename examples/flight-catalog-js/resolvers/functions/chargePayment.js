import { util } from '@aws-appsync/utils';

// Charges the ticket through the processPayment Lambda before a seat is
// taken. The flight comes from checkFlightAvailability.
export function request(ctx) {
  const flight = ctx.prev.result;
  return {
    operation: 'Invoke',
    payload: {
      paymentToken: ctx.args.input.paymentToken,
      amount: flight.ticketPrice,
      currency: flight.ticketCurrency,
      customer: ctx.identity.sub,
      bookingId: ctx.stash.bookingId,
    },
  };
}

export function response(ctx) {
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type);
  }
  ctx.stash.payment = ctx.result;
  // The flight goes on to reserveSeat.
  return ctx.prev.result;
}
