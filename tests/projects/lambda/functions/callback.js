// Callback-style handler (three parameters, no promise).
exports.handler = (event, context, callback) => {
  if (event.fail) {
    callback(new Error("odd"));
    return;
  }
  callback(null, { sum: event.a + event.b });
};
