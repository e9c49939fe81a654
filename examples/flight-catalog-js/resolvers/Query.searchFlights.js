import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return {
    operation: 'GET',
    path: '/flights/_search',
    params: {
      body: {
        size: ctx.args.limit ?? 10,
        // Equally relevant flights come earliest first.
        sort: [{ _score: 'desc' }, { departureDate: 'asc' }],
        query: {
          multi_match: {
            query: ctx.args.text,
            type: 'most_fields',
            fields: [
              'departureCity^2',
              'arrivalCity^2',
              'departureAirportName',
              'arrivalAirportName',
              'description',
            ],
          },
        },
      },
    },
  };
}

export function response(ctx) {
  // The VTL demo's OpenSearch templates are version 2017-02-28, which raises
  // a data-source error itself, with the response template's output (here
  // an empty list) as the error's data. JavaScript has no version: say it.
  if (ctx.error) {
    util.error(ctx.error.message, ctx.error.type, []);
  }
  const flights = [];
  for (const hit of ctx.result.hits.hits) {
    flights.push(hit._source);
  }
  return flights;
}
