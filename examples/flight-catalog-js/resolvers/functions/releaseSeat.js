import { util } from '@aws-appsync/utils';

// Cancels the booking and gives its seat back in one transaction. The
// status condition makes a second, concurrent cancel fail instead of
// releasing the seat twice; attribute_exists keeps the update from creating
// a flight that was deleted meanwhile. The request is written out: the
// dynamodb module's transactWrite() would rename the placeholders.
export function request(ctx) {
  const booking = ctx.prev.result;
  // Transactions name their tables, as the airline sample's templates do
  // (the VTL demo substitutes ${BookingTable} and ${FlightTable}).
  return {
    operation: 'TransactWriteItems',
    transactItems: [
      {
        table: 'Bookings',
        operation: 'UpdateItem',
        key: { id: util.dynamodb.toDynamoDB(booking.id) },
        update: {
          expression: 'SET #status = :cancelled',
          expressionNames: { '#status': 'status' },
          expressionValues: { ':cancelled': util.dynamodb.toDynamoDB('CANCELLED') },
        },
        condition: {
          expression: '#status = :confirmed',
          expressionNames: { '#status': 'status' },
          expressionValues: { ':confirmed': util.dynamodb.toDynamoDB('CONFIRMED') },
        },
      },
      {
        table: 'Flights',
        operation: 'UpdateItem',
        key: { id: util.dynamodb.toDynamoDB(booking.outboundFlightId) },
        update: {
          expression: 'SET seatCapacity = seatCapacity + :inc',
          expressionValues: { ':inc': util.dynamodb.toDynamoDB(1) },
        },
        condition: { expression: 'attribute_exists(id)' },
      },
    ],
  };
}

export function response(ctx) {
  if (ctx.error) {
    const reasons = ctx.result?.cancellationReasons ?? [];
    const bookingId = ctx.args.id;
    if (reasons.length > 0 && reasons[0].type === 'ConditionCheckFailed') {
      util.error(`Booking '${bookingId}' is already cancelled.`, 'BookingAlreadyCancelled');
    }
    if (reasons.length > 1 && reasons[1].type === 'ConditionCheckFailed') {
      util.error(
        `Flight '${ctx.prev.result.outboundFlightId}' of booking '${bookingId}' does not exist.`,
        'FlightNotFound'
      );
    }
    util.error(ctx.error.message, ctx.error.type);
  }
  return { ...ctx.prev.result, status: 'CANCELLED' };
}
