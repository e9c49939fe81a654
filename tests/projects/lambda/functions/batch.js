// Direct Lambda batch resolvers: one result per AppSync context event, in order.
exports.handler = async (events) =>
  events.map(({ source }) =>
    source.fail
      ? { data: null, errorMessage: "no data for " + source.id, errorType: "NotFound" }
      : "value-" + source.id,
  );

// Every item learns the size of the batch it arrived in.
exports.sizes = async (events) => events.map(() => events.length);
